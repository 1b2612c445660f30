/* The catalog projector: a durable JetStream pull consumer whose batches are
 * folded into PostgreSQL, one transaction per batch, acked after COMMIT.
 *
 * A session is one PostgreSQL connection holding the catalog's advisory lock
 * plus one NATS connection; any error ends the session, and the next one
 * starts a second later from the checkpoint. At the start of a session the
 * durable is recreated to deliver from checkpoint + 1: the checkpoint, not
 * the consumer's ack floor, says what the tables hold (they may have been
 * dropped for a rebuild), and a fresh consumer has no messages pending from
 * an earlier session that could come back out of order.
 *
 * Order. The consumer has no subject filter, so stream sequences arrive
 * consecutively, except where the stream has deleted messages. Anything else
 * (messages lost in transit and due for redelivery after AckWait) would let
 * a later commit move the checkpoint past an earlier one that was never
 * applied, so a gap ends the session after folding what came before it; the
 * fresh consumer of the next session then proves the gap real. A message
 * below the next expected sequence (redelivered after AckWait while its
 * batch was still being gathered) is left out of the batch rather than
 * folded twice.
 *
 * Backlog. A fetch that leaves messages pending in the consumer (its last
 * message says how many) means the projector is behind: its next fetch asks
 * for up to `catchup` commits, folded in one transaction and acked with one
 * AckAll ack of the last one. The tables then pay per statement and per commit
 * once per tens of thousands of events, a booking placed and ended within
 * the batch is written once, and a big segment of holds goes through COPY.
 * When caught up a batch is what one fetch brings, so a commit is visible
 * a few milliseconds after it is appended.
 *
 * Bootstrap. A backlog of 100,000 commits or more (proj_config_t.bootstrap)
 * that is also at least twice the checkpoint (an empty model, typically) is
 * not folded batch by batch: the session's consumer delivers from seq 1 and
 * the projector builds the whole model in a fresh schema and swaps it in,
 * as turnstile replay does (build.c), then goes on from the build's
 * checkpoint. Readers keep the live model until the swap; a bootstrap that
 * fails leaves it as it was, and the next session folds batch by batch.
 *
 * A rebuild swapping a fresh schema in (build.c) needs nothing from this
 * file: the swap holds the old tables locked, so the next batch waits at its
 * checkpoint lock, and once the swap commits that statement resolves
 * "checkpoints" again, to the new schema's row. Everything the new schema
 * already holds is then at or below the checkpoint and skipped like a
 * redelivery; the batch folds the rest into the new tables. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROJ_DEFAULT_STREAM "TICKETS"
#define PROJ_DEFAULT_BATCH 500
#define PROJ_DEFAULT_CATCHUP 20000
#define PROJ_FETCH_WAIT_MS 500
/* How long a catch-up fetch (tens of thousands of messages) may take. */
#define PROJ_CATCHUP_WAIT_MS 2000
#define PROJ_ACK_WAIT_NS (60LL * 1000 * 1000 * 1000)
#define PROJ_MAX_ACK_PENDING 100000
/* Commits folded between two ANALYZEs of the big tables: at least this
 * many, and at least as many as before the last one (so a catch-up from
 * an empty schema analyzes a handful of times, then autovacuum takes over). */
#define PROJ_ANALYZE_MIN 20000
/* A backlog of at least this many commits, twice the checkpoint or more,
 * is folded by a build swapped in (see "Bootstrap" above). */
#define PROJ_DEFAULT_BOOTSTRAP 100000
#define PROJ_SWAP_ATTEMPTS 5
#define PROJ_SWAP_LOCK_MS 2000

