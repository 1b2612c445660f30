/* The catalog projector: a durable JetStream pull consumer whose batches are
 * folded into PostgreSQL, one transaction per batch, acked after COMMIT.
 *
 * A session is one PostgreSQL connection holding the catalog's advisory lock
 * plus one NATS connection (consumer.c, shared with the audit projector);
 * any error ends the session, and the next one
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
 * message says how many), or a session that starts more than a batch
 * behind the head of the stream, means the projector is behind: it then
 * folds up to `catchup` commits (200,000) in one transaction
 * (fold_backlog), fetched 20,000 at a time by a thread of its own (the
 * prefetcher, consumer.c) while PostgreSQL works on what the fetches before
 * sent, with the hold segment carried across those fetches and sent,
 * through COPY, before the checkpoint: a booking placed and ended within
 * the transaction is written once, already ended, and its seats never; the
 * transaction is acked with one AckAll ack when it commits. The
 * tables pay per statement and per commit once per tens of thousands of
 * events. When caught up a batch is what one fetch brings, so a commit is
 * visible a few milliseconds after it is appended.
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
#define PROJ_DEFAULT_CATCHUP 200000
#define PROJ_MAX_CATCHUP 1000000
/* Commits a fetch asks for at most while behind (and a transaction folds
 * when it cannot carry its holds). */
#define PROJ_FETCH_CHUNK 20000
#define PROJ_FETCH_WAIT_MS 500
/* How long a catch-up fetch (tens of thousands of messages) may take. */
#define PROJ_CATCHUP_WAIT_MS 2000
/* A backlog transaction may run for a minute on a busy machine, and its
 * messages are acked when it commits. */
#define PROJ_ACK_WAIT_NS (300LL * 1000 * 1000 * 1000)

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
    int batch;   /* messages per fetch, and per transaction when caught up */
    int catchup; /* commits per transaction at most while behind */
    int chunk;   /* commits per fetch while behind */
    int cap;     /* of msgs, items: the larger of batch and chunk */
    proj_db_t *db;
    proj__conn_t *c;       /* held for the whole session */
    int locked;            /* c holds the catalog's advisory lock */
    proj__consumer_t cons; /* the NATS side (consumer.c) */
    ts_arena_t arena;
    uint64_t checkpoint; /* as committed by this session */
    proj__msg_t *msgs;   /* of one fetch when caught up */
    proj__item_t *items;
    int behind; /* the last fetch left messages pending */
    /* Commits folded since the last ANALYZE, and before it. */
    uint64_t since_analyze, at_analyze;
    uint64_t fed;      /* the last sequence given to the bootstrap's build */
    int no_bootstrap;  /* a bootstrap failed: fold the backlog batch by batch */
    int bootstrapping; /* this session begins with a bootstrap */
    int no_carry;      /* a backlog transaction failed: batches from now on */
    /* Conditions logged once until they clear. */
    int said_standby;
} runner_t;

