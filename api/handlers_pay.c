/*
 * Payments, refunds and cancellations (issue 3): POST /bookings/{id}/payments,
 * POST /payments/{id}/simulate, POST /webhooks/payments, DELETE
 * /bookings/{id} and POST /events/{id}/cancel.
 *
 * Payment and ticket ids name their shard like booking ids do
 * ("pay-<event>-<section>-<random>"), so a webhook goes straight to the
 * shard that holds its booking. The provider is asked for money back right
 * after the commit that owes it (a holder's cancellation, RULE-REF-1; a
 * payment that came too late, RULE-PAY-2); a crash in between is covered
 * by saga_cancel, which asks again at start-up for every refund still due.
 *
 * POST /payments/{id}/simulate answers 202 Accepted: the simulated provider
 * sends the signed webhook from its own thread, a moment later, as a real
 * provider would; the booking shows the outcome once the webhook is in.
 */
#include "api/api_int.h"
#include "sagas/sagas.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the booking as its shard holds it ---- */

typedef struct {
    int found;
    evt_hold_placed_t hold;
    const char *status;
    const char *payment_id;
    int64_t refund;
    json_t *tickets;
    ts_arena_t *arena;
    int64_t now;
    /* by payment id (simulate, webhooks) */
    const char *by_payment;
} shard_booking_t;

static void copy_booking(const void *state, void *arg)
{
    const inv_state_t *s = state;
    shard_booking_t *c = arg;
    const inv_booking_t *b = c->by_payment ? inv_booking_of_payment(s, c->by_payment)
                                           : inv_booking_find(s, c->hold.booking_id);
    if (!b)
        return;
    c->found = 1;
    /* Strings of the state live in its arena: copy what the answer uses. */
    api_hold_copy(c->arena, &b->hold, &c->hold);
    c->status = inv_booking_status_name(b, c->now);
    c->payment_id = ts_arena_strdup(c->arena, b->payment_id);
    c->refund = b->refund;
    c->tickets = json_array();
    int32_t bi = (int32_t)(b - s->bookings);
    for (uint32_t i = 0; i < s->n_tickets; i++) {
        const inv_ticket_t *t = &s->tickets[i];
        if (t->booking != bi)
            continue;
        json_array_append_new(c->tickets,
                              json_pack("{s:s, s:o, s:s, s:s, s:i}", "ticket_id", t->t.ticket_id,
                                        "seat", t->t.seat ? json_string(t->t.seat) : json_null(),
                                        "tier", b->hold.tier_key, "status",
                                        inv_ticket_status_name(t), "version", (int)t->t.version));
    }
}

/* Reads the booking (by id, or by payment id when by_payment) from its
 * shard; replies and returns -1 when it cannot. */
static int shard_booking(api_req_t *r, const char *subject, const char *booking_id,
                         const char *by_payment, shard_booking_t *c)
{
    memset(c, 0, sizeof(*c));
    c->arena = &r->arena;
    c->now = api__now_ms();
    c->hold.booking_id = booking_id;
    c->by_payment = by_payment;
    ts_status st = eng_read(r->srv->cfg.engine, subject, copy_booking, c);
    if (st != TS_OK) {
        json_decref(c->tickets);
        api_reply_status(r, st);
        return -1;
    }
    if (!c->found) {
        api_problem(r, 404, "not_found", by_payment ? "no such payment" : "no such booking", NULL);
        return -1;
    }
    return 0;
}

/* The booking of API.md, with its tickets, refund and payment. Consumes
 * c->tickets. */
static json_t *booking_json(shard_booking_t *c, uint64_t commit_seq)
{
    json_t *j = api_booking_json(&c->hold, c->status, commit_seq);
    json_object_set_new(j, "tickets", c->tickets);
    c->tickets = NULL;
    json_object_set_new(j, "refund",
                        json_pack("{s:I, s:s}", "amount", (json_int_t)c->refund, "currency",
                                  c->hold.unit_price.currency));
    json_object_set_new(j, "payment_id", c->payment_id ? json_string(c->payment_id) : json_null());
    return j;
}

/* Asks the provider for a refund; a failure is logged, and saga_cancel asks
 * again at the next start (the booking stays refund_due until then). */
static void request_refund(api_req_t *r, const char *payment_id, int64_t amount,
                           const char *currency)
{
    if (!payment_id || amount <= 0)
        return;
    ts_status st = pay_refund(r->srv->cfg.provider, payment_id, amount, currency);
    if (st != TS_OK)
        fprintf(stderr, "api: refund of %s not requested: %s\n", payment_id, ts_status_str(st));
}