typedef struct {
    const proj_config_t *cfg;
    const char *stream;
    int batch;   /* messages per fetch, and per transaction when caught up */
    int catchup; /* commits per transaction at most while behind */
    proj_db_t *db;
    proj__conn_t *c; /* held for the whole session */
    int locked;      /* c holds the catalog's advisory lock */
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    ts_arena_t arena;
    uint64_t checkpoint; /* as committed by this session */
    int fresh;           /* nothing received since the consumer was created */
    /* The batch being gathered: the fetched lists (destroyed after the
     * ack), and the messages to fold, in stream order. */
    natsMsgList *lists;
    int n_lists, cap_lists;
    natsMsg **msgs;
    uint64_t *seqs;
    proj__item_t *items;
    int n;
    uint64_t expect; /* the next stream sequence the batch takes */
    int behind;      /* the last fetch left messages pending */
    /* Commits folded since the last ANALYZE, and before it. */
    uint64_t since_analyze, at_analyze;
    uint64_t head;     /* the stream's last sequence when the session began */
    uint64_t fed;      /* the last sequence given to the bootstrap's build */
    int no_bootstrap;  /* a bootstrap failed: fold the backlog batch by batch */
    int bootstrapping; /* this session begins with a bootstrap */
    /* Conditions logged once until they clear. */
    int said_standby, said_stream, said_nats;
} runner_t;

static int stopping(const runner_t *r)
{
    return *r->cfg->stop != 0;
}

