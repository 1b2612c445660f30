/* turnstile replay: a read model rebuilt from the log and swapped in, or an
 * analyst's copy as of a point in time (replay.h, "Rebuilds"). */
#include "replay/replay.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "projections/projections.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "Usage: turnstile replay --projection NAME [options]\n"
    "       turnstile replay --projection NAME --into SCHEMA [--until-seq N | --until-time T]\n"
    "                        [--replace] [options]\n"
    "\n"
    "Rebuilds a read model from the event log into a fresh PostgreSQL schema.\n"
    "The one projection today is `catalog` (venues, events, sections, seats,\n"
    "bookings: what the REST queries read).\n"
    "\n"
    "Without --into, the rebuild replaces the live model, blue/green: it folds\n"
    "the whole log into schema catalog_v<N>, catches up with the live head, then\n"
    "in one transaction locks the live tables, folds the last commits, drops\n"
    "schema catalog and renames the build to catalog. Queries keep answering\n"
    "from the old model meanwhile and never see a half-built one; a running\n"
    "`turnstile project` pauses for the swap and then goes on folding into the\n"
    "new model from its checkpoint. Objects made in schema catalog by hand, or\n"
    "depending on its tables, are dropped with it.\n"
    "\n"
    "With --into, the build becomes schema SCHEMA, left for SQL (\"SELECT * FROM\n"
    "SCHEMA.seats\"): never swapped in, never updated. --until-seq N stops after\n"
    "commit N, --until-time T before the first commit stored after T, so SCHEMA\n"
    "holds the model exactly as of that point; SCHEMA.checkpoints says which\n"
    "commit that was. An existing SCHEMA is refused unless --replace is given\n"
    "(it is replaced only once the new copy is complete).\n"
    "\n"
    "Progress goes to stderr: a bar on a terminal, else a line every 2 s. The\n"
    "summary is one JSON object on stdout: {projection, schema, built_as,\n"
    "version, events, commits, seconds, events_per_s, head_seq, log_head_seq,\n"
    "replaced_seq?, until_seq?, until_time?}, head_seq being the model's\n"
    "checkpoint. Only one rebuild or copy runs at a time.\n"
    "\n"
    "Options:\n"
    "  --projection NAME the read model to rebuild: catalog (required)\n"
    "  --into SCHEMA     make an analyst's copy named SCHEMA: 1..63 of [a-z0-9_],\n"
    "                    not an SQL keyword, public, information_schema, pg_*,\n"
    "                    catalog*\n"
    "  --until-seq N     with --into: the model as of stream sequence N\n"
    "  --until-time T    with --into: the model as of time T (RFC 3339)\n"
    "  --replace         with --into: replace an existing SCHEMA\n"
    "  --batch N         commits per transaction (default 20000)\n"
    "  --exact           fold holds one transaction at a time, as the projector\n"
    "                    does (slower; the default writes a booking placed and\n"
    "                    ended during the build once, already ended, with the\n"
    "                    same result; a build that meets a commit PostgreSQL\n"
    "                    refuses starts again exact by itself)\n"
    "  --quiet           no progress, only the summary\n"
    "  --nats URL        NATS server with JetStream   [TURNSTILE_NATS_URL, "
    "nats://127.0.0.1:4222]\n"
    "  --pg CONNINFO     PostgreSQL (libpq conninfo)  [TURNSTILE_PG_URL, "
    "postgresql://postgres@127.0.0.1:55432/turnstile]\n"
    "  --stream NAME     JetStream stream             [TURNSTILE_STREAM, TICKETS]\n"
    "\n"
    "Exit status:\n"
    "  0  done\n"
    "  1  failed or interrupted (the live model, and an existing SCHEMA, are left\n"
    "     as they were; the build is dropped)\n"
    "  2  bad usage, or SCHEMA is an SQL keyword\n"
    "  3  the log could not be read (NATS down, no stream) or PostgreSQL is\n"
    "     unreachable\n"
    "  4  refused: another rebuild or copy is running, SCHEMA exists and\n"
    "     --replace is not given, or N is past the log's head\n";

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct {
    int tty;   /* draw a bar (stderr is a terminal) */
    int quiet; /* nothing at all */
    int drawn; /* a bar is on the current line */
    rpl_phase_t last_phase;
    int started; /* last_phase is valid */
} view_t;

