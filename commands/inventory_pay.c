/*
 * The inventory shard after the hold: payments (RULE-PAY-1, -2), refunds
 * (RULE-REF-1), the cancellation of a booking or of the whole event, and a
 * new schedule. See /work/domain-v2.md for the flows that drive these.
 *
 * Decisions made here and not spelled out in DESIGN.md:
 * - payment.succeeded after the hold ended re-acquires the seats only when
 *   the hold ended without its holder's choice: it expired (recorded or
 *   lazily, RULE-HOLD-3) or was released because a payment failed. A hold the
 *   holder (or an admin, or the event's cancellation) released is not taken
 *   again: the money goes back (BookingRefundDue with the full amount). So it
 *   does on a cancelled shard.
 * - payment.succeeded for a booking already confirmed, refund-due, cancelled
 *   or refunded is no events, whichever payment or provider event it names:
 *   the booking has been paid once. A second capture by another intent is
 *   the provider's to reconcile (there is no event for it).
 * - payment.failed ends the hold only for the booking's current intent and
 *   while the hold is live; for an older intent, or a hold already lapsed, it
 *   is recorded (PaymentFailed) and the hold runs its course.
 * - refund.succeeded must be for the amount due.
 */
#include "commands/commands_int.h"

#include <string.h>

#define INV_CANCEL_BATCH_MAX 200 /* bookings per commit of an event's cancellation */

const inv_booking_t *inv_booking_of_payment(const inv_state_t *s, const char *payment_id)
{
    int32_t i = payment_id ? ts_map_get(&s->by_payment, payment_id) : -1;
    return i < 0 ? NULL : &s->bookings[i];
}

static int is_holder(const inv_booking_t *b, const cmd_ctx_t *ctx)
{
    return ctx->actor && b->hold.user_id && strcmp(ctx->actor, b->hold.user_id) == 0;
}

int inv_payment_request_decide(const inv_state_t *s, const char *booking_id, const char *provider,
                               const cmd_ctx_t *ctx, cmd_result_t *out)
{
    const inv_booking_t *b = booking_id ? inv_booking_find(s, booking_id) : NULL;
    if (!b)
        return cmd_reject(out, ctx, "not_found", NULL, "no such booking");
    out->ref = b->hold.booking_id;
    if (!is_holder(b, ctx))
        return cmd_reject(out, ctx, "forbidden", NULL, "not your booking");
    if (b->status == INV_EXPIRED || inv__hold_lapsed(b, ctx->now))
        return cmd_reject(out, ctx, "hold_expired", NULL, "the hold expired");
    if (b->status != INV_HELD)
        return cmd_reject(out, ctx, "conflict", NULL, "the booking is %s",
                          inv_booking_status_name(b, ctx->now));
    /* Its hold is about to be released by the event's cancellation. */
    if (s->cancelled)
        return cmd_reject(out, ctx, "not_on_sale", NULL, "the event is cancelled");
    /* RULE-PAY-1: the intent is for exactly the booking total. */
    evt_event_t *e = cmd_emit(out, EVT_PAYMENT_REQUESTED);
    evt_payment_t *p = &e->u.payment;
    p->booking_id = b->hold.booking_id;
    p->payment_id = ctx->new_id;
    p->provider = provider ? provider : "simulated";
    p->amount = b->hold.total;
    memcpy(p->currency, b->hold.unit_price.currency, 4);
    p->at = ctx->now;
    out->ref = ctx->new_id;
    return 0;
}

/* RULE-PAY-2: every seat (or enough standing units) of b is free now. */
static int seats_free(const inv_state_t *s, const inv_booking_t *b, int64_t now)
{
    int32_t bi = (int32_t)(b - s->bookings);
    if (s->info.section.kind == EVT_STANDING) {
        uint64_t taken = inv__ga_taken_now(s, now);
        /* A held booking past its expiry is in ga_taken but not in taken:
         * its own units are free for it like any other. */
        return taken + b->hold.quantity <= s->info.section.capacity;
    }
    for (uint32_t i = 0; i < b->hold.n_seats; i++) {
        if (b->seat_index[i] == UINT32_MAX)
            return 0;
        int32_t owner = s->seat_owner[b->seat_index[i]];
        if (owner >= 0 && owner != bi && inv__booking_active(&s->bookings[owner], now))
            return 0;
    }
    return 1;
}