/* Sleeps up to ms, waking early on stop. */
static void nap(const runner_t *r, int ms)
{
    for (int slept = 0; slept < ms && !stopping(r); slept += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static const char *nats_err(natsStatus s)
{
    const char *last = nats_GetLastError(NULL);
    return last && *last ? last : natsStatus_GetText(s);
}

static ts_status exec_simple(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    ts_status rc = proj__pg_check(pg, res, sql);
    PQclear(res);
    return rc;
}

/* ---- PostgreSQL side of a session ---- */

static ts_status pg_begin_session(runner_t *r)
{
    PGresult *res = NULL;
    ts_status rc = proj__db_acquire(r->db, &r->c);
    if (rc != TS_OK)
        return rc;
    rc = proj__schema_apply(r->c->pg);
    if (rc != TS_OK)
        return rc;
    /* One active projector per projection: folding the same durable from two
     * processes would interleave batches and break the checkpoint order. */
    res =
        PQexec(r->c->pg, "SELECT pg_try_advisory_lock(" PROJ_LOCK_CLASS ", " PROJ_LOCK_CATALOG ")");
    rc = proj__pg_check(r->c->pg, res, "projector lock");
    if (rc == TS_OK && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        if (!r->said_standby)
            proj__log("another catalog projector is active; standing by");
        r->said_standby = 1;
        rc = TS_ERR_CONFLICT;
    } else if (rc == TS_OK) {
        r->locked = 1;
        r->said_standby = 0;
    }
    PQclear(res);
    if (rc != TS_OK)
        return rc;
    const char *name = PROJ_CATALOG;
    rc = proj__exec(r->c, PROJ_Q_CHECKPOINT_GET, 1, &name, &res);
    if (rc != TS_OK)
        return rc;
    r->checkpoint = PQntuples(res) == 1 ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    /* Every join the fold makes goes from a batch's rows to a table by its
     * primary key, and a batch is bounded (catchup) while seats and
     * bookings grow without bound: probing is the right plan at any batch
     * size. The planner, costing probes as disk reads, would hash the
     * whole seats table for a few ten thousand holds (seen: 900 ms to hash
     * 480,000 seats where the probes took 200 ms). temp_buffers: the
     * staging tables of a catch-up batch stay in memory (set before they
     * are first touched in the session). No JIT: compiling the big
     * set-wise statements costs more than running them. */
    rc = exec_simple(r->c->pg, "SET enable_hashjoin = off; SET enable_mergejoin = off;"
                               " SET work_mem = '64MB'; SET temp_buffers = '256MB'; SET jit = off");
    /* Big hold segments of a catch-up go through COPY (fold.c). */
    if (rc == TS_OK)
        rc = proj__staging_ensure(r->c);
    for (int s = PROJ_F_VENUE_CREATED; rc == TS_OK && s < PROJ_STMT_COUNT; s++)
        rc = proj__prepare(r->c, (proj__stmt_t)s);
    r->since_analyze = r->at_analyze = 0;
    return rc;
}

static void pg_end_session(runner_t *r)
{
    if (r->c && r->locked && r->c->pg && PQstatus(r->c->pg) == CONNECTION_OK)
        exec_simple(r->c->pg,
                    "SELECT pg_advisory_unlock(" PROJ_LOCK_CLASS ", " PROJ_LOCK_CATALOG ")");
    r->locked = 0;
    proj__db_release(r->db, r->c);
    r->c = NULL;
}

/* ---- NATS side of a session ---- */

/* 1 when the backlog is to be folded by a build (see bootstrap()). */
static int should_bootstrap(const runner_t *r)
{
    uint64_t backlog = r->head > r->checkpoint ? r->head - r->checkpoint : 0;
    int min = r->cfg->bootstrap ? r->cfg->bootstrap : PROJ_DEFAULT_BOOTSTRAP;
    return !r->no_bootstrap && min > 0 && backlog >= (uint64_t)min && backlog >= 2 * r->checkpoint;
}

static ts_status nats_begin_session(runner_t *r)
{
    natsOptions *opts = NULL;
    natsStatus s;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    jsConsumerConfig cc;
    jsSubOptions so;

    s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(opts, r->cfg->nats_url);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, "turnstile-projector");
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 1000);
    if (s == NATS_OK)
        s = natsConnection_Connect(&r->nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        if (!r->said_nats)
            proj__log("cannot connect to NATS at %s: %s; retrying every second", r->cfg->nats_url,
                      nats_err(s));
        r->said_nats = 1;
        return TS_ERR_UNAVAILABLE;
    }
    r->said_nats = 0;
    s = natsConnection_JetStream(&r->js, r->nc, NULL);
    if (s != NATS_OK)
        return TS_ERR_LOG;

    /* The engine creates the stream; until it does, wait for it. */
    for (;;) {
        s = js_GetStreamInfo(&si, r->js, r->stream, NULL, &jerr);
        if (s == NATS_OK)
            break;
        if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
            proj__log("stream %s: %s", r->stream, nats_err(s));
            return TS_ERR_LOG;
        }
        if (!r->said_stream)
            proj__log("stream %s does not exist yet; waiting for it", r->stream);
        r->said_stream = 1;
        nap(r, 1000);
        if (stopping(r))
            return TS_ERR_SHUTDOWN;
    }
    r->said_stream = 0;
    r->head = si->State.LastSeq;
    if (si->State.LastSeq < r->checkpoint)
        proj__log("checkpoint %" PRIu64 " is past the end of stream %s (%" PRIu64
                  "): were the read models made from another stream?",
                  r->checkpoint, r->stream, si->State.LastSeq);
    jsStreamInfo_Destroy(si);

    /* Recreate the durable at checkpoint + 1 (see the top of this file). */
    s = js_DeleteConsumer(r->js, r->stream, PROJ_CATALOG_DURABLE, NULL, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        proj__log("delete consumer %s: %s", PROJ_CATALOG_DURABLE, nats_err(s));
        return TS_ERR_LOG;
    }
    jsConsumerConfig_Init(&cc);
    cc.Durable = PROJ_CATALOG_DURABLE;
    /* Batches are folded in stream order and acked after their commit:
     * one ack of the batch's last message covers all of it. */
    cc.AckPolicy = js_AckAll;
    cc.AckWait = PROJ_ACK_WAIT_NS;
    cc.MaxAckPending = PROJ_MAX_ACK_PENDING;
    cc.DeliverPolicy = js_DeliverAll;
    /* A bootstrap builds from seq 1. */
    r->bootstrapping = should_bootstrap(r);
    if (r->checkpoint > 0 && !r->bootstrapping) {
        cc.DeliverPolicy = js_DeliverByStartSequence;
        cc.OptStartSeq = r->checkpoint + 1;
    }
    s = js_AddConsumer(&ci, r->js, r->stream, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        proj__log("add consumer %s: %s", PROJ_CATALOG_DURABLE, nats_err(s));
        return TS_ERR_LOG;
    }
    jsSubOptions_Init(&so);
    so.Stream = r->stream;
    so.Consumer = PROJ_CATALOG_DURABLE;
    s = js_PullSubscribe(&r->sub, r->js, NULL, PROJ_CATALOG_DURABLE, NULL, &so, &jerr);
    if (s != NATS_OK) {
        proj__log("pull subscribe %s: %s", PROJ_CATALOG_DURABLE, nats_err(s));
        return TS_ERR_LOG;
    }
    /* A catch-up fetch asks for up to `catchup` messages at once, past the
     * default limits of what a subscription buffers (65,536 messages,
     * 64 MB): the fetch itself bounds it. */
    natsSubscription_SetPendingLimits(r->sub, -1, -1);
    r->fresh = 1;
    r->behind = 0;
    if (!r->bootstrapping)
        proj__log("catalog projector folding stream %s from seq %" PRIu64, r->stream,
                  r->checkpoint + 1);
    return TS_OK;
}