static void end_bar(view_t *v)
{
    if (v->drawn)
        fputc('\n', stderr);
    v->drawn = 0;
}

/* "1,234,567" */
static const char *grouped(uint64_t n, char buf[32])
{
    char raw[24];
    int len = snprintf(raw, sizeof raw, "%" PRIu64, n), o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

static void on_progress(const rpl_progress_t *p, void *arg)
{
    view_t *v = arg;
    char a[32], b[32], c[32], eta[32] = "-";
    if (v->quiet)
        return;
    if (!v->started || p->phase != v->last_phase) {
        end_bar(v);
        if (p->phase == RPL_PHASE_FLUSH)
            fprintf(stderr, "replay: %s: writing the bookings and held seats read so far\n",
                    p->schema);
        else if (p->phase == RPL_PHASE_FINISH)
            fprintf(stderr, "replay: %s: indexes, ANALYZE\n", p->schema);
        else if (p->phase == RPL_PHASE_SWAP)
            fprintf(stderr, "replay: %s: swapping in for schema %s\n", p->schema,
                    PROJ_CATALOG_SCHEMA);
        else if (p->phase != RPL_PHASE_DONE)
            fprintf(stderr, "replay: %s: %s to seq %s\n", p->schema, rpl_phase_name(p->phase),
                    grouped(p->target, a));
        v->last_phase = p->phase;
        v->started = 1;
        return;
    }
    double rate = p->seconds > 0 ? (double)p->events / p->seconds : 0;
    double seq_rate = p->seconds > 0 ? (double)p->seq / p->seconds : 0;
    double pct = p->target ? 100.0 * (double)p->seq / (double)p->target : 100.0;
    if (pct > 100)
        pct = 100;
    if (seq_rate > 0 && p->target > p->seq)
        snprintf(eta, sizeof eta, "%.0fs", (double)(p->target - p->seq) / seq_rate);
    else if (p->target <= p->seq)
        snprintf(eta, sizeof eta, "0s");
    if (v->tty) {
        char bar[31];
        int fill = (int)(pct * 30 / 100);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[30] = '\0';
        fprintf(stderr, "\r\033[K%s [%s] %5.1f%%  seq %s/%s  %s events/s  ETA %s",
                rpl_phase_name(p->phase), bar, pct, grouped(p->seq, a), grouped(p->target, b),
                grouped((uint64_t)rate, c), eta);
        v->drawn = 1;
    } else {
        fprintf(stderr,
                "replay: %s: seq %" PRIu64 "/%" PRIu64 " (%.1f%%), %" PRIu64
                " events folded, %.0f events/s, ETA %s\n",
                rpl_phase_name(p->phase), p->seq, p->target, pct, p->events, rate, eta);
    }
    fflush(stderr);
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

static int exit_code(ts_status st)
{
    switch (st) {
    case TS_ERR_CONFLICT:
    case TS_ERR_NOT_FOUND:
        return 4;
    case TS_ERR_UNAVAILABLE:
    case TS_ERR_LOG:
        return 3;
    case TS_ERR_INVALID:
        return 2; /* e.g. --into names an SQL keyword */
    default:
        return 1;
    }
}

static void print_summary(const rpl_rebuild_config_t *rc, const rpl_rebuild_report_t *r,
                          const char *until_time)
{
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:I, s:I}", "projection", PROJ_CATALOG,
                  "schema", r->schema, "built_as", r->built_as, "version", (json_int_t)r->version,
                  "events", (json_int_t)r->events, "commits", (json_int_t)r->commits, "seconds",
                  r->seconds, "events_per_s", r->seconds > 0 ? (double)r->events / r->seconds : 0.0,
                  "head_seq", (json_int_t)r->checkpoint, "log_head_seq", (json_int_t)r->log_head);
    if (!rc->into) {
        json_object_set_new(j, "replaced_seq", json_integer((json_int_t)r->replaced_seq));
        json_object_set_new(j, "swap_attempts", json_integer(r->swap_attempts));
    }
    if (rc->has_until_seq)
        json_object_set_new(j, "until_seq", json_integer((json_int_t)rc->until_seq));
    if (until_time)
        json_object_set_new(j, "until_time", json_string(until_time));
    json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(j);
}

