/* Builds: the log folded into a fresh schema, then kept as an analyst's copy
 * or swapped in as the live model (projections.h, "Schemas, builds and the
 * swap"). The folding itself is batch.c's, the DDL schema.c's; this file is
 * the life of a build schema: its creation under the build lock, its big
 * transactions, its finish, and the one transaction that replaces "catalog".
 *
 * A build owns one connection for its whole life and never reconnects: its
 * search_path points at the build schema, and a connection opened anew would
 * point at the live one. Losing it fails the build (the schema is dropped by
 * the next build, if not by proj_build_free). */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROJ_BUILD_DEFAULT_BATCH 20000
/* Asks for the build lock this many times more, 100 ms apart (proj_build_open). */
#define BUILD_LOCK_TRIES 30
/* A carried hold segment is sent once it holds this many bookings, which
 * bounds the build's memory (a few hundred bytes a booking) and the size of
 * one statement. */
#define PROJ_BUILD_CARRY_MAX 1000000

struct proj_build {
    proj__conn_t c;
    char *conninfo;    /* for the finish's second connection */
    char schema[32];   /* catalog_v<N> */
    char *quoted;      /* schema, quoted (PQescapeIdentifier) */
    char *into_quoted; /* cfg->into, quoted; NULL for a rebuild */
    int replace;
    uint64_t version;
    int created;  /* the schema exists (drop it unless kept/swapped) */
    int finished; /* proj_build_finish done */
    int done;     /* kept or swapped in */
    int in_swap;  /* adds fold into the swap's transaction */
    int exact;    /* no segment carried across transactions */
    int broken;   /* a fold failed while carrying: the build is unusable */
    int batch;
    proj__item_t *items; /* buffered commits, bytes in payload */
    int n;
    ts_arena_t payload;
    ts_arena_t decode;
    proj__segment_t carry;    /* holds not yet sent (proj__carry_t) */
    proj_build_stats_t stats; /* committed, except during a swap */
};

/* ---- helpers ---- */

static ts_status run(proj_build_t *b, const char *sql)
{
    PGresult *res = PQexec(b->c.pg, sql);
    ts_status rc = proj__pg_check(b->c.pg, res, sql);
    PQclear(res);
    return rc;
}

/* Runs sql (one parameter) and gives back its result on TS_OK. */
static ts_status query1(proj_build_t *b, const char *sql, const char *param, PGresult **out)
{
    PGresult *res = PQexecParams(b->c.pg, sql, param ? 1 : 0, NULL, &param, NULL, NULL, 0);
    ts_status rc = proj__pg_check(b->c.pg, res, sql);
    if (rc != TS_OK) {
        PQclear(res);
        return rc;
    }
    *out = res;
    return TS_OK;
}

static void rollback(proj_build_t *b)
{
    if (PQstatus(b->c.pg) == CONNECTION_OK && PQtransactionStatus(b->c.pg) != PQTRANS_IDLE)
        run(b, "ROLLBACK");
}

static char *quote(PGconn *pg, const char *name)
{
    return PQescapeIdentifier(pg, name, strlen(name));
}

int proj_schema_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return strcmp(s, "public") != 0 && strcmp(s, "information_schema") != 0 &&
           strncmp(s, "pg_", 3) != 0 && strncmp(s, PROJ_CATALOG_SCHEMA, 7) != 0;
}

/* ---- open ---- */

/* Drops the schemas of builds whose process died (under the build lock no
 * other build can be running). */
static ts_status drop_stale(proj_build_t *b)
{
    PGresult *res = NULL;
    ts_status rc = query1(b,
                          "SELECT nspname FROM pg_namespace"
                          " WHERE nspname ~ ('^' || $1::text || '_v[0-9]+$')",
                          PROJ_CATALOG_SCHEMA, &res);
    for (int i = 0; rc == TS_OK && i < PQntuples(res); i++) {
        char *q = quote(b->c.pg, PQgetvalue(res, i, 0));
        char *sql = q ? ts_arena_printf(&b->payload, "DROP SCHEMA %s CASCADE", q) : NULL;
        rc = sql ? run(b, sql) : TS_ERR_NOMEM;
        if (rc == TS_OK)
            proj__log("build: dropped %s, left by a build that did not finish",
                      PQgetvalue(res, i, 0));
        PQfreemem(q);
    }
    PQclear(res);
    ts_arena_reset(&b->payload);
    return rc;
}

