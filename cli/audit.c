/* turnstile audit log | verify: the event log read back, for auditors. */
#include "cli/cli.h"
#include "engine/engine.h"
#include "replay/replay.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "Usage: turnstile audit log [--subject S] [--type T] [--from-seq N]\n"
    "                           [--from-time T] [--to-time T] [--limit N] [options]\n"
    "       turnstile audit verify [--subject S] [options]\n"
    "\n"
    "Reads the event log directly from JetStream (an ordered consumer, in\n"
    "stream order); needs neither `serve` nor PostgreSQL, and never writes.\n"
    "\n"
    "audit log prints the commits as JSON lines on stdout, each the item that\n"
    "GET /api/v1/audit/events answers: {seq, subject, version, time, actor,\n"
    "command_id, correlation_id, hash, prev_hash, events: [{type, data}]}\n"
    "(a commit that does not decode: {seq, subject, hash, error}).\n"
    "\n"
    "audit verify walks the per-aggregate hash chain of every subject (or of\n"
    "those matching S): each commit must decode, carry its own subject, have\n"
    "version previous+1 (1 first) and carry as prev_hash the SHA-256 of the\n"
    "previous commit's payload on its subject (zeros first). It prints\n"
    "{subjects, commits, ok, broken, first_bad?: {subject, seq, reason}} with\n"
    "the first break in stream order; reason is undecodable, subject_mismatch,\n"
    "version_gap or prev_hash_mismatch. GET /api/v1/audit/verify answers the same.\n"
    "\n"
    "Options:\n"
    "  --subject S       subject filter, wildcards allowed (default: all)\n"
    "  --type T          log: only commits with an event of type T (HoldPlaced, ...)\n"
    "  --from-seq N      log: start at stream sequence N\n"
    "  --from-time T     log: only commits at or after T (RFC 3339)\n"
    "  --to-time T       log: only commits before T (RFC 3339)\n"
    "  --limit N         log: stop after N commits (default: no limit)\n"
    "  --nats URL        NATS server with JetStream   [TURNSTILE_NATS_URL, "
    "nats://127.0.0.1:4222]\n"
    "  --stream NAME     JetStream stream             [TURNSTILE_STREAM, TICKETS]\n"
    "\n"
    "Exit status: 0 done (verify: every chain intact), 1 verify: a chain is\n"
    "broken, 2 bad usage, 3 the log could not be read (NATS down, no stream).\n";

typedef struct {
    rpl_filter_t filter;
    uint64_t limit; /* 0: none */
    uint64_t printed;
    int write_failed;
} log_out_t;

static int print_one(const eng_log_msg_t *m, void *arg)
{
    log_out_t *o = arg;
    json_t *item = rpl_commit_json(m, &o->filter);
    if (!item)
        return 0;
    char *line = json_dumps(item, JSON_COMPACT);
    json_decref(item);
    if (!line || fputs(line, stdout) == EOF || fputc('\n', stdout) == EOF)
        o->write_failed = 1; /* e.g. a closed pipe: stop reading */
    free(line);
    o->printed++;
    return o->write_failed || (o->limit && o->printed >= o->limit);
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-')
        return -1;
    *out = n;
    return 0;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int cli_audit(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1];
    int is_log = strcmp(what, "log") == 0;
    if (!is_log && strcmp(what, "verify") != 0) {
        fprintf(stderr,
                "turnstile audit: expected 'log' or 'verify' (see turnstile audit --help)\n");
        return 2;
    }
    cli_settings_t s;
    cli_settings_from_env(&s);
    const char *subject = NULL;
    log_out_t out = {0};
    uint64_t from_seq = 0;
    for (int i = 2; i < argc; i++) {
        int r = cli_settings_option(&s, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == CLI_OPT_HELP) {
            fputs(help, stdout);
            return 0;
        }
        if (r)
            continue;
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "turnstile audit %s: unknown option or missing value '%s'\n", what, a);
            return 2;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (strcmp(a, "--subject") == 0)
            bad = !cli_subject_filter_valid(subject = v);
        else if (!is_log)
            bad = -1;
        else if (strcmp(a, "--type") == 0)
            out.filter.type = v;
        else if (strcmp(a, "--from-seq") == 0)
            bad = parse_u64(v, &from_seq) != 0;
        else if (strcmp(a, "--limit") == 0)
            bad = parse_u64(v, &out.limit) != 0 || out.limit == 0;
        else if (strcmp(a, "--from-time") == 0)
            bad = ts_time_parse(v, &out.filter.from_time) != TS_OK;
        else if (strcmp(a, "--to-time") == 0)
            bad = ts_time_parse(v, &out.filter.to_time) != TS_OK;
        else
            bad = -1;
        if (bad < 0) {
            fprintf(stderr, "turnstile audit %s: unknown option '%s' (see --help)\n", what, a);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "turnstile audit %s: bad value for %s: '%s'\n", what, a, v);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    eng_t *e = NULL;
    eng_config_t ec = {.mode = ENG_MODE_LOG, .nats_url = s.nats_url, .stream = s.stream};
    ts_status st = eng_open(&ec, &e);
    if (st != TS_OK) {
        fprintf(stderr, "turnstile audit %s: %s (NATS %s, stream %s)\n", what, ts_status_str(st),
                s.nats_url, s.stream);
        return 3;
    }
    int rc = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (is_log) {
        st = eng_log_read(e, subject ? subject : ">", from_seq, print_one, &out);
        if (fflush(stdout) != 0)
            out.write_failed = 1;
        if (st != TS_OK) {
            fprintf(stderr, "turnstile audit log: %s\n", ts_status_str(st));
            rc = 3;
        }
    } else {
        ts_arena_t arena;
        ts_arena_init(&arena, 1024);
        rpl_verify_t v;
        st = rpl_verify(e, subject, &arena, &v);
        if (st == TS_OK) {
            json_t *j = rpl_verify_json(&v);
            json_dumpf(j, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(j);
            double secs = seconds_since(&t0);
            fprintf(stderr, "audit verify: %llu commits on %llu subjects in %.3f s (%.0f/s)\n",
                    (unsigned long long)v.commits, (unsigned long long)v.subjects, secs,
                    secs > 0 ? (double)v.commits / secs : 0.0);
            rc = v.ok ? 0 : 1;
        } else {
            fprintf(stderr, "turnstile audit verify: %s\n", ts_status_str(st));
            rc = 3;
        }
        ts_arena_deinit(&arena);
    }
    eng_free(e);
    return rc;
}
