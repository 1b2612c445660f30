/* Event -> SQL: each event of a commit becomes one prepared statement sent in
 * libpq pipeline mode, so a batch of hundreds of commits costs a handful of
 * round trips instead of one per event. The statements themselves are in
 * sql.c; this file only turns event fields into text parameters. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Results are read back after this many statements, so the server never
 * blocks writing results we are not reading while we block writing
 * statements it is not reading. Each result is a few dozen bytes. */
#define PROJ_PIPELINE_DEPTH 256

static const char *num(ts_arena_t *a, int64_t v)
{
    return ts_arena_printf(a, "%" PRId64, v);
}

static const char *unum(ts_arena_t *a, uint64_t v)
{
    return ts_arena_printf(a, "%" PRIu64, v);
}

/* A compact JSON text owned by the arena; consumes j. */
static const char *json_text(ts_arena_t *a, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    const char *out = s ? ts_arena_strdup(a, s) : NULL;
    free(s);
    json_decref(j);
    return out;
}

/* Finishes an array literal into the arena and resets the buffer. */
static const char *array_text(ts_arena_t *a, ts_buf_t *b)
{
    const char *out = ts_arena_strdup(a, proj__pg_array_close(b));
    b->len = 0;
    return out;
}

ts_status proj__fold_drain(proj__fold_t *f)
{
    PGconn *pg = f->c->pg;
    PGresult *res;

    if (f->pending == 0)
        return f->failed ? TS_ERR_DB : TS_OK;
    if (!PQpipelineSync(pg))
        return TS_ERR_UNAVAILABLE;
    for (int i = 0; i < f->pending; i++) {
        /* Each statement yields its result(s), then NULL. */
        while ((res = PQgetResult(pg)) != NULL) {
            ExecStatusType st = PQresultStatus(res);
            if (st == PGRES_FATAL_ERROR && !f->failed) {
                const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
                const char *msg = PQresultErrorMessage(res);
                snprintf(f->sqlstate, sizeof f->sqlstate, "%s", code ? code : "");
                proj__log("fold: %.*s (SQLSTATE %s)", (int)strcspn(msg, "\n"), msg, f->sqlstate);
                f->failed = 1;
            } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                /* PGRES_PIPELINE_ABORTED: skipped after the first failure. */
                f->failed = 1;
            }
            PQclear(res);
        }
        if (PQstatus(pg) != CONNECTION_OK) {
            f->pending = 0;
            return TS_ERR_UNAVAILABLE;
        }
    }
    f->pending = 0;
    res = PQgetResult(pg);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    PQclear(res);
    if (st != PGRES_PIPELINE_SYNC)
        return TS_ERR_UNAVAILABLE;
    return f->failed ? TS_ERR_DB : TS_OK;
}

ts_status proj__fold_send(proj__fold_t *f, proj__stmt_t s, int n, const char *const *values)
{
    /* After a failure the server discards everything up to the next Sync;
     * there is no point in sending more. */
    if (f->failed)
        return TS_ERR_DB;
    if (!PQsendQueryPrepared(f->c->pg, proj__stmt_name(s), n, values, NULL, NULL, 0)) {
        const char *msg = PQerrorMessage(f->c->pg);
        proj__log("fold: cannot send %s: %.*s", proj__stmt_name(s), (int)strcspn(msg, "\n"), msg);
        return TS_ERR_UNAVAILABLE;
    }
    if (++f->pending >= PROJ_PIPELINE_DEPTH)
        return proj__fold_drain(f);
    return TS_OK;
}

static ts_status fold_venue(proj__fold_t *f, const evt_venue_created_t *v, uint64_t seq)
{
    int64_t capacity = 0;
    if (!v->venue_id || !v->name)
        return TS_ERR_INVALID;
    const char *layout = json_text(f->arena, proj__layout_json(v, &capacity));
    const char *p[7] = {
        v->venue_id,        v->name, v->city, v->country, num(f->arena, capacity), layout,
        unum(f->arena, seq)};
    return proj__fold_send(f, PROJ_F_VENUE_CREATED, 7, p);
}

static ts_status fold_event_created(proj__fold_t *f, const evt_event_created_t *e, uint64_t seq)
{
    if (!e->event_id || !e->venue_id || !e->title)
        return TS_ERR_INVALID;
    const char *p[12] = {e->event_id,
                         e->venue_id,
                         e->organizer_id,
                         e->title,
                         e->description,
                         e->genre,
                         e->city,
                         num(f->arena, e->starts_at),
                         num(f->arena, e->ends_at),
                         json_text(f->arena, proj__tiers_json(e->tiers, e->n_tiers)),
                         json_text(f->arena, proj__policy_json(&e->policy)),
                         unum(f->arena, seq)};
    return proj__fold_send(f, PROJ_F_EVENT_CREATED, 12, p);
}

/* RULE-EVT-1: the frozen layout becomes parallel arrays (sections, rows,
 * accessible seat ids); the statement expands rows into seats server-side.
 * ord of a seat = seats before its row in venue order + its number. */