static int stopping(const runner_t *r)
{
    return *r->cfg->stop != 0;
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
     * primary key, and a batch is bounded (PROJ_FETCH_CHUNK) while seats and
     * bookings grow without bound: probing is the right plan at any batch
     * size. The planner, costing probes as disk reads, would hash the
     * whole seats table for a few ten thousand holds (seen: 900 ms to hash
     * 480,000 seats where the probes took 200 ms). temp_buffers: the
     * staging tables of a catch-up batch stay in memory (set before they
     * are first touched in the session). No JIT: compiling the big
     * set-wise statements costs more than running them. */
    /* Custom plans: the tables start empty and grow by millions of rows
     * between two ANALYZEs, and a generic plan made while seats or bookings
     * were tiny would scan them for ever after (seen: 50 ms per hold
     * instead of 0.1 ms). A custom plan sees the current size of each
     * table, for a fraction of a millisecond of planning per statement. */
    /* Asynchronous commit (no WAL flush waited for per batch): safe here
     * because the checkpoint commits in the same transaction as the rows
     * it covers. A crash of PostgreSQL can lose only the last few whole
     * transactions, checkpoint and rows together, and the next session
     * folds them again from the older checkpoint it finds: the consumer
     * is recreated at the checkpoint, so the acks sent for them decide
     * nothing. Readers may see the model step back to that checkpoint
     * until it is folded again, to the same rows. */
    /* A small statistics target: the fold's ANALYZEs (maybe_analyze, and
     * fold.c's of seats inside a batch) then sample 3,000 rows instead of
     * 30,000. The plans only need the tables' sizes and rough counts of
     * events and statuses; measured on 775,000 bookings and 960,000 seats:
     * 462 ms -> 29 ms, and 113 -> 13 ms for seats alone. */
    rc = exec_simple(r->c->pg, "SET enable_hashjoin = off; SET enable_mergejoin = off;"
                               " SET plan_cache_mode = force_custom_plan; SET work_mem = '64MB';"
                               " SET temp_buffers = '256MB'; SET jit = off;"
                               " SET synchronous_commit = off; SET default_statistics_target = 10");
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

/* ---- NATS side of a session (consumer.c) ---- */

/* 1 when the backlog is to be folded by a build (see bootstrap()). */
static int should_bootstrap(const runner_t *r)
{
    uint64_t head = r->cons.head;
    uint64_t backlog = head > r->checkpoint ? head - r->checkpoint : 0;
    int min = r->cfg->bootstrap ? r->cfg->bootstrap : PROJ_DEFAULT_BOOTSTRAP;
    return !r->no_bootstrap && min > 0 && backlog >= (uint64_t)min && backlog >= 2 * r->checkpoint;
}

/* Connects, then recreates the durable at checkpoint + 1 (see the top of
 * this file), or at seq 1 for a bootstrap. A session that starts with more
 * than a batch to fold starts behind: its first transaction is a backlog
 * transaction. */
static ts_status nats_begin_session(runner_t *r)
{
    ts_status rc = proj__consumer_connect(&r->cons, r->checkpoint);
    if (rc != TS_OK)
        return rc;
    r->bootstrapping = should_bootstrap(r);
    rc = proj__consumer_subscribe(&r->cons, r->bootstrapping ? 1 : r->checkpoint + 1);
    r->behind = !r->bootstrapping && r->cons.head > r->checkpoint + (uint64_t)r->batch;
    return rc;
}

/* ---- one batch ---- */

/* One fetch of up to `want` messages, folded in one transaction with
 * proj__fold_batch, then acked: the consumer acks everything up to the
 * batch's last message (AckAll), and only what the committed transaction
 * covers. */
static ts_status fetch_fold(runner_t *r, int want, int wait_ms)
{
    natsMsgList list = {0};
    proj__batch_t out;
    uint64_t pending = 0;
    int n = 0, gap = 0;
    ts_status rc = proj__consumer_fetch(&r->cons, want, wait_ms, r->checkpoint, &list, r->msgs, &n,
                                        &gap, &pending);
    r->behind = pending > 0;
    for (int i = 0; rc == TS_OK && i < n; i++) {
        natsMsg *m = r->msgs[i].msg;
        r->items[i] = (proj__item_t){.seq = r->msgs[i].seq,
                                     .subject = natsMsg_GetSubject(m),
                                     .data = natsMsg_GetData(m),
                                     .len = (size_t)natsMsg_GetDataLength(m)};
    }
    if (rc == TS_OK && n > 0)
        rc = proj__fold_batch(r->c, &r->arena, r->items, n, 1, NULL, &out);
    if (rc == TS_OK && n > 0) {
        r->checkpoint = out.checkpoint;
        r->since_analyze += out.commits;
        natsMsg_Ack(r->msgs[n - 1].msg, NULL);
    }
    natsMsgList_Destroy(&list);
    if (rc == TS_OK && gap)
        rc = TS_ERR_LOG;
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

/* Publishes the AckAll ack of everything up to the message whose reply
 * subject this is. */
static void ack_to(runner_t *r, const char *reply, uint64_t seq)
{
    if (reply && natsConnection_PublishString(r->cons.nc, reply, "+ACK") != NATS_OK)
        proj__log("the ack after seq %" PRIu64 " was not sent", seq);
}

/* ---- a backlog in one transaction, its holds carried ---- */

/* Folds a backlog in one transaction of up to `catchup` commits, fetched
 * PROJ_FETCH_CHUNK at a time by the prefetcher (consumer.c) while the
 * chunk before is folded, with the hold segment carried across the fetches
 * (proj__carry_t) and sent at the end: a booking placed and ended within
 * the transaction is written once, already ended, and its seats never, as
 * in a build. The checkpoint commits with everything it covers, so no
 * reader sees the carried holds missing. The transaction is acked at its
 * end by an AckAll "+ACK" to the reply subject of its last message. A
 * failure rolls it all back and the projector folds batch by batch from
 * then on: a commit PostgreSQL refuses can only be singled out without a
 * carried segment. */
static ts_status fold_backlog(runner_t *r)
{
    proj__segment_t seg = {0};
    proj__txfold_t tx;
    proj__batch_t out;
    proj__prefetch_t *pf = NULL;
    char *reply = NULL;
    uint64_t pending = 0;
    int gap = 0, opened = 0;
    ts_status rc = exec_simple(r->c->pg, "BEGIN");

    if (rc == TS_OK)
        rc = proj__prefetch_start(&r->cons, r->chunk, PROJ_CATCHUP_WAIT_MS, r->checkpoint,
                                  (uint64_t)r->catchup, &pf);
    /* One fold for the whole transaction: PostgreSQL works on what one
     * fetch sent while the next is decoded. */
    if (rc == TS_OK) {
        opened = 1;
        rc = proj__fold_open(&tx, r->c, &r->arena, &seg);
    }
    while (rc == TS_OK) {
        proj__chunk_t *ch = proj__prefetch_next(pf);
        if (!ch)
            break;
        int done = ch->last;
        rc = ch->rc;
        pending = ch->pending;
        gap = gap || ch->gap;
        if (rc == TS_OK && ch->n > 0 && ch->reply) {
            free(reply);
            reply = strdup(ch->reply);
            if (!reply)
                rc = TS_ERR_NOMEM;
        }
        if (rc == TS_OK)
            rc = proj__fold_add(&tx, ch->items, ch->n, 0);
        /* The fold decoded the commits into its arena. */
        proj__prefetch_release(pf, ch);
        if (done)
            break;
    }
    proj__prefetch_stop(pf);
    if (opened) {
        /* After a failed fetch nothing more is sent: it all rolls back. */
        if (rc != TS_OK && tx.rc == TS_OK)
            tx.rc = rc;
        ts_status closed = proj__fold_close(&tx, 0, 1, &out);
        rc = rc == TS_OK ? closed : rc;
    }
    if (rc == TS_OK)
        rc = exec_simple(r->c->pg, "COMMIT");
    if (rc == TS_OK)
        ack_to(r, reply, out.checkpoint);
    if (rc == TS_OK) {
        r->checkpoint = out.checkpoint > r->checkpoint ? out.checkpoint : r->checkpoint;
        r->since_analyze += out.commits;
        r->behind = pending > 0;
        if (gap)
            rc = TS_ERR_LOG;
    } else {
        if (PQstatus(r->c->pg) == CONNECTION_OK && PQtransactionStatus(r->c->pg) != PQTRANS_IDLE)
            exec_simple(r->c->pg, "ROLLBACK");
        if (rc != TS_ERR_UNAVAILABLE && rc != TS_ERR_LOG) {
            proj__log("a backlog transaction failed (%s); folding batch by batch from now on",
                      ts_status_str(rc));
            r->no_carry = 1;
        }
    }
    free(reply);
    proj__seg_deinit(&seg);
    return rc;
}

/* ---- bootstrap: a big backlog folded by a build (build.c) ---- */

/* Gives the build every commit the consumer delivers until it has none
 * pending, fetched by the prefetcher while the build folds (acking as it
 * goes: the consumer is recreated at the live checkpoint by every session,
 * so its acks decide nothing here, and MaxAckPending would stop the
 * delivery otherwise). */
static ts_status feed_build(runner_t *r, proj_build_t *b, int wait_ms)
{
    proj__prefetch_t *pf = NULL;
    ts_status rc = proj__prefetch_start(&r->cons, r->chunk, wait_ms, r->fed, 0, &pf);
    while (rc == TS_OK) {
        proj__chunk_t *ch = proj__prefetch_next(pf);
        if (!ch)
            break;
        int done = ch->last;
        rc = ch->rc;
        for (int i = 0; rc == TS_OK && i < ch->n; i++)
            rc = proj_build_add(b, ch->items[i].seq, ch->items[i].subject, ch->items[i].data,
                                ch->items[i].len);
        if (rc == TS_OK && ch->n > 0) {
            r->fed = ch->items[ch->n - 1].seq;
            ack_to(r, ch->reply, r->fed);
        }
        if (rc == TS_OK && ch->gap)
            rc = TS_ERR_LOG;
        if (rc == TS_OK && stopping(r))
            rc = TS_ERR_SHUTDOWN;
        proj__prefetch_release(pf, ch);
        if (done)
            break;
    }
    proj__prefetch_stop(pf);
    return rc;
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
 * whole log into a fresh schema and swaps it in (build.c: big
 * transactions, the hold segment carried across them, indexes made at the
 * end),
 * as `turnstile replay` would, then lets the loop go on from the build's
 * checkpoint. Rebuilding what the model holds costs less than folding the
 * backlog batch by batch once the backlog is twice the model. A bootstrap
 * that fails drops its build, and the session starts again folding batch
 * by batch (a commit PostgreSQL refuses is then singled out and skipped).
 * Returns TS_OK also when it did nothing. */
static ts_status bootstrap(runner_t *r)
{
    uint64_t backlog = r->cons.head > r->checkpoint ? r->cons.head - r->checkpoint : 0;
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
        proj__nap(r->cfg->stop, 100 * attempt);
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

/* Fetches and folds until stop or an error. Caught up, a batch is what one
 * fetch of up to `batch` messages brings; behind, a backlog transaction
 * (fold_backlog), or, after one failed, batches of PROJ_FETCH_CHUNK
 * commits. One fetch at a time, its messages let go before the next fetch
 * (the prefetcher copies them out): with nats.c 3.4, holding them while
 * the next one ran corrupted the heap within minutes (seen under ASan: a
 * garbage message pointer in a fetched list), and one fetch at a time
 * never did. */
static ts_status pump(runner_t *r)
{
    size_t cap = (size_t)r->cap;
    r->msgs = calloc(cap, sizeof *r->msgs);
    r->items = calloc(cap, sizeof *r->items);
    ts_status rc = r->msgs && r->items ? TS_OK : TS_ERR_NOMEM;

    if (rc == TS_OK && r->bootstrapping)
        rc = bootstrap(r);
    while (rc == TS_OK && !stopping(r)) {
        if (r->behind && !r->no_carry)
            rc = fold_backlog(r);
        else if (r->behind)
            rc = fetch_fold(r, r->chunk, PROJ_CATCHUP_WAIT_MS);
        else
            rc = fetch_fold(r, r->batch, PROJ_FETCH_WAIT_MS);
        if (rc == TS_OK)
            maybe_analyze(r);
    }
    free(r->msgs);
    free(r->items);
    r->msgs = NULL;
    r->items = NULL;
    return rc;
}

ts_status proj_run(const proj_config_t *cfg)
{
    runner_t r = {0};
    ts_status rc;

    if (!cfg || !cfg->nats_url || !cfg->pg_conninfo || !cfg->stop || cfg->batch < 0 ||
        cfg->catchup < 0 || cfg->catchup > PROJ_MAX_CATCHUP)
        return TS_ERR_INVALID;
    r.cfg = cfg;
    r.batch = cfg->batch ? cfg->batch : PROJ_DEFAULT_BATCH;
    r.catchup = cfg->catchup ? cfg->catchup : PROJ_DEFAULT_CATCHUP;
    if (r.catchup < r.batch)
        r.catchup = r.batch;
    /* A backlog transaction is several fetches (a small one too, so that
     * carrying holds across fetches is what the tests see). */
    r.chunk = r.catchup / 4 > r.batch ? r.catchup / 4 : r.batch;
    if (r.chunk > PROJ_FETCH_CHUNK)
        r.chunk = PROJ_FETCH_CHUNK;
    r.cap = r.chunk > r.batch ? r.chunk : r.batch;
    r.cons = (proj__consumer_t){
        .nats_url = cfg->nats_url,
        .stream = cfg->stream ? cfg->stream : PROJ_DEFAULT_STREAM,
        .durable = PROJ_CATALOG_DURABLE,
        .client_name = "turnstile-projector",
        .what = "catalog projector",
        .stop = cfg->stop,
        /* Batches are folded in stream order and acked after their
         * commit: one ack of the batch's last message covers all of it. */
        .ack_all = 1,
        /* A backlog transaction may run for a minute on a busy machine,
         * and its messages are acked when it commits. */
        .ack_wait_ns = PROJ_ACK_WAIT_NS,
        /* ... so its commits, and the chunks the prefetcher fetched
         * ahead (proj_int.h), may be out unacked. */
        .max_ack_pending = r.catchup + (PROJ_PREFETCH_SLOTS + 1) * r.chunk,
        .unlimited_pending = 1,
        .drop_old = 1,
    };
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
        proj__consumer_close(&r.cons);
        pg_end_session(&r);
        if (!stopping(&r))
            proj__nap(cfg->stop, 1000);
    }
    ts_arena_deinit(&r.arena);
    proj_db_free(r.db);
    return TS_OK;
}
