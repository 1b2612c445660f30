/*
 * event_json.c — events and commits as JSON (the JSON half of codec.h).
 *
 * The shape is the audit shape of API.md. Field names are the C field names
 * of events.h; times are RFC 3339 strings (null when 0); money is
 * {"amount", "currency"}, and so are the int64 amounts of a hold, in the
 * currency of its unit price; prev_hash is lowercase hex; roles are an array
 * of role names; absent strings are null. A password hash is never written:
 * this JSON goes to auditors and to Loki.
 */
#include "events/codec.h"

#include <string.h>

/* jansson's json_object_set_new returns -1 only on allocation failure or a
 * non-UTF-8 key; our keys are literals and allocation failure is fatal
 * (base.h), so the return values below are ignored on purpose. */
static void set(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
}

static json_t *str_json(const char *s)
{
    /* Strings come from the log and should be UTF-8; if one is not, null
     * says "unreadable" instead of dropping the whole event. */
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *time_json(int64_t ms)
{
    char buf[32];
    if (ms == 0)
        return json_null();
    ts_time_format(ms, buf);
    return json_string(buf);
}

static json_t *amount_json(int64_t amount, const char *currency)
{
    return json_pack("{s:I, s:o}", "amount", (json_int_t)amount, "currency", str_json(currency));
}

static json_t *money_json(const ts_money_t *m)
{
    return amount_json(m->amount, m->currency);
}

static json_t *strings_json(uint32_t n, const char *const *v)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(a, str_json(v[i]));
    return a;
}

static json_t *section_json(const evt_section_t *s)
{
    json_t *o = json_object();
    json_t *rows = json_array();
    set(o, "key", str_json(s->key));
    set(o, "name", str_json(s->name));
    set(o, "kind", json_string(s->kind == EVT_STANDING ? "standing" : "seated"));
    set(o, "capacity", json_integer(s->capacity));
    for (uint32_t i = 0; i < s->n_rows; i++) {
        const evt_row_t *r = &s->rows[i];
        json_t *row = json_object();
        json_t *acc = json_array();
        for (uint32_t j = 0; j < r->n_accessible; j++)
            json_array_append_new(acc, json_integer(r->accessible[j]));
        set(row, "label", str_json(r->label));
        set(row, "seats", json_integer(r->seats));
        set(row, "accessible", acc);
        json_array_append_new(rows, row);
    }
    set(o, "rows", rows);
    return o;
}

static json_t *sections_json(uint32_t n, const evt_section_t *v)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(a, section_json(&v[i]));
    return a;
}

static json_t *refund_json(uint32_t n, const evt_refund_step_t *v)
{
    json_t *steps = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(steps, json_pack("{s:I, s:I}", "min_hours_before",
                                               (json_int_t)v[i].min_hours_before, "percent",
                                               (json_int_t)v[i].percent));
    return steps;
}

static json_t *policy_json(const evt_policy_t *p)
{
    json_t *o = json_object();
    set(o, "max_per_order", json_integer(p->max_per_order));
    set(o, "max_per_user", json_integer(p->max_per_user));
    set(o, "hold_minutes", json_integer(p->hold_minutes));
    set(o, "transfer_cutoff_hours", json_integer(p->transfer_cutoff_hours));
    set(o, "service_fee_bps", json_integer(p->service_fee_bps));
    set(o, "vat_bps", json_integer(p->vat_bps));
    set(o, "refund", refund_json(p->n_refund, p->refund));
    return o;
}

static json_t *event_created_json(const evt_event_created_t *x)
{
    json_t *o = json_object();
    json_t *tiers = json_array();
    set(o, "event_id", str_json(x->event_id));
    set(o, "venue_id", str_json(x->venue_id));
    set(o, "organizer_id", str_json(x->organizer_id));
    set(o, "title", str_json(x->title));
    set(o, "description", str_json(x->description));
    set(o, "genre", str_json(x->genre));
    set(o, "city", str_json(x->city));
    set(o, "starts_at", time_json(x->starts_at));
    set(o, "ends_at", time_json(x->ends_at));
    for (uint32_t i = 0; i < x->n_tiers; i++) {
        const evt_tier_t *t = &x->tiers[i];
        json_t *tier = json_object();
        set(tier, "key", str_json(t->key));
        set(tier, "name", str_json(t->name));
        set(tier, "price", money_json(&t->price));
        set(tier, "sections", strings_json(t->n_sections, t->sections));
        set(tier, "sale_starts_at", time_json(t->sale_starts_at));
        set(tier, "sale_ends_at", time_json(t->sale_ends_at));
        json_array_append_new(tiers, tier);
    }
    set(o, "tiers", tiers);
    set(o, "policy", policy_json(&x->policy));
    return o;
}

