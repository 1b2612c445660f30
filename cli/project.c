/* turnstile project: the projector process. */
#include "cli/cli.h"
#include "projections/projections.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static const char help[] =
    "Usage: turnstile project [options]\n"
    "\n"
    "Folds the event log into the PostgreSQL read models with a durable\n"
    "JetStream pull consumer: one transaction per batch that also advances\n"
    "the checkpoint, acks after commit. Safe to kill at any moment.\n"
    "Stops cleanly on SIGTERM or SIGINT.\n"
    "\n"
    "Options:\n"
    "  --batch N         messages per fetch, and per transaction when caught\n"
    "                    up (default 500)\n"
    "  --catchup N       commits per transaction at most while the consumer\n"
    "                    has a backlog (default 200000, at most 1000000)\n"
    "  --bootstrap N     a backlog of N commits or more, and twice the\n"
    "                    checkpoint or more, is folded by a build of the\n"
    "                    whole log swapped in (default 100000; 0: never)\n"
    "%s";

int cli_project(int argc, char **argv)
{
    cli_settings_t s;
    cli_settings_from_env(&s);
    int batch = 0, catchup = 0, bootstrap = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_settings_option(&s, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == CLI_OPT_HELP) {
            printf(help, cli_settings_help);
            return 0;
        }
        if (r)
            continue;
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch = atoi(argv[++i]);
            if (batch < 1 || batch > 100000) {
                fprintf(stderr, "turnstile project: --batch is 1..100000\n");
                return 2;
            }
            continue;
        }
        if (strcmp(argv[i], "--catchup") == 0 && i + 1 < argc) {
            catchup = atoi(argv[++i]);
            if (catchup < 1 || catchup > 1000000) {
                fprintf(stderr, "turnstile project: --catchup is 1..1000000\n");
                return 2;
            }
            continue;
        }
        if (strcmp(argv[i], "--bootstrap") == 0 && i + 1 < argc) {
            char *end = NULL;
            long n = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || n < 0 || n > 1000000000) {
                fprintf(stderr, "turnstile project: --bootstrap is 0..1000000000\n");
                return 2;
            }
            bootstrap = n ? (int)n : -1;
            continue;
        }
        fprintf(stderr, "turnstile project: unknown option '%s' (see --help)\n", argv[i]);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    proj_config_t pc = {.nats_url = s.nats_url,
                        .stream = s.stream,
                        .pg_conninfo = s.pg_conninfo,
                        .batch = batch,
                        .catchup = catchup,
                        .bootstrap = bootstrap,
                        .stop = &stop_flag};
    fprintf(stderr, "project: NATS %s, PostgreSQL %s\n", s.nats_url, s.pg_conninfo);
    ts_status st = proj_run(&pc);
    if (st != TS_OK) {
        fprintf(stderr, "project: %s\n", ts_status_str(st));
        return 1;
    }
    return 0;
}
