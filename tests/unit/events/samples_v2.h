/*
 * samples_v2.h — fully populated samples of the v2 events (issue 3), and of
 * the v2 fields of the v1 types, with a deep comparison that covers every
 * field of every type.
 *
 * samples.h stays FROZEN (its values wrote the v1 fixtures); this file builds
 * on it: sample_v2_body() is sample_body() for a v1 type plus that type's v2
 * fields, and a new sample for each v2 type. Every field is set to a value
 * that differs from its zero, so a field the codec forgets shows up.
 */
#ifndef TS_TEST_EVENTS_SAMPLES_V2_H
#define TS_TEST_EVENTS_SAMPLES_V2_H

#include "samples.h"

#define SAMPLE_PAID_AT 1793612100000       /* 2026-11-02T09:35:00Z */
#define SAMPLE_SCAN_AT 1797787800000       /* 2026-12-20T17:30:00Z */
#define SAMPLE_REFRESH_UNTIL 1794216600000 /* 2026-11-09T09:30:00Z */
#define SAMPLE_TICKET_KEY "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="

static inline void sample_v2_body(evt_type_t type, evt_event_t *e)
{
    static evt_refund_step_t refund[] = {{168, 100}, {24, 50}, {0, 5}};
    static evt_ticket_t tickets[] = {
        {.ticket_id = "tk-evt_1-A-1", .seat = "A-1-1", .holder_id = "usr_1", .version = 1},
        {.ticket_id = "tk-evt_1-A-2", .seat = "A-1-2", .holder_id = "usr_1", .version = 3},
    };
    sample_body(type, e); /* v1 types; zeroes the rest */
    e->type = type;
    switch (type) {
    case EVT_EVENT_PUBLISHED:
        e->u.event_published.ticket_key = SAMPLE_TICKET_KEY;
        break;
    case EVT_INVENTORY_OPENED: {
        evt_inventory_opened_t *o = &e->u.inventory_opened;
        o->starts_at = SAMPLE_STARTS_AT;
        o->ends_at = SAMPLE_ENDS_AT;
        o->max_per_user = 8;
        o->transfer_cutoff_hours = 48;
        o->n_refund = 3;
        o->refund = refund;
        break;
    }
    case EVT_HOLD_PLACED:
        e->u.hold_placed.promo_code = "SPRING10";
        e->u.hold_placed.offer_entry = "wl-evt_1-std-7";
        break;
    case EVT_HOLD_RELEASED:
        e->u.hold_ended.reason = "payment_failed";
        break;
    case EVT_EVENT_UPDATED:
        sample_body(EVT_EVENT_CREATED, e);
        e->type = EVT_EVENT_UPDATED;
        e->u.event_created.title = "Derby (moved)";
        e->u.event_created.starts_at = SAMPLE_STARTS_AT + 86400000;
        break;
    case EVT_EVENT_CANCELLED:
        e->u.event_cancelled = (evt_event_cancelled_t){.event_id = "evt_1", .reason = "storm"};
        break;
    case EVT_PROMO_CREATED:
        e->u.promo = (evt_promo_t){.event_id = "evt_1",
                                   .code = "SPRING10",
                                   .percent_off = 10,
                                   .amount_off = 250,
                                   .max_uses = 100,
                                   .valid_from = SAMPLE_SALE_FROM,
                                   .valid_until = SAMPLE_SALE_TO};
        break;
    case EVT_PROMO_USED:
    case EVT_PROMO_RELEASED:
        e->u.promo_use = (evt_promo_use_t){
            .event_id = "evt_1", .code = "SPRING10", .booking_id = "bk-evt_1-A-1"};
        break;
    case EVT_PAYMENT_REQUESTED:
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_REFUND_COMPLETED:
        e->u.payment = (evt_payment_t){.booking_id = "bk-evt_1-A-1",
                                       .payment_id = "pay-evt_1-A-9",
                                       .provider = "simulated",
                                       .provider_event_id = "evt_provider_1",
                                       .amount = 4770,
                                       .currency = "EUR",
                                       .at = SAMPLE_PAID_AT,
                                       .reason = "seats_taken"};
        break;
    case EVT_BOOKING_CONFIRMED:
        e->u.booking_confirmed = (evt_booking_confirmed_t){.booking_id = "bk-evt_1-A-1",
                                                           .payment_id = "pay-evt_1-A-9",
                                                           .provider_event_id = "evt_provider_1",
                                                           .at = SAMPLE_PAID_AT,
                                                           .reacquired = 1,
                                                           .n_tickets = 2,
                                                           .tickets = tickets};
        break;
    case EVT_BOOKING_CANCELLED:
        e->u.booking_cancelled = (evt_booking_cancelled_t){
            .booking_id = "bk-evt_1-A-1", .refund = 2250, .reason = "holder", .at = SAMPLE_PAID_AT};
        break;
    case EVT_TICKET_CHECKED_IN:
        e->u.ticket_checked_in = (evt_ticket_checked_in_t){
            .ticket_id = "tk-evt_1-A-1", .at = SAMPLE_SCAN_AT, .gate = "N1", .nonce = "n-42"};
        break;
    case EVT_TICKET_TRANSFERRED:
        e->u.ticket_transferred = (evt_ticket_transferred_t){.ticket_id = "tk-evt_1-A-1",
                                                             .new_ticket_id = "tk-evt_1-A-3",
                                                             .to_user_id = "usr_2",
                                                             .version = 2,
                                                             .at = SAMPLE_PAID_AT};
        break;
    case EVT_INVENTORY_CANCELLED:
    case EVT_INVENTORY_RESCHEDULED:
        e->u.inventory_change = (evt_inventory_change_t){.event_id = "evt_1",
                                                         .reason = "storm",
                                                         .starts_at = SAMPLE_STARTS_AT,
                                                         .ends_at = SAMPLE_ENDS_AT};
        break;
    case EVT_LOGIN_FAILED:
    case EVT_ROLES_CHANGED:
    case EVT_USER_BLOCKED:
    case EVT_USER_UNBLOCKED:
        e->u.user_note = (evt_user_note_t){.user_id = "usr_1",
                                           .at = SAMPLE_HOLD_AT,
                                           .roles = EVT_ROLE_ATTENDEE | EVT_ROLE_BOX_OFFICE,
                                           .reason = "too many attempts"};
        break;
    case EVT_REFRESH_ISSUED:
    case EVT_REFRESH_ROTATED:
    case EVT_REFRESH_REVOKED:
        e->u.refresh_token = (evt_refresh_token_t){
            .user_id = "usr_1",
            .family_id = "fam_1",
            .token_hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
            .expires_at = SAMPLE_REFRESH_UNTIL,
            .reason = "reuse"};
        break;
    case EVT_QUOTA_TAKEN:
    case EVT_QUOTA_CONFIRMED:
    case EVT_QUOTA_RETURNED:
        e->u.quota = (evt_quota_t){.event_id = "evt_1",
                                   .booking_id = "bk-evt_1-A-1",
                                   .quantity = 2,
                                   .expires_at = SAMPLE_HOLD_UNTIL,
                                   .user_id = "usr_1",
                                   .ticket_id = "tk-evt_1-A-9"};
        break;
    case EVT_WAITLIST_JOINED:
    case EVT_WAITLIST_LEFT:
    case EVT_WAITLIST_OFFERED:
    case EVT_WAITLIST_OFFER_LAPSED:
    case EVT_WAITLIST_FULFILLED:
        e->u.waitlist = (evt_waitlist_entry_t){.event_id = "evt_1",
                                               .tier = "std",
                                               .entry_id = "wl-evt_1-std-7",
                                               .user_id = "usr_3",
                                               .quantity = 2,
                                               .at = SAMPLE_HOLD_AT,
                                               .booking_id = "bk-evt_1-A-1",
                                               .expires_at = SAMPLE_HOLD_UNTIL,
                                               .reason = "limit_exceeded"};
        break;
    default:
        break;
    }
}