static void nats_end_session(runner_t *r)
{
    natsSubscription_Destroy(r->sub);
    jsCtx_Destroy(r->js);
    natsConnection_Destroy(r->nc);
    r->sub = NULL;
    r->js = NULL;
    r->nc = NULL;
}

/* ---- one batch ---- */

/* Fetches up to want messages (once), waiting up to wait_ms, and appends
 * to the batch those that continue it in stream order. *pending gets the number
 * of messages the consumer still holds after the last one fetched (0 when
 * nothing came). A message below the batch's next sequence is a redelivery
 * of one already in the batch or folded, and is left out; one above it is a
 * gap (see the top of this file): *gap is set and the batch ends before it.
 * Errors: TS_ERR_NOMEM, TS_ERR_LOG. */
static ts_status fetch_more(runner_t *r, int want, int wait_ms, uint64_t *pending, int *gap)
{
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    *pending = 0;
    natsStatus s = natsSubscription_Fetch(&list, r->sub, want, wait_ms, &jerr);
    if (s == NATS_TIMEOUT)
        return TS_OK; /* nothing new: normal */
    if (s != NATS_OK) {
        proj__log("fetch: %s", nats_err(s));
        return TS_ERR_LOG;
    }
    if (r->n_lists == r->cap_lists) {
        int cap = r->cap_lists ? 2 * r->cap_lists : 16;
        natsMsgList *grown = realloc(r->lists, (size_t)cap * sizeof *grown);
        if (!grown) {
            natsMsgList_Destroy(&list);
            return TS_ERR_NOMEM;
        }
        r->lists = grown;
        r->cap_lists = cap;
    }
    r->lists[r->n_lists++] = list;
    for (int i = 0; i < list.Count && r->n < r->catchup; i++) {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, list.Msgs[i]) != NATS_OK)
            return TS_ERR_LOG;
        uint64_t seq = meta->Sequence.Stream;
        *pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
        if (seq < r->expect)
            continue;
        if (seq > r->expect && !r->fresh) {
            proj__log("seq %" PRIu64 " arrived while %" PRIu64
                      " was expected; restarting from the checkpoint",
                      seq, r->expect);
            *gap = 1;
            return TS_OK;
        }
        r->fresh = 0;
        r->msgs[r->n] = list.Msgs[i];
        r->seqs[r->n] = seq;
        r->n++;
        r->expect = seq + 1;
    }
    return TS_OK;
}

/* Folds the batch with proj__fold_batch, in one transaction. */
static ts_status fold_msgs(runner_t *r)
{
    proj__batch_t out;
    for (int i = 0; i < r->n; i++)
        r->items[i] = (proj__item_t){.seq = r->seqs[i],
                                     .subject = natsMsg_GetSubject(r->msgs[i]),
                                     .data = natsMsg_GetData(r->msgs[i]),
                                     .len = (size_t)natsMsg_GetDataLength(r->msgs[i])};
    ts_status rc = proj__fold_batch(r->c, &r->arena, r->items, r->n, 1, NULL, &out);
    if (rc == TS_OK) {
        r->checkpoint = out.checkpoint;
        r->since_analyze += out.commits;
    }
    return rc;
}

/* ANALYZE the tables holds grow and change, when enough commits were folded
 * since the last time: a projector catching up from an empty schema writes
 * hundreds of thousands of bookings before autovacuum first looks, and
 * plans made for an empty table would scan the full one. A failure is
 * logged and otherwise ignored: the statistics are an optimisation. */
static void maybe_analyze(runner_t *r)
{
    uint64_t due = r->at_analyze > PROJ_ANALYZE_MIN ? r->at_analyze : PROJ_ANALYZE_MIN;
    if (r->since_analyze < due)
        return;
    /* Only the columns the fold and the queries filter and join on: the
     * items of every sampled booking would cost seconds to analyze. */
    exec_simple(r->c->pg, "ANALYZE bookings (booking_id, event_id, status),"
                          " seats (event_id, seat_id, status), sections");
    r->at_analyze += r->since_analyze;
    r->since_analyze = 0;
}

