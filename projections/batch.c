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

ts_status proj__fold_open(proj__txfold_t *t, proj__conn_t *c, ts_arena_t *arena,
                          proj__segment_t *carry)
{
    PGresult *res = NULL;
    const char *name = PROJ_CATALOG;
    memset(t, 0, sizeof *t);
    t->f = (proj__fold_t){.c = c, .arena = arena, .seg = carry};
    t->carry = carry;
    /* The fold keeps pointers into the decoded commits until they are
     * folded or owned (proj__segment_t): the arena is reset per add. */
    ts_arena_reset(arena);
    t->rc = proj__exec(c, PROJ_F_CHECKPOINT_LOCK, 1, &name, &res);
    if (t->rc == TS_OK) {
        t->ck = t->last = PQntuples(res) == 1 ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        t->out.checkpoint = t->ck;
        if (!PQenterPipelineMode(c->pg))
            t->rc = TS_ERR_UNAVAILABLE;
    }
    PQclear(res);
    return t->rc;
}

ts_status proj__fold_add(proj__txfold_t *t, const proj__item_t *items, int n, int skip)
{
    if (t->rc != TS_OK)
        return t->rc;
    /* What the carried segment keeps from the last add must outlive the
     * arena's reset. */
    if (t->added && t->carry)
        proj__seg_own(t->carry);
    if (t->added)
        ts_arena_reset(t->f.arena);
    t->added = 1;
    for (int i = 0; i < n && t->rc == TS_OK; i++) {
        evt_commit_t commit;
        if (items[i].seq <= t->ck)
            continue; /* already folded: a redelivery */
        t->last = items[i].seq;
        if (skip)
            continue;
        if (evt_commit_decode(items[i].data, items[i].len, t->f.arena, &commit) != TS_OK) {
            /* The log is the truth: a commit we cannot read is skipped,
             * never allowed to block the projection. */
            proj__log("seq %" PRIu64 " on %s does not decode; skipped", items[i].seq,
                      items[i].subject);
            continue;
        }
        t->out.commits++;
        t->rc = proj__fold_commit(&t->f, &commit, items[i].seq);
    }
    return t->rc;
}

ts_status proj__fold_close(proj__txfold_t *t, int keep, int notify, proj__batch_t *out)
{
    PGconn *pg = t->f.c->pg;
    ts_status rc = t->rc;
    char seqbuf[24];

    if (rc == TS_OK)
        rc = proj__fold_sections(&t->f, keep);
    /* What stays in the segment must outlive this batch's arena. */
    if (rc == TS_OK && keep && t->carry)
        proj__seg_own(t->carry);
    if (rc == TS_OK && t->last > t->ck) {
        const char *name = PROJ_CATALOG;
        snprintf(seqbuf, sizeof seqbuf, "%" PRIu64, t->last);
        const char *cp[2] = {name, seqbuf};
        const char *np[2] = {PROJ_CATALOG_CHANNEL, seqbuf};
        rc = proj__fold_send(&t->f, PROJ_F_CHECKPOINT_SET, t->last, 2, cp);
        if (rc == TS_OK && notify)
            rc = proj__fold_send(&t->f, PROJ_F_NOTIFY, t->last, 2, np);
    }
    if (PQpipelineStatus(pg) != PQ_PIPELINE_OFF) {
        ts_status drained = proj__fold_drain(&t->f);
        if (rc == TS_OK || drained == TS_ERR_UNAVAILABLE)
            rc = drained;
        if (!PQexitPipelineMode(pg))
            rc = TS_ERR_UNAVAILABLE;
    }
    memcpy(t->out.sqlstate, t->f.sqlstate, sizeof t->f.sqlstate);
    if (rc == TS_OK) {
        t->out.checkpoint = t->last;
        t->out.events = t->f.events;
    }
    *out = t->out;
    proj__fold_deinit(&t->f);
    return rc;
}

ts_status proj__fold_items(proj__conn_t *c, ts_arena_t *arena, const proj__item_t *items, int n,
                           int skip, int notify, const proj__carry_t *cy, proj__batch_t *out)
{
    proj__txfold_t t;
    proj__fold_open(&t, c, arena, cy ? cy->carry : NULL);
    proj__fold_add(&t, items, n, skip);
    return proj__fold_close(&t, cy && cy->carry && !cy->flush, notify, out);
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