/* The hold ended without its holder's choice (see the top of the file). */
static int may_reacquire(const inv_state_t *s, const inv_booking_t *b, int64_t now)
{
    if (s->cancelled)
        return 0;
    if (b->status == INV_EXPIRED || inv__hold_lapsed(b, now))
        return 1;
    return b->status == INV_RELEASED && b->end_reason &&
           strcmp(b->end_reason, "payment_failed") == 0;
}

static int succeeded(const inv_state_t *s, const inv_booking_t *b, const inv_webhook_cmd_t *c,
                     const cmd_ctx_t *ctx, cmd_result_t *out)
{
    /* RULE-PAY-1: the capture is for exactly the booking total. */
    if (c->amount != b->hold.total)
        return cmd_reject(out, ctx, "validation_failed", "amount",
                          "amount %lld is not the booking total %lld", (long long)c->amount,
                          (long long)b->hold.total);
    if (!c->currency || strcmp(c->currency, b->hold.unit_price.currency) != 0)
        return cmd_reject(out, ctx, "validation_failed", "currency", "currency is not %s",
                          b->hold.unit_price.currency);
    int live = b->status == INV_HELD && ctx->now < b->hold.expires_at && !s->cancelled;
    int unpaid = b->status == INV_HELD || b->status == INV_EXPIRED || b->status == INV_RELEASED;
    if (!unpaid)
        return 0; /* paid once already: see the top of the file */
    if (live || (may_reacquire(s, b, ctx->now) && seats_free(s, b, ctx->now))) {
        /* RULE-TKT-1: one ticket per seat or standing unit. */
        uint32_t n = b->hold.quantity;
        if (c->n_ticket_ids < n)
            return cmd_reject(out, ctx, "validation_failed", "ticket_ids",
                              "%u ticket ids for %u items", c->n_ticket_ids, n);
        evt_event_t *e = cmd_emit(out, EVT_BOOKING_CONFIRMED);
        evt_booking_confirmed_t *x = &e->u.booking_confirmed;
        x->booking_id = b->hold.booking_id;
        x->payment_id = c->payment_id;
        x->provider_event_id = c->provider_event_id;
        x->at = ctx->now;
        x->reacquired = !live; /* RULE-PAY-2 */
        x->n_tickets = n;
        x->tickets = ts_arena_alloc(ctx->arena, n * sizeof(evt_ticket_t));
        for (uint32_t i = 0; i < n; i++) {
            x->tickets[i].ticket_id = c->ticket_ids[i];
            x->tickets[i].seat = b->hold.n_seats ? b->hold.seats[i] : NULL;
            x->tickets[i].holder_id = b->hold.user_id;
            x->tickets[i].version = 1;
        }
        return 0;
    }
    /* RULE-PAY-2: the seats are gone (or not to be taken again): all back. */
    evt_event_t *e = cmd_emit(out, EVT_BOOKING_REFUND_DUE);
    evt_payment_t *p = &e->u.payment;
    p->booking_id = b->hold.booking_id;
    p->payment_id = c->payment_id;
    p->provider_event_id = c->provider_event_id;
    p->amount = c->amount;
    memcpy(p->currency, b->hold.unit_price.currency, 4);
    p->at = ctx->now;
    p->reason = s->cancelled                    ? "event_cancelled"
                : may_reacquire(s, b, ctx->now) ? "seats_taken"
                                                : "released";
    return 0;
}

