/*
 * Selling rules on the event: PATCH /events/{id} and POST
 * /events/{id}/promos (RULE-PROMO-1).
 *
 * Both are decided on the event aggregate (tix.event.<id>); the handler
 * parses, runs the command and shapes the answer. A PATCH that moves the
 * times of a published event is then passed on to every section's shard
 * (InventoryRescheduled), whose tickets, transfers and refunds depend on
 * the start (RULE-TKT-3, RULE-REF-1).
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static json_t *time_or_null(int64_t ms)
{
    char buf[32];
    if (!ms)
        return json_null();
    ts_time_format(ms, buf);
    return json_string(buf);
}

static json_t *money(int64_t amount, const char *currency)
{
    return json_pack("{s:I, s:s}", "amount", (json_int_t)amount, "currency", currency);
}

/* The event as GET /events/{id} shapes it, from the write side's state. */
static json_t *event_json(const cmd_event_state_t *s, uint64_t commit_seq)
{
    const evt_event_created_t *e = &s->ev;
    json_t *tiers = json_array();
    for (uint32_t i = 0; i < e->n_tiers; i++) {
        const evt_tier_t *t = &e->tiers[i];
        json_t *secs = json_array();
        for (uint32_t k = 0; k < t->n_sections; k++)
            json_array_append_new(secs, str_or_null(t->sections[k]));
        json_array_append_new(tiers,
                              json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "key",
                                        str_or_null(t->key), "name", str_or_null(t->name), "price",
                                        money(t->price.amount, t->price.currency), "sections", secs,
                                        "sale_starts_at", time_or_null(t->sale_starts_at),
                                        "sale_ends_at", time_or_null(t->sale_ends_at)));
    }
    const evt_policy_t *p = &e->policy;
    json_t *refund = json_array();
    for (uint32_t i = 0; i < p->n_refund; i++)
        json_array_append_new(refund, json_pack("{s:I, s:I}", "min_hours_before",
                                                (json_int_t)p->refund[i].min_hours_before,
                                                "percent", (json_int_t)p->refund[i].percent));
    json_t *policy = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "max_per_order", (json_int_t)p->max_per_order,
        "max_per_user", (json_int_t)p->max_per_user, "hold_minutes", (json_int_t)p->hold_minutes,
        "transfer_cutoff_hours", (json_int_t)p->transfer_cutoff_hours, "service_fee_bps",
        (json_int_t)p->service_fee_bps, "vat_bps", (json_int_t)p->vat_bps, "refund", refund);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:I}",
                     "event_id", str_or_null(e->event_id), "venue_id", str_or_null(e->venue_id),
                     "organizer_id", str_or_null(e->organizer_id), "title", str_or_null(e->title),
                     "description", str_or_null(e->description), "genre", str_or_null(e->genre),
                     "city", str_or_null(e->city), "starts_at", time_or_null(e->starts_at),
                     "ends_at", time_or_null(e->ends_at), "status",
                     s->status == CMD_EVENT_PUBLISHED ? "published" : "draft", "tiers", tiers,
                     "policy", policy, "commit_seq", (json_int_t)commit_seq);
}

/* InventoryRescheduled on every section of a published event. A shard
 * already at these times records nothing, so a PATCH repeated after a
 * failure here completes what was left undone. */
static void reschedule_shards(api_req_t *r, const cmd_event_state_t *ev)
{
    for (uint32_t i = 0; i < ev->published.n_sections; i++) {
        eng_cmd_t cmd = {.type = ENG_INV_RESCHEDULE, .actor = "system"};
        cmd.subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", ev->ev.event_id,
                                      ev->published.sections[i].key);
        cmd.command_id = r->command_id;
        cmd.u.reschedule.starts_at = ev->ev.starts_at;
        cmd.u.reschedule.ends_at = ev->ev.ends_at;
        eng_outcome_t o;
        ts_status st = eng_execute(r->srv->cfg.engine, &cmd, &r->arena, &o);
        if (st != TS_OK || o.reject)
            fprintf(stderr, "api: rescheduling %s failed: %s\n", cmd.subject,
                    st != TS_OK ? ts_status_str(st) : o.reject->code);
    }
}

/* The body of an organizer's request on the event of the path; NULL after
 * replying (401/403, 404 for what is not an id, 400 for the body). */
static json_t *organizer_body(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_ORGANIZER) != 0)
        return NULL;
    if (!ts_id_valid(r->params[0])) {
        api_problem(r, 404, "not_found", "no such event", NULL);
        return NULL;
    }
    return api_body_json(r);
}

void api_h_event_patch(api_req_t *r)
{
    const char *id = r->params[0];
    json_t *j = organizer_body(r);
    if (!j)
        return;
    eng_cmd_t cmd = {.type = ENG_EVENT_UPDATE};
    int bad = api_parse_event_patch(r, j, &cmd.u.patch);
    json_decref(j);
    if (bad)
        return;
    const cmd_aggregate_ops_t *ev_ops = cmd_aggregate_ops(CMD_AGG_EVENT);
    cmd_event_state_t *ev = NULL;
    void *venue = NULL;
    cmd.subject = ts_arena_printf(&r->arena, "tix.event.%s", id);
    if (api_event_copy(r, id, &ev) != 0)
        return;
    /* New tiers are checked against the venue's sections. */
    if (cmd.u.patch.fields & EVENT_PATCH_TIERS) {
        ts_status st =
            api_state_copy(r, ts_arena_printf(&r->arena, "tix.venue.%s", ev->ev.venue_id), &venue);
        if (st != TS_OK) {
            ev_ops->state_free(ev);
            return api_reply_status(r, st);
        }
        cmd.dep = venue;
    }
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) == 0) {
        /* The copy plus the new event is the state the answer shows. */
        for (uint32_t i = 0; i < o.n_events; i++)
            ev_ops->apply(ev, &o.events[i]);
        if (ev->status == CMD_EVENT_PUBLISHED &&
            (cmd.u.patch.fields & (EVENT_PATCH_STARTS_AT | EVENT_PATCH_ENDS_AT)))
            reschedule_shards(r, ev);
        api_reply_json(r, 200, event_json(ev, o.commit_seq));
    }
    ev_ops->state_free(ev);
    if (venue)
        cmd_aggregate_ops(CMD_AGG_VENUE)->state_free(venue);
}

void api_h_promo_create(api_req_t *r)
{
    const char *id = r->params[0];
    json_t *j = organizer_body(r);
    if (!j)
        return;
    eng_cmd_t cmd = {.type = ENG_PROMO_CREATE};
    int bad = api_parse_promo(r, j, &cmd.u.promo);
    json_decref(j);
    if (bad)
        return;
    cmd.subject = ts_arena_printf(&r->arena, "tix.event.%s", id);
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    const evt_promo_t *p = NULL;
    for (uint32_t i = 0; i < o.n_events; i++)
        if (o.events[i].type == EVT_PROMO_CREATED)
            p = &o.events[i].u.promo;
    if (!p)
        return api_problem(r, 409, "conflict", "the promo code was not created", NULL);
    json_t *out =
        json_pack("{s:s, s:s, s:I, s:o, s:o, s:I}", "event_id", id, "code", p->code, "max_uses",
                  (json_int_t)p->max_uses, "valid_from", time_or_null(p->valid_from), "valid_until",
                  time_or_null(p->valid_until), "commit_seq", (json_int_t)o.commit_seq);
    if (p->percent_off)
        json_object_set_new(out, "percent_off", json_integer(p->percent_off));
    else
        json_object_set_new(out, "amount_off", json_integer(p->amount_off));
    api_reply_json(r, 201, out);
}
