/* rpl_rebuild: the catalog read model folded afresh from the log, swapped in
 * or kept as a copy (replay.h, "Rebuilds"). The log is read with
 * eng_log_read (an ordered consumer: one pass, in stream order) and every
 * commit handed to the build (projections/build.c), which folds them in big
 * transactions exactly as the live projector folds its batches. */
#include "projections/projections.h"
#include "replay/replay.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The swap waits this long for the live tables, then gives up and retries:
 * readers queued behind it wait no longer than that. From the third
 * attempt on it waits longer than PostgreSQL's deadlock_timeout (1 s by
 * default): an autovacuum of a live table, which a quick retry would meet
 * again and again, is then cancelled by the server for the waiting swap. */
#define RPL_SWAP_LOCK_MS 250
#define RPL_SWAP_LOCK_LONG_MS 1500
#define RPL_SWAP_ATTEMPTS 40
/* Catch-up rounds go on while more than this many commits are behind; the
 * rest is folded inside the swap, with the live model locked. */
#define RPL_CATCH_UP_SMALL 500
#define RPL_CATCH_UP_ROUNDS 8

typedef struct {
    eng_t *e;
    const rpl_rebuild_config_t *cfg;
    proj_build_t *b;
    rpl_progress_t p;
    struct timespec t0;
    double last_report; /* seconds, of the last progress call */
    double every;       /* seconds between progress calls */
    int limited;        /* stop at until_seq / until_time */
    ts_status rc;       /* of the build, from inside the read */
    int stopped;        /* *stop was seen */
} run_t;

const char *rpl_phase_name(rpl_phase_t p)
{
    static const char *const names[] = {"bulk", "flush", "catch-up", "finish", "swap", "done"};
    return (unsigned)p < TS_ARRAY_LEN(names) ? names[p] : "unknown";
}

static double elapsed(const run_t *r)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - r->t0.tv_sec) + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static void report(run_t *r, int force)
{
    double now = elapsed(r);
    if (!r->cfg->progress || (!force && now - r->last_report < r->every))
        return;
    proj_build_stats_t st = {0};
    if (r->b)
        proj_build_stats(r->b, &st);
    r->p.commits = st.commits;
    r->p.events = st.events;
    r->p.seconds = now;
    r->last_report = now;
    r->cfg->progress(&r->p, r->cfg->progress_arg);
}

static void phase(run_t *r, rpl_phase_t ph, uint64_t target)
{
    r->p.phase = ph;
    r->p.target = target;
    report(r, 1);
}

static int stopping(const run_t *r)
{
    return r->cfg->stop && *r->cfg->stop;
}

/* eng_log_read's callback: one commit into the build. */
static int on_commit(const eng_log_msg_t *m, void *arg)
{
    run_t *r = arg;
    if (r->limited && ((r->cfg->has_until_seq && m->seq > r->cfg->until_seq) ||
                       (r->cfg->until_time && m->time > r->cfg->until_time)))
        return 1;
    r->rc = proj_build_add(r->b, m->seq, m->subject, m->data, m->len);
    r->p.seq = m->seq;
    if (r->rc != TS_OK)
        return 1;
    if (stopping(r)) {
        r->stopped = 1;
        return 1;
    }
    /* The clock is cheap (vDSO); one look per 256 commits is plenty. */
    if ((m->seq & 255) == 0)
        report(r, 0);
    return 0;
}

/* Reads and adds every commit after the build's checkpoint (up to the
 * log's head as of the call, or the limits of a copy). */
static ts_status read_rest(run_t *r)
{
    proj_build_stats_t st;
    /* Every caller flushed the build first: the checkpoint is what the
     * build holds (a failed swap took back what it had read). */
    proj_build_stats(r->b, &st);
    r->p.seq = st.checkpoint;
    r->rc = TS_OK;
    ts_status rc = eng_log_read(r->e, ">", st.checkpoint + 1, on_commit, r);
    if (rc == TS_OK)
        rc = r->rc;
    if (rc == TS_OK && r->stopped)
        rc = TS_ERR_SHUTDOWN;
    return rc;
}

/* The swap's tail: inside its transaction. */
static ts_status swap_tail(proj_build_t *b, void *arg)
{
    run_t *r = arg;
    (void)b;
    return read_rest(r);
}