static inline const char *sample_v2_subject(evt_type_t type)
{
    switch (type) {
    case EVT_EVENT_UPDATED:
    case EVT_EVENT_CANCELLED:
    case EVT_PROMO_CREATED:
    case EVT_PROMO_USED:
    case EVT_PROMO_RELEASED:
        return "tix.event.evt_1";
    case EVT_LOGIN_FAILED:
    case EVT_ROLES_CHANGED:
    case EVT_USER_BLOCKED:
    case EVT_USER_UNBLOCKED:
    case EVT_REFRESH_ISSUED:
    case EVT_REFRESH_ROTATED:
    case EVT_REFRESH_REVOKED:
        return "tix.user.usr_1";
    case EVT_QUOTA_TAKEN:
    case EVT_QUOTA_CONFIRMED:
    case EVT_QUOTA_RETURNED:
        return "tix.quota.evt_1.0"; /* the bucket of usr_1 */
    case EVT_WAITLIST_JOINED:
    case EVT_WAITLIST_LEFT:
    case EVT_WAITLIST_OFFERED:
    case EVT_WAITLIST_OFFER_LAPSED:
    case EVT_WAITLIST_FULFILLED:
        return "tix.wait.evt_1.std";
    default:
        return sample_subject(type);
    }
}

/* A commit of the one event *ev of type `type` (any type), every field set. */
static inline evt_commit_t sample_v2_commit(evt_type_t type, evt_event_t *ev)
{
    evt_commit_t c = sample_commit(type, ev);
    sample_v2_body(type, ev);
    c.subject = sample_v2_subject(type);
    return c;
}