/* Creates catalog_v<N> with its tables and checkpoint row, in one
 * transaction (under the schema lock: it also updates public). */
static ts_status create_schema(proj_build_t *b)
{
    PGresult *res = NULL;
    ts_status rc = run(b, "BEGIN");
    if (rc == TS_OK)
        rc = run(b, "SELECT pg_advisory_xact_lock(" PROJ_LOCK_CLASS ", " PROJ_LOCK_SCHEMA ")");
    if (rc == TS_OK)
        rc = run(b, "CREATE SEQUENCE IF NOT EXISTS public.ts_catalog_version");
    if (rc == TS_OK)
        rc = query1(b, "SELECT nextval('public.ts_catalog_version')", NULL, &res);
    if (rc == TS_OK) {
        b->version = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(b->schema, sizeof b->schema, "%s_v%" PRIu64, PROJ_CATALOG_SCHEMA, b->version);
        b->quoted = quote(b->c.pg, b->schema);
        rc = b->quoted ? proj__schema_create(b->c.pg, b->quoted, b->version) : TS_ERR_NOMEM;
    }
    if (rc == TS_OK)
        rc = run(b, "COMMIT");
    PQclear(res);
    if (rc != TS_OK) {
        rollback(b);
        return rc;
    }
    b->created = 1;
    return TS_OK;
}