static int failed(const inv_booking_t *b, const inv_webhook_cmd_t *c, const cmd_ctx_t *ctx,
                  cmd_result_t *out)
{
    if (b->status != INV_HELD)
        return 0;
    evt_event_t *e = cmd_emit(out, EVT_PAYMENT_FAILED);
    evt_payment_t *p = &e->u.payment;
    p->booking_id = b->hold.booking_id;
    p->payment_id = c->payment_id;
    p->provider_event_id = c->provider_event_id;
    p->amount = c->amount;
    if (c->currency && strlen(c->currency) == 3)
        memcpy(p->currency, c->currency, 4);
    p->at = ctx->now;
    p->reason = "payment_failed";
    int current = b->payment_id && strcmp(b->payment_id, c->payment_id) == 0;
    if (current && ctx->now < b->hold.expires_at) {
        e = cmd_emit(out, EVT_HOLD_RELEASED);
        e->u.hold_ended.booking_id = b->hold.booking_id;
        e->u.hold_ended.reason = "payment_failed";
    }
    return 0;
}

static int refunded(const inv_booking_t *b, const inv_webhook_cmd_t *c, const cmd_ctx_t *ctx,
                    cmd_result_t *out)
{
    if (b->status != INV_REFUND_DUE)
        return 0;
    if (c->amount != b->refund)
        return cmd_reject(out, ctx, "validation_failed", "amount",
                          "amount %lld is not the refund due %lld", (long long)c->amount,
                          (long long)b->refund);
    if (!c->currency || strcmp(c->currency, b->hold.unit_price.currency) != 0)
        return cmd_reject(out, ctx, "validation_failed", "currency", "currency is not %s",
                          b->hold.unit_price.currency);
    evt_event_t *e = cmd_emit(out, EVT_REFUND_COMPLETED);
    evt_payment_t *p = &e->u.payment;
    p->booking_id = b->hold.booking_id;
    p->payment_id = c->payment_id;
    p->provider_event_id = c->provider_event_id;
    p->amount = c->amount;
    memcpy(p->currency, b->hold.unit_price.currency, 4);
    p->at = ctx->now;
    return 0;
}

int inv_webhook_decide(const inv_state_t *s, const inv_webhook_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out)
{
    const inv_booking_t *b = inv_booking_of_payment(s, c->payment_id);
    if (!b)
        return cmd_reject(out, ctx, "not_found", "payment_id", "no such payment");
    out->ref = b->hold.booking_id;
    if (!c->type)
        return cmd_reject(out, ctx, "validation_failed", "type", "no event type");
    /* RULE-PAY-1: a provider event already seen is a no-op. */
    for (uint32_t i = 0; c->provider_event_id && i < b->n_provider_events; i++)
        if (strcmp(b->provider_events[i], c->provider_event_id) == 0)
            return 0;
    if (strcmp(c->type, "payment.succeeded") == 0)
        return succeeded(s, b, c, ctx, out);
    if (strcmp(c->type, "payment.failed") == 0)
        return failed(b, c, ctx, out);
    if (strcmp(c->type, "refund.succeeded") == 0)
        return refunded(b, c, ctx, out);
    return cmd_reject(out, ctx, "validation_failed", "type", "unknown event type %s", c->type);
}

int64_t inv_refund_amount(const inv_state_t *s, const inv_booking_t *b, int64_t now)
{
    /* RULE-REF-1: the step with the highest threshold met at now gives the
     * percent (the policy's steps sorted by min_hours_before, descending);
     * the service fee is kept. */
    const evt_refund_step_t *best = NULL;
    int64_t before = s->info.starts_at - now;
    for (uint32_t i = 0; i < s->info.n_refund; i++) {
        const evt_refund_step_t *st = &s->info.refund[i];
        if (before >= (int64_t)st->min_hours_before * 3600000 &&
            (!best || st->min_hours_before > best->min_hours_before))
            best = st;
    }
    if (!best)
        return 0;
    uint32_t percent = best->percent > 100 ? 100 : best->percent;
    return ts_bps_half_up(b->hold.total - b->hold.service_fee, percent * 100);
}