static void batch_release(runner_t *r)
{
    for (int i = 0; i < r->n_lists; i++)
        natsMsgList_Destroy(&r->lists[i]);
    r->n_lists = 0;
    r->n = 0;
}

/* ---- bootstrap: a big backlog folded by a build (build.c) ---- */

/* Fetches and gives the build every commit the consumer delivers until it
 * has none pending (acking as it goes: the consumer is recreated at the
 * live checkpoint by every session, so its acks decide nothing here, and
 * MaxAckPending would stop the delivery otherwise). */
static ts_status feed_build(runner_t *r, proj_build_t *b, int wait_ms)
{
    ts_status rc = TS_OK;
    for (;;) {
        uint64_t pending = 0;
        int gap = 0;
        r->expect = r->fed + 1;
        rc = fetch_more(r, r->catchup, wait_ms, &pending, &gap);
        for (int i = 0; rc == TS_OK && i < r->n; i++)
            rc = proj_build_add(b, r->seqs[i], natsMsg_GetSubject(r->msgs[i]),
                                natsMsg_GetData(r->msgs[i]),
                                (size_t)natsMsg_GetDataLength(r->msgs[i]));
        if (rc == TS_OK && r->n > 0) {
            natsMsg_Ack(r->msgs[r->n - 1], NULL);
            r->fed = r->seqs[r->n - 1];
        }
        batch_release(r);
        if (rc == TS_OK && gap)
            rc = TS_ERR_LOG;
        if (rc == TS_OK && stopping(r))
            rc = TS_ERR_SHUTDOWN;
        if (rc != TS_OK || pending == 0)
            return rc;
    }
}

