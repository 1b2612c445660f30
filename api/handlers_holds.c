/*
 * Holds and bookings: POST /events/{id}/holds, GET and DELETE /bookings/{id}.
 *
 * A booking id names its shard: "bk-<event>-<section>-<random>", so a
 * booking command goes straight to tix.inv.<event>.<section>.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

/* The published event from the server's cache; published layouts never
 * change (RULE-EVT-1), so a copy taken once serves every later hold. Its
 * tiers and policy are frozen at publish too; its details and promo codes
 * may have changed since (read those from the event itself). */
const cmd_event_state_t *api__published_event(api_req_t *r, const char *event_id)
{
    api_server_t *s = r->srv;
    pthread_mutex_lock(&s->cache_mu);
    int32_t i = ts_map_get(&s->event_cache, event_id);
    const cmd_event_state_t *hit = i >= 0 ? s->cached[i] : NULL;
    pthread_mutex_unlock(&s->cache_mu);
    if (hit)
        return hit;
    void *copy = NULL;
    if (api_state_copy(r, ts_arena_printf(&r->arena, "tix.event.%s", event_id), &copy) != TS_OK)
        return NULL;
    cmd_event_state_t *ev = copy;
    if (!ev->exists || ev->status != CMD_EVENT_PUBLISHED) {
        cmd_aggregate_ops(CMD_AGG_EVENT)->state_free(copy);
        return NULL;
    }
    pthread_mutex_lock(&s->cache_mu);
    i = ts_map_get(&s->event_cache, event_id);
    if (i >= 0) {
        cmd_aggregate_ops(CMD_AGG_EVENT)->state_free(copy);
        ev = s->cached[i];
    } else {
        if (s->n_cached == s->cap_cached) {
            s->cap_cached = s->cap_cached ? s->cap_cached * 2 : 64;
            s->cached = realloc(s->cached, s->cap_cached * sizeof(void *));
            if (!s->cached)
                abort();
        }
        s->cached[s->n_cached] = ev;
        ts_map_put(&s->event_cache, ev->ev.event_id, (int32_t)s->n_cached);
        s->n_cached++;
    }
    pthread_mutex_unlock(&s->cache_mu);
    return ev;
}

const evt_section_t *api__published_section(const cmd_event_state_t *ev, const char *key)
{
    for (uint32_t i = 0; i < ev->published.n_sections; i++)
        if (strcmp(ev->published.sections[i].key, key) == 0)
            return &ev->published.sections[i];
    return NULL;
}

typedef struct {
    int found;
    evt_hold_placed_t hold;
    const char *status;
    ts_arena_t *arena;
    int64_t now;
} booking_copy_t;

static void copy_booking(const void *state, void *arg)
{
    booking_copy_t *c = arg;
    const inv_booking_t *b = inv_booking_find(state, c->hold.booking_id);
    if (!b)
        return;
    c->found = 1;
    /* Strings of the state live in its arena: copy what the answer uses. */
    api_hold_copy(c->arena, &b->hold, &c->hold);
    c->status = inv_booking_status_name(b, c->now);
}

/* Answers with the booking as the shard holds it now. */
static void reply_booking_from_shard(api_req_t *r, const char *subject, const char *booking_id,
                                     int status, uint64_t commit_seq)
{
    booking_copy_t c = {.arena = &r->arena, .now = api__now_ms()};
    c.hold.booking_id = booking_id;
    ts_status st = eng_read(r->srv->cfg.engine, subject, copy_booking, &c);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (!c.found)
        return api_problem(r, 404, "not_found", "no such booking", NULL);
    api_reply_json(r, status, api_booking_json(&c.hold, c.status, commit_seq));
}

static int parse_hold(api_req_t *r, json_t *j, inv_hold_cmd_t *h, const char **promo_code)
{
    json_t *seats = json_object_get(j, "seats");
    json_t *tier = json_object_get(j, "tier");
    json_t *qty = json_object_get(j, "quantity");
    if (api_parse_promo_code(r, j, promo_code) != 0)
        return -1;
    if (seats && (tier || qty))
        return api_problem_validation(r, "seats", "give seats, or tier and quantity, not both"), -1;
    if (seats) {
        if (!json_is_array(seats) || json_array_size(seats) == 0)
            return api_problem_validation(r, "seats", "a non-empty array of seat ids"), -1;
        if (json_array_size(seats) > 50)
            return api_problem_validation(r, "seats", "at most 50 seats"), -1;
        h->n_seats = (uint32_t)json_array_size(seats);
        h->seats = ts_arena_alloc(&r->arena, h->n_seats * sizeof(char *));
        for (uint32_t i = 0; i < h->n_seats; i++) {
            json_t *s = json_array_get(seats, i);
            if (!json_is_string(s))
                return api_problem_validation(r, "seats", "seat ids are strings"), -1;
            h->seats[i] = ts_arena_strdup(&r->arena, json_string_value(s));
        }
        return 0;
    }
    if (!tier || !json_is_string(tier))
        return api_problem_validation(r, "tier", "give seats, or a tier (string) and quantity"), -1;
    if (!qty || !json_is_integer(qty) || json_integer_value(qty) < 1 ||
        json_integer_value(qty) > 1000)
        return api_problem_validation(r, "quantity", "an integer >= 1"), -1;
    h->tier = ts_arena_strdup(&r->arena, json_string_value(tier));
    h->quantity = (uint32_t)json_integer_value(qty);
    return 0;
}