static ts_status fold_event_published(proj__fold_t *f, const evt_event_published_t *e, uint64_t seq)
{
    ts_buf_t keys, kinds, caps, rsec, rlabel, rcount, rbase, acc;
    ts_buf_t *all[] = {&keys, &kinds, &caps, &rsec, &rlabel, &rcount, &rbase, &acc};
    const char *p[10];
    char tmp[160];
    int64_t ord = 0;
    ts_status rc;

    if (!e->event_id)
        return TS_ERR_INVALID;
    for (size_t i = 0; i < TS_ARRAY_LEN(all); i++)
        ts_buf_init(all[i]);
    for (uint32_t i = 0; i < e->n_sections; i++) {
        const evt_section_t *s = &e->sections[i];
        int64_t cap = 0;
        if (!s->key)
            continue;
        if (s->kind == EVT_STANDING) {
            cap = s->capacity;
        } else {
            for (uint32_t r = 0; r < s->n_rows; r++) {
                const evt_row_t *row = &s->rows[r];
                if (!row->label)
                    continue;
                proj__pg_array_add(&rsec, s->key);
                proj__pg_array_add(&rlabel, row->label);
                snprintf(tmp, sizeof tmp, "%" PRIu32, row->seats);
                proj__pg_array_add(&rcount, tmp);
                snprintf(tmp, sizeof tmp, "%" PRId64, ord);
                proj__pg_array_add(&rbase, tmp);
                for (uint32_t k = 0; k < row->n_accessible; k++) {
                    snprintf(tmp, sizeof tmp, "%s-%s-%" PRIu32, s->key, row->label,
                             row->accessible[k]);
                    proj__pg_array_add(&acc, tmp);
                }
                ord += row->seats;
                cap += row->seats;
            }
        }
        proj__pg_array_add(&keys, s->key);
        proj__pg_array_add(&kinds, s->kind == EVT_STANDING ? "standing" : "seated");
        snprintf(tmp, sizeof tmp, "%" PRId64, cap);
        proj__pg_array_add(&caps, tmp);
    }
    p[0] = e->event_id;
    p[1] = unum(f->arena, seq);
    for (size_t i = 0; i < TS_ARRAY_LEN(all); i++)
        p[2 + i] = array_text(f->arena, all[i]);
    rc = proj__fold_send(f, PROJ_F_EVENT_PUBLISHED, 10, p);
    for (size_t i = 0; i < TS_ARRAY_LEN(all); i++)
        ts_buf_deinit(all[i]);
    return rc;
}

static ts_status fold_hold_placed(proj__fold_t *f, const evt_hold_placed_t *h, uint64_t seq)
{
    ts_buf_t seats;
    const char *p[16];
    ts_status rc;

    if (!h->booking_id || !h->event_id || !h->section || !h->user_id)
        return TS_ERR_INVALID;
    ts_buf_init(&seats);
    for (uint32_t i = 0; i < h->n_seats; i++)
        if (h->seats[i])
            proj__pg_array_add(&seats, h->seats[i]);
    p[0] = h->booking_id;
    p[1] = h->event_id;
    p[2] = h->section;
    p[3] = h->user_id;
    p[4] = h->tier_key;
    p[5] = unum(f->arena, h->quantity);
    p[6] = num(f->arena, h->expires_at);
    p[7] = json_text(f->arena, proj__items_json(h));
    p[8] = num(f->arena, h->subtotal);
    p[9] = num(f->arena, h->discount);
    p[10] = num(f->arena, h->service_fee);
    p[11] = num(f->arena, h->total);
    p[12] = num(f->arena, h->vat_included);
    p[13] = h->unit_price.currency;
    p[14] = unum(f->arena, seq);
    p[15] = array_text(f->arena, &seats);
    rc = proj__fold_send(f, PROJ_F_HOLD_PLACED, 16, p);
    ts_buf_deinit(&seats);
    return rc;
}

static ts_status fold_hold_ended(proj__fold_t *f, const evt_hold_ended_t *h, const char *status,
                                 uint64_t seq)
{
    if (!h->booking_id)
        return TS_ERR_INVALID;
    const char *p[3] = {h->booking_id, status, unum(f->arena, seq)};
    return proj__fold_send(f, PROJ_F_HOLD_ENDED, 3, p);
}

ts_status proj__fold_commit(proj__fold_t *f, const evt_commit_t *commit, uint64_t seq)
{
    for (uint32_t i = 0; i < commit->n_events; i++) {
        const evt_event_t *e = &commit->events[i];
        ts_status rc = TS_OK;

        switch (e->type) {
        case EVT_VENUE_CREATED:
            rc = fold_venue(f, &e->u.venue_created, seq);
            break;
        case EVT_EVENT_CREATED:
            rc = fold_event_created(f, &e->u.event_created, seq);
            break;
        case EVT_EVENT_PUBLISHED:
            rc = fold_event_published(f, &e->u.event_published, seq);
            break;
        case EVT_HOLD_PLACED:
            rc = fold_hold_placed(f, &e->u.hold_placed, seq);
            break;
        case EVT_HOLD_RELEASED:
            rc = fold_hold_ended(f, &e->u.hold_ended, "released", seq);
            break;
        case EVT_HOLD_EXPIRED:
            rc = fold_hold_ended(f, &e->u.hold_ended, "expired", seq);
            break;
        case EVT_INVENTORY_OPENED: /* the seat rows come from EventPublished */
        case EVT_USER_REGISTERED:  /* not part of the catalog */
        case EVT_CLAIMED:
        case EVT_NONE:
            break;
        }
        if (rc == TS_ERR_INVALID) {
            /* The log is the truth and cannot be fixed; skip the event
             * rather than stall the projection behind it. */
            proj__log("seq %" PRIu64 ": %s #%" PRIu32 " lacks a required field; skipped", seq,
                      evt_type_name(e->type), i);
            continue;
        }
        if (rc != TS_OK)
            return rc;
    }
    return TS_OK;
}