static json_t *inventory_opened_json(const evt_inventory_opened_t *x)
{
    json_t *o = json_object();
    set(o, "event_id", str_json(x->event_id));
    set(o, "section", section_json(&x->section));
    set(o, "tier_key", str_json(x->tier_key));
    set(o, "price", money_json(&x->price));
    set(o, "sale_starts_at", time_json(x->sale_starts_at));
    set(o, "sale_ends_at", time_json(x->sale_ends_at));
    set(o, "max_per_order", json_integer(x->max_per_order));
    set(o, "hold_minutes", json_integer(x->hold_minutes));
    set(o, "service_fee_bps", json_integer(x->service_fee_bps));
    set(o, "vat_bps", json_integer(x->vat_bps));
    set(o, "starts_at", time_json(x->starts_at));
    set(o, "ends_at", time_json(x->ends_at));
    set(o, "max_per_user", json_integer(x->max_per_user));
    set(o, "transfer_cutoff_hours", json_integer(x->transfer_cutoff_hours));
    set(o, "refund", refund_json(x->n_refund, x->refund));
    return o;
}

static json_t *hold_placed_json(const evt_hold_placed_t *x)
{
    const char *cur = x->unit_price.currency;
    json_t *o = json_object();
    set(o, "booking_id", str_json(x->booking_id));
    set(o, "event_id", str_json(x->event_id));
    set(o, "section", str_json(x->section));
    set(o, "user_id", str_json(x->user_id));
    set(o, "command_id", str_json(x->command_id));
    set(o, "tier_key", str_json(x->tier_key));
    set(o, "created_at", time_json(x->created_at));
    set(o, "expires_at", time_json(x->expires_at));
    set(o, "seats", strings_json(x->n_seats, x->seats));
    set(o, "quantity", json_integer(x->quantity));
    set(o, "unit_price", money_json(&x->unit_price));
    set(o, "subtotal", amount_json(x->subtotal, cur));
    set(o, "discount", amount_json(x->discount, cur));
    set(o, "service_fee", amount_json(x->service_fee, cur));
    set(o, "total", amount_json(x->total, cur));
    set(o, "vat_included", amount_json(x->vat_included, cur));
    set(o, "promo_code", str_json(x->promo_code));
    set(o, "offer_entry", str_json(x->offer_entry));
    return o;
}

static json_t *payment_json(const evt_payment_t *x)
{
    json_t *o = json_object();
    set(o, "booking_id", str_json(x->booking_id));
    set(o, "payment_id", str_json(x->payment_id));
    set(o, "provider", str_json(x->provider));
    set(o, "provider_event_id", str_json(x->provider_event_id));
    set(o, "amount", amount_json(x->amount, x->currency));
    set(o, "at", time_json(x->at));
    set(o, "reason", str_json(x->reason));
    return o;
}

static json_t *booking_confirmed_json(const evt_booking_confirmed_t *x)
{
    json_t *o = json_object();
    json_t *tickets = json_array();
    set(o, "booking_id", str_json(x->booking_id));
    set(o, "payment_id", str_json(x->payment_id));
    set(o, "provider_event_id", str_json(x->provider_event_id));
    set(o, "at", time_json(x->at));
    set(o, "reacquired", json_boolean(x->reacquired));
    for (uint32_t i = 0; i < x->n_tickets; i++) {
        const evt_ticket_t *t = &x->tickets[i];
        json_array_append_new(tickets,
                              json_pack("{s:o, s:o, s:o, s:I}", "ticket_id", str_json(t->ticket_id),
                                        "seat", str_json(t->seat), "holder_id",
                                        str_json(t->holder_id), "version", (json_int_t)t->version));
    }
    set(o, "tickets", tickets);
    return o;
}

static json_t *waitlist_json(const evt_waitlist_entry_t *x)
{
    json_t *o = json_object();
    set(o, "event_id", str_json(x->event_id));
    set(o, "tier", str_json(x->tier));
    set(o, "entry_id", str_json(x->entry_id));
    set(o, "user_id", str_json(x->user_id));
    set(o, "quantity", json_integer(x->quantity));
    set(o, "at", time_json(x->at));
    set(o, "booking_id", str_json(x->booking_id));
    set(o, "expires_at", time_json(x->expires_at));
    set(o, "reason", str_json(x->reason));
    return o;
}