/* ---- deep comparison of every field, v1 and v2 ---- */

static inline void assert_v2_event_same(const evt_event_t *a, const evt_event_t *b)
{
    assert_int_equal(a->type, b->type);
    assert_str_same(a->command_id, b->command_id);
    assert_str_same(a->actor, b->actor);
    switch (a->type) {
    case EVT_EVENT_PUBLISHED:
        assert_event_same(a, b);
        assert_str_same(a->u.event_published.ticket_key, b->u.event_published.ticket_key);
        break;
    case EVT_INVENTORY_OPENED: {
        assert_event_same(a, b);
        const evt_inventory_opened_t *x = &a->u.inventory_opened, *y = &b->u.inventory_opened;
        assert_int_equal(x->starts_at, y->starts_at);
        assert_int_equal(x->ends_at, y->ends_at);
        assert_int_equal(x->max_per_user, y->max_per_user);
        assert_int_equal(x->transfer_cutoff_hours, y->transfer_cutoff_hours);
        assert_int_equal(x->n_refund, y->n_refund);
        for (uint32_t i = 0; i < x->n_refund; i++) {
            assert_int_equal(x->refund[i].min_hours_before, y->refund[i].min_hours_before);
            assert_int_equal(x->refund[i].percent, y->refund[i].percent);
        }
        break;
    }
    case EVT_HOLD_PLACED:
        assert_event_same(a, b);
        assert_str_same(a->u.hold_placed.promo_code, b->u.hold_placed.promo_code);
        assert_str_same(a->u.hold_placed.offer_entry, b->u.hold_placed.offer_entry);
        break;
    case EVT_HOLD_RELEASED:
    case EVT_HOLD_EXPIRED:
        assert_event_same(a, b);
        assert_str_same(a->u.hold_ended.reason, b->u.hold_ended.reason);
        break;
    case EVT_EVENT_UPDATED:
        assert_event_created_same(&a->u.event_created, &b->u.event_created);
        break;
    case EVT_EVENT_CANCELLED:
        assert_str_same(a->u.event_cancelled.event_id, b->u.event_cancelled.event_id);
        assert_str_same(a->u.event_cancelled.reason, b->u.event_cancelled.reason);
        break;
    case EVT_PROMO_CREATED: {
        const evt_promo_t *x = &a->u.promo, *y = &b->u.promo;
        assert_str_same(x->event_id, y->event_id);
        assert_str_same(x->code, y->code);
        assert_int_equal(x->percent_off, y->percent_off);
        assert_int_equal(x->amount_off, y->amount_off);
        assert_int_equal(x->max_uses, y->max_uses);
        assert_int_equal(x->valid_from, y->valid_from);
        assert_int_equal(x->valid_until, y->valid_until);
        break;
    }
    case EVT_PROMO_USED:
    case EVT_PROMO_RELEASED:
        assert_str_same(a->u.promo_use.event_id, b->u.promo_use.event_id);
        assert_str_same(a->u.promo_use.code, b->u.promo_use.code);
        assert_str_same(a->u.promo_use.booking_id, b->u.promo_use.booking_id);
        break;
    case EVT_PAYMENT_REQUESTED:
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_REFUND_COMPLETED: {
        const evt_payment_t *x = &a->u.payment, *y = &b->u.payment;
        assert_str_same(x->booking_id, y->booking_id);
        assert_str_same(x->payment_id, y->payment_id);
        assert_str_same(x->provider, y->provider);
        assert_str_same(x->provider_event_id, y->provider_event_id);
        assert_int_equal(x->amount, y->amount);
        assert_string_equal(x->currency, y->currency);
        assert_int_equal(x->at, y->at);
        assert_str_same(x->reason, y->reason);
        break;
    }
    case EVT_BOOKING_CONFIRMED: {
        const evt_booking_confirmed_t *x = &a->u.booking_confirmed, *y = &b->u.booking_confirmed;
        assert_str_same(x->booking_id, y->booking_id);
        assert_str_same(x->payment_id, y->payment_id);
        assert_str_same(x->provider_event_id, y->provider_event_id);
        assert_int_equal(x->at, y->at);
        assert_int_equal(x->reacquired, y->reacquired);
        assert_int_equal(x->n_tickets, y->n_tickets);
        for (uint32_t i = 0; i < x->n_tickets; i++) {
            assert_str_same(x->tickets[i].ticket_id, y->tickets[i].ticket_id);
            assert_str_same(x->tickets[i].seat, y->tickets[i].seat);
            assert_str_same(x->tickets[i].holder_id, y->tickets[i].holder_id);
            assert_int_equal(x->tickets[i].version, y->tickets[i].version);
        }
        break;
    }
    case EVT_BOOKING_CANCELLED: {
        const evt_booking_cancelled_t *x = &a->u.booking_cancelled, *y = &b->u.booking_cancelled;
        assert_str_same(x->booking_id, y->booking_id);
        assert_int_equal(x->refund, y->refund);
        assert_str_same(x->reason, y->reason);
        assert_int_equal(x->at, y->at);
        break;
    }
    case EVT_TICKET_CHECKED_IN: {
        const evt_ticket_checked_in_t *x = &a->u.ticket_checked_in, *y = &b->u.ticket_checked_in;
        assert_str_same(x->ticket_id, y->ticket_id);
        assert_int_equal(x->at, y->at);
        assert_str_same(x->gate, y->gate);
        assert_str_same(x->nonce, y->nonce);
        break;
    }
    case EVT_TICKET_TRANSFERRED: {
        const evt_ticket_transferred_t *x = &a->u.ticket_transferred, *y = &b->u.ticket_transferred;
        assert_str_same(x->ticket_id, y->ticket_id);
        assert_str_same(x->new_ticket_id, y->new_ticket_id);
        assert_str_same(x->to_user_id, y->to_user_id);
        assert_int_equal(x->version, y->version);
        assert_int_equal(x->at, y->at);
        break;
    }
    case EVT_INVENTORY_CANCELLED:
    case EVT_INVENTORY_RESCHEDULED: {
        const evt_inventory_change_t *x = &a->u.inventory_change, *y = &b->u.inventory_change;
        assert_str_same(x->event_id, y->event_id);
        assert_str_same(x->reason, y->reason);
        assert_int_equal(x->starts_at, y->starts_at);
        assert_int_equal(x->ends_at, y->ends_at);
        break;
    }
    case EVT_LOGIN_FAILED:
    case EVT_ROLES_CHANGED:
    case EVT_USER_BLOCKED:
    case EVT_USER_UNBLOCKED: {
        const evt_user_note_t *x = &a->u.user_note, *y = &b->u.user_note;
        assert_str_same(x->user_id, y->user_id);
        assert_int_equal(x->at, y->at);
        assert_int_equal(x->roles, y->roles);
        assert_str_same(x->reason, y->reason);
        break;
    }
    case EVT_REFRESH_ISSUED:
    case EVT_REFRESH_ROTATED:
    case EVT_REFRESH_REVOKED: {
        const evt_refresh_token_t *x = &a->u.refresh_token, *y = &b->u.refresh_token;
        assert_str_same(x->user_id, y->user_id);
        assert_str_same(x->family_id, y->family_id);
        assert_str_same(x->token_hash, y->token_hash);
        assert_int_equal(x->expires_at, y->expires_at);
        assert_str_same(x->reason, y->reason);
        break;
    }
    case EVT_QUOTA_TAKEN:
    case EVT_QUOTA_CONFIRMED:
    case EVT_QUOTA_RETURNED: {
        const evt_quota_t *x = &a->u.quota, *y = &b->u.quota;
        assert_str_same(x->event_id, y->event_id);
        assert_str_same(x->booking_id, y->booking_id);
        assert_int_equal(x->quantity, y->quantity);
        assert_int_equal(x->expires_at, y->expires_at);
        assert_str_same(x->user_id, y->user_id);
        assert_str_same(x->ticket_id, y->ticket_id);
        break;
    }
    case EVT_WAITLIST_JOINED:
    case EVT_WAITLIST_LEFT:
    case EVT_WAITLIST_OFFERED:
    case EVT_WAITLIST_OFFER_LAPSED:
    case EVT_WAITLIST_FULFILLED: {
        const evt_waitlist_entry_t *x = &a->u.waitlist, *y = &b->u.waitlist;
        assert_str_same(x->event_id, y->event_id);
        assert_str_same(x->tier, y->tier);
        assert_str_same(x->entry_id, y->entry_id);
        assert_str_same(x->user_id, y->user_id);
        assert_int_equal(x->quantity, y->quantity);
        assert_int_equal(x->at, y->at);
        assert_str_same(x->booking_id, y->booking_id);
        assert_int_equal(x->expires_at, y->expires_at);
        assert_str_same(x->reason, y->reason);
        break;
    }
    default:
        assert_event_same(a, b);
        break;
    }
}

static inline void assert_v2_commit_same(const evt_commit_t *a, const evt_commit_t *b)
{
    assert_str_same(a->subject, b->subject);
    assert_int_equal(a->version, b->version);
    assert_str_same(a->command_id, b->command_id);
    assert_str_same(a->correlation_id, b->correlation_id);
    assert_str_same(a->actor, b->actor);
    assert_int_equal(a->time, b->time);
    assert_memory_equal(a->prev_hash, b->prev_hash, sizeof a->prev_hash);
    assert_int_equal(a->n_events, b->n_events);
    for (uint32_t i = 0; i < a->n_events; i++)
        assert_v2_event_same(&a->events[i], &b->events[i]);
}

#endif