int cli_replay(int argc, char **argv)
{
    cli_settings_t s;
    cli_settings_from_env(&s);
    rpl_rebuild_config_t rc = {0};
    view_t view = {.tty = isatty(STDERR_FILENO)};
    const char *projection = NULL, *until_time = NULL;
    uint64_t batch = 0;

    for (int i = 1; i < argc; i++) {
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
        if (strcmp(a, "--replace") == 0) {
            rc.replace = 1;
            continue;
        }
        if (strcmp(a, "--quiet") == 0) {
            view.quiet = 1;
            continue;
        }
        if (strcmp(a, "--exact") == 0) {
            rc.exact = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "turnstile replay: unknown option or missing value '%s'\n", a);
            return 2;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (strcmp(a, "--projection") == 0)
            projection = v;
        else if (strcmp(a, "--into") == 0) {
            rc.into = v;
            if (!proj_schema_name_valid(v)) {
                fprintf(stderr,
                        "turnstile replay: --into '%s': a schema name is 1..63 of "
                        "[a-z0-9_], not starting with a digit, and not public, "
                        "information_schema, pg_* or catalog*\n",
                        v);
                return 2;
            }
        } else if (strcmp(a, "--until-seq") == 0) {
            rc.has_until_seq = 1;
            bad = parse_u64(v, &rc.until_seq) != 0;
        } else if (strcmp(a, "--until-time") == 0)
            bad = ts_time_parse(until_time = v, &rc.until_time) != TS_OK || rc.until_time <= 0;
        else if (strcmp(a, "--batch") == 0)
            bad = parse_u64(v, &batch) != 0 || batch < 1 || batch > 1000000;
        else
            bad = -1;
        if (bad < 0) {
            fprintf(stderr, "turnstile replay: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "turnstile replay: bad value for %s: '%s'\n", a, v);
            return 2;
        }
    }
    if (!projection) {
        fprintf(stderr, "turnstile replay: --projection is required (see --help)\n");
        return 2;
    }
    if (strcmp(projection, PROJ_CATALOG) != 0) {
        fprintf(stderr, "turnstile replay: unknown projection '%s' (known: %s)\n", projection,
                PROJ_CATALOG);
        return 2;
    }
    if (!rc.into && (rc.has_until_seq || until_time || rc.replace)) {
        fprintf(stderr, "turnstile replay: --until-seq, --until-time and --replace need --into "
                        "(a model as of the past is never swapped in)\n");
        return 2;
    }
    rc.pg_conninfo = s.pg_conninfo;
    rc.batch = (int)batch;
    rc.stop = &stop_flag;
    rc.progress = on_progress;
    rc.progress_arg = &view;
    rc.progress_ms = view.tty ? 200 : 2000;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    eng_t *e = NULL;
    eng_config_t ec = {.mode = ENG_MODE_LOG, .nats_url = s.nats_url, .stream = s.stream};
    ts_status st = eng_open(&ec, &e);
    if (st != TS_OK) {
        fprintf(stderr, "turnstile replay: %s (NATS %s, stream %s)\n", ts_status_str(st),
                s.nats_url, s.stream);
        return 3;
    }
    rpl_rebuild_report_t rep;
    st = rpl_rebuild(e, &rc, &rep);
    end_bar(&view);
    eng_free(e);
    if (st != TS_OK) {
        fprintf(stderr, "turnstile replay: %s%s\n", ts_status_str(st),
                st == TS_ERR_SHUTDOWN ? " (interrupted; the build was dropped)" : "");
        return exit_code(st);
    }
    if (!view.quiet)
        fprintf(stderr, "replay: %s is %s: %" PRIu64 " events in %.3f s (%.0f events/s)\n",
                rep.built_as, rep.schema, rep.events, rep.seconds,
                rep.seconds > 0 ? (double)rep.events / rep.seconds : 0.0);
    print_summary(&rc, &rep, until_time);
    return 0;
}