/* An optional JSON body: none is fine, anything else must be an object.
 * Returns 0 and *out (NULL without a body), or -1 after replying 400. */
static int optional_body(api_req_t *r, json_t **out)
{
    *out = NULL;
    if (r->body.len == 0)
        return 0;
    *out = api_body_json(r);
    return *out ? 0 : -1;
}

/* ---- POST /bookings/{id}/payments ---- */

void api_h_payment_create(api_req_t *r)
{
    /* RULE-AUTH-2: a blocked user cannot buy, not even a hold made before
     * the block (a waitlist offer, RULE-WL-1). */
    if (api_require_active_user(r) != 0)
        return;
    const char *booking_id = r->params[0], *event, *section;
    if (api_shard_of_id(r, booking_id, "bk-", &event, &section) != 0)
        return api_problem(r, 404, "not_found", "no such booking", NULL);
    json_t *j = NULL;
    if (optional_body(r, &j) != 0)
        return;
    json_decref(j);
    pay_provider_t *p = r->srv->cfg.provider;
    if (!p)
        return api_problem(r, 503, "unavailable", "no payment provider is configured", NULL);
    eng_cmd_t cmd = {.type = ENG_INV_PAYMENT_REQUEST};
    cmd.subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event, section);
    cmd.new_id =
        ts_arena_printf(&r->arena, "pay-%s-%s-%s", event, section, eng_new_id(&r->arena, ""));
    cmd.u.pay.booking_id = booking_id;
    cmd.u.pay.provider = pay_provider_name(p);
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    const evt_payment_t *pr = NULL;
    for (uint32_t i = 0; i < o.n_events; i++)
        if (o.events[i].type == EVT_PAYMENT_REQUESTED)
            pr = &o.events[i].u.payment;
    if (!pr)
        return api_problem(r, 409, "conflict", "no payment was requested", NULL);
    const char *client_secret = NULL;
    ts_status st =
        pay_intent_create(p, pr->payment_id, pr->amount, pr->currency, &r->arena, &client_secret);
    if (st != TS_OK)
        return api_reply_status(r, TS_ERR_UNAVAILABLE);
    /* RULE-PAY-1: the intent is for exactly the booking total. */
    api_reply_json(r, 201,
                   json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I}", "payment_id", pr->payment_id,
                             "booking_id", booking_id, "amount", (json_int_t)pr->amount, "currency",
                             pr->currency, "provider", pay_provider_name(p), "client_secret",
                             client_secret, "commit_seq", (json_int_t)o.commit_seq));
}

/* ---- POST /payments/{id}/simulate ---- */

void api_h_payment_simulate(api_req_t *r)
{
    if (api_authenticate(r) != 0)
        return;
    json_t *j = api_body_json(r);
    if (!j)
        return;
    json_t *v = json_object_get(j, "outcome");
    const char *outcome = json_is_string(v) ? json_string_value(v) : NULL;
    int known = outcome && (strcmp(outcome, "succeeded") == 0 || strcmp(outcome, "failed") == 0);
    outcome = known ? ts_arena_strdup(&r->arena, outcome) : NULL;
    json_decref(j);
    if (!v)
        return api_problem_validation(r, "outcome", "is required: \"succeeded\" or \"failed\"");
    if (!known)
        return api_problem_validation(r, "outcome", "must be \"succeeded\" or \"failed\"");
    const char *payment_id = r->params[0], *event, *section;
    if (api_shard_of_id(r, payment_id, "pay-", &event, &section) != 0)
        return api_problem(r, 404, "not_found", "no such payment", NULL);
    shard_booking_t c;
    const char *subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event, section);
    if (shard_booking(r, subject, NULL, payment_id, &c) != 0)
        return;
    json_decref(c.tickets);
    if (!api_owner_or_admin(r, c.hold.user_id))
        return api_problem(r, 403, "forbidden", "not your payment", NULL);
    const char *event_id = NULL;
    /* The provider reports what it was asked to capture: the booking total. */
    ts_status st = pay_simulate(r->srv->cfg.provider, payment_id, outcome, c.hold.total,
                                c.hold.unit_price.currency, &r->arena, &event_id);
    if (st == TS_ERR_INVALID)
        return api_problem(r, 409, "conflict", "the payment provider does not simulate", NULL);
    if (st != TS_OK)
        return api_reply_status(r, st == TS_ERR_SHUTDOWN ? st : TS_ERR_UNAVAILABLE);
    api_reply_json(r, 202,
                   json_pack("{s:s, s:s, s:s, s:s}", "payment_id", payment_id, "outcome", outcome,
                             "provider_event_id", event_id, "booking_id", c.hold.booking_id));
}

