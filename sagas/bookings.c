/*
 * saga_bookings (RULE-HOLD-4, RULE-PROMO-1, sagas.h), on the commits of
 * inventory shards: a booking's quota and promo use follow the booking.
 *
 * A hold takes quota on tix.quota.<event>.<bucket> (its user's bucket of the
 * event's users) and may reserve a promo use on tix.event.<event> before its
 * shard places it (api/holds_flow.c); the
 * shard alone then decides what becomes of the booking. For every booking a
 * shard commit confirms, releases, expires, cancels, refunds or whose
 * payment fails, eng_booking_settle brings the other two aggregates in line
 * with the booking's status as the shard has it now: sold → QuotaConfirmed
 * and the promo use counted (a re-acquired expired hold too, RULE-PAY-2);
 * unsold → QuotaReturned and PromoReleased.
 *
 * A ticket transferred (TicketTransferred, RULE-TKT-3) moves one unit of
 * quota: eng_transfer_settle confirms the recipient's, reserved by the
 * transfer's handler, and takes the old ticket's off its holder; a
 * booking cancelled gives back, with its own, the units of the recipients
 * of its tickets.
 *
 * It also watches the event aggregates' PromoUsed: a use whose hold never
 * reached its shard (the API stopped between the steps of a hold) is given
 * back two minutes after the use, so a crash costs a promo use only for a
 * while (the quota lapses by itself at the hold's expiry).
 *
 * Order does not matter: settling reads the booking's latest status, and
 * every command is a no-op once done, so redeliveries and commits seen out
 * of order converge. A durable made for the first time starts at the
 * beginning of the log, which settles bookings older than the saga.
 */
#include "sagas/sagas.h"

#include <string.h>

/* The booking an event of a shard is about, when it may change the
 * booking's settlement; NULL otherwise. */
static const char *booking_of(const evt_event_t *ev)
{
    switch (ev->type) {
    case EVT_HOLD_RELEASED:
    case EVT_HOLD_EXPIRED:
        return ev->u.hold_ended.booking_id;
    case EVT_BOOKING_CONFIRMED:
        return ev->u.booking_confirmed.booking_id;
    case EVT_BOOKING_CANCELLED:
        return ev->u.booking_cancelled.booking_id;
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_REFUND_COMPLETED:
        return ev->u.payment.booking_id;
    default:
        return NULL;
    }
}

/* A promo use whose hold never came (the API stopped between the two
 * steps) goes back this long after the use: far longer than the steps of
 * one hold take. */
#define PROMO_USE_GRACE_MS (120 * 1000)

/* RULE-PROMO-1: every use must end up with a booking or be given back. */
static ts_status check_uses(eng_t *e, const evt_commit_t *c)
{
    int pending = 0;
    for (uint32_t i = 0; i < c->n_events; i++) {
        const evt_event_t *ev = &c->events[i];
        if (ev->type != EVT_PROMO_USED || !ev->u.promo_use.event_id || !ev->u.promo_use.booking_id)
            continue;
        int wait = 0;
        ts_status st = eng_promo_use_check(e, ev->u.promo_use.event_id, ev->u.promo_use.booking_id,
                                           c->time, PROMO_USE_GRACE_MS, &wait);
        if (st != TS_OK)
            return st;
        pending |= wait;
    }
    /* Asked again a second later (the runner's retry). */
    return pending ? TS_ERR_TIMEOUT : TS_OK;
}

static ts_status on_commit(saga_t *s, const evt_commit_t *c, uint64_t seq, void *arg)
{
    (void)seq;
    eng_t *e = arg;
    if (!c->subject)
        return TS_OK;
    if (strncmp(c->subject, "tix.event.", 10) == 0)
        return check_uses(e, c);
    if (strncmp(c->subject, "tix.inv.", 8) != 0)
        return TS_OK;
    for (uint32_t i = 0; i < c->n_events; i++) {
        const evt_event_t *ev = &c->events[i];
        /* RULE-TKT-3: a transfer moves one unit of quota to the recipient. */
        if (ev->type == EVT_TICKET_TRANSFERRED && ev->u.ticket_transferred.ticket_id) {
            if (saga_stopping(s))
                return TS_ERR_SHUTDOWN;
            ts_status st = eng_transfer_settle(e, c->subject, ev->u.ticket_transferred.ticket_id);
            if (st != TS_OK)
                return st;
            saga_progress(s);
            continue;
        }
        const char *booking = booking_of(ev);
        if (!booking)
            continue;
        /* The same booking twice in one commit needs one settlement. */
        int seen = 0;
        for (uint32_t k = 0; k < i && !seen; k++) {
            const char *prev = booking_of(&c->events[k]);
            seen = prev && strcmp(prev, booking) == 0;
        }
        if (seen)
            continue;
        if (saga_stopping(s))
            return TS_ERR_SHUTDOWN; /* the commit comes back to the next serve */
        ts_status st = eng_booking_settle(e, c->subject, booking);
        if (st != TS_OK)
            return st;
        saga_progress(s);
    }
    return TS_OK;
}

ts_status saga_bookings_start(const saga_bookings_config_t *cfg, saga_t **out)
{
    if (!cfg || !cfg->engine || !cfg->nats_url)
        return TS_ERR_INVALID;
    saga_config_t sc = {.nats_url = cfg->nats_url,
                        .stream = cfg->stream,
                        .name = "saga_bookings",
                        .filter = "tix.>",
                        .handler = on_commit,
                        .arg = cfg->engine};
    return saga_start(&sc, out);
}