/* The swap's tail, inside its transaction: what arrived since. */
static ts_status swap_tail(proj_build_t *b, void *arg)
{
    return feed_build(arg, b, 200);
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* When the backlog is big and the live model small beside it, folds the
 * whole log into a fresh schema and swaps it in (build.c: UNLOGGED tables,
 * the hold segment carried across transactions, indexes made at the end),
 * as `turnstile replay` would, then lets the loop go on from the build's
 * checkpoint. Rebuilding what the model holds costs less than folding the
 * backlog batch by batch once the backlog is twice the model. A bootstrap
 * that fails drops its build, and the session starts again folding batch
 * by batch (a commit PostgreSQL refuses is then singled out and skipped).
 * Returns TS_OK also when it did nothing. */
static ts_status bootstrap(runner_t *r)
{
    uint64_t backlog = r->head > r->checkpoint ? r->head - r->checkpoint : 0;
    proj_build_t *b = NULL;
    proj_build_stats_t st;
    struct timespec t0;
    uint64_t live = 0;
    ts_status rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    proj_build_config_t bc = {.pg_conninfo = r->cfg->pg_conninfo};
    rc = proj_build_open(&bc, &b);
    if (rc != TS_OK) {
        /* Another build runs (a rebuild: it will swap in soon enough), or
         * none can be made: the next session folds batch by batch. */
        proj__log("bootstrap: %s; folding the backlog batch by batch", ts_status_str(rc));
        r->no_bootstrap = 1;
        return rc;
    }
    proj__log("bootstrap: %" PRIu64 " commits behind; building %s from the log", backlog,
              proj_build_schema(b));
    /* The session made the consumer deliver from seq 1 (bootstrapping). */
    r->fed = 0;
    rc = feed_build(r, b, PROJ_CATCHUP_WAIT_MS);
    if (rc == TS_OK)
        rc = proj_build_finish(b);
    /* What arrived during the finish, then the swap. */
    if (rc == TS_OK)
        rc = feed_build(r, b, 50);
    for (int attempt = 1; rc == TS_OK; attempt++) {
        rc = proj_build_swap(b, swap_tail, r, PROJ_SWAP_LOCK_MS, &live);
        if (rc != TS_ERR_TIMEOUT || attempt == PROJ_SWAP_ATTEMPTS || stopping(r))
            break;
        proj__log("bootstrap: swap attempt %d: the live tables stayed busy; retrying", attempt);
        nap(r, 100 * attempt);
        rc = feed_build(r, b, 50);
    }
    if (rc == TS_OK) {
        proj_build_stats(b, &st);
        r->checkpoint = st.checkpoint;
        r->since_analyze = r->at_analyze = 0;
        r->behind = 0;
        proj__log("bootstrap: %s swapped in at seq %" PRIu64 " (was %" PRIu64 "): %" PRIu64
                  " events in %.1f s",
                  proj_build_schema(b), st.checkpoint, live, st.events, since(&t0));
    } else if (rc != TS_ERR_SHUTDOWN) {
        proj__log("bootstrap: %s; folding the backlog batch by batch instead", ts_status_str(rc));
        r->no_bootstrap = 1;
    }
    proj_build_free(b);
    return rc;
}

/* ---- the loop ---- */

/* Fetches and folds until stop or an error. A batch is what one fetch
 * brings: `batch` messages, or `catchup` when the last fetch left messages
 * pending in the consumer, so that a projector with a backlog pays the
 * per-transaction and per-statement costs once per tens of thousands of
 * events, and folds a booking placed and ended within the batch once
 * (proj__segment_t). One fetch per batch: with nats.c 3.4, holding the
 * messages of one fetch while the next one ran corrupted the heap within
 * minutes (seen under ASan: a garbage message pointer in a fetched list),
 * and a single fetch of the whole batch never did. */
static ts_status pump(runner_t *r)
{
    size_t cap = (size_t)r->catchup;
    r->msgs = calloc(cap, sizeof *r->msgs);
    r->seqs = calloc(cap, sizeof *r->seqs);
    r->items = calloc(cap, sizeof *r->items);
    ts_status rc = r->msgs && r->seqs && r->items ? TS_OK : TS_ERR_NOMEM;

    if (rc == TS_OK && r->bootstrapping)
        rc = bootstrap(r);
    while (rc == TS_OK && !stopping(r)) {
        uint64_t pending = 0;
        int gap = 0;
        r->expect = r->checkpoint + 1;
        rc = r->behind ? fetch_more(r, r->catchup, PROJ_CATCHUP_WAIT_MS, &pending, &gap)
                       : fetch_more(r, r->batch, PROJ_FETCH_WAIT_MS, &pending, &gap);
        r->behind = pending > 0;
        if (rc == TS_OK && r->n > 0)
            rc = fold_msgs(r);
        /* Ack only what the committed transaction covers: the consumer
         * acks everything up to the batch's last message (AckAll). */
        if (rc == TS_OK && r->n > 0)
            natsMsg_Ack(r->msgs[r->n - 1], NULL);
        batch_release(r);
        if (rc == TS_OK && gap)
            rc = TS_ERR_LOG;
        if (rc == TS_OK)
            maybe_analyze(r);
    }
    batch_release(r);
    free(r->lists);
    free(r->msgs);
    free(r->seqs);
    free(r->items);
    r->lists = NULL;
    r->cap_lists = 0;
    r->msgs = NULL;
    r->seqs = NULL;
    r->items = NULL;
    return rc;
}

ts_status proj_run(const proj_config_t *cfg)
{
    runner_t r = {0};
    ts_status rc;

    if (!cfg || !cfg->nats_url || !cfg->pg_conninfo || !cfg->stop || cfg->batch < 0 ||
        cfg->catchup < 0 || cfg->catchup > PROJ_MAX_ACK_PENDING)
        return TS_ERR_INVALID;
    r.cfg = cfg;
    r.stream = cfg->stream ? cfg->stream : PROJ_DEFAULT_STREAM;
    r.batch = cfg->batch ? cfg->batch : PROJ_DEFAULT_BATCH;
    r.catchup = cfg->catchup ? cfg->catchup : PROJ_DEFAULT_CATCHUP;
    r.behind = 0;
    if (r.catchup < r.batch)
        r.catchup = r.batch;
    rc = proj_db_open(cfg->pg_conninfo, 1, &r.db);
    if (rc != TS_OK)
        return rc;
    ts_arena_init(&r.arena, 64 * 1024);

    while (!stopping(&r)) {
        rc = pg_begin_session(&r);
        if (rc == TS_OK)
            rc = nats_begin_session(&r);
        if (rc == TS_OK)
            rc = pump(&r);
        nats_end_session(&r);
        pg_end_session(&r);
        if (!stopping(&r))
            nap(&r, 1000);
    }
    ts_arena_deinit(&r.arena);
    proj_db_free(r.db);
    return TS_OK;
}