/* ---- POST /webhooks/payments ---- */

typedef struct {
    const char *id, *type, *payment_id, *currency;
    int64_t amount;
} webhook_t;

/* The provider's event; -1 after replying 400. */
static int parse_webhook(api_req_t *r, webhook_t *w)
{
    json_t *j = api_body_json(r);
    if (!j)
        return -1;
    json_t *id = json_object_get(j, "id"), *type = json_object_get(j, "type");
    json_t *data = json_object_get(j, "data");
    json_t *pid = json_object_get(data, "payment_id"), *amount = json_object_get(data, "amount");
    json_t *cur = json_object_get(data, "currency");
    const char *field = NULL, *msg = NULL;
    if (!json_is_string(id) || json_string_length(id) < 1 || json_string_length(id) > 128 ||
        !ts_id_valid(json_string_value(id)))
        field = "id", msg = "a provider event id: [A-Za-z0-9_-]{1,64}";
    else if (!json_is_string(type))
        field = "type", msg = "must be a string";
    else if (!json_is_object(data))
        field = "data", msg = "must be an object";
    else if (!json_is_string(pid))
        field = "data.payment_id", msg = "must be a string";
    else if (!json_is_integer(amount) || json_integer_value(amount) < 0)
        field = "data.amount", msg = "a non-negative integer (minor units)";
    else if (!json_is_string(cur) || json_string_length(cur) != 3)
        field = "data.currency", msg = "an ISO-4217 code";
    if (field) {
        json_decref(j);
        api_problem_validation(r, field, msg);
        return -1;
    }
    w->id = ts_arena_strdup(&r->arena, json_string_value(id));
    w->type = ts_arena_strdup(&r->arena, json_string_value(type));
    w->payment_id = ts_arena_strdup(&r->arena, json_string_value(pid));
    w->currency = ts_arena_strdup(&r->arena, json_string_value(cur));
    w->amount = json_integer_value(amount);
    json_decref(j);
    return 0;
}

void api_h_webhook(api_req_t *r)
{
    const api_config_t *cfg = &r->srv->cfg;
    const char *header = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Payment-Signature");
    /* RULE-PAY-1: signature first, over the raw body as received. */
    pay_sig_result_t sig =
        pay_signature_verify(cfg->webhook_secret, cfg->webhook_secret_len, header, r->body.data,
                             r->body.len, (int64_t)time(NULL), PAY_SIG_TOLERANCE_S);
    if (sig == PAY_SIG_MALFORMED)
        return api_problem_validation(r, "Payment-Signature",
                                      "missing or malformed: t=<unix seconds>,v1=<hex>");
    if (sig == PAY_SIG_MISMATCH)
        return api_problem_validation(r, "Payment-Signature", "the signature does not match");
    if (sig == PAY_SIG_STALE)
        return api_problem_validation(r, "Payment-Signature",
                                      "the timestamp is more than 300 s from now");
    webhook_t w;
    if (parse_webhook(r, &w) != 0)
        return;
    if (strcmp(w.type, PAY_EVT_SUCCEEDED) != 0 && strcmp(w.type, PAY_EVT_FAILED) != 0 &&
        strcmp(w.type, PAY_EVT_REFUNDED) != 0)
        /* Providers add event types; one we do not use is received, not an
         * error to be retried. */
        return api_reply_json(r, 200, json_pack("{s:b, s:b}", "received", 1, "ignored", 1));
    const char *event, *section;
    if (api_shard_of_id(r, w.payment_id, "pay-", &event, &section) != 0)
        return api_problem(r, 404, "not_found", "no such payment", NULL);
    const char *subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event, section);
    /* RULE-TKT-1: a confirm issues one ticket per item; their ids are made
     * here (the domain takes fresh ids, never invents them). */
    shard_booking_t c;
    if (shard_booking(r, subject, NULL, w.payment_id, &c) != 0)
        return;
    json_decref(c.tickets);
    eng_cmd_t cmd = {.type = ENG_INV_WEBHOOK, .subject = subject};
    /* The provider is the actor of what its webhook records. */
    r->user_id = "provider";
    cmd.command_id = ts_arena_printf(&r->arena, "webhook-%s", w.id);
    inv_webhook_cmd_t *wc = &cmd.u.webhook;
    wc->payment_id = w.payment_id;
    wc->provider_event_id = w.id;
    wc->type = w.type;
    wc->amount = w.amount;
    wc->currency = w.currency;
    wc->n_ticket_ids = c.hold.quantity;
    wc->ticket_ids = ts_arena_alloc(&r->arena, (wc->n_ticket_ids + 1) * sizeof(char *));
    for (uint32_t i = 0; i < wc->n_ticket_ids; i++)
        wc->ticket_ids[i] =
            ts_arena_printf(&r->arena, "tk-%s-%s-%s", event, section, eng_new_id(&r->arena, ""));
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    /* RULE-PAY-2: paid too late, the seats gone: the money goes back. */
    for (uint32_t i = 0; i < o.n_events; i++)
        if (o.events[i].type == EVT_BOOKING_REFUND_DUE)
            request_refund(r, o.events[i].u.payment.payment_id, o.events[i].u.payment.amount,
                           o.events[i].u.payment.currency);
    /* A duplicate provider event id (RULE-PAY-1) has no events: received,
     * nothing new committed. */
    api_reply_json(r, 200,
                   json_pack("{s:b, s:b, s:s, s:I}", "received", 1, "duplicate", o.n_events == 0,
                             "booking_id", c.hold.booking_id, "commit_seq",
                             (json_int_t)o.commit_seq));
}