static json_t *roles_json(uint32_t bits)
{
    json_t *roles = json_array();
    for (uint32_t bit = 1; bit != 0; bit <<= 1) {
        const char *name = (bits & bit) ? evt_role_name(bit) : NULL;
        if (name)
            json_array_append_new(roles, json_string(name));
    }
    return roles;
}

static json_t *user_registered_json(const evt_user_registered_t *x)
{
    json_t *o = json_object();
    set(o, "user_id", str_json(x->user_id));
    set(o, "email", str_json(x->email));
    set(o, "name", str_json(x->name));
    /* password_hash is left out on purpose: never in JSON, never in Loki. */
    set(o, "roles", roles_json(x->roles));
    return o;
}

static json_t *data_json(const evt_event_t *e)
{
    switch (e->type) {
    case EVT_VENUE_CREATED: {
        const evt_venue_created_t *x = &e->u.venue_created;
        return json_pack("{s:o, s:o, s:o, s:o, s:o}", "venue_id", str_json(x->venue_id), "name",
                         str_json(x->name), "city", str_json(x->city), "country",
                         str_json(x->country), "sections",
                         sections_json(x->n_sections, x->sections));
    }
    case EVT_EVENT_CREATED:
        return event_created_json(&e->u.event_created);
    case EVT_EVENT_PUBLISHED:
        return json_pack(
            "{s:o, s:o, s:o}", "event_id", str_json(e->u.event_published.event_id), "sections",
            sections_json(e->u.event_published.n_sections, e->u.event_published.sections),
            "ticket_key", str_json(e->u.event_published.ticket_key));
    case EVT_INVENTORY_OPENED:
        return inventory_opened_json(&e->u.inventory_opened);
    case EVT_HOLD_PLACED:
        return hold_placed_json(&e->u.hold_placed);
    case EVT_HOLD_RELEASED:
        return json_pack("{s:o, s:o}", "booking_id", str_json(e->u.hold_ended.booking_id), "reason",
                         str_json(e->u.hold_ended.reason));
    case EVT_HOLD_EXPIRED:
        return json_pack("{s:o}", "booking_id", str_json(e->u.hold_ended.booking_id));
    case EVT_USER_REGISTERED:
        return user_registered_json(&e->u.user_registered);
    case EVT_CLAIMED:
        return json_pack("{s:o, s:o}", "kind", str_json(e->u.claimed.kind), "owner",
                         str_json(e->u.claimed.owner));
    case EVT_EVENT_UPDATED:
        return event_created_json(&e->u.event_created);
    case EVT_EVENT_CANCELLED:
        return json_pack("{s:o, s:o}", "event_id", str_json(e->u.event_cancelled.event_id),
                         "reason", str_json(e->u.event_cancelled.reason));
    case EVT_PROMO_CREATED: {
        const evt_promo_t *x = &e->u.promo;
        return json_pack("{s:o, s:o, s:I, s:I, s:I, s:o, s:o}", "event_id", str_json(x->event_id),
                         "code", str_json(x->code), "percent_off", (json_int_t)x->percent_off,
                         "amount_off", (json_int_t)x->amount_off, "max_uses",
                         (json_int_t)x->max_uses, "valid_from", time_json(x->valid_from),
                         "valid_until", time_json(x->valid_until));
    }
    case EVT_PROMO_USED:
    case EVT_PROMO_RELEASED:
        return json_pack("{s:o, s:o, s:o}", "event_id", str_json(e->u.promo_use.event_id), "code",
                         str_json(e->u.promo_use.code), "booking_id",
                         str_json(e->u.promo_use.booking_id));
    case EVT_PAYMENT_REQUESTED:
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_REFUND_COMPLETED:
        return payment_json(&e->u.payment);
    case EVT_BOOKING_CONFIRMED:
        return booking_confirmed_json(&e->u.booking_confirmed);
    case EVT_BOOKING_CANCELLED: {
        const evt_booking_cancelled_t *x = &e->u.booking_cancelled;
        return json_pack("{s:o, s:I, s:o, s:o}", "booking_id", str_json(x->booking_id), "refund",
                         (json_int_t)x->refund, "reason", str_json(x->reason), "at",
                         time_json(x->at));
    }
    case EVT_TICKET_CHECKED_IN: {
        const evt_ticket_checked_in_t *x = &e->u.ticket_checked_in;
        return json_pack("{s:o, s:o, s:o, s:o}", "ticket_id", str_json(x->ticket_id), "at",
                         time_json(x->at), "gate", str_json(x->gate), "nonce", str_json(x->nonce));
    }
    case EVT_TICKET_TRANSFERRED: {
        const evt_ticket_transferred_t *x = &e->u.ticket_transferred;
        return json_pack("{s:o, s:o, s:o, s:I, s:o}", "ticket_id", str_json(x->ticket_id),
                         "new_ticket_id", str_json(x->new_ticket_id), "to_user_id",
                         str_json(x->to_user_id), "version", (json_int_t)x->version, "at",
                         time_json(x->at));
    }
    case EVT_INVENTORY_CANCELLED:
    case EVT_INVENTORY_RESCHEDULED: {
        const evt_inventory_change_t *x = &e->u.inventory_change;
        return json_pack("{s:o, s:o, s:o, s:o}", "event_id", str_json(x->event_id), "reason",
                         str_json(x->reason), "starts_at", time_json(x->starts_at), "ends_at",
                         time_json(x->ends_at));
    }
    case EVT_LOGIN_FAILED:
    case EVT_USER_BLOCKED:
    case EVT_USER_UNBLOCKED:
        return json_pack("{s:o, s:o, s:o}", "user_id", str_json(e->u.user_note.user_id), "at",
                         time_json(e->u.user_note.at), "reason", str_json(e->u.user_note.reason));
    case EVT_ROLES_CHANGED:
        return json_pack("{s:o, s:o, s:o}", "user_id", str_json(e->u.user_note.user_id), "at",
                         time_json(e->u.user_note.at), "roles", roles_json(e->u.user_note.roles));
    case EVT_REFRESH_ISSUED:
    case EVT_REFRESH_ROTATED:
    case EVT_REFRESH_REVOKED: {
        /* The token hash is left out like the password hash: it is not
         * the token, but an auditor has no use for it. */
        const evt_refresh_token_t *x = &e->u.refresh_token;
        return json_pack("{s:o, s:o, s:o, s:o}", "user_id", str_json(x->user_id), "family_id",
                         str_json(x->family_id), "expires_at", time_json(x->expires_at), "reason",
                         str_json(x->reason));
    }
    case EVT_QUOTA_TAKEN:
    case EVT_QUOTA_CONFIRMED:
    case EVT_QUOTA_RETURNED: {
        const evt_quota_t *x = &e->u.quota;
        return json_pack("{s:o, s:o, s:I, s:o, s:o, s:o}", "event_id", str_json(x->event_id),
                         "booking_id", str_json(x->booking_id), "quantity", (json_int_t)x->quantity,
                         "expires_at", time_json(x->expires_at), "user_id", str_json(x->user_id),
                         "ticket_id", str_json(x->ticket_id));
    }
    case EVT_WAITLIST_JOINED:
    case EVT_WAITLIST_LEFT:
    case EVT_WAITLIST_OFFERED:
    case EVT_WAITLIST_OFFER_LAPSED:
    case EVT_WAITLIST_FULFILLED:
        return waitlist_json(&e->u.waitlist);
    case EVT_NONE:
        break;
    }
    return json_object();
}

json_t *evt_event_to_json(const evt_event_t *e)
{
    json_t *o = json_object();
    set(o, "type", json_string(evt_type_name(e->type)));
    /* Only the events of a group commit that came from another command
     * carry their own command id and actor (events.h). */
    if (e->command_id)
        set(o, "command_id", str_json(e->command_id));
    if (e->actor)
        set(o, "actor", str_json(e->actor));
    set(o, "data", data_json(e));
    return o;
}

json_t *evt_commit_to_json(const evt_commit_t *c)
{
    char hash[2 * sizeof c->prev_hash + 1];
    json_t *o = json_object();
    json_t *events = json_array();
    ts_hex(c->prev_hash, sizeof c->prev_hash, hash);
    set(o, "subject", str_json(c->subject));
    set(o, "version", json_integer((json_int_t)c->version));
    set(o, "time", time_json(c->time));
    set(o, "actor", str_json(c->actor));
    set(o, "command_id", str_json(c->command_id));
    set(o, "correlation_id", str_json(c->correlation_id));
    set(o, "prev_hash", json_string(hash));
    for (uint32_t i = 0; i < c->n_events; i++)
        json_array_append_new(events, evt_event_to_json(&c->events[i]));
    set(o, "events", events);
    return o;
}
