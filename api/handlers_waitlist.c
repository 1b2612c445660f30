/*
 * Waitlists (RULE-WL-1): POST /events/{id}/waitlist, DELETE
 * /events/{id}/waitlist/{entry}, GET /users/me/waitlist.
 *
 * An entry id names its list: "wl-<event>-<tier>-<random>", so a leave goes
 * straight to tix.wait.<event>.<tier>. A join with an Idempotency-Key gets
 * an entry id derived from the key's command id: when the answer of a join
 * that was committed is lost, the repeat finds its own entry on the list
 * instead of a conflict with itself.
 */
#include "api/api_int.h"

#include <openssl/sha.h>
#include <string.h>

/* Splits an entry id into event and tier; -1 when malformed. */
static int entry_list(api_req_t *r, const char *id, const char **event, const char **tier)
{
    return api_shard_of_id(r, id, "wl-", event, tier);
}

/* The body's quantity: an integer >= 1 (one above max_per_order is the
 * aggregate's limit_exceeded); -1 after replying 400. */
static int parse_quantity(api_req_t *r, json_t *j, uint32_t *out)
{
    json_t *q = json_object_get(j, "quantity");
    if (!q || !json_is_integer(q) || json_integer_value(q) < 1) {
        api_problem_validation(r, "quantity", "an integer >= 1");
        return -1;
    }
    json_int_t v = json_integer_value(q);
    *out = v > 100000 ? 100000 : (uint32_t)v;
    return 0;
}

/* The tier the entry waits for: the one named, or the event's only tier. */
static const char *pick_tier(api_req_t *r, const cmd_event_state_t *ev, json_t *tier)
{
    if (tier && !json_is_string(tier) && !json_is_null(tier)) {
        api_problem_validation(r, "tier", "must be a string");
        return NULL;
    }
    const char *key = json_string_value(tier);
    if (!key) {
        if (ev->ev.n_tiers == 1)
            return ev->ev.tiers[0].key;
        api_problem_validation(r, "tier", "the event has several tiers: name one");
        return NULL;
    }
    for (uint32_t i = 0; i < ev->ev.n_tiers; i++)
        if (strcmp(ev->ev.tiers[i].key, key) == 0)
            return ev->ev.tiers[i].key;
    api_problem_validation(r, "tier", "the event has no tier with this key");
    return NULL;
}

typedef struct {
    const char *entry_id;
    int64_t now;
    uint32_t position;
} position_t;

static void read_position(const void *state, void *arg)
{
    position_t *p = arg;
    p->position = wait_position(state, p->entry_id, p->now);
}

void api_h_waitlist_join(api_req_t *r)
{
    const char *event_id = r->params[0];
    /* RULE-AUTH-2: a blocked user cannot hold, so would never be offered
     * seats (RULE-WL-1): refused at once, as a hold is. */
    json_t *j = api_event_body(r, api_require_active_user);
    if (!j)
        return;
    eng_cmd_t cmd = {.type = ENG_WAIT_JOIN};
    wait_cmd_t *w = &cmd.u.wait;
    cmd_event_state_t *ev = NULL;
    if (parse_quantity(r, j, &w->quantity) != 0 || api_event_copy(r, event_id, &ev) != 0)
        goto done;
    /* RULE-EVT-1: only a published event sells, so only its lists are open. */
    if (ev->status != CMD_EVENT_PUBLISHED) {
        api_problem(r, 422, "not_on_sale", "the event is not on sale", NULL);
        goto done;
    }
    const char *tier = pick_tier(r, ev, json_object_get(j, "tier"));
    if (!tier)
        goto done;
    w->event_id = event_id;
    w->tier = ts_arena_strdup(&r->arena, tier);
    w->max_per_order = ev->ev.policy.max_per_order;
    const char *rand = NULL;
    if (r->command_id) {
        uint8_t h[SHA256_DIGEST_LENGTH];
        char hex[2 * SHA256_DIGEST_LENGTH + 1];
        SHA256((const unsigned char *)r->command_id, strlen(r->command_id), h);
        ts_hex(h, 8, hex);
        rand = ts_arena_strdup(&r->arena, hex);
    } else {
        rand = eng_new_id(&r->arena, "");
    }
    cmd.new_id = ts_arena_printf(&r->arena, "wl-%s-%s-%s", event_id, w->tier, rand);
    cmd.subject = ts_arena_printf(&r->arena, "tix.wait.%s.%s", event_id, w->tier);
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        goto done;
    position_t p = {.entry_id = o.ref, .now = api__now_ms()};
    ts_status st = eng_read(r->srv->cfg.engine, cmd.subject, read_position, &p);
    if (st != TS_OK) {
        api_reply_status(r, st);
        goto done;
    }
    api_reply_json(r, 201,
                   json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "entry_id", o.ref, "event_id",
                             event_id, "tier", w->tier, "quantity", (json_int_t)w->quantity,
                             "position", (json_int_t)p.position, "commit_seq",
                             (json_int_t)o.commit_seq));
done:
    if (ev)
        cmd_aggregate_ops(CMD_AGG_EVENT)->state_free(ev);
    json_decref(j);
}

void api_h_waitlist_leave(api_req_t *r)
{
    if (api_authenticate(r) != 0)
        return;
    const char *event, *tier;
    if (!api_event_id_valid(r->params[0]) || entry_list(r, r->params[1], &event, &tier) != 0 ||
        strcmp(event, r->params[0]) != 0)
        return api_problem(r, 404, "not_found", "no such waitlist entry", NULL);
    eng_cmd_t cmd = {.type = ENG_WAIT_LEAVE};
    cmd.subject = ts_arena_printf(&r->arena, "tix.wait.%s.%s", event, tier);
    cmd.u.wait.event_id = event;
    cmd.u.wait.tier = tier;
    cmd.u.wait.entry_id = r->params[1];
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    api_reply_empty(r, 204);
}

void api_h_waitlist_mine(api_req_t *r)
{
    api_reply_user_list(r, proj_waitlist_list);
}
