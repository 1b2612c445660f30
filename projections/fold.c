/* Event -> SQL, in libpq pipeline mode: a batch of hundreds of commits costs
 * a handful of round trips instead of one per event. Venue and event
 * lifecycle events become one prepared statement each; holds gather into
 * segments folded set-wise, two statements per segment (see proj__segment_t
 * for why that keeps the log's order), and their per-section available
 * deltas are summed and written once per batch. The statements themselves
 * are in sql.c; this file turns event fields into text parameters. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void proj__fold_deinit(proj__fold_t *f)
{
    for (size_t i = 0; i < f->n_deltas; i++) {
        free(f->deltas[i].event_id);
        free(f->deltas[i].section);
    }
    free(f->deltas);
    f->deltas = NULL;
    f->n_deltas = f->cap_deltas = 0;
    proj__seg_deinit(&f->own_seg);
}

/* Adds a hold statement's answer, rows of (event_id, section, delta, seq),
 * to the batch's per-section sums. A batch touches few sections: a linear
 * search is fine. */
static void add_deltas(proj__fold_t *f, const PGresult *res)
{
    if (PQnfields(res) != 4)
        return;
    for (int row = 0; row < PQntuples(res); row++) {
        const char *event_id = PQgetvalue(res, row, 0), *section = PQgetvalue(res, row, 1);
        int64_t delta = strtoll(PQgetvalue(res, row, 2), NULL, 10);
        uint64_t seq = strtoull(PQgetvalue(res, row, 3), NULL, 10);
        proj__delta_t *d = NULL;
        for (size_t i = 0; i < f->n_deltas && !d; i++)
            if (strcmp(f->deltas[i].event_id, event_id) == 0 &&
                strcmp(f->deltas[i].section, section) == 0)
                d = &f->deltas[i];
        if (!d) {
            if (f->n_deltas == f->cap_deltas) {
                size_t cap = f->cap_deltas ? 2 * f->cap_deltas : 16;
                proj__delta_t *grown = realloc(f->deltas, cap * sizeof *grown);
                if (!grown)
                    abort(); /* as base.h: no recovery from out-of-memory */
                f->deltas = grown;
                f->cap_deltas = cap;
            }
            d = &f->deltas[f->n_deltas++];
            d->event_id = strdup(event_id);
            d->section = strdup(section);
            if (!d->event_id || !d->section)
                abort();
            d->delta = 0;
            d->seq = 0;
        }
        d->delta += delta;
        if (seq > d->seq)
            d->seq = seq;
    }
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
            proj__stmt_t stmt = f->sent[i].stmt;
            if (st == PGRES_TUPLES_OK && !f->failed &&
                (stmt == PROJ_F_HOLDS_PLACED || stmt == PROJ_F_HOLDS_ENDED ||
                 stmt == PROJ_F_HOLDS_PLACED_STAGED || stmt == PROJ_F_HOLDS_ENDED_STAGED)) {
                add_deltas(f, res);
            } else if (st == PGRES_FATAL_ERROR && !f->failed) {
                const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
                const char *msg = PQresultErrorMessage(res);
                snprintf(f->sqlstate, sizeof f->sqlstate, "%s", code ? code : "");
                proj__log("fold: %s at seq %" PRIu64 ": %.*s (SQLSTATE %s)",
                          proj__stmt_name(f->sent[i].stmt), f->sent[i].seq, (int)strcspn(msg, "\n"),
                          msg, f->sqlstate);
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

ts_status proj__fold_send(proj__fold_t *f, proj__stmt_t s, uint64_t seq, int n,
                          const char *const *values)
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
    f->sent[f->pending].stmt = s;
    f->sent[f->pending].seq = seq;
    if (++f->pending >= PROJ_PIPELINE_DEPTH)
        return proj__fold_drain(f);
    return TS_OK;
}

static ts_status seg_flush(proj__fold_t *f);

ts_status proj__fold_sections(proj__fold_t *f, int keep_segment)
{
    /* The deltas are known only once every hold's answer is read. */
    ts_status rc = keep_segment ? TS_OK : seg_flush(f);
    if (rc == TS_OK)
        rc = proj__fold_drain(f);
    for (size_t i = 0; rc == TS_OK && i < f->n_deltas; i++) {
        char delta[24], seq[24];
        snprintf(delta, sizeof delta, "%" PRId64, f->deltas[i].delta);
        snprintf(seq, sizeof seq, "%" PRIu64, f->deltas[i].seq);
        const char *p[4] = {f->deltas[i].event_id, f->deltas[i].section, delta, seq};
        rc = proj__fold_send(f, PROJ_F_SECTION_DELTA, f->deltas[i].seq, 4, p);
    }
    return rc;
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
    return proj__fold_send(f, PROJ_F_VENUE_CREATED, seq, 7, p);
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
    return proj__fold_send(f, PROJ_F_EVENT_CREATED, seq, 12, p);
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
    rc = proj__fold_send(f, PROJ_F_EVENT_PUBLISHED, seq, 10, p);
    for (size_t i = 0; i < TS_ARRAY_LEN(all); i++)
        ts_buf_deinit(all[i]);
    return rc;
}

/* ---- a build's segments, through COPY ---- */

/* Bookings per chunk of COPY data. */
#define PROJ_COPY_CHUNK 4096

/* Records a failure outside the pipeline like one inside it. */
static ts_status copy_failed(proj__fold_t *f, PGresult *res, const char *what)
{
    const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(f->c->pg);
    snprintf(f->sqlstate, sizeof f->sqlstate, "%s", code ? code : "");
    proj__log("fold: %s: %.*s (SQLSTATE %s)", what, (int)strcspn(msg, "\n"), msg, f->sqlstate);
    f->failed = 1;
    PQclear(res);
    return PQstatus(f->c->pg) == CONNECTION_OK ? TS_ERR_DB : TS_ERR_UNAVAILABLE;
}

static ts_status copy_begin(proj__fold_t *f, const char *sql)
{
    PGresult *res = PQexec(f->c->pg, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return copy_failed(f, res, sql);
    PQclear(res);
    return TS_OK;
}

static ts_status copy_put(proj__fold_t *f, ts_buf_t *b)
{
    int ok = b->len == 0 || PQputCopyData(f->c->pg, (const char *)b->data, (int)b->len) == 1;
    b->len = 0;
    return ok ? TS_OK : copy_failed(f, NULL, "COPY data");
}

static ts_status copy_end(proj__fold_t *f, const char *what)
{
    PGresult *res;
    ts_status rc = TS_OK;
    if (PQputCopyEnd(f->c->pg, NULL) != 1)
        return copy_failed(f, NULL, what);
    while ((res = PQgetResult(f->c->pg)) != NULL) {
        if (rc == TS_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
            rc = copy_failed(f, res, what);
            continue;
        }
        PQclear(res);
    }
    return rc;
}

/* Fills the staging tables with the segment by COPY (outside the
 * pipeline, which COPY cannot join). */
static ts_status seg_copy(proj__fold_t *f, proj__segment_t *g, uint64_t *ended_seq,
                          uint64_t *placed_seq)
{
    ts_buf_t rows, seats;
    ts_status rc;
    PGresult *res = PQexec(f->c->pg, "TRUNCATE seg_placed, seg_seats, seg_ended");
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return copy_failed(f, res, "TRUNCATE staging");
    PQclear(res);
    ts_buf_init(&rows);
    ts_buf_init(&seats);
    rc = copy_begin(f, "COPY seg_ended FROM STDIN");
    if (rc == TS_OK) {
        proj__seg_copy_ended(g, &rows, ended_seq);
        rc = copy_put(f, &rows);
        ts_status end = copy_end(f, "COPY seg_ended");
        rc = rc == TS_OK ? end : rc;
    }
    if (rc == TS_OK)
        rc = copy_begin(f, "COPY seg_placed FROM STDIN");
    if (rc == TS_OK) {
        /* In chunks: the text of every booking at once could take
         * hundreds of megabytes. */
        for (size_t i = 0; i < g->n_placed && rc == TS_OK; i += PROJ_COPY_CHUNK) {
            proj__seg_copy_placed(g, i, i + PROJ_COPY_CHUNK, &rows, &seats, placed_seq);
            rc = copy_put(f, &rows);
        }
        ts_status end = copy_end(f, "COPY seg_placed");
        rc = rc == TS_OK ? end : rc;
    }
    if (rc == TS_OK)
        rc = copy_begin(f, "COPY seg_seats FROM STDIN");
    if (rc == TS_OK) {
        rc = copy_put(f, &seats);
        ts_status end = copy_end(f, "COPY seg_seats");
        rc = rc == TS_OK ? end : rc;
    }
    ts_buf_deinit(&rows);
    ts_buf_deinit(&seats);
    return rc;
}

/* Runs a statement of a staged segment (outside the pipeline) and adds its
 * answer to the batch's deltas. A failure is recorded as one in the
 * pipeline would be, except one with SQLSTATE tolerate (may be NULL),
 * which returns TS_ERR_CONFLICT and leaves the caller to roll it back. */
static ts_status staged_exec(proj__fold_t *f, proj__stmt_t s, const char *tolerate)
{
    PGresult *res = PQexecPrepared(f->c->pg, proj__stmt_name(s), 0, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        add_deltas(f, res);
        PQclear(res);
        return TS_OK;
    }
    const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (tolerate && code && strcmp(code, tolerate) == 0) {
        PQclear(res);
        return TS_ERR_CONFLICT;
    }
    return copy_failed(f, res, proj__stmt_name(s));
}

static ts_status staged_simple(proj__fold_t *f, const char *sql)
{
    PGresult *res = PQexec(f->c->pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return copy_failed(f, res, sql);
    PQclear(res);
    return TS_OK;
}

/* The segment through the staging tables: the same statements as
 * seg_flush's, reading the tables instead of array parameters, run one
 * after the other outside the pipeline (each takes seconds for a big
 * segment: a round trip more is nothing). The new bookings go in with
 * HOLDS_NEW first, which probes for none of them, inside a savepoint; a
 * booking already in the table (a log that places one twice: the domain
 * gives every hold a new id) makes the primary key refuse it, and the
 * segment is folded again by HOLDS_PLACED, which probes. */
static ts_status seg_flush_staged(proj__fold_t *f, proj__segment_t *g)
{
    uint64_t ended_seq = 0, placed_seq = 0;
    int ended = g->n_ended > 0, placed = g->n_placed > 0;
    size_t n_placed = g->n_placed;
    /* The staging tables are refilled: what reads them must be done. */
    ts_status rc = proj__fold_drain(f);
    if (rc != TS_OK)
        return rc;
    if (!PQexitPipelineMode(f->c->pg))
        return TS_ERR_UNAVAILABLE;
    rc = seg_copy(f, g, &ended_seq, &placed_seq);
    proj__seg_reset(g);
    if (rc == TS_OK && ended)
        rc = staged_exec(f, PROJ_F_HOLDS_ENDED_STAGED, NULL);
    if (rc == TS_OK && placed) {
        rc = staged_simple(f, "SAVEPOINT proj_segment");
        if (rc == TS_OK)
            rc = staged_exec(f, PROJ_F_HOLDS_NEW_STAGED, "23505"); /* unique_violation */
        if (rc == TS_ERR_CONFLICT) {
            proj__log("%zu new bookings: some are in the model already (folded before); "
                      "folding them again with probes",
                      n_placed);
            rc = staged_simple(f, "ROLLBACK TO SAVEPOINT proj_segment");
            if (rc == TS_OK)
                rc = staged_exec(f, PROJ_F_HOLDS_PLACED_STAGED, NULL);
        }
        if (rc == TS_OK)
            rc = staged_simple(f, "RELEASE SAVEPOINT proj_segment");
    }
    if (rc != TS_OK)
        return rc;
    if (!PQenterPipelineMode(f->c->pg))
        return TS_ERR_UNAVAILABLE;
    return TS_OK;
}

/* Sends the open segment: its ended bookings first, then its new ones (see
 * proj__segment_t for why that order is the log's). */
static ts_status seg_flush(proj__fold_t *f)
{
    proj__segment_t *g = f->seg ? f->seg : &f->own_seg;
    const char *p[PROJ_PLACED_COLS];
    uint64_t seq;
    ts_status rc = TS_OK;

    /* Statistics first: a batch that published events before these holds
     * added their seats, and a plan made without them scans every seat. */
    if (f->analyze_seats && proj__seg_size(g) > 0) {
        f->analyze_seats = 0;
        rc = proj__fold_send(f, PROJ_F_ANALYZE_SEATS, 0, 0, NULL);
        if (rc != TS_OK)
            return rc;
    }
    /* A big segment goes through COPY (a build's, or the projector's while
     * it catches up); a few bookings are cheaper as array parameters, which
     * need no trip out of the pipeline. */
    if (f->c->staging && proj__seg_size(g) >= PROJ_STAGE_MIN)
        return seg_flush_staged(f, g);

    if (proj__seg_ended_params(g, p, &seq))
        rc = proj__fold_send(f, PROJ_F_HOLDS_ENDED, seq, PROJ_ENDED_COLS, p);
    if (rc == TS_OK && proj__seg_placed_params(g, p, &seq))
        rc = proj__fold_send(f, PROJ_F_HOLDS_PLACED, seq, PROJ_PLACED_COLS, p);
    proj__seg_reset(g);
    return rc;
}

static ts_status fold_hold_placed(proj__fold_t *f, const evt_hold_placed_t *h, uint64_t seq)
{
    if (!h->booking_id || !h->event_id || !h->section || !h->user_id)
        return TS_ERR_INVALID;
    proj__segment_t *g = f->seg ? f->seg : &f->own_seg;
    if (proj__seg_place(g, h, seq))
        return TS_OK;
    /* The same booking placed again (a re-hold) waits for what came before. */
    ts_status rc = seg_flush(f);
    if (rc == TS_OK && !proj__seg_place(g, h, seq))
        rc = TS_ERR_INVALID; /* cannot happen: the segment is empty */
    return rc;
}

static ts_status fold_hold_ended(proj__fold_t *f, const evt_hold_ended_t *h, const char *status,
                                 uint64_t seq)
{
    if (!h->booking_id)
        return TS_ERR_INVALID;
    proj__seg_end(f->seg ? f->seg : &f->own_seg, h->booking_id, status, seq);
    return TS_OK;
}

ts_status proj__fold_commit(proj__fold_t *f, const evt_commit_t *commit, uint64_t seq)
{
    f->events += commit->n_events;
    for (uint32_t i = 0; i < commit->n_events; i++) {
        const evt_event_t *e = &commit->events[i];
        ts_status rc = TS_OK;

        /* Anything but a hold keeps its place in the log's order. */
        if (e->type == EVT_VENUE_CREATED || e->type == EVT_EVENT_CREATED ||
            e->type == EVT_EVENT_PUBLISHED)
            rc = seg_flush(f);
        if (rc != TS_OK)
            return rc;
        switch (e->type) {
        case EVT_VENUE_CREATED:
            rc = fold_venue(f, &e->u.venue_created, seq);
            break;
        case EVT_EVENT_CREATED:
            rc = fold_event_created(f, &e->u.event_created, seq);
            break;
        case EVT_EVENT_PUBLISHED:
            rc = fold_event_published(f, &e->u.event_published, seq);
            f->analyze_seats = 1;
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
        default: /* v2 events: the sales of issue 3 (fold_sales.c), the event's
                  * details (fold_events.c), the waitlists (fold_waitlist.c) */
            if (proj__fold_sales_wants(e->type)) {
                rc = seg_flush(f);
                if (rc == TS_OK)
                    rc = proj__fold_sales(f, e, seq);
            } else if (e->type == EVT_EVENT_UPDATED) {
                rc = proj__fold_event_v2(f, e, seq);
            } else {
                rc = proj__fold_waitlist(f, e, i, seq);
            }
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
