/* The connection pool, statement preparation, checkpoints and logging: see
 * proj_int.h for the layout and projections.h for the contracts. */
#include "projections/proj_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert(PROJ_STMT_COUNT <= 64, "proj__conn_t.ready has 64 bits");

/* How long a caller waits for a free connection before giving up. */
#define PROJ_ACQUIRE_WAIT_MS 5000

void proj__log(const char *fmt, ...)
{
    char line[512], when[32];
    struct timespec ts;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when);
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s proj: %s\n", when, line);
}

ts_status proj_db_open(const char *conninfo, int pool_size, proj_db_t **out)
{
    ts_status rc = TS_OK;
    proj_db_t *db = NULL;
    char *err = NULL;
    PQconninfoOption *opts = NULL;

    if (!conninfo || pool_size < 1 || pool_size > 64)
        return TS_ERR_INVALID;
    /* Refuse a malformed string now rather than on every later connect. */
    opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
        const char *msg = err ? err : "out of memory";
        proj__log("bad PostgreSQL connection string: %.*s", (int)strcspn(msg, "\n"), msg);
        rc = TS_ERR_INVALID;
        goto done;
    }
    db = calloc(1, sizeof *db);
    if (!db) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    db->conninfo = strdup(conninfo);
    db->conns = calloc((size_t)pool_size, sizeof *db->conns);
    if (!db->conninfo || !db->conns) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    db->n = pool_size;
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->cv, NULL);
    pthread_mutex_init(&db->cache_mu, NULL);
    pthread_mutex_init(&db->doc_mu, NULL);
    pthread_cond_init(&db->doc_cv, NULL);
    pthread_cond_init(&db->refresh_cv, NULL);
    *out = db;
    db = NULL;
done:
    if (db) {
        free(db->conninfo);
        free(db->conns);
        free(db);
    }
    PQconninfoFree(opts);
    PQfreemem(err);
    return rc;
}

void proj_db_free(proj_db_t *db)
{
    if (!db)
        return;
    proj__seatmap_stop(db);
    for (int i = 0; i < db->n; i++)
        if (db->conns[i].pg)
            PQfinish(db->conns[i].pg);
    for (int i = 0; i < PROJ_SEAT_CACHE_SLOTS; i++)
        proj__blob_unref(db->cache[i].blob);
    for (int i = 0; i < PROJ_DOC_CACHE_SLOTS; i++) {
        proj__doc_unref(db->docs[i].doc);
        proj__doc_unref(db->docs[i].read_doc);
        proj__zanswer_unref(db->docs[i].read_zanswer);
    }
    pthread_mutex_destroy(&db->doc_mu);
    pthread_cond_destroy(&db->doc_cv);
    pthread_cond_destroy(&db->refresh_cv);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->cv);
    pthread_mutex_destroy(&db->cache_mu);
    free(db->conns);
    free(db->conninfo);
    free(db);
}

/* Server notices ("text-search query contains only stop words", "relation
 * already exists, skipping") are expected answers here, not news: libpq
 * would print each one to stderr. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Opens (or reopens) the slot's connection outside the pool lock. */
static ts_status conn_open(proj_db_t *db, proj__conn_t *c)
{
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
        return TS_OK;
    if (c->pg)
        PQfinish(c->pg);
    c->ready = 0;
    c->staging = 0; /* temporary tables die with their session */
    c->pg = PQconnectdb(db->conninfo);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        const char *msg = c->pg ? PQerrorMessage(c->pg) : "out of memory";
        /* Once per outage, not once per attempt. */
        pthread_mutex_lock(&db->mu);
        int first = !db->down;
        db->down = 1;
        pthread_mutex_unlock(&db->mu);
        if (first)
            proj__log("cannot connect to PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
        if (c->pg)
            PQfinish(c->pg);
        c->pg = NULL;
        return TS_ERR_UNAVAILABLE;
    }
    pthread_mutex_lock(&db->mu);
    int back = db->down;
    db->down = 0;
    pthread_mutex_unlock(&db->mu);
    if (back)
        proj__log("connected to PostgreSQL again");
    /* Times go in and out as epoch milliseconds; the session zone only
     * matters for logs and psql, but keep it fixed. The queries keep the
     * default plan cache: they look rows up by key, and planning the
     * seat map's sections query each time cost three times its execution
     * (the fold's session plans every statement anew: projector.c). */
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    /* Tables are named unqualified: the search_path finds the live model
     * (projections.h, "Schemas"), and the helper functions in public. */
    PGresult *res = PQexec(c->pg, "SET TIME ZONE 'UTC';"
                                  " SET search_path = " PROJ_CATALOG_SCHEMA ", public");
    PQclear(res);
    return TS_OK;
}

ts_status proj__db_acquire(proj_db_t *db, proj__conn_t **out)
{
    proj__conn_t *c = NULL;
    struct timespec deadline;
    ts_status rc;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += PROJ_ACQUIRE_WAIT_MS / 1000;
    pthread_mutex_lock(&db->mu);
    for (;;) {
        /* Prefer a slot that is already connected. */
        for (int i = 0; i < db->n && !c; i++)
            if (!db->conns[i].busy && db->conns[i].pg)
                c = &db->conns[i];
        for (int i = 0; i < db->n && !c; i++)
            if (!db->conns[i].busy)
                c = &db->conns[i];
        if (c)
            break;
        if (pthread_cond_timedwait(&db->cv, &db->mu, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&db->mu);
            proj__log("no free PostgreSQL connection after %d ms", PROJ_ACQUIRE_WAIT_MS);
            return TS_ERR_UNAVAILABLE;
        }
    }
    c->busy = 1;
    pthread_mutex_unlock(&db->mu);

    rc = conn_open(db, c);
    if (rc != TS_OK) {
        proj__db_release(db, c);
        return rc;
    }
    *out = c;
    return TS_OK;
}

