/*
 * turnstile — one binary, one subcommand per process role:
 *   serve         the engine and the REST API
 *   project       a projector: read models in PostgreSQL, or the audit
 *                 stream to Loki
 *   user create   an account, from the command line
 *   audit         the event log read back, and its hash chains verified
 *   snapshots     the LMDB snapshot cache verified against the log, or rebuilt
 *   replay        a read model rebuilt from the log (swapped in, or a copy)
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: turnstile <command> [options]\n"
    "\n"
    "A live-event ticketing engine: event-sourced over NATS JetStream, with\n"
    "read models in PostgreSQL and a REST API (see API.md).\n"
    "\n"
    "Commands:\n"
    "  serve              run the engine and the REST API\n"
    "  project            run a projector: the read models in PostgreSQL\n"
    "                     (--projection catalog) or the audit stream to Loki\n"
    "                     (--projection audit)\n"
    "  user create        create an account (e.g. the first admin)\n"
    "  audit log          print the event log as JSON lines (as GET /audit/events)\n"
    "  audit verify       verify every aggregate's hash chain over the whole log\n"
    "  snapshots verify   check the LMDB snapshots against the log\n"
    "  snapshots rebuild  rebuild the LMDB snapshots from the log\n"
    "  replay             rebuild a read model from the log and swap it in, or\n"
    "                     copy it as of a point in time into a schema of its own\n"
    "  version            print the version\n"
    "\n"
    "Run `turnstile <command> --help` for the options of each command.\n"
    "Every option also has an environment variable (shown in each --help).\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cli_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "project") == 0)
        return cli_project(argc - 1, argv + 1);
    if (strcmp(argv[1], "user") == 0)
        return cli_user(argc - 1, argv + 1);
    if (strcmp(argv[1], "audit") == 0)
        return cli_audit(argc - 1, argv + 1);
    if (strcmp(argv[1], "snapshots") == 0)
        return cli_snapshots(argc - 1, argv + 1);
    if (strcmp(argv[1], "replay") == 0)
        return cli_replay(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("turnstile %s\n", TS_VERSION);
        return 0;
    }
    fprintf(stderr, "turnstile: unknown command '%s'\n\n%s", argv[1], usage);
    return 2;
}
