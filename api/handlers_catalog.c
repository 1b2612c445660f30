/* Venues and events: create, publish, and the catalog queries. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CREATORS (EVT_ROLE_ORGANIZER)

void api_h_venue_create(api_req_t *r)
{
    if (api_require_role(r, CREATORS) != 0)
        return;
    json_t *j = api_body_json(r);
    if (!j)
        return;
    eng_cmd_t cmd = {.type = ENG_VENUE_CREATE};
    int bad = api_parse_venue(r, j, &cmd.u.venue);
    json_decref(j);
    if (bad)
        return;
    cmd.new_id = eng_new_id(&r->arena, "vn");
    cmd.subject = ts_arena_printf(&r->arena, "tix.venue.%s", cmd.new_id);
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    uint64_t capacity = 0;
    const evt_venue_created_t *v = &o.events[0].u.venue_created;
    for (uint32_t i = 0; i < v->n_sections; i++)
        capacity += v->sections[i].capacity;
    api_reply_json(r, 201,
                   json_pack("{s:s, s:I, s:I}", "venue_id", v->venue_id, "capacity",
                             (json_int_t)capacity, "commit_seq", (json_int_t)o.commit_seq));
}

void api_h_event_create(api_req_t *r)
{
    if (api_require_role(r, CREATORS) != 0)
        return;
    json_t *j = api_body_json(r);
    if (!j)
        return;
    eng_cmd_t cmd = {.type = ENG_EVENT_CREATE};
    int bad = api_parse_event(r, j, &cmd.u.event);
    json_decref(j);
    if (bad)
        return;
    void *venue = NULL;
    ts_status st =
        api_state_copy(r, ts_arena_printf(&r->arena, "tix.venue.%s", cmd.u.event.venue_id), &venue);
    if (st != TS_OK)
        return api_reply_status(r, st);
    cmd.dep = venue;
    cmd.new_id = eng_new_id(&r->arena, "ev");
    cmd.subject = ts_arena_printf(&r->arena, "tix.event.%s", cmd.new_id);
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) == 0)
        api_reply_json(r, 201,
                       json_pack("{s:s, s:s, s:I}", "event_id", cmd.new_id, "status", "draft",
                                 "commit_seq", (json_int_t)o.commit_seq));
    cmd_aggregate_ops(CMD_AGG_VENUE)->state_free(venue);
}

/* Opens the inventory shard of every section the published event sells
 * (the "event published → inventory opened" step). A shard that fails to
 * open here is opened on its first hold instead (see holds). */
static void open_shards(api_req_t *r, const cmd_event_state_t *ev)
{
    for (uint32_t i = 0; i < ev->published.n_sections; i++) {
        eng_cmd_t cmd = {.type = ENG_INV_OPEN, .dep = ev};
        cmd.u.hold.section = ev->published.sections[i].key;
        cmd.subject =
            ts_arena_printf(&r->arena, "tix.inv.%s.%s", ev->ev.event_id, cmd.u.hold.section);
        cmd.actor = "system";
        cmd.command_id =
            ts_arena_printf(&r->arena, "open-%s-%s", ev->ev.event_id, cmd.u.hold.section);
        eng_outcome_t o;
        ts_status st = eng_execute(r->srv->cfg.engine, &cmd, &r->arena, &o);
        if (st != TS_OK)
            fprintf(stderr, "api: opening %s failed: %s\n", cmd.subject, ts_status_str(st));
    }
}

void api_h_event_publish(api_req_t *r)
{
    if (api_require_role(r, CREATORS) != 0)
        return;
    const char *id = r->params[0];
    if (!ts_id_valid(id))
        return api_problem(r, 404, "not_found", "no such event", NULL);
    const cmd_aggregate_ops_t *ev_ops = cmd_aggregate_ops(CMD_AGG_EVENT);
    const cmd_aggregate_ops_t *vn_ops = cmd_aggregate_ops(CMD_AGG_VENUE);
    cmd_event_state_t *es = NULL;
    void *venue = NULL;
    if (api_event_copy(r, id, &es) != 0)
        return;
    ts_status st =
        api_state_copy(r, ts_arena_printf(&r->arena, "tix.venue.%s", es->ev.venue_id), &venue);
    if (st != TS_OK) {
        ev_ops->state_free(es);
        return api_reply_status(r, st);
    }
    eng_cmd_t cmd = {.type = ENG_EVENT_PUBLISH, .dep = venue};
    cmd.subject = ts_arena_printf(&r->arena, "tix.event.%s", id);
    /* RULE-TKT-1: the engine makes the event's key pair (the private key
     * stays in its data dir) and the command carries the public key. Only
     * for a draft its organizer (or an admin) publishes: a published event
     * keeps the key it was published with, and the decision below refuses
     * the others anyway. */
    if (es->status == CMD_EVENT_DRAFT && api_owner_or_admin(r, es->ev.organizer_id)) {
        st = eng_ticket_key_ensure(r->srv->cfg.engine, id, &r->arena, &cmd.u.ticket_key);
        if (st != TS_OK) {
            ev_ops->state_free(es);
            vn_ops->state_free(venue);
            fprintf(stderr, "api: no ticket key for event %s: %s\n", id, ts_status_str(st));
            return api_reply_status(r, st == TS_ERR_IO ? TS_ERR_UNAVAILABLE : st);
        }
    }
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) == 0) {
        /* The copy plus the new event is the published state. */
        for (uint32_t i = 0; i < o.n_events; i++)
            ev_ops->apply(es, &o.events[i]);
        open_shards(r, es);
        api_reply_json(r, 200,
                       json_pack("{s:s, s:s, s:I}", "event_id", id, "status", "published",
                                 "commit_seq", (json_int_t)o.commit_seq));
    }
    ev_ops->state_free(es);
    vn_ops->state_free(venue);
}

