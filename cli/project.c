/* turnstile project: a projector process (catalog or audit). */
#include "cli/cli.h"
#include "projections/audit.h"
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
    "Usage: turnstile project [--projection catalog|audit] [options]\n"
    "\n"
    "Runs one projector: a durable JetStream pull consumer with its own\n"
    "checkpoint. Safe to kill at any moment; stops cleanly on SIGTERM or SIGINT.\n"
    "\n"
    "  catalog (the default)  folds the event log into the PostgreSQL read\n"
    "      models: one transaction per batch that also advances the checkpoint,\n"
    "      acks after commit (durable proj_catalog).\n"
    "  audit  ships one Loki log line per event, personal data masked, labels\n"
    "      app, aggregate and event_type (durable proj_audit). With LOKI_URL it\n"
    "      pushes batches to LOKI_URL/loki/api/v1/push (retried with backoff);\n"
    "      without, it appends Promtail-ready JSON lines to DATA/audit/audit.log\n"
    "      (ops/promtail-audit.yaml). Its checkpoint is DATA/audit/checkpoint,\n"
    "      written after each batch is shipped and before the ack: at-least-once.\n"
    "      E-mails (and person names of users) become HMAC-SHA256 hashes under\n"
    "      TURNSTILE_AUDIT_KEY, or else a key generated once into\n"
    "      DATA/audit/mask.key. It does not use PostgreSQL.\n"
    "\n"
    "Options:\n"
    "  --projection NAME catalog or audit             [catalog]\n"
    "  --batch N         catalog: messages per fetch, and per transaction when\n"
    "                    caught up (default 500); audit: events per push (500)\n"
    "  --catchup N       catalog: commits per transaction at most while the\n"
    "                    consumer has a backlog (default 20000, at most 100000)\n"
    "  --bootstrap N     catalog: a backlog of N commits or more, and twice the\n"
    "                    checkpoint or more, is folded by a build of the\n"
    "                    whole log swapped in (default 100000; 0: never)\n"
    "  --loki URL        audit: Loki's base URL       [LOKI_URL; unset: the file]\n"
    "%s";

static int run_catalog(const cli_settings_t *s, int batch, int catchup, int bootstrap)
{
    proj_config_t pc = {.nats_url = s->nats_url,
                        .stream = s->stream,
                        .pg_conninfo = s->pg_conninfo,
                        .batch = batch,
                        .catchup = catchup,
                        .bootstrap = bootstrap,
                        .stop = &stop_flag};
    fprintf(stderr, "project: catalog; NATS %s, PostgreSQL %s\n", s->nats_url, s->pg_conninfo);
    ts_status st = proj_run(&pc);
    if (st != TS_OK) {
        fprintf(stderr, "project: %s\n", ts_status_str(st));
        return 1;
    }
    return 0;
}

static int run_audit(const cli_settings_t *s, int batch, const char *loki)
{
    const char *key = getenv("TURNSTILE_AUDIT_KEY");
    proj_audit_config_t ac = {.nats_url = s->nats_url,
                              .stream = s->stream,
                              .data_dir = s->data_dir,
                              .loki_url = loki,
                              .mask_key = key,
                              .batch = batch,
                              .stop = &stop_flag};
    fprintf(stderr, "project: audit; NATS %s, data %s, %s%s\n", s->nats_url, s->data_dir,
            loki && *loki ? "Loki " : "no LOKI_URL (file)", loki && *loki ? loki : "");
    ts_status st = proj_audit_run(&ac);
    if (st != TS_OK) {
        fprintf(stderr, "project: audit: %s\n", ts_status_str(st));
        return 1;
    }
    return 0;
}

int cli_project(int argc, char **argv)
{
    cli_settings_t s;
    cli_settings_from_env(&s);
    int batch = 0, catchup = 0, bootstrap = 0;
    const char *projection = PROJ_CATALOG;
    const char *loki = getenv("LOKI_URL");
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
        if (strcmp(argv[i], "--projection") == 0 && i + 1 < argc) {
            projection = argv[++i];
            if (strcmp(projection, PROJ_CATALOG) != 0 && strcmp(projection, PROJ_AUDIT) != 0) {
                fprintf(stderr, "turnstile project: --projection is catalog or audit\n");
                return 2;
            }
            continue;
        }
        if (strcmp(argv[i], "--catchup") == 0 && i + 1 < argc) {
            catchup = atoi(argv[++i]);
            if (catchup < 1 || catchup > 100000) {
                fprintf(stderr, "turnstile project: --catchup is 1..100000\n");
                return 2;
            }
            continue;
        }
        if (strcmp(argv[i], "--loki") == 0 && i + 1 < argc) {
            loki = argv[++i];
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
    int audit = strcmp(projection, PROJ_AUDIT) == 0;
    if (audit && loki && *loki && strncmp(loki, "http://", 7) != 0 &&
        strncmp(loki, "https://", 8) != 0) {
        fprintf(stderr, "turnstile project: LOKI_URL must start with http:// or https://\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (audit)
        return run_audit(&s, batch, loki);
    return run_catalog(&s, batch, catchup, bootstrap);
}