/* ---- DELETE /bookings/{id} ---- */

void api_h_booking_delete(api_req_t *r)
{
    if (api_authenticate(r) != 0)
        return;
    const char *booking_id = r->params[0], *event, *section;
    if (api_shard_of_id(r, booking_id, "bk-", &event, &section) != 0)
        return api_problem(r, 404, "not_found", "no such booking", NULL);
    eng_cmd_t cmd = {.type = ENG_INV_CANCEL_BOOKING};
    cmd.subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event, section);
    cmd.u.booking_id = booking_id;
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    /* RULE-HOLD-4, RULE-PROMO-1: the booking's quota and promo use come back
     * at once (saga_bookings would do it too, a moment later). */
    if (eng_booking_settle(r->srv->cfg.engine, cmd.subject, booking_id) != TS_OK)
        fprintf(stderr, "api: settling %s is left to saga_bookings\n", booking_id);
    shard_booking_t c;
    if (shard_booking(r, cmd.subject, booking_id, NULL, &c) != 0)
        return;
    /* RULE-REF-1: a confirmed booking is cancelled with the refund of the
     * policy recorded at purchase; the provider is asked for it now. */
    for (uint32_t i = 0; i < o.n_events; i++)
        if (o.events[i].type == EVT_BOOKING_CANCELLED)
            request_refund(r, c.payment_id, o.events[i].u.booking_cancelled.refund,
                           c.hold.unit_price.currency);
    api_reply_json(r, 200, booking_json(&c, o.commit_seq));
}

/* ---- POST /events/{id}/cancel ---- */

void api_h_event_cancel(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_ORGANIZER) != 0)
        return;
    const char *id = r->params[0];
    if (!ts_id_valid(id))
        return api_problem(r, 404, "not_found", "no such event", NULL);
    json_t *j = NULL;
    if (optional_body(r, &j) != 0)
        return;
    json_t *reason = json_object_get(j, "reason");
    if (reason && !json_is_string(reason) && !json_is_null(reason)) {
        json_decref(j);
        return api_problem_validation(r, "reason", "must be a string");
    }
    eng_cmd_t cmd = {.type = ENG_EVENT_CANCEL};
    cmd.subject = ts_arena_printf(&r->arena, "tix.event.%s", id);
    cmd.u.cancel.reason =
        json_is_string(reason) ? ts_arena_strdup(&r->arena, json_string_value(reason)) : NULL;
    json_decref(j);
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    /* Before answering, every shard records InventoryCancelled (and the
     * first batch of its bookings): from the answer on, no hold succeeds.
     * saga_cancel does the rest, and the refunds, also after a crash. */
    saga_cancel_opts_t opts = {.batch = r->srv->cfg.cancel_batch, .rounds = 1};
    ts_status st = saga_cancel_event(r->srv->cfg.engine, NULL, id, &opts);
    if (st != TS_OK)
        fprintf(stderr, "api: cancel of %s: first pass on the shards: %s (saga_cancel goes on)\n",
                id, ts_status_str(st));
    api_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:I}", "event_id", id, "status", "cancelled", "commit_seq",
                             (json_int_t)o.commit_seq));
}