/* Rounds of reading what was appended meanwhile, until little is left. */
static ts_status catch_up(run_t *r)
{
    for (int round = 0; round < RPL_CATCH_UP_ROUNDS; round++) {
        uint64_t head = 0;
        ts_status rc = eng_log_last_seq(r->e, &head);
        if (rc != TS_OK)
            return rc;
        if (head <= r->p.seq + RPL_CATCH_UP_SMALL)
            break;
        phase(r, RPL_PHASE_CATCH_UP, head);
        rc = read_rest(r);
        if (rc == TS_OK)
            rc = proj_build_flush(r->b);
        if (rc != TS_OK)
            return rc;
    }
    return TS_OK;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static ts_status swap(run_t *r, rpl_rebuild_report_t *rep)
{
    ts_status rc = TS_ERR_TIMEOUT;
    int db_errors = 0;
    for (int attempt = 1; attempt <= RPL_SWAP_ATTEMPTS; attempt++) {
        if (stopping(r))
            return TS_ERR_SHUTDOWN;
        phase(r, RPL_PHASE_SWAP, r->p.seq);
        rep->swap_attempts = attempt;
        rc = proj_build_swap(r->b, swap_tail, r,
                             attempt <= 2 ? RPL_SWAP_LOCK_MS : RPL_SWAP_LOCK_LONG_MS,
                             &rep->replaced_seq);
        if (rc == TS_OK)
            return TS_OK;
        /* A database error inside the swap may be a commit PostgreSQL
         * refuses: a catch-up outside it singles that one out and skips it,
         * as the projector does. Anything else is final. */
        if (rc == TS_ERR_DB && ++db_errors > 2)
            return rc;
        if (rc != TS_ERR_TIMEOUT && rc != TS_ERR_DB)
            return rc;
        /* Busy readers or a projector batch held a table: step back (the
         * queued readers run), then try again with less to fold. */
        fprintf(stderr, "replay: swap attempt %d: %s; retrying\n", attempt,
                rc == TS_ERR_TIMEOUT ? "the live tables stayed busy" : "database error");
        nap_ms(50 * (attempt < 10 ? attempt : 10));
        rc = catch_up(r);
        if (rc != TS_OK)
            return rc;
    }
    return TS_ERR_TIMEOUT;
}

/* One build from seq 1 (see "Rebuilds" in replay.h). */
static ts_status build_once(run_t *r, uint64_t head, int exact, rpl_rebuild_report_t *rep)
{
    const rpl_rebuild_config_t *cfg = r->cfg;
    proj_build_stats_t st;
    ts_status rc = TS_OK;

    proj_build_config_t bc = {.pg_conninfo = cfg->pg_conninfo,
                              .into = cfg->into,
                              .replace = cfg->replace,
                              .batch = cfg->batch,
                              .exact = exact};
    rc = proj_build_open(&bc, &r->b);
    if (rc != TS_OK)
        return rc;
    r->p.schema = proj_build_schema(r->b);
    r->p.seq = 0;

    /* Bulk: seq 1 to the head, or to the copy's limits. */
    r->limited = cfg->into != NULL;
    phase(r, RPL_PHASE_BULK, cfg->has_until_seq ? cfg->until_seq : head);
    if (!cfg->has_until_seq || cfg->until_seq > 0)
        rc = read_rest(r);
    if (rc == TS_OK) {
        phase(r, RPL_PHASE_FLUSH, r->p.seq);
        rc = proj_build_flush(r->b);
    }
    r->limited = 0;
    /* A stop is seen while commits are read; between the long steps that
     * read none, look again, so that nothing is kept or swapped after it. */
    if (rc == TS_OK && stopping(r))
        rc = TS_ERR_SHUTDOWN;
    if (rc == TS_OK && !cfg->into)
        rc = catch_up(r);
    if (rc == TS_OK) {
        phase(r, RPL_PHASE_FINISH, r->p.seq);
        rc = proj_build_finish(r->b);
    }
    if (rc == TS_OK && stopping(r))
        rc = TS_ERR_SHUTDOWN;
    if (rc == TS_OK && cfg->into) {
        rc = proj_build_keep(r->b);
        snprintf(rep->schema, sizeof rep->schema, "%s", cfg->into);
    } else if (rc == TS_OK) {
        /* Indexes took a while: catch up again, so the swap is short. */
        rc = catch_up(r);
        if (rc == TS_OK)
            rc = swap(r, rep);
        snprintf(rep->schema, sizeof rep->schema, "%s", PROJ_CATALOG_SCHEMA);
    }
    if (rc == TS_OK) {
        proj_build_stats(r->b, &st);
        phase(r, RPL_PHASE_DONE, st.checkpoint);
        snprintf(rep->built_as, sizeof rep->built_as, "%s", proj_build_schema(r->b));
        rep->version = proj_build_version(r->b);
        rep->checkpoint = st.checkpoint;
        rep->commits = st.commits;
        rep->events = st.events;
    }
    proj_build_free(r->b);
    r->b = NULL;
    return rc;
}

ts_status rpl_rebuild(eng_t *e, const rpl_rebuild_config_t *cfg, rpl_rebuild_report_t *out)
{
    run_t r = {.e = e, .cfg = cfg};
    rpl_rebuild_report_t rep;
    uint64_t head = 0;
    ts_status rc;

    if (!e || !cfg || !cfg->pg_conninfo ||
        (!cfg->into && (cfg->has_until_seq || cfg->until_time || cfg->replace)))
        return TS_ERR_INVALID;
    memset(&rep, 0, sizeof rep);
    clock_gettime(CLOCK_MONOTONIC, &r.t0);
    r.every = (cfg->progress_ms > 0 ? cfg->progress_ms : 1000) / 1000.0;
    rc = eng_log_last_seq(e, &head);
    if (rc != TS_OK)
        return rc;
    if (cfg->has_until_seq && cfg->until_seq > head) {
        fprintf(stderr, "replay: --until-seq %llu is past the log's head (%llu)\n",
                (unsigned long long)cfg->until_seq, (unsigned long long)head);
        return TS_ERR_NOT_FOUND;
    }
    rc = build_once(&r, head, cfg->exact, &rep);
    if (rc == TS_ERR_CORRUPT && !cfg->exact) {
        /* As the projector does, the poison commit must be skipped alone:
         * only an exact build can single it out. */
        fprintf(stderr, "replay: PostgreSQL refused the data of a commit; building again "
                        "exactly, one hold segment per transaction\n");
        rc = build_once(&r, head, 1, &rep);
    }
    if (rc == TS_OK) {
        rep.seconds = elapsed(&r);
        rc = eng_log_last_seq(e, &rep.log_head);
    }
    if (rc == TS_OK)
        *out = rep;
    return rc;
}