/* The section of a seated hold: every seat names it. */
static int seats_section(api_req_t *r, inv_hold_cmd_t *h)
{
    const char **bad = ts_arena_alloc(&r->arena, h->n_seats * sizeof(char *));
    uint32_t n_bad = 0;
    for (uint32_t i = 0; i < h->n_seats; i++) {
        const char *sec, *row;
        uint32_t num;
        if (evt_seat_id_parse(&r->arena, h->seats[i], &sec, &row, &num) != 0) {
            bad[n_bad++] = h->seats[i];
            continue;
        }
        if (!h->section)
            h->section = sec;
        else if (strcmp(h->section, sec) != 0)
            return api_problem_validation(r, "seats", "a hold takes seats of one section"), -1;
    }
    if (n_bad) {
        /* RULE-HOLD-2: unknown seats reject the whole hold, named. */
        cmd_reject_t rj = {.code = "seat_unavailable",
                           .detail = "some seats do not exist",
                           .n_seats = n_bad,
                           .seats = bad};
        api_reply_reject(r, &rj);
        return -1;
    }
    return 0;
}

/* The answer to a hold that found no open shard, when none can be opened:
 * 404 for an event that does not exist; for seats of a section the
 * published event does not sell, 409 naming them, as for any unknown seat
 * (RULE-HOLD-2); else the shard's own rejection (not on sale). */
static void reply_no_shard(api_req_t *r, const char *event_id, const cmd_event_state_t *ev,
                           const inv_hold_cmd_t *h, const cmd_reject_t *rj)
{
    if (!ev) {
        cmd_event_state_t *copy = NULL;
        if (api_event_copy(r, event_id, &copy) != 0)
            return;
        cmd_aggregate_ops(CMD_AGG_EVENT)->state_free(copy);
    } else if (h->n_seats && !api__published_section(ev, h->section)) {
        cmd_reject_t unknown = {.code = "seat_unavailable",
                                .detail = "some seats do not exist",
                                .n_seats = h->n_seats,
                                .seats = h->seats};
        return api_reply_reject(r, &unknown);
    }
    if (rj)
        return api_reply_reject(r, rj);
    api_problem(r, 422, "not_on_sale", "the event is not on sale", NULL);
}

int api__shard_open(api_req_t *r, const cmd_event_state_t *ev, const char *subject,
                    const char *section)
{
    eng_cmd_t cmd = {.type = ENG_INV_OPEN, .dep = ev, .subject = subject, .actor = "system"};
    cmd.u.hold.section = section;
    eng_outcome_t o;
    return eng_execute(r->srv->cfg.engine, &cmd, &r->arena, &o) == TS_OK && !o.reject ? 0 : -1;
}

void api_h_hold(api_req_t *r)
{
    /* RULE-AUTH-2: a blocked user cannot hold. */
    const char *event_id = r->params[0];
    json_t *j = api_event_body(r, api_require_active_user);
    if (!j)
        return;
    eng_cmd_t cmd = {.type = ENG_INV_HOLD};
    const char *promo = NULL;
    int bad = parse_hold(r, j, &cmd.u.hold, &promo);
    json_decref(j);
    if (bad)
        return;
    inv_hold_cmd_t *h = &cmd.u.hold;
    h->event_id = event_id;
    if (h->n_seats && seats_section(r, h) != 0)
        return;
    const cmd_event_state_t *ev = api__published_event(r, event_id);
    if (!ev)
        return reply_no_shard(r, event_id, NULL, h, NULL);
    if (h->n_seats && !api__published_section(ev, h->section))
        return reply_no_shard(r, event_id, ev, h, NULL);
    /* Standing room: the tier names its section. */
    for (uint32_t i = 0; i < ev->published.n_sections && !h->section; i++) {
        const evt_section_t *s = &ev->published.sections[i];
        const evt_tier_t *t = event_tier_of_section(ev, s->key);
        if (s->kind == EVT_STANDING && t && strcmp(t->key, h->tier) == 0)
            h->section = s->key;
    }
    if (!h->section)
        return api_problem_validation(r, "tier", "no standing tier with this key");
    cmd.subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event_id, h->section);
    cmd.new_id = api__booking_id(r, event_id, h->section);
    api_hold_t hp = {.event_id = event_id,
                     .ev = ev,
                     .promo_code = promo,
                     .quantity = h->n_seats ? h->n_seats : h->quantity};
    eng_outcome_t o;
    ts_status st = api_hold_place(r, &hp, &cmd, &o);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (o.reject) {
        if (strcmp(o.reject->code, "not_on_sale") == 0 && !o.reject->field)
            return reply_no_shard(r, event_id, ev, h, o.reject);
        return api_reply_reject(r, o.reject);
    }
    api_reply_hold(r, cmd.subject, &o);
}

void api_reply_hold(api_req_t *r, const char *subject, const eng_outcome_t *o)
{
    for (uint32_t i = 0; i < o->n_events; i++)
        if (o->events[i].type == EVT_HOLD_PLACED)
            return api_reply_json(
                r, 201, api_booking_json(&o->events[i].u.hold_placed, "held", o->commit_seq));
    /* RULE-HOLD-5: a repeated command answers with the booking it made. */
    reply_booking_from_shard(r, subject, o->ref, 201, o->commit_seq);
}

void api_h_booking_get(api_req_t *r)
{
    if (api_authenticate(r) != 0 || api_wait_min_seq(r) != 0)
        return;
    json_t *b = NULL;
    ts_status st = ts_id_valid(r->params[0]) ? proj_booking_get(r->srv->cfg.db, r->params[0], &b)
                                             : TS_ERR_NOT_FOUND;
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (!api_owner_or_admin(r, json_string_value(json_object_get(b, "user_id")))) {
        json_decref(b);
        return api_problem(r, 403, "forbidden", "not your booking", NULL);
    }
    api_reply_json(r, 200, b);
}