void proj__db_release(proj_db_t *db, proj__conn_t *c)
{
    if (!c)
        return;
    /* A connection that broke, or that someone left inside a transaction or
     * a pipeline, is not safe to hand to the next caller. */
    if (c->pg && (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE ||
                  PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF)) {
        PQfinish(c->pg);
        c->pg = NULL;
        c->ready = 0;
        c->staging = 0;
    }
    pthread_mutex_lock(&db->mu);
    c->busy = 0;
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

ts_status proj__pg_check(PGconn *pg, const PGresult *res, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return TS_OK;
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        proj__log("%s: connection to PostgreSQL lost", what);
        return TS_ERR_UNAVAILABLE;
    }
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(pg);
    proj__log("%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
    return TS_ERR_DB;
}

const char *proj__stmt_name(proj__stmt_t s)
{
    static const char *const names[PROJ_STMT_COUNT] = {
#define PROJ_STMT_NAME(id, name) [id] = name,
        PROJ_STMT_LIST(PROJ_STMT_NAME)
#undef PROJ_STMT_NAME
    };
    assert((int)s >= 0 && s < PROJ_STMT_COUNT);
    return names[s];
}

ts_status proj__prepare(proj__conn_t *c, proj__stmt_t s)
{
    uint64_t bit = (uint64_t)1 << s;
    if (c->ready & bit)
        return TS_OK;
    PGresult *res = PQprepare(c->pg, proj__stmt_name(s), proj__stmt_sql[s], 0, NULL);
    ts_status rc = proj__pg_check(c->pg, res, proj__stmt_name(s));
    PQclear(res);
    if (rc == TS_OK)
        c->ready |= bit;
    return rc;
}

ts_status proj__staging_ensure(proj__conn_t *c)
{
    if (c->staging)
        return TS_OK;
    PGresult *res = PQexec(c->pg, proj__staging_sql);
    ts_status rc = proj__pg_check(c->pg, res, "staging tables");
    PQclear(res);
    c->staging = rc == TS_OK;
    return rc;
}

ts_status proj__exec(proj__conn_t *c, proj__stmt_t s, int n, const char *const *values,
                     PGresult **out)
{
    ts_status rc = proj__prepare(c, s);
    if (rc != TS_OK)
        return rc;
    PGresult *res = PQexecPrepared(c->pg, proj__stmt_name(s), n, values, NULL, NULL, 0);
    rc = proj__pg_check(c->pg, res, proj__stmt_name(s));
    if (rc != TS_OK) {
        PQclear(res);
        return rc;
    }
    *out = res;
    return TS_OK;
}

ts_status proj_db_ping(proj_db_t *db)
{
    proj__conn_t *c = NULL;
    ts_status rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        return rc;
    PGresult *res = PQexecParams(c->pg, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0);
    rc = proj__pg_check(c->pg, res, "ping");
    PQclear(res);
    proj__db_release(db, c);
    return rc;
}

ts_status proj_schema_ensure(proj_db_t *db)
{
    proj__conn_t *c = NULL;
    ts_status rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        return rc;
    rc = proj__schema_apply(c->pg);
    proj__db_release(db, c);
    return rc;
}

ts_status proj_checkpoint_get(proj_db_t *db, const char *projection, uint64_t *seq)
{
    proj__conn_t *c = NULL;
    PGresult *res = NULL;
    ts_status rc;

    if (!projection)
        return TS_ERR_INVALID;
    rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        goto done;
    rc = proj__exec(c, PROJ_Q_CHECKPOINT_GET, 1, &projection, &res);
    if (rc != TS_OK)
        goto done;
    if (PQntuples(res) != 1) {
        rc = TS_ERR_NOT_FOUND;
        goto done;
    }
    *seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
done:
    PQclear(res);
    proj__db_release(db, c);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ts_status proj_wait_seq(proj_db_t *db, const char *projection, uint64_t min_seq, int timeout_ms)
{
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        uint64_t seq = 0;
        ts_status rc = proj_checkpoint_get(db, projection, &seq);
        if (rc != TS_OK)
            return rc;
        if (seq >= min_seq)
            return TS_OK;
        if (now_ms() >= deadline)
            return TS_ERR_TIMEOUT;
        /* Polling every 5 ms costs one indexed read per waiter; a fold
         * commits at most every few ms anyway, so LISTEN would not answer
         * much sooner. */
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

json_t *proj__col_str(const PGresult *r, int row, int col)
{
    json_t *j = PQgetisnull(r, row, col) ? NULL : json_string(PQgetvalue(r, row, col));
    return j ? j : json_null();
}

int64_t proj__col_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

json_t *proj__col_json(const PGresult *r, int row, int col)
{
    json_t *j = PQgetisnull(r, row, col) ? NULL : json_loads(PQgetvalue(r, row, col), 0, NULL);
    return j ? j : json_null();
}