static void reply_query(api_req_t *r, ts_status st, json_t *body)
{
    if (st != TS_OK)
        return api_reply_status(r, st);
    api_reply_json(r, 200, body);
}

void api_h_venue_get(api_req_t *r)
{
    if (api_wait_min_seq(r) != 0)
        return;
    json_t *out = NULL;
    ts_status st = ts_id_valid(r->params[0]) ? proj_venue_get(r->srv->cfg.db, r->params[0], &out)
                                             : TS_ERR_NOT_FOUND;
    reply_query(r, st, out);
}

void api_h_event_get(api_req_t *r)
{
    if (api_wait_min_seq(r) != 0)
        return;
    json_t *out = NULL;
    ts_status st = ts_id_valid(r->params[0]) ? proj_event_get(r->srv->cfg.db, r->params[0], &out)
                                             : TS_ERR_NOT_FOUND;
    if (st != TS_OK)
        return api_reply_status(r, st);
    /* A draft is seen by its organizer and admins only; to anyone else it
     * does not exist yet. The token is optional here. */
    const char *status = json_string_value(json_object_get(out, "status"));
    if (status && strcmp(status, "draft") == 0) {
        const char *owner = json_string_value(json_object_get(out, "organizer_id"));
        int may = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization") &&
                  api_authenticate(r) == 0 && api_owner_or_admin(r, owner);
        if (!may) {
            json_decref(out);
            if (r->status == 401)
                return;
            return api_problem(r, 404, "not_found", "no such resource", NULL);
        }
    }
    api_reply_json(r, 200, out);
}

static void seatmap_free(void *cls)
{
    proj_seatmap_close(cls);
    free(cls);
}

void api_h_seatmap(api_req_t *r)
{
    if (api_wait_min_seq(r) != 0)
        return;
    /* The read side keeps the whole map serialised and shared between
     * requests, as text and compressed: it is sent from there, neither
     * parsed nor copied nor compressed on the way. */
    proj_seatmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return api_reply_status(r, TS_ERR_NOMEM);
    /* A map read for another request a few milliseconds ago will do when
     * it is at least as new as min_seq: read-your-writes is what min_seq
     * asks for, and the map is exactly the one of the as_of_seq it says. */
    api_coding_t coding = api_pick_coding(r);
    unsigned flags = PROJ_SEATMAP_RECENT | (coding == API_CODING_ZSTD   ? PROJ_SEATMAP_ZSTD
                                            : coding == API_CODING_GZIP ? PROJ_SEATMAP_GZIP
                                                                        : 0);
    ts_status st = ts_id_valid(r->params[0])
                       ? proj_seatmap_open(r->srv->cfg.db, r->params[0], r->min_seq, flags, m)
                       : TS_ERR_NOT_FOUND;
    if (st != TS_OK) {
        free(m);
        return api_reply_status(r, st);
    }
    r->pieces = calloc(m->n_pieces, sizeof *r->pieces);
    if (!r->pieces) {
        seatmap_free(m);
        return api_reply_status(r, TS_ERR_NOMEM);
    }
    for (uint32_t i = 0; i < m->n_pieces; i++)
        r->pieces[i] = (struct MHD_IoVec){.iov_base = m->piece[i], .iov_len = m->len[i]};
    r->n_pieces = m->n_pieces;
    r->piece_free = seatmap_free;
    r->piece_cls = m;
    free(r->out);
    r->out = NULL;
    r->status = 200;
    r->out_type = "application/json";
    r->out_encoding = m->coding; /* "zstd", "gzip" or NULL (identity) */
    r->vary_encoding = 1;        /* for caches: identity, gzip and zstd answers alike */
}

static int parse_time_param(api_req_t *r, const char *name, int64_t *out)
{
    const char *v = api_query(r, name);
    *out = 0;
    if (v && ts_time_parse(v, out) != TS_OK) {
        api_problem_validation(r, name, "an RFC 3339 time");
        return -1;
    }
    return 0;
}

/* ?limit= is 1..200, 50 by default (API.md). -1 after replying 400. */
int api__limit(api_req_t *r)
{
    const char *v = api_query(r, "limit");
    if (!v)
        return 50;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 1 || n > 200) {
        api_problem_validation(r, "limit", "an integer 1..200");
        return -1;
    }
    return (int)n;
}

void api_h_events_list(api_req_t *r)
{
    proj_events_query_t q = {0};
    q.text = api_query(r, "q");
    q.genre = api_query(r, "genre");
    q.city = api_query(r, "city");
    q.cursor = api_query(r, "cursor");
    /* A bad parameter is a 400 at once, not after waiting for min_seq. */
    int limit = api__limit(r);
    if (limit < 0 || parse_time_param(r, "from", &q.from_ms) != 0 ||
        parse_time_param(r, "to", &q.to_ms) != 0 || api_wait_min_seq(r) != 0)
        return;
    q.limit = limit;
    json_t *out = NULL;
    ts_status st = proj_events_list(r->srv->cfg.db, &q, &out);
    if (st == TS_ERR_INVALID)
        return api_problem_validation(r, "cursor", "not a cursor from this API");
    reply_query(r, st, out);
}
