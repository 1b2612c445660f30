/* A batch of commits folded with its checkpoint update (proj_int.h): the
 * one way commits reach the tables, for the live projector and for builds
 * of fresh schemas alike, so a rebuild folds exactly as the projector did. */
#include "events/codec.h"
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ts_status exec_simple(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    ts_status rc = proj__pg_check(pg, res, sql);
    PQclear(res);
    return rc;
}

int proj__data_error(const char sqlstate[6])
{
    /* Data exceptions (22), integrity violations (23), program limits (54):
     * "this commit's data", not "the database". */
    return strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
           strncmp(sqlstate, "54", 2) == 0;
}

ts_status proj__fold_items(proj__conn_t *c, ts_arena_t *arena, const proj__item_t *items, int n,
                           int skip, int notify, const proj__carry_t *cy, proj__batch_t *out)
{
    proj__fold_t f = {.c = c, .arena = arena, .seg = cy ? cy->carry : NULL};
    int keep = cy && cy->carry && !cy->flush;
    PGconn *pg = c->pg;
    PGresult *res = NULL;
    const char *name = PROJ_CATALOG;
    uint64_t ck, last;
    ts_status rc;
    char seqbuf[24];

    memset(out, 0, sizeof *out);
    /* The fold keeps pointers into the decoded commits until the end of the
     * batch (proj__segment_t): one arena per batch. */
    ts_arena_reset(arena);
    rc = proj__exec(c, PROJ_F_CHECKPOINT_LOCK, 1, &name, &res);
    if (rc != TS_OK)
        goto done;
    ck = last = PQntuples(res) == 1 ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    out->checkpoint = ck;
    PQclear(res);
    res = NULL;
    if (!PQenterPipelineMode(pg)) {
        rc = TS_ERR_UNAVAILABLE;
        goto done;
    }
    for (int i = 0; i < n && rc == TS_OK; i++) {
        evt_commit_t commit;
        if (items[i].seq <= ck)
            continue; /* already folded: a redelivery */
        last = items[i].seq;
        if (skip)
            continue;
        if (evt_commit_decode(items[i].data, items[i].len, arena, &commit) != TS_OK) {
            /* The log is the truth: a commit we cannot read is skipped,
             * never allowed to block the projection. */
            proj__log("seq %" PRIu64 " on %s does not decode; skipped", items[i].seq,
                      items[i].subject);
            continue;
        }
        out->commits++;
        rc = proj__fold_commit(&f, &commit, items[i].seq);
    }
    if (rc == TS_OK)
        rc = proj__fold_sections(&f, keep);
    /* What stays in the segment must outlive this batch's arena. */
    if (rc == TS_OK && keep)
        proj__seg_own(cy->carry);
    if (rc == TS_OK && last > ck) {
        snprintf(seqbuf, sizeof seqbuf, "%" PRIu64, last);
        const char *cp[2] = {name, seqbuf};
        const char *np[2] = {PROJ_CATALOG_CHANNEL, seqbuf};
        rc = proj__fold_send(&f, PROJ_F_CHECKPOINT_SET, last, 2, cp);
        if (rc == TS_OK && notify)
            rc = proj__fold_send(&f, PROJ_F_NOTIFY, last, 2, np);
    }
    ts_status drained = proj__fold_drain(&f);
    if (rc == TS_OK || drained == TS_ERR_UNAVAILABLE)
        rc = drained;
    memcpy(out->sqlstate, f.sqlstate, sizeof f.sqlstate);
    if (PQpipelineStatus(pg) != PQ_PIPELINE_OFF && !PQexitPipelineMode(pg))
        rc = TS_ERR_UNAVAILABLE;
    if (rc == TS_OK) {
        out->checkpoint = last;
        out->events = f.events;
    }
done:
    proj__fold_deinit(&f);
    PQclear(res);
    return rc;
}

/* proj__fold_items in a transaction of its own. */
static ts_status fold_tx(proj__conn_t *c, ts_arena_t *arena, const proj__item_t *items, int n,
                         int skip, int notify, const proj__carry_t *cy, proj__batch_t *out)
{
    PGconn *pg = c->pg;
    ts_status rc = exec_simple(pg, "BEGIN");
    if (rc != TS_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    rc = proj__fold_items(c, arena, items, n, skip, notify, cy, out);
    if (rc == TS_OK)
        rc = exec_simple(pg, "COMMIT");
    if (rc != TS_OK && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        exec_simple(pg, "ROLLBACK");
    return rc;
}

ts_status proj__fold_batch(proj__conn_t *c, ts_arena_t *arena, const proj__item_t *items, int n,
                           int notify, const proj__carry_t *cy, proj__batch_t *out)
{
    proj__batch_t one;
    ts_status rc = fold_tx(c, arena, items, n, 0, notify, cy, out);
    if (rc != TS_ERR_DB || !proj__data_error(out->sqlstate) || (cy && cy->carry))
        return rc;
    /* Single out the commit PostgreSQL refuses. */
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        rc = fold_tx(c, arena, &items[i], 1, 0, notify, NULL, &one);
        if (rc == TS_ERR_DB && proj__data_error(one.sqlstate)) {
            proj__log("seq %" PRIu64 " on %s cannot be folded (SQLSTATE %s); skipped", items[i].seq,
                      items[i].subject, one.sqlstate);
            rc = fold_tx(c, arena, &items[i], 1, 1, notify, NULL, &one);
        }
        if (rc != TS_OK)
            return rc;
        out->checkpoint = one.checkpoint;
        out->commits += one.commits;
        out->events += one.events;
    }
    return TS_OK;
}