ts_status proj_build_open(const proj_build_config_t *cfg, proj_build_t **out)
{
    proj_build_t *b = NULL;
    PGresult *res = NULL;
    ts_status rc = TS_OK;

    if (!cfg || !cfg->pg_conninfo || cfg->batch < 0 ||
        (cfg->into && !proj_schema_name_valid(cfg->into)))
        return TS_ERR_INVALID;
    b = calloc(1, sizeof *b);
    if (!b)
        return TS_ERR_NOMEM;
    b->batch = cfg->batch ? cfg->batch : PROJ_BUILD_DEFAULT_BATCH;
    b->conninfo = strdup(cfg->pg_conninfo);
    b->replace = cfg->replace;
    b->exact = cfg->exact;
    ts_arena_init(&b->payload, 1 << 20);
    ts_arena_init(&b->decode, 1 << 20);
    b->items = calloc((size_t)b->batch, sizeof *b->items);
    b->c.pg = PQconnectdb(cfg->pg_conninfo);
    if (!b->items || !b->c.pg || !b->conninfo) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    if (PQstatus(b->c.pg) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(b->c.pg);
        proj__log("build: cannot connect to PostgreSQL: %.*s", (int)strcspn(msg, "\n"), msg);
        rc = TS_ERR_UNAVAILABLE;
        goto done;
    }
    /* Asynchronous commit: a build that dies is thrown away anyway, and
     * its last transaction is made durable by the swap's own commit. No
     * JIT: it would compile the big set-wise statements of every batch.
     * A small statistics target, as in the projector's session: the
     * ANALYZEs of a build and of its finish sample 3,000 rows a table. */
    rc = run(b, "SET TIME ZONE 'UTC'; SET plan_cache_mode = force_custom_plan;"
                " SET synchronous_commit = off; SET jit = off; SET work_mem = '256MB';"
                " SET temp_buffers = '256MB';"
                " SET maintenance_work_mem = '256MB'; SET client_min_messages = warning;"
                " SET default_statistics_target = 10");
    if (rc != TS_OK)
        goto done;
    /* A build that has just ended may hold the lock a moment longer: its
     * backend lets go only once it has seen the disconnection (back-to-back
     * replays were refused 7 times in 30). So ask for a few seconds before
     * refusing. */
    for (int tries = 0; rc == TS_OK; tries++) {
        rc = query1(b, "SELECT pg_try_advisory_lock(" PROJ_LOCK_CLASS ", " PROJ_LOCK_BUILD ")",
                    NULL, &res);
        int got = rc == TS_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        res = NULL;
        if (rc != TS_OK || got)
            break;
        if (tries == BUILD_LOCK_TRIES) {
            proj__log("build: another build is running (only one runs at a time)");
            rc = TS_ERR_CONFLICT;
            break;
        }
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
    if (rc == TS_OK && cfg->into) {
        /* A copy is for SQL: a name that must be quoted there (SELECT *
         * FROM "table".seats) is refused rather than made. */
        rc = query1(b, "SELECT 1 FROM pg_get_keywords() WHERE word = $1::text AND catcode <> 'U'",
                    cfg->into, &res);
        if (rc == TS_OK && PQntuples(res) > 0) {
            proj__log("build: %s is an SQL keyword; choose another schema name", cfg->into);
            rc = TS_ERR_INVALID;
        }
        PQclear(res);
        res = NULL;
    }
    if (rc == TS_OK && cfg->into) {
        b->into_quoted = quote(b->c.pg, cfg->into);
        rc = b->into_quoted
                 ? query1(b, "SELECT 1 FROM pg_namespace WHERE nspname = $1::text", cfg->into, &res)
                 : TS_ERR_NOMEM;
        if (rc == TS_OK && PQntuples(res) > 0 && !cfg->replace) {
            proj__log("build: schema %s exists (replace it with --replace)", cfg->into);
            rc = TS_ERR_CONFLICT;
        }
        PQclear(res);
        res = NULL;
    }
    if (rc == TS_OK)
        rc = drop_stale(b);
    if (rc == TS_OK)
        rc = create_schema(b);
    /* Hold segments go to the tables through COPY and these (fold.c). */
    if (rc == TS_OK)
        rc = proj__staging_ensure(&b->c);
    for (int s = PROJ_F_VENUE_CREATED; rc == TS_OK && s < PROJ_STMT_COUNT; s++)
        rc = proj__prepare(&b->c, (proj__stmt_t)s);
done:
    if (rc != TS_OK) {
        proj_build_free(b);
        return rc;
    }
    *out = b;
    return TS_OK;
}

const char *proj_build_schema(const proj_build_t *b)
{
    return b->schema;
}

uint64_t proj_build_version(const proj_build_t *b)
{
    return b->version;
}

void proj_build_stats(const proj_build_t *b, proj_build_stats_t *out)
{
    *out = b->stats;
}

/* ---- folding ---- */

/* Folds the buffered commits; final: also sends the carried holds, so the
 * tables hold everything up to the checkpoint. */
static ts_status fold(proj_build_t *b, int final)
{
    proj__batch_t out;
    ts_status rc;
    if (b->broken)
        return TS_ERR_CORRUPT;
    if (b->n == 0 && (!final || b->exact || proj__seg_size(&b->carry) == 0))
        return TS_OK;
    /* A batch may add four bookings a commit to the carried segment. */
    proj__carry_t cy = {.carry = b->exact ? NULL : &b->carry,
                        .flush = final || proj__seg_size(&b->carry) + 4 * (size_t)b->n >=
                                              PROJ_BUILD_CARRY_MAX};
    /* During a swap the commits join its transaction; the live model's
     * listeners hear of them from the swap's own NOTIFY. */
    rc = b->in_swap ? proj__fold_items(&b->c, &b->decode, b->items, b->n, 0, 0, &cy, &out)
                    : proj__fold_batch(&b->c, &b->decode, b->items, b->n, 0, &cy, &out);
    if (rc == TS_OK) {
        b->stats.checkpoint = out.checkpoint;
        b->stats.commits += out.commits;
        b->stats.events += out.events;
    } else if (!b->exact) {
        /* The carried holds were sent (or half-built) in a transaction that
         * is gone, and a failed statement of theirs may hold the bookings
         * of many commits: no single poison commit can be skipped. */
        b->broken = !b->in_swap;
        proj__seg_reset(&b->carry);
        if (rc == TS_ERR_DB && proj__data_error(out.sqlstate))
            rc = TS_ERR_CORRUPT;
    }
    b->n = 0;
    ts_arena_reset(&b->payload);
    return rc;
}

ts_status proj_build_flush(proj_build_t *b)
{
    return fold(b, 1);
}

ts_status proj_build_add(proj_build_t *b, uint64_t seq, const char *subject, const void *data,
                         size_t len)
{
    if (b->broken)
        return TS_ERR_CORRUPT;
    b->items[b->n++] = (proj__item_t){.seq = seq,
                                      .subject = ts_arena_strdup(&b->payload, subject),
                                      .data = ts_arena_memdup(&b->payload, data, len),
                                      .len = len};
    return b->n >= b->batch ? fold(b, 0) : TS_OK;
}

/* A second connection to the build schema for the finish, or NULL (the
 * finish then runs on one connection). */
static PGconn *side_connection(proj_build_t *b)
{
    PGconn *side = PQconnectdb(b->conninfo);
    char *sql = ts_arena_printf(&b->payload,
                                "SET search_path = %s, public; SET client_min_messages = warning;"
                                " SET maintenance_work_mem = '256MB'; SET synchronous_commit = off;"
                                " SET default_statistics_target = 10",
                                b->quoted);
    PGresult *res = side && PQstatus(side) == CONNECTION_OK ? PQexec(side, sql) : NULL;
    int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    ts_arena_reset(&b->payload);
    if (!ok) {
        PQfinish(side);
        return NULL;
    }
    return side;
}

ts_status proj_build_finish(proj_build_t *b)
{
    ts_status rc = proj_build_flush(b);
    if (rc != TS_OK)
        return rc;
    /* Nobody reads the build: its tables may be finished one at a time,
     * and the largest on a connection of its own. */
    PGconn *side = side_connection(b);
    rc = proj__schema_finish(b->c.pg, side);
    PQfinish(side);
    if (rc != TS_OK)
        return rc;
    b->finished = 1;
    return TS_OK;
}

/* ---- the two ends of a build ---- */

ts_status proj_build_keep(proj_build_t *b)
{
    ts_status rc;
    char *sql;
    if (!b->into_quoted || !b->finished || b->done)
        return TS_ERR_INVALID;
    rc = proj_build_flush(b);
    if (rc == TS_OK)
        rc = run(b, "BEGIN");
    if (rc == TS_OK && b->replace) {
        sql = ts_arena_printf(&b->payload, "DROP SCHEMA IF EXISTS %s CASCADE", b->into_quoted);
        rc = run(b, sql);
    }
    if (rc == TS_OK) {
        sql =
            ts_arena_printf(&b->payload, "ALTER SCHEMA %s RENAME TO %s", b->quoted, b->into_quoted);
        PGresult *res = PQexec(b->c.pg, sql);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        /* 42P06 duplicate_schema: made by someone else since the start. */
        rc = state && strcmp(state, "42P06") == 0 ? TS_ERR_CONFLICT
                                                  : proj__pg_check(b->c.pg, res, "build: rename");
        PQclear(res);
    }
    if (rc == TS_OK)
        rc = run(b, "COMMIT");
    ts_arena_reset(&b->payload);
    if (rc != TS_OK) {
        rollback(b);
        return rc;
    }
    b->done = 1;
    return TS_OK;
}

/* Locks the live model's tables (the order of proj__tables) and reads its
 * checkpoint; *live is 0 when there is no live model yet. */
static ts_status lock_live(proj_build_t *b, int *exists, uint64_t *live)
{
    PGresult *res = NULL;
    ts_buf_t sql;
    ts_status rc =
        query1(b, "SELECT to_regnamespace($1::text) IS NOT NULL", PROJ_CATALOG_SCHEMA, &res);
    *exists = rc == TS_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    *live = 0;
    PQclear(res);
    res = NULL;
    if (rc != TS_OK || !*exists)
        return rc;
    ts_buf_init(&sql);
    for (int i = 0; i < PROJ_TABLE_COUNT; i++) {
        const char *part = ts_arena_printf(&b->payload, "%s" PROJ_CATALOG_SCHEMA ".%s",
                                           i ? ", " : "LOCK TABLE ", proj__tables[i]);
        ts_buf_append(&sql, part, strlen(part));
    }
    const char *mode = " IN ACCESS EXCLUSIVE MODE";
    ts_buf_append(&sql, mode, strlen(mode) + 1);
    res = PQexec(b->c.pg, (const char *)sql.data);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    /* 55P03 lock_not_available: lock_timeout ran out. */
    rc = state && strcmp(state, "55P03") == 0 ? TS_ERR_TIMEOUT
                                              : proj__pg_check(b->c.pg, res, "swap: lock");
    PQclear(res);
    ts_buf_deinit(&sql);
    if (rc != TS_OK)
        return rc;
    rc = query1(b,
                "SELECT last_seq FROM " PROJ_CATALOG_SCHEMA ".checkpoints"
                " WHERE projection = $1::text",
                PROJ_CATALOG, &res);
    if (rc == TS_OK && PQntuples(res) == 1)
        *live = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

ts_status proj_build_swap(proj_build_t *b, ts_status (*tail)(proj_build_t *b, void *arg), void *arg,
                          int lock_timeout_ms, uint64_t *live_seq)
{
    proj_build_stats_t before;
    PGresult *res = NULL;
    uint64_t live = 0;
    int exists = 0;
    char sql[160], num[24];
    ts_status rc;

    if (b->into_quoted || !b->finished || b->done || !tail)
        return TS_ERR_INVALID;
    rc = proj_build_flush(b);
    if (rc != TS_OK)
        return rc;
    before = b->stats;
    rc = run(b, "BEGIN");
    if (rc != TS_OK)
        return rc;
    /* The timeout bounds how long readers queue behind a swap that waits
     * for a long transaction; it covers the schema lock too (DDL of a
     * starting serve or projector). */
    snprintf(num, sizeof num, "%d", lock_timeout_ms > 0 ? lock_timeout_ms : 1);
    rc = query1(b, "SELECT set_config('lock_timeout', $1::text, true)", num, &res);
    PQclear(res);
    res = NULL;
    if (rc == TS_OK) {
        res = PQexec(b->c.pg,
                     "SELECT pg_advisory_xact_lock(" PROJ_LOCK_CLASS ", " PROJ_LOCK_SCHEMA ")");
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        rc = state && strcmp(state, "55P03") == 0
                 ? TS_ERR_TIMEOUT
                 : proj__pg_check(b->c.pg, res, "swap: schema lock");
        PQclear(res);
        res = NULL;
    }
    if (rc == TS_OK)
        rc = lock_live(b, &exists, &live);
    if (rc == TS_OK) {
        /* Nothing reads or writes the live model now: what the build still
         * lacks joins this transaction. */
        b->in_swap = 1;
        rc = tail(b, arg);
        if (rc == TS_OK)
            rc = proj_build_flush(b);
        b->in_swap = 0;
    }
    if (rc == TS_OK && b->stats.checkpoint < live) {
        proj__log("swap: the build ends at seq %" PRIu64 ", behind the live model at %" PRIu64,
                  b->stats.checkpoint, live);
        rc = TS_ERR_INVALID;
    }
    if (rc == TS_OK && exists)
        rc = run(b, "DROP SCHEMA " PROJ_CATALOG_SCHEMA " CASCADE");
    if (rc == TS_OK) {
        snprintf(sql, sizeof sql, "ALTER SCHEMA %s RENAME TO " PROJ_CATALOG_SCHEMA, b->quoted);
        rc = run(b, sql);
    }
    if (rc == TS_OK) {
        snprintf(num, sizeof num, "%" PRIu64, b->stats.checkpoint);
        rc = query1(b, "SELECT pg_notify('" PROJ_CATALOG_CHANNEL "', $1::text)", num, &res);
        PQclear(res);
        res = NULL;
    }
    /* Durable before the answer, whatever the session's setting. */
    if (rc == TS_OK)
        rc = run(b, "SET LOCAL synchronous_commit = on");
    if (rc == TS_OK)
        rc = run(b, "COMMIT");
    if (rc != TS_OK) {
        /* The build is as it was before the swap: its flush above emptied
         * the carried segment, and what the tail added to it is rolled
         * back with the transaction. */
        rollback(b);
        proj__seg_reset(&b->carry);
        b->n = 0;
        ts_arena_reset(&b->payload);
        b->stats = before;
        return rc;
    }
    b->done = 1;
    if (live_seq)
        *live_seq = live;
    return TS_OK;
}

void proj_build_free(proj_build_t *b)
{
    if (!b)
        return;
    if (b->c.pg && PQstatus(b->c.pg) == CONNECTION_OK) {
        rollback(b);
        if (b->created && !b->done && b->quoted) {
            char *sql = ts_arena_printf(&b->payload, "DROP SCHEMA %s CASCADE", b->quoted);
            run(b, sql);
        }
    }
    /* Closing the connection also releases the build lock. */
    if (b->c.pg)
        PQfinish(b->c.pg);
    PQfreemem(b->quoted);
    PQfreemem(b->into_quoted);
    ts_arena_deinit(&b->payload);
    ts_arena_deinit(&b->decode);
    proj__seg_deinit(&b->carry);
    free(b->items);
    free(b->conninfo);
    free(b);
}
