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
 * The NATS side (the durable recreated at checkpoint + 1, the in-order
 * fetch that stops at a gap) is shared with the audit projector
 * (consumer.c, proj_int.h).
 *
 * A rebuild swapping a fresh schema in (build.c) needs nothing from this
 * file: the swap holds the old tables locked, so the next batch waits at its
 * checkpoint lock, and once the swap commits that statement resolves
 * "checkpoints" again, to the new schema's row. Everything the new schema
 * already holds is then at or below the checkpoint and skipped like a
 * redelivery; the batch folds the rest into the new tables. */
#include "projections/proj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJ_DEFAULT_STREAM "TICKETS"
#define PROJ_DEFAULT_BATCH 500
#define PROJ_FETCH_WAIT_MS 500

typedef struct {
    const proj_config_t *cfg;
    const char *stream;
    int batch;
    proj_db_t *db;
    proj__conn_t *c; /* held for the whole session */
    int locked;      /* c holds the catalog's advisory lock */
    proj__consumer_t cons;
    ts_arena_t arena;
    uint64_t checkpoint; /* as committed by this session */
    int said_standby;    /* logged once until it clears */
} runner_t;

static int stopping(const runner_t *r)
{
    return proj__stopping(r->cfg->stop);
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
    for (int s = PROJ_F_VENUE_CREATED; s <= PROJ_F_NOTIFY; s++)
        if ((rc = proj__prepare(r->c, (proj__stmt_t)s)) != TS_OK)
            return rc;
    if ((rc = proj__prepare(r->c, PROJ_F_EVENT_UPDATED)) != TS_OK)
        return rc;
    return TS_OK;
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

/* ---- one batch ---- */

/* Folds msgs[0..n) (in stream order) with proj__fold_batch. */
static ts_status fold_msgs(runner_t *r, const proj__msg_t *msgs, int n, proj__item_t *items)
{
    proj__batch_t out;
    for (int i = 0; i < n; i++)
        items[i] = (proj__item_t){.seq = msgs[i].seq,
                                  .subject = natsMsg_GetSubject(msgs[i].msg),
                                  .data = natsMsg_GetData(msgs[i].msg),
                                  .len = (size_t)natsMsg_GetDataLength(msgs[i].msg)};
    ts_status rc = proj__fold_batch(r->c, &r->arena, items, n, 1, NULL, &out);
    if (rc == TS_OK)
        r->checkpoint = out.checkpoint;
    return rc;
}

/* ---- the loop ---- */

/* Fetches and folds until stop or an error. */
static ts_status pump(runner_t *r)
{
    proj__msg_t *msgs = calloc((size_t)r->batch, sizeof *msgs);
    proj__item_t *items = calloc((size_t)r->batch, sizeof *items);
    ts_status rc = msgs && items ? TS_OK : TS_ERR_NOMEM;

    while (rc == TS_OK && !stopping(r)) {
        natsMsgList list = {0};
        int n = 0, gap = 0;
        rc = proj__consumer_fetch(&r->cons, r->batch, PROJ_FETCH_WAIT_MS, r->checkpoint, &list,
                                  msgs, &n, &gap);
        if (rc == TS_OK && n > 0)
            rc = fold_msgs(r, msgs, n, items);
        /* Ack only what the committed transaction covers. */
        for (int i = 0; rc == TS_OK && i < n; i++)
            natsMsg_Ack(msgs[i].msg, NULL);
        natsMsgList_Destroy(&list);
        if (rc == TS_OK && gap)
            rc = TS_ERR_LOG;
    }
    free(msgs);
    free(items);
    return rc;
}

ts_status proj_run(const proj_config_t *cfg)
{
    runner_t r = {0};
    ts_status rc;

    if (!cfg || !cfg->nats_url || !cfg->pg_conninfo || !cfg->stop || cfg->batch < 0)
        return TS_ERR_INVALID;
    r.cfg = cfg;
    r.stream = cfg->stream ? cfg->stream : PROJ_DEFAULT_STREAM;
    r.batch = cfg->batch ? cfg->batch : PROJ_DEFAULT_BATCH;
    r.cons = (proj__consumer_t){.nats_url = cfg->nats_url,
                                .stream = r.stream,
                                .durable = PROJ_CATALOG_DURABLE,
                                .client_name = "turnstile-projector",
                                .what = "catalog projector",
                                .stop = cfg->stop};
    rc = proj_db_open(cfg->pg_conninfo, 1, &r.db);
    if (rc != TS_OK)
        return rc;
    ts_arena_init(&r.arena, 64 * 1024);

    while (!stopping(&r)) {
        rc = pg_begin_session(&r);
        if (rc == TS_OK)
            rc = proj__consumer_open(&r.cons, r.checkpoint);
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
