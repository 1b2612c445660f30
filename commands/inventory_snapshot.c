/*
 * Snapshots of an inventory shard.
 *
 * The snapshot is the list of the shard's facts (inv_state_t.facts), each
 * rendered back into an event from what the state kept, in the order they
 * were applied. Replaying it with apply() gives the same state: the same
 * bookings, seat owners, ticket indexes, version and revoked versions. The
 * events that apply ignored are left out; what the state does not keep
 * (e.g. the time of a cancellation, a failure's reason) is not in the
 * rendered events either, and nothing reads it back.
 *
 * A state of format 1 (v1: holds only) replays the same way, so the engine
 * rebuilds older snapshots from the stream when the format changes.
 */
#include "commands/commands_int.h"

#include <stdlib.h>
#include <string.h>

/* Renders one fact as the event that applies it. Strings and arrays point
 * into the state, or into scratch for a confirm's tickets. */
static void render(const inv_state_t *s, const inv_fact_t *f, ts_arena_t *scratch, evt_event_t *e)
{
    memset(e, 0, sizeof(*e));
    e->type = (evt_type_t)f->type;
    const inv_booking_t *b = NULL;
    const char *provider_event = NULL;
    const inv_payment_t *pay = NULL;
    switch (e->type) {
    case EVT_PAYMENT_REQUESTED:
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_CONFIRMED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_REFUND_COMPLETED:
        /* b: the provider event, c: the payment (UINT32_MAX: none) */
        if (f->b != UINT32_MAX)
            provider_event = s->bookings[f->a].provider_events[f->b];
        if (f->c != UINT32_MAX)
            pay = &s->payments[f->c];
        /* fall through */
    case EVT_HOLD_PLACED:
    case EVT_HOLD_RELEASED:
    case EVT_HOLD_EXPIRED:
    case EVT_BOOKING_CANCELLED:
        b = &s->bookings[f->a];
        break;
    default:
        break;
    }
    switch (e->type) {
    case EVT_INVENTORY_OPENED: {
        evt_inventory_opened_t *o = &e->u.inventory_opened;
        *o = s->info;
        o->starts_at = s->schedules[0].starts_at;
        o->ends_at = s->schedules[0].ends_at;
        o->sale_ends_at = s->schedules[0].sale_ends_at;
        break;
    }
    case EVT_HOLD_PLACED:
        e->u.hold_placed = b->hold;
        break;
    case EVT_HOLD_RELEASED:
        /* The last reason is the one the state keeps: a later fact that
         * sets another (a cancellation) is replayed after this one. */
        e->u.hold_ended.reason = b->end_reason;
        /* fall through */
    case EVT_HOLD_EXPIRED:
        e->u.hold_ended.booking_id = b->hold.booking_id;
        break;
    case EVT_PAYMENT_REQUESTED:
        e->u.payment.booking_id = b->hold.booking_id;
        e->u.payment.payment_id = pay->payment_id;
        e->u.payment.provider = pay->provider;
        e->u.payment.amount = pay->amount;
        memcpy(e->u.payment.currency, b->hold.unit_price.currency, 4);
        e->u.payment.at = pay->at;
        break;
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_REFUND_COMPLETED:
        e->u.payment.booking_id = b->hold.booking_id;
        /* The codec wants a payment id; a fact without a known payment
         * names the booking's last one (apply does not read it back). */
        e->u.payment.payment_id = pay ? pay->payment_id : b->payment_id;
        if (!e->u.payment.payment_id)
            e->u.payment.payment_id = "";
        e->u.payment.provider_event_id = provider_event;
        e->u.payment.amount = e->type == EVT_PAYMENT_FAILED ? 0 : b->refund;
        memcpy(e->u.payment.currency, b->hold.unit_price.currency, 4);
        if (e->type == EVT_BOOKING_REFUND_DUE)
            e->u.payment.reason = b->end_reason;
        break;
    case EVT_BOOKING_CONFIRMED: {
        evt_booking_confirmed_t *c = &e->u.booking_confirmed;
        c->booking_id = b->hold.booking_id;
        c->payment_id = pay ? pay->payment_id : b->payment_id;
        c->provider_event_id = provider_event;
        c->at = b->confirmed_at;
        c->reacquired = b->reacquired;
        c->n_tickets = b->n_tickets;
        c->tickets =
            b->n_tickets ? ts_arena_alloc(scratch, b->n_tickets * sizeof(evt_ticket_t)) : NULL;
        for (uint32_t i = 0; i < b->n_tickets; i++)
            c->tickets[i] = s->tickets[b->first_ticket + i].t;
        break;
    }
    case EVT_BOOKING_CANCELLED:
        e->u.booking_cancelled.booking_id = b->hold.booking_id;
        e->u.booking_cancelled.refund = b->refund;
        e->u.booking_cancelled.reason = b->end_reason;
        break;
    case EVT_TICKET_CHECKED_IN: {
        const inv_ticket_t *t = &s->tickets[f->a];
        e->u.ticket_checked_in.ticket_id = t->t.ticket_id;
        e->u.ticket_checked_in.at = t->checked_in_at;
        e->u.ticket_checked_in.gate = t->gate;
        e->u.ticket_checked_in.nonce = t->nonce;
        break;
    }
    case EVT_TICKET_TRANSFERRED: {
        const inv_ticket_t *nt = &s->tickets[f->b];
        e->u.ticket_transferred.ticket_id = s->tickets[f->a].t.ticket_id;
        e->u.ticket_transferred.new_ticket_id = nt->t.ticket_id;
        e->u.ticket_transferred.to_user_id = nt->t.holder_id;
        e->u.ticket_transferred.version = nt->t.version;
        break;
    }
    case EVT_INVENTORY_CANCELLED:
        e->u.inventory_change.event_id = s->info.event_id;
        e->u.inventory_change.reason = s->cancel_reason;
        break;
    case EVT_INVENTORY_RESCHEDULED:
        e->u.inventory_change.event_id = s->info.event_id;
        e->u.inventory_change.starts_at = s->schedules[f->a].starts_at;
        e->u.inventory_change.ends_at = s->schedules[f->a].ends_at;
        break;
    default:
        break;
    }
}

static ts_status inv_encode(const void *p, ts_buf_t *out)
{
    const inv_state_t *s = p;
    if (!s->opened)
        return TS_OK;
    evt_event_t *ev = calloc(s->n_facts, sizeof(*ev));
    if (!ev)
        abort();
    ts_arena_t scratch;
    ts_arena_init(&scratch, 0);
    for (uint32_t i = 0; i < s->n_facts; i++)
        render(s, &s->facts[i], &scratch, &ev[i]);
    ts_status st = cmd__snapshot_encode(ev, s->n_facts, out);
    ts_arena_deinit(&scratch);
    free(ev);
    return st;
}

static void *inv_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__inv_ops, data, len);
}

const cmd_aggregate_ops_t cmd__inv_ops = {
    .kind = CMD_AGG_INV,
    .name = "inv",
    .format_version = 2, /* v2: payments, tickets, refunds; facts in order */
    .state_new = cmd__inv_state_new,
    .state_free = cmd__inv_state_free,
    .apply = cmd__inv_apply,
    .encode = inv_encode,
    .decode = inv_decode,
};