int inv_cancel_booking_decide(const inv_state_t *s, const char *booking_id, const cmd_ctx_t *ctx,
                              cmd_result_t *out)
{
    const inv_booking_t *b = booking_id ? inv_booking_find(s, booking_id) : NULL;
    if (!b)
        return cmd_reject(out, ctx, "not_found", NULL, "no such booking");
    out->ref = b->hold.booking_id;
    if (!ctx->actor_is_admin && !is_holder(b, ctx))
        return cmd_reject(out, ctx, "forbidden", NULL, "not your booking");
    const char *who = is_holder(b, ctx) ? "holder" : "admin";
    if (b->status == INV_HELD || b->status == INV_EXPIRED)
        return inv_release_decide(s, booking_id, ctx, out);
    if (b->status != INV_CONFIRMED)
        return cmd_reject(out, ctx, "conflict", NULL, "the booking is %s",
                          inv_booking_status_name(b, ctx->now));
    evt_event_t *e = cmd_emit(out, EVT_BOOKING_CANCELLED);
    evt_booking_cancelled_t *x = &e->u.booking_cancelled;
    x->booking_id = b->hold.booking_id;
    x->at = ctx->now;
    if (s->cancelled) {
        /* RULE-REF-1: the event is cancelled, everything goes back. */
        x->refund = b->hold.total;
        x->reason = "event_cancelled";
    } else {
        x->refund = inv_refund_amount(s, b, ctx->now);
        x->reason = who;
    }
    return 0;
}

int inv_cancel_all_decide(const inv_state_t *s, const char *reason, uint32_t max,
                          const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!s->opened)
        return 0;
    if (!reason)
        reason = "event_cancelled";
    if (!s->cancelled) {
        evt_event_t *e = cmd_emit(out, EVT_INVENTORY_CANCELLED);
        e->u.inventory_change.event_id = s->info.event_id;
        e->u.inventory_change.reason = reason;
    }
    if (max == 0 || max > INV_CANCEL_BATCH_MAX)
        max = INV_CANCEL_BATCH_MAX;
    if (max > CMD_MAX_EVENTS - out->n_events)
        max = CMD_MAX_EVENTS - out->n_events;
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_bookings && n < max; i++) {
        const inv_booking_t *b = &s->bookings[i];
        evt_event_t *e;
        if (b->status == INV_CONFIRMED) {
            /* RULE-REF-1: the organizer cancels: all back, fee included; the
             * tickets are revoked by the cancellation. */
            e = cmd_emit(out, EVT_BOOKING_CANCELLED);
            e->u.booking_cancelled.booking_id = b->hold.booking_id;
            e->u.booking_cancelled.refund = b->hold.total;
            e->u.booking_cancelled.reason = reason;
            e->u.booking_cancelled.at = ctx->now;
        } else if (b->status == INV_HELD) {
            /* A hold past its expiry expired (RULE-HOLD-3); a live one is
             * released. */
            e = cmd_emit(out, inv__hold_lapsed(b, ctx->now) ? EVT_HOLD_EXPIRED : EVT_HOLD_RELEASED);
            e->u.hold_ended.booking_id = b->hold.booking_id;
            if (e->type == EVT_HOLD_RELEASED)
                e->u.hold_ended.reason = reason;
        } else {
            continue;
        }
        n++;
    }
    return 0;
}

int inv_reschedule_decide(const inv_state_t *s, int64_t starts_at, int64_t ends_at,
                          const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!s->opened)
        return 0;
    if (ends_at && ends_at < starts_at)
        return cmd_reject(out, ctx, "validation_failed", "ends_at", "ends before it starts");
    if (s->info.starts_at == starts_at && s->info.ends_at == ends_at)
        return 0;
    evt_event_t *e = cmd_emit(out, EVT_INVENTORY_RESCHEDULED);
    e->u.inventory_change.event_id = s->info.event_id;
    e->u.inventory_change.starts_at = starts_at;
    e->u.inventory_change.ends_at = ends_at;
    return 0;
}
