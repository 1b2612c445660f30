/*
 * commands — the pure decision logic of Turnstile.
 *
 * Each aggregate has a state, an apply function that folds one event into
 * it (and cannot fail), and decide functions:
 *
 *     decide(state, command, ctx) -> events | rejection
 *
 * ctx carries everything impure a decision needs — the time, the actor, a
 * fresh id — so a decision is a function of its inputs and replay is
 * deterministic. Nothing here does I/O, reads a clock or touches globals.
 *
 * Aggregates (DESIGN.md): venue (tix.venue.<id>), event (tix.event.<id>),
 * inventory shard (tix.inv.<event>.<section>), user (tix.user.<id>) and
 * unique claim (tix.claim.<kind>.<sha256>). They are handled generically by
 * the engine through cmd_aggregate_ops_t: create a state, apply, decide,
 * and snapshot encode/decode (with a state-format version).
 *
 * Ownership. Events produced by a decision, and a rejection's strings, are
 * allocated from ctx->arena and live as long as it. A state owns its own
 * arena; data applied into it is copied there.
 *
 * Threading: a state belongs to one lane; nothing here locks.
 */
#ifndef TS_COMMANDS_H
#define TS_COMMANDS_H

#include "base/base.h"
#include "base/map.h"
#include "events/events.h"

typedef enum {
    CMD_AGG_VENUE = 0,
    CMD_AGG_EVENT,
    CMD_AGG_INV,
    CMD_AGG_USER,
    CMD_AGG_CLAIM,
    CMD_AGG_QUOTA, /* tix.quota.<event>.<bucket> (RULE-HOLD-4) */
    CMD_AGG_WAIT,  /* tix.wait.<event>.<tier> (RULE-WL-1) */
    CMD_AGG_COUNT
} cmd_agg_kind_t;

/* Everything impure a decision may use. */
typedef struct {
    int64_t now;            /* ms since epoch */
    const char *actor;      /* user id of the caller ("system" for sagas) */
    int actor_is_admin;     /* RULE-AUTH-2: admin may act on anything */
    const char *command_id; /* unique per command; Idempotency-Key derived */
    const char *new_id;     /* a fresh random id, used when the command creates one */
    ts_arena_t *arena;      /* owns produced events and rejections */
} cmd_ctx_t;

/* A business rejection is data, not a status (STYLE.md 6). code is one of
 * API.md's stable problem codes. */
typedef struct {
    const char *code;   /* "seat_unavailable", "not_on_sale", ... */
    const char *detail; /* a sentence for humans */
    const char *field;  /* validation_failed: the offending field */
    uint32_t n_seats;   /* seat_unavailable: the seats */
    const char **seats;
    int64_t limit; /* limit_exceeded */
} cmd_reject_t;

#define CMD_MAX_EVENTS 300

/* The outcome of one decision: either reject != NULL, or 0..N events (0
 * means "nothing to do", e.g. a repeated command). ref names what the answer
 * refers to (the booking id of a hold, even a repeated one). */
typedef struct {
    const cmd_reject_t *reject;
    uint32_t n_events;
    evt_event_t events[CMD_MAX_EVENTS];
    const char *ref;
} cmd_result_t;

/* Fills r as a rejection; fmt is a printf format for the detail. Returns 0 so
 * decide functions can `return cmd_reject(...)`. */
int cmd_reject(cmd_result_t *r, const cmd_ctx_t *ctx, const char *code, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Appends a zeroed event of type t to r and returns it. */
evt_event_t *cmd_emit(cmd_result_t *r, evt_type_t t);

/* ---- generic aggregate operations (the engine's view) ---- */

typedef struct {
    cmd_agg_kind_t kind;
    const char *name;        /* "venue", "event", "inv", "user", "claim" */
    uint32_t format_version; /* snapshot state format; bump on any change */
    void *(*state_new)(void);
    void (*state_free)(void *state);
    /* Folds one event; unknown event types are ignored. Cannot fail. */
    void (*apply)(void *state, const evt_event_t *e);
    /* Snapshot: appends the state to out / rebuilds it from bytes.
     * encode fails (and no snapshot must be written) when the codec refuses
     * the state; decode returns NULL on corrupt input. */
    ts_status (*encode)(const void *state, ts_buf_t *out);
    void *(*decode)(const void *data, size_t len);
} cmd_aggregate_ops_t;

/* The ops of an aggregate kind. */
const cmd_aggregate_ops_t *cmd_aggregate_ops(cmd_agg_kind_t kind);
/* The aggregate kind of a subject ("tix.inv.E.A" → CMD_AGG_INV); -1 if none. */
int cmd_aggregate_of_subject(const char *subject);

/* ---- venue ---- */

typedef struct {
    int exists;
    evt_venue_created_t v;
    ts_arena_t arena;
} cmd_venue_state_t;

/* Creates a venue. v->venue_id is ignored and replaced by ctx->new_id.
 * Rejections: validation_failed (names, keys, rows, capacities), conflict. */
int venue_create_decide(const cmd_venue_state_t *s, const evt_venue_created_t *v,
                        const cmd_ctx_t *ctx, cmd_result_t *out);

/* ---- event ---- */

typedef enum {
    CMD_EVENT_DRAFT = 0,
    CMD_EVENT_PUBLISHED = 1,
    CMD_EVENT_CANCELLED = 2, /* EventCancelled: never sells again */
} cmd_event_status_t;

/* A promo code of the event (RULE-PROMO-1) and its uses in force. */
typedef struct {
    evt_promo_t p; /* strings in the state arena; code upper-cased */
    uint32_t uses; /* PromoUsed not (yet) followed by PromoReleased */
} cmd_promo_t;

/* One booking's use of a promo code: active from PromoUsed until
 * PromoReleased (a released use may be used again, e.g. a confirm that
 * re-acquires an expired hold, RULE-PAY-2). */
typedef struct {
    const char *booking_id;
    uint32_t promo; /* index into promos */
    int active;
} cmd_promo_use_t;

typedef struct {
    int exists;
    cmd_event_status_t status;
    evt_event_created_t ev;          /* as created, or as last updated (EventUpdated) */
    evt_event_published_t published; /* RULE-EVT-1: the frozen layout (also once cancelled) */
    ts_arena_t arena;
    /* v2, RULE-PROMO-1 */
    cmd_promo_t *promos;
    uint32_t n_promos, cap_promos;
    ts_map_t promo_by_code; /* upper-cased code → index into promos */
    cmd_promo_use_t *uses;
    uint32_t n_uses, cap_uses;
    ts_map_t use_by_booking; /* booking id → index into uses */
} cmd_event_state_t;

/* Creates an event on a venue. e->event_id is replaced by ctx->new_id and
 * e->organizer_id by ctx->actor; missing policy fields must already hold the
 * defaults (evt_policy_defaults). Rejections: validation_failed (also for an
 * unknown venue, or a venue state that is not e->venue_id's), conflict. */
int event_create_decide(const cmd_event_state_t *s, const cmd_venue_state_t *venue,
                        const evt_event_created_t *e, const cmd_ctx_t *ctx, cmd_result_t *out);

/* Publishes a draft event, freezing the venue's layout (RULE-EVT-1), with
 * ticket_key, the base64 Ed25519 public key of its ticket codes that the
 * engine made for it (RULE-TKT-1; the private key never comes here).
 * Rejections: not_found, forbidden (not the organizer, not admin), conflict
 * (already published), validation_failed (ticket_key is not a base64
 * 32-byte key). */
int event_publish_decide(const cmd_event_state_t *s, const cmd_venue_state_t *venue,
                         const char *ticket_key, const cmd_ctx_t *ctx, cmd_result_t *out);

/* The organizer (or an admin) cancels a draft or published event
 * (commands/event_cancel.c): EventCancelled. The shards then refund every
 * booking in full (inv_cancel_all_decide, driven by a saga; RULE-REF-1).
 * Rejections: not_found, forbidden (not the organizer, not admin), conflict
 * (already cancelled). */
int event_cancel_decide(const cmd_event_state_t *s, const char *reason, const cmd_ctx_t *ctx,
                        cmd_result_t *out);

/* The tier that sells a section, or NULL. */
const evt_tier_t *event_tier_of_section(const cmd_event_state_t *s, const char *section);

/* ---- event: PATCH (commands/event_update.c) ---- */

/* Which fields a PATCH names (event_patch_t.fields). */
enum {
    EVENT_PATCH_TITLE = 1u << 0,
    EVENT_PATCH_DESCRIPTION = 1u << 1,
    EVENT_PATCH_GENRE = 1u << 2,
    EVENT_PATCH_STARTS_AT = 1u << 3,
    EVENT_PATCH_ENDS_AT = 1u << 4,
    EVENT_PATCH_TIERS = 1u << 5,
    EVENT_PATCH_POLICY = 1u << 6,
};

/* Policy fields a PATCH names (event_patch_t.policy_fields); the others
 * keep their current values. */
enum {
    EVENT_POLICY_MAX_PER_ORDER = 1u << 0,
    EVENT_POLICY_MAX_PER_USER = 1u << 1,
    EVENT_POLICY_HOLD_MINUTES = 1u << 2,
    EVENT_POLICY_TRANSFER_CUTOFF = 1u << 3,
    EVENT_POLICY_SERVICE_FEE = 1u << 4,
    EVENT_POLICY_VAT = 1u << 5,
    EVENT_POLICY_REFUND = 1u << 6,
};

typedef struct {
    uint32_t fields; /* EVENT_PATCH_* */
    const char *title;
    const char *description; /* NULL with the bit set: cleared */
    const char *genre;       /* likewise */
    int64_t starts_at;
    int64_t ends_at;
    uint32_t n_tiers; /* the whole new list of tiers */
    evt_tier_t *tiers;
    uint32_t policy_fields; /* EVENT_POLICY_*: merged into the current policy */
    evt_policy_t policy;
} event_patch_t;

/* PATCH /events/{id}: EventUpdated with the whole new description (the shape
 * of EventCreated). Title, description, genre and the times may change while
 * draft or published (ends_at > starts_at afterwards); tiers and policy only
 * while draft, validated as at create, so venue must be the event's venue
 * when the patch names tiers (else it may be NULL). A patch that changes
 * nothing emits nothing. Rejections: not_found, forbidden (RULE-AUTH-2: not
 * the organizer, not admin), validation_failed, conflict (field "tiers" or
 * "policy" of a published event; an event no longer draft or published). */
int event_update_decide(const cmd_event_state_t *s, const cmd_venue_state_t *venue,
                        const event_patch_t *p, const cmd_ctx_t *ctx, cmd_result_t *out);

/* ---- event: promo codes (RULE-PROMO-1, commands/promo.c) ---- */

/* Longest promo code. Codes are [A-Za-z0-9_-], compared case-insensitively
 * (kept upper-cased). */
#define PROMO_CODE_MAX 32

/* POST /events/{id}/promos: PromoCreated. p->event_id is ignored; valid_from
 * 0 means from now on. Rejections: not_found, forbidden (not the organizer,
 * not admin), validation_failed (code, percent_off, amount_off, max_uses,
 * valid_until, valid_from), conflict (the code exists, case-insensitively;
 * the event is not draft or published). */
int promo_create_decide(const cmd_event_state_t *s, const evt_promo_t *p, const cmd_ctx_t *ctx,
                        cmd_result_t *out);

/* Reserves one use of code for booking_id: PromoUsed. A use already in force
 * for the booking emits nothing (ref = the booking). force (a confirmed
 * booking that must count, RULE-PAY-2 re-acquisition) skips the window and
 * the limit. Rejections: not_found (no event), not_on_sale (the event is not
 * published; field promo_code: outside [valid_from, valid_until)),
 * validation_failed (field promo_code: unknown code), limit_exceeded (field
 * promo_code, limit = max_uses: every use is in force), conflict (the
 * booking uses another code). */
int promo_use_decide(const cmd_event_state_t *s, const char *code, const char *booking_id,
                     int force, const cmd_ctx_t *ctx, cmd_result_t *out);

/* Gives back the use of booking_id: PromoReleased. No events when the booking
 * has no use in force (a release repeated is a no-op). */
int promo_release_decide(const cmd_event_state_t *s, const char *booking_id, const cmd_ctx_t *ctx,
                         cmd_result_t *out);

/* The promo of code (any case), or NULL. Valid until the state changes. */
const cmd_promo_t *promo_find(const cmd_event_state_t *s, const char *code);

/* RULE-PRICE-1 with RULE-PROMO-1: the discount on subtotal, in minor units:
 * percent_off % of it, half-up, or amount_off; never more than subtotal. */
int64_t promo_discount(int64_t subtotal, uint32_t percent_off, int64_t amount_off);

/* ---- inventory shard ---- */

typedef enum {
    INV_HELD = 0,
    INV_RELEASED = 1,
    INV_EXPIRED = 2,
    INV_CONFIRMED = 3,
    INV_CANCELLED = 4,  /* cancelled with nothing to refund */
    INV_REFUND_DUE = 5, /* cancelled or RULE-PAY-2, refund not yet completed */
    INV_REFUNDED = 6,
} inv_booking_status_t;

typedef enum {
    INV_TICKET_VALID = 0,
    INV_TICKET_USED = 1,
    INV_TICKET_CANCELLED = 2,
    INV_TICKET_TRANSFERRED = 3,
} inv_ticket_status_t;

/* A ticket of a confirmed booking (RULE-TKT-1..3). A transfer adds a new
 * ticket (to the recipient, version + 1) and marks the old one transferred. */
typedef struct {
    evt_ticket_t t;  /* strings in the state arena */
    int32_t booking; /* index into inv_state_t.bookings */
    inv_ticket_status_t status;
    int64_t checked_in_at; /* RULE-TKT-2: the first scan */
    const char *gate;
    const char *nonce;
    uint64_t revoked_version; /* inv_state_t.version when it stopped being valid */
    uint32_t replaced_by;     /* a transfer's new ticket (index), UINT32_MAX when none */
} inv_ticket_t;

typedef struct {
    evt_hold_placed_t hold; /* as placed; strings in the state arena */
    inv_booking_status_t status;
    uint32_t *seat_index; /* hold.n_seats indexes into inv_state_t.seat_owner */
    /* v2: payment and after-sale facts */
    const char *payment_id; /* the last payment intent, NULL when none */
    int64_t paid_amount;    /* captured by the provider (0 until succeeded) */
    int64_t refund;         /* RULE-REF-1 / RULE-PAY-2: amount due back */
    int64_t confirmed_at;
    const char *end_reason; /* why released/cancelled */
    uint32_t first_ticket;  /* index into inv_state_t.tickets */
    uint32_t n_tickets;     /* tickets issued at confirm (transfers append elsewhere) */
    uint32_t n_provider_events;
    const char **provider_events; /* RULE-PAY-1: webhook ids seen (duplicates are no-ops) */
    int reacquired;               /* RULE-PAY-2: confirmed after its hold had ended */
    int odd_hold; /* its hold length is not the shard's (a waitlist offer): see odd_holds */
} inv_booking_t;

/* One fact applied to a shard, in order (inv_state_t.facts): the event type
 * and the indexes of what it changed. Snapshots replay the facts in this
 * order, so a decoded state is the same state, down to ticket indexes, seat
 * owners and the version at which each ticket was revoked. */
typedef struct {
    uint32_t type; /* evt_type_t */
    uint32_t a;    /* booking, or ticket (check-in, transfer), or schedule */
    uint32_t b;    /* provider event index in the booking, or the new ticket */
    uint32_t c;    /* payment index (inv_state_t.payments) */
} inv_fact_t;

/* A payment intent (PaymentRequested). */
typedef struct {
    const char *payment_id;
    const char *provider;
    int32_t booking;
    int64_t amount;
    int64_t at;
} inv_payment_t;

/* The event's times: as opened, then after each InventoryRescheduled. */
typedef struct {
    int64_t starts_at, ends_at, sale_ends_at;
} inv_schedule_t;

typedef struct {
    int opened;
    evt_inventory_opened_t info;
    uint32_t *row_offset; /* seat index of seat 1 of each row */
    int32_t *seat_owner;  /* per seat: booking index, -1 when never taken */
    uint32_t n_seat_slots;
    uint32_t ga_taken; /* standing: units held or sold (not expired lazily) */
    inv_booking_t *bookings;
    uint32_t n_bookings, cap_bookings;
    uint32_t expiry_head; /* before this index no booking is held for hold_minutes */
    ts_map_t by_booking;  /* booking id → index */
    ts_map_t by_command;  /* command id → index (RULE-HOLD-5) */
    ts_map_t by_row;      /* row label → row index */
    /* v2 */
    int cancelled;    /* InventoryCancelled: no more holds */
    uint64_t version; /* facts applied (n_facts; events apply ignored do not count):
                       * a monotonic clock of the shard */
    inv_ticket_t *tickets;
    uint32_t n_tickets, cap_tickets;
    ts_map_t by_ticket;  /* ticket id → index */
    ts_map_t by_payment; /* payment id → booking index */
    const char *cancel_reason;
    inv_fact_t *facts; /* version facts, in the order applied */
    uint32_t n_facts, cap_facts;
    inv_payment_t *payments;
    uint32_t n_payments, cap_payments;
    inv_schedule_t *schedules; /* [0]: as opened */
    uint32_t n_schedules, cap_schedules;
    /* RULE-HOLD-3 with two hold lengths: bookings held for the shard's
     * hold_minutes expire in index order (expiry_head); the others (waitlist
     * offers) are listed here, in index order, while held. */
    uint32_t *odd_holds;
    uint32_t n_odd_holds, cap_odd_holds;
    ts_arena_t arena;
} inv_state_t;

/* Builds the InventoryOpened event of one section of a published event.
 * Rejections: not_on_sale (not published, section not sold). */
int inv_open_decide(const inv_state_t *s, const cmd_event_state_t *event, const char *section,
                    const cmd_ctx_t *ctx, cmd_result_t *out);

typedef struct {
    const char *event_id;
    const char *section; /* the shard's section */
    const char **seats;  /* seated: seat ids (all in section) */
    uint32_t n_seats;
    const char *tier;  /* standing: the tier key */
    uint32_t quantity; /* standing: units; seated: must equal n_seats or 0 */
    /* v2 */
    const char *user_id;    /* the holder; NULL: ctx->actor (a waitlist offer names its user) */
    const char *promo_code; /* RULE-PROMO-1: its use is already reserved on the event */
    uint32_t percent_off;   /* the promo's terms: percent or amount off the subtotal */
    int64_t amount_off;
    const char *offer_entry; /* RULE-WL-1: the waitlist entry this hold is offered to */
    uint32_t hold_minutes;   /* 0: the shard's hold_minutes; an offer: offer_minutes */
} inv_hold_cmd_t;

/* RULE-HOLD-1, -2, -3, -5, RULE-EVT-1. Emits HoldExpired for holds found
 * expired (lazy expiry), then HoldPlaced with booking id ctx->new_id, held by
 * c->user_id (or ctx->actor), discounted by c's promo terms (RULE-PROMO-1,
 * RULE-PRICE-1). A command id already seen returns no events and ref = that
 * booking. Rejections: not_on_sale (also a cancelled shard), limit_exceeded,
 * validation_failed (also promo terms: both kinds, or over 100 %),
 * seat_unavailable (naming the seats), sold_out. */
int inv_hold_decide(const inv_state_t *s, const inv_hold_cmd_t *c, const cmd_ctx_t *ctx,
                    cmd_result_t *out);

/* held → released by its holder or an admin. Rejections: not_found,
 * forbidden, hold_expired (RULE-HOLD-3), conflict (not held). */
int inv_release_decide(const inv_state_t *s, const char *booking_id, const cmd_ctx_t *ctx,
                       cmd_result_t *out);

/* The sweeper's command: HoldExpired for every hold whose expiry is at or
 * before ctx->now (at most max). No events when none. */
int inv_expire_decide(const inv_state_t *s, uint32_t max, const cmd_ctx_t *ctx, cmd_result_t *out);

/* The earliest expiry among held bookings, 0 when none (for the sweeper). */
int64_t inv_next_expiry(const inv_state_t *s);
/* A booking by id, or NULL. Valid until the state changes. */
const inv_booking_t *inv_booking_find(const inv_state_t *s, const char *booking_id);
/* The booking's status as of now (a held booking past expiry is expired). */
const char *inv_booking_status_name(const inv_booking_t *b, int64_t now);

/* RULE-PRICE-1: fills the money fields of h from unit_price and quantity. */
void inv_price(evt_hold_placed_t *h, uint32_t service_fee_bps, uint32_t vat_bps);

/* ---- inventory shard v2: payments, tickets, refunds (see /work/domain-v2.md) ---- */

/* A ticket by id, or NULL. */
const inv_ticket_t *inv_ticket_find(const inv_state_t *s, const char *ticket_id);
/* "valid", "used", "cancelled", "transferred". */
const char *inv_ticket_status_name(const inv_ticket_t *t);
/* The booking of a payment id, or NULL. */
const inv_booking_t *inv_booking_of_payment(const inv_state_t *s, const char *payment_id);

/* RULE-PAY-1: a payment intent for exactly the booking total. payment_id is
 * ctx->new_id (and out->ref); provider NULL is "simulated". Rejections:
 * not_found, forbidden (not the holder), hold_expired, conflict (not held),
 * not_on_sale (the shard is cancelled).
 * A held booking with an intent gets a new one; every intent of a booking
 * stays known (inv_booking_of_payment) and the last is booking.payment_id. */
int inv_payment_request_decide(const inv_state_t *s, const char *booking_id, const char *provider,
                               const cmd_ctx_t *ctx, cmd_result_t *out);

/* A verified provider webhook about a payment of this shard. */
typedef struct {
    const char *payment_id;
    const char *provider_event_id; /* duplicates are no-ops (RULE-PAY-1) */
    const char *type;              /* "payment.succeeded", "payment.failed", "refund.succeeded" */
    int64_t amount;
    const char *currency;
    const char **ticket_ids; /* fresh ids for the tickets a confirm issues */
    uint32_t n_ticket_ids;   /* >= the booking's quantity */
} inv_webhook_cmd_t;

/* succeeded: held → BookingConfirmed with one ticket per seat/unit (RULE-TKT-1);
 * expired (also lazily) or released after a failed payment, with every seat
 * still free → BookingConfirmed reacquired; else (seats taken, released by
 * the holder or an admin, event cancelled) BookingRefundDue with the amount
 * paid (RULE-PAY-2). Already confirmed/refund-due/cancelled/refunded → no
 * events, whatever the payment or provider event. An amount or currency that
 * is not the booking total's → validation_failed (RULE-PAY-1).
 * failed: while held, PaymentFailed, plus HoldReleased("payment_failed") when
 * it is the booking's current intent and the hold is live; else no events.
 * refund.succeeded: RefundCompleted when a refund is due (amount = refund and
 * the booking's currency, else validation_failed). A provider event id already recorded on the
 * booking → no events. out->ref is the booking id.
 * Rejections: not_found (unknown payment), validation_failed (amount,
 * currency, type, ticket_ids). inventory_pay.c explains the choices. */
int inv_webhook_decide(const inv_state_t *s, const inv_webhook_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out);

/* DELETE /bookings/{id}: held → HoldReleased("holder", or "admin" when an
 * admin cancels another's); confirmed → BookingCancelled with the refund of
 * RULE-REF-1 (policy recorded at purchase, fee kept; on a cancelled shard the
 * total, reason "event_cancelled"). Rejections: not_found, forbidden,
 * hold_expired, conflict. */
int inv_cancel_booking_decide(const inv_state_t *s, const char *booking_id, const cmd_ctx_t *ctx,
                              cmd_result_t *out);

/* RULE-REF-1 arithmetic: what goes back when the holder cancels at now: the
 * policy step with the highest min_hours_before that starts_at − now still
 * meets gives the percent of (total − service_fee), half-up; none → 0. */
int64_t inv_refund_amount(const inv_state_t *s, const inv_booking_t *b, int64_t now);

/* The event is cancelled: InventoryCancelled first, then per call at most max
 * bookings (0 or over 200: 200): BookingCancelled(refund = total, reason) for
 * confirmed, HoldReleased(reason) for held (HoldExpired for a hold already
 * past its expiry). reason NULL: "event_cancelled". No events when all done
 * (and for a shard never opened). */
int inv_cancel_all_decide(const inv_state_t *s, const char *reason, uint32_t max,
                          const cmd_ctx_t *ctx, cmd_result_t *out);

/* The event's times changed (PATCH): InventoryRescheduled; no events when
 * unchanged or not opened. A sale that ended at the start moves with it.
 * Rejection: validation_failed (ends before it starts). */
int inv_reschedule_decide(const inv_state_t *s, int64_t starts_at, int64_t ends_at,
                          const cmd_ctx_t *ctx, cmd_result_t *out);

/* RULE-TKT-2. The code's signature is checked before (by the caller). */
typedef enum {
    INV_CHECKIN_ADMITTED = 0,
    INV_CHECKIN_ALREADY_USED,
    INV_CHECKIN_REVOKED,
    INV_CHECKIN_INVALID,
} inv_checkin_result_t;

typedef struct {
    const char *ticket_id;
    uint32_t version; /* from the code */
    const char *gate;
    const char *nonce;
} inv_checkin_cmd_t;

/* Emits TicketCheckedIn on first admission. *result tells the answer; for
 * already_used (and a same-nonce retry, answered admitted again) *first
 * points at the ticket holding the first scan's time and gate (else NULL).
 * Unknown ticket → invalid; transferred, cancelled, another version than
 * the ticket's, or any ticket of a cancelled shard → revoked. Never a
 * rejection. */
int inv_checkin_decide(const inv_state_t *s, const inv_checkin_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out, inv_checkin_result_t *result, const inv_ticket_t **first);

/* RULE-TKT-3: new ticket id is ctx->new_id (and out->ref), version + 1.
 * Rejections, in this order: not_found, forbidden (not the holder; admin
 * may), validation_failed field to_email (no recipient, or the holder
 * itself), conflict (used, cancelled, transferred), transfer_closed (at/after
 * starts_at − transfer_cutoff_hours, or the shard is cancelled). */
int inv_transfer_decide(const inv_state_t *s, const char *ticket_id, const char *to_user_id,
                        const cmd_ctx_t *ctx, cmd_result_t *out);

/* ---- user and unique claims ---- */

/* RULE-AUTH-1: 5 consecutive failed logins lock the account for 15 minutes
 * from the 5th; a refresh token lives 7 days from its issue. */
#define USER_LOCK_FAILURES 5
#define USER_LOCK_MS (15 * 60 * 1000LL)
#define USER_REFRESH_TTL_MS (7 * 24 * 60 * 60 * 1000LL)
/* Bounds of a user's state: the live sessions (refresh-token families) a
 * user may hold at once, and the spent tokens remembered per family for
 * reuse detection. A login past USER_MAX_FAMILIES revokes the oldest
 * session (reason "limit"); a token spent more than USER_MAX_SPENT rotations
 * ago is no longer recognised as reuse, only refused as unknown. */
#define USER_MAX_FAMILIES 32
#define USER_MAX_SPENT 64

/* A refresh token as the state knows it: the hex SHA-256 of the token
 * (never the token) and when it stops being redeemable. */
typedef struct {
    char hash[65];
    int64_t expires_at;
} user_token_t;

/* A refresh-token family: one login's chain of rotated tokens. Only the
 * current token redeems; presenting a spent one revokes the family. A
 * revoked or expired family is dropped from the state (its tokens are then
 * unknown, which is refused the same way). */
typedef struct {
    char id[65];
    user_token_t current;
    user_token_t *spent; /* oldest first, at most USER_MAX_SPENT (heap) */
    uint32_t n_spent, cap_spent;
} user_family_t;

typedef struct {
    int exists;
    evt_user_registered_t u; /* u.roles: the current roles (RolesChanged applied) */
    int blocked;             /* RULE-AUTH-2: no holds, no payments */
    uint32_t failures;       /* consecutive failed logins (RULE-AUTH-1) */
    int64_t last_failure_at;
    user_family_t *families; /* live sessions, oldest first (heap) */
    uint32_t n_families, cap_families;
    ts_arena_t arena;
} cmd_user_state_t;

/* u->user_id is replaced by ctx->new_id... unless set; password_hash must
 * already be a hash. Rejections: validation_failed, conflict. */
int user_register_decide(const cmd_user_state_t *s, const evt_user_registered_t *u,
                         const cmd_ctx_t *ctx, cmd_result_t *out);

/* ---- accounts: commands/user_auth.c (RULE-AUTH-1, RULE-AUTH-2) ----
 *
 * Passwords are checked by the caller (scrypt is slow and must not hold a
 * lane); tokens are made by the caller, and only their hex SHA-256 reaches
 * a decision. Some decisions write events and still mean "refused": a
 * wrong password (LoginFailed) and a reused refresh token (RefreshRevoked
 * "reuse") are facts the log must keep, answered 401. */

/* The instant the account unlocks, or 0 when it is not locked at now. */
int64_t user_locked_until(const cmd_user_state_t *s, int64_t now);
/* A live family by id, or NULL. Valid until the state changes. */
const user_family_t *user_family_find(const cmd_user_state_t *s, const char *family_id);

typedef struct {
    int password_ok;        /* the caller's scrypt check */
    const char *family_id;  /* the new session */
    const char *token_hash; /* hex SHA-256 of its first refresh token */
} user_login_cmd_t;

/* RULE-AUTH-1. Locked (even with the right password): rejection
 * rate_limited, no events. Wrong password: LoginFailed (the 5th locks).
 * Right password: RefreshIssued, which also ends the run of failures;
 * preceded by RefreshRevoked("limit") of the oldest session when the user
 * already holds USER_MAX_FAMILIES. ref = the user id. Rejections:
 * unauthorized (no such user), rate_limited, validation_failed. */
int user_login_decide(const cmd_user_state_t *s, const user_login_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out);

typedef struct {
    const char *family_id;
    const char *token_hash;     /* the presented token */
    const char *new_token_hash; /* refresh: its successor */
} user_refresh_cmd_t;

/* RULE-AUTH-1: the current, unexpired token of a live family rotates:
 * RefreshRotated (the successor lives USER_REFRESH_TTL_MS from now). A
 * spent, unexpired token of a live family is reuse: RefreshRevoked("reuse")
 * for the whole family, and the answer is still a refusal. Rejections:
 * unauthorized (unknown, expired or revoked), validation_failed. */
int user_refresh_decide(const cmd_user_state_t *s, const user_refresh_cmd_t *c,
                        const cmd_ctx_t *ctx, cmd_result_t *out);

/* Ends a session: RefreshRevoked("logout") when the token (current or
 * spent, unexpired) belongs to a live family; no events when the session
 * is already over. Rejections: forbidden (not the user, not admin),
 * unauthorized (no such user), validation_failed. */
int user_logout_decide(const cmd_user_state_t *s, const user_refresh_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out);

/* RULE-AUTH-2: an admin grants one role: RolesChanged with the new set
 * (attendee always kept); no events when the user has it already.
 * Rejections: forbidden (not admin), not_found, validation_failed (not one
 * known role). */
int user_grant_role_decide(const cmd_user_state_t *s, uint32_t role, const cmd_ctx_t *ctx,
                           cmd_result_t *out);

/* RULE-AUTH-2: an admin blocks (blocked = 1) or unblocks a user:
 * UserBlocked / UserUnblocked; no events when already so. Rejections:
 * forbidden (not admin), not_found. */
int user_block_decide(const cmd_user_state_t *s, int blocked, const char *reason,
                      const cmd_ctx_t *ctx, cmd_result_t *out);

typedef struct {
    int exists;
    evt_claimed_t c;
    ts_arena_t arena;
} cmd_claim_state_t;

/* Claims a unique value for owner. Rejection: conflict when claimed by
 * someone else; no events when already claimed by owner. */
int claim_decide(const cmd_claim_state_t *s, const char *kind, const char *owner,
                 const cmd_ctx_t *ctx, cmd_result_t *out);

/* ---- quota (RULE-HOLD-4): tix.quota.<event>.<bucket>, commands/quota.c ----
 *
 * The tickets of one event's users, by user and booking. An aggregate holds
 * one bucket of the event's users (eng_quota_subject picks the bucket from
 * the user id), so that group commit batches many users' takes into one
 * append; every decision still concerns one user's entries only, so users
 * who share a bucket never affect each other's decisions.
 *
 * Per booking: a hold takes quota (QuotaTaken, with the hold's expiry), a
 * confirm keeps it for good (QuotaConfirmed), a release, expiry, cancel or
 * failed payment gives it back (QuotaReturned). A waitlist offer is a hold
 * and takes quota the same way (RULE-WL-1).
 *
 * Per ticket moved by a transfer (RULE-TKT-3): a sold unit counts for the
 * user who holds its ticket. The recipient takes quota for the new ticket
 * (QuotaTaken with ticket_id, checked against max_per_user like a hold)
 * and keeps it once the transfer is in the log (QuotaConfirmed with
 * ticket_id); the old ticket's unit leaves its holder (QuotaReturned with
 * ticket_id): a ticket received by transfer gives its own entry back; a
 * ticket its booking issued lowers the booking's units by one (the
 * booking's "out").
 *
 * A user's units in use at now = the units of the confirmed entries + those
 * of the taken entries whose expires_at > now (held quota lapses with its
 * hold, lazily, like the seats: RULE-HOLD-3). An entry's units are its
 * quantity, less its tickets gone by transfer.
 *
 * Layout: entries[] holds every booking and moved ticket ever seen, in the
 * order first seen; by_key maps a booking id (or, for a ticket's entry, the
 * ticket id) to its entry. users[] holds one record per user (by_user maps
 * the id to it): the user's latest entry, each entry linking to the same
 * user's previous one (prev_of_user), and the sums a take needs, kept by
 * apply: confirmed units, taken units and the earliest expiry among the
 * taken entries. Before that expiry every taken unit is in use and a take
 * reads the sums; from it on, the take walks that user's entries, and no
 * other user's. Events without user_id (none were written in production)
 * are ignored. */

typedef enum { QUOTA_TAKEN = 0, QUOTA_CONFIRMED = 1, QUOTA_RETURNED = 2 } quota_status_t;

/* What an entry stands for. */
typedef enum {
    QUOTA_BOOKING = 0, /* a booking's units (key: the booking id) */
    QUOTA_TICKET = 1,  /* one ticket received by transfer (key: the ticket id) */
    QUOTA_GONE = 2,    /* a ticket its booking issued, gone from the booking's user by a
                        * transfer (key: the ticket id): counted in the booking's out,
                        * always returned, never in use itself */
} quota_kind_t;

typedef struct {
    const char *key;        /* booking id, or ticket id (QUOTA_TICKET, QUOTA_GONE) */
    const char *booking_id; /* in the state arena */
    const char *ticket_id;  /* NULL for QUOTA_BOOKING */
    const char *user_id;    /* in the state arena, shared by the user's entries */
    uint32_t quantity;      /* 1 for a ticket */
    uint32_t out;           /* QUOTA_BOOKING: its tickets gone by transfer */
    int64_t expires_at;
    quota_status_t status;
    quota_kind_t kind;
    int32_t user;         /* index into users */
    int32_t prev_of_user; /* the same user's previous entry, -1 for none */
} quota_entry_t;

typedef struct {
    const char *user_id;  /* in the state arena */
    int32_t last;         /* the user's latest entry */
    uint64_t confirmed;   /* units of the confirmed entries */
    uint64_t taken;       /* units of the taken entries, lapsed or not */
    int64_t first_expiry; /* earliest expires_at of a taken entry; INT64_MAX: none */
} quota_user_t;

typedef struct {
    int exists;
    const char *event_id;
    quota_entry_t *entries;
    uint32_t n_entries, cap_entries;
    quota_user_t *users;
    uint32_t n_users, cap_users;
    ts_map_t by_key;  /* booking id, or a ticket's id → index into entries */
    ts_map_t by_user; /* user id → index into users */
    ts_arena_t arena;
} cmd_quota_state_t;

/* The units user_id has in use at now (see above); 0 for an unknown user. */
uint32_t quota_in_use(const cmd_quota_state_t *s, const char *user_id, int64_t now);
/* The units an entry stands for: its quantity less its tickets gone. */
uint32_t quota_entry_units(const quota_entry_t *e);
/* An entry by key (booking id, or a moved ticket's id), or NULL. */
const quota_entry_t *quota_entry_find(const cmd_quota_state_t *s, const char *key);

/* QuotaTaken for t (event, booking, user, quantity >= 1, expires_at; with
 * ticket_id: the recipient's unit of a ticket transferred to t->user_id,
 * quantity 1, RULE-TKT-3) when the units t->user_id has in use plus
 * t->quantity stay within max_per_user. An entry (the booking's, or the
 * ticket's) whose quota is taken or confirmed already emits nothing (ref =
 * the booking, or the ticket). Rejections: validation_failed (quantity 0,
 * no booking, no user, another user's booking or ticket, a ticket gone),
 * limit_exceeded (limit = max_per_user). */
int quota_take_decide(const cmd_quota_state_t *s, const evt_quota_t *t, uint32_t max_per_user,
                      const cmd_ctx_t *ctx, cmd_result_t *out);

/* The booking is sold, or (c->ticket_id) the ticket's transfer is in the
 * log: QuotaConfirmed (with c->quantity, which also counts an entry that
 * never took quota: then c->user_id is required). The event names the
 * entry's user as the quota knows it. No events when already confirmed, nor
 * for a ticket's entry already returned (the ticket moved on or was
 * revoked). Rejection: validation_failed (no booking, an unknown entry and
 * no user, a ticket gone). */
int quota_confirm_decide(const cmd_quota_state_t *s, const evt_quota_t *c, const cmd_ctx_t *ctx,
                         cmd_result_t *out);

/* The booking ended unsold (released, expired, cancelled, payment failed):
 * QuotaReturned with the units it still held, naming the booking's user. No
 * events when the booking has no quota in use (a return repeated is a
 * no-op). */
int quota_return_decide(const cmd_quota_state_t *s, const char *event_id, const char *booking_id,
                        const cmd_ctx_t *ctx, cmd_result_t *out);

/* RULE-TKT-3 with RULE-HOLD-4: the unit of ticket t->ticket_id (of booking
 * t->booking_id, event t->event_id) leaves its holder: the ticket was
 * transferred on, or cancelled. issued is 1 for a ticket its booking issued
 * (version 1), 0 for one received by transfer. QuotaReturned with
 * ticket_id, quantity 1, naming the user the unit counted for: a ticket
 * received by transfer gives its own entry back; an issued ticket takes one
 * unit off its booking's entry (which must still hold it). No events when
 * nothing counts the unit (already returned or gone, the booking's quota
 * given back, a ticket received before transfers moved quota). Rejection:
 * validation_failed (no event, booking or ticket). */
int quota_ticket_return_decide(const cmd_quota_state_t *s, const evt_quota_t *t, int issued,
                               const cmd_ctx_t *ctx, cmd_result_t *out);

/* ---- best available (commands/best.c) ---- */

/* A placement found by inv_best_pick. */
typedef struct {
    int32_t row;      /* row index in the section, -1 when none */
    uint32_t first;   /* seat number of the first seat (1-based) */
    uint32_t orphans; /* single free seats the placement leaves (0..2) */
    uint32_t n_free;  /* eligible free seats in the section at now */
} inv_best_pick_t;

/* Picks quantity adjacent free seats in one row of a seated shard at now
 * (RULE-HOLD-1): among all placements, the fewest single free seats left
 * next to it (an orphan is avoided when any placement avoids it), then, when
 * accessible is 0, the fewest accessible seats used (kept for those who need
 * them), then the front row, then the leftmost. accessible = 1 takes
 * accessible seats only. Returns 0 with *pick set, or -1 when no placement
 * exists (pick->row = -1, pick->n_free still counted). */
int inv_best_pick(const inv_state_t *s, uint32_t quantity, int accessible, int64_t now,
                  inv_best_pick_t *pick);

/* POST /events/{id}/holds/best on one shard, race-free: picks in the
 * shard's lane with inv_best_pick, then places the hold with
 * inv_hold_decide (c->quantity units; c->seats are ignored). A standing
 * section holds c->quantity units. A command id already seen returns the
 * same booking. Rejections: those of inv_hold_decide; sold_out when fewer
 * eligible free seats than quantity, seat_unavailable (no seats named) when
 * enough but none adjacent in one row. */
int inv_best_hold_decide(const inv_state_t *s, const inv_hold_cmd_t *c, int accessible,
                         const cmd_ctx_t *ctx, cmd_result_t *out);

/* ---- waitlist (RULE-WL-1): tix.wait.<event>.<tier>, commands/waitlist.c ----
 *
 * One waitlist per event and tier: entries in FIFO order (the order of
 * WaitlistJoined). An entry is waiting until a saga offers it seats freed on
 * one of the tier's shards (a hold in the entry's user's name, placed with
 * offer_entry; WaitlistOffered records its booking and expiry). It then
 * leaves the list when the offer booking is confirmed (WaitlistFulfilled),
 * when the offer lapses, expired or released (WaitlistOfferLapsed: the seats
 * pass to the next entry), or when the user leaves (WaitlistLeft). An
 * offer is a hold like any other: it is made only to a user who may hold
 * (RULE-AUTH-2) and within the user's max_per_user (RULE-HOLD-4); a waiting
 * entry whose user is blocked, or at the cap, is passed over and leaves
 * (WaitlistLeft with a reason, wait_pass_decide).
 *
 * An entry counts as on the list at time now while it waits, or while its
 * offer is open (now < offer expiry): like a hold (RULE-HOLD-3), an offer
 * ends at its expiry instant, before WaitlistOfferLapsed is recorded. The
 * head, the entry the next freed seats go to, is the first waiting entry. */

typedef enum {
    WAIT_WAITING = 0,
    WAIT_OFFERED = 1,
    WAIT_LEFT = 2,
    WAIT_LAPSED = 3,
    WAIT_FULFILLED = 4,
} wait_entry_status_t;

typedef struct {
    const char *entry_id; /* "wl-<event>-<tier>-<rand>"; strings in the state arena */
    const char *user_id;
    uint32_t quantity;
    int64_t joined_at;
    wait_entry_status_t status;
    const char *booking_id;   /* the offer's booking (kept after it ends), or NULL */
    int64_t offer_expires_at; /* the offer booking's expiry */
    const char *end_reason;   /* left: why it was passed over (wait_pass_decide), or NULL */
} wait_entry_t;

typedef struct {
    const char *event_id; /* set by the first WaitlistJoined */
    const char *tier;
    wait_entry_t *entries; /* FIFO: join order, gone entries included */
    uint32_t n_entries, cap_entries;
    uint32_t head;     /* entries before this index have left the list for good */
    ts_map_t by_entry; /* entry id → index */
    ts_map_t by_user;  /* user id → index of the user's latest entry */
    ts_arena_t arena;
} wait_state_t;

typedef struct {
    const char *event_id;
    const char *tier;
    const char *entry_id;   /* leave, offer, lapse, fulfil */
    uint32_t quantity;      /* join: 1..max_per_order */
    uint32_t max_per_order; /* join: the event's policy (the caller reads it) */
    const char *booking_id; /* offer, lapse, fulfil: the offer booking */
    int64_t expires_at;     /* offer: the offer booking's expiry */
    const char *reason;     /* pass: why no offer can be made (wait_pass_decide) */
} wait_cmd_t;

/* RULE-WL-1: joins the end of the list as entry ctx->new_id, for ctx->actor.
 * An entry id already on the list (the same command again) returns no
 * events and ref = that entry. Rejections: validation_failed (quantity 0),
 * limit_exceeded (quantity > max_per_order, with the limit), conflict (the
 * user already has an entry on this list). ref = the entry id. */
int wait_join_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                     cmd_result_t *out);

/* The entry's user (or an admin) leaves the list: WaitlistLeft. An open
 * offer's hold stays the user's until it ends. Rejections: not_found
 * (unknown entry, or no longer on the list at now), forbidden. */
int wait_leave_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out);

/* The saga offered the waiting entry c->entry_id the hold c->booking_id,
 * open until c->expires_at: WaitlistOffered. The same offer again is a
 * no-op, also after the entry left or the offer ended. Rejection: conflict
 * (the entry is unknown, gone, or has another offer), so the saga can
 * release a hold nobody will be offered. */
int wait_offer_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out);

/* Why the offer saga passes an entry over (WaitlistLeft.reason). */
#define WAIT_PASS_BLOCKED "blocked"               /* RULE-AUTH-2: its user is blocked */
#define WAIT_PASS_LIMIT_EXCEEDED "limit_exceeded" /* RULE-HOLD-4: past max_per_user */

/* RULE-WL-1 with RULE-AUTH-2 and RULE-HOLD-4: no offer can be made to the
 * waiting entry c->entry_id, for c->reason (WAIT_PASS_*: its user is
 * blocked, or the offer would take the user past max_per_user): the entry
 * leaves the list (WaitlistLeft with the reason), and the seats go to the
 * next entry, as an unclaimed offer's do. The user may join again. No
 * events unless the entry is waiting (the same pass again, an entry that
 * left or holds an offer). Rejection: validation_failed (no reason). */
int wait_pass_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                     cmd_result_t *out);

/* The offer booking c->booking_id expired or was released: the entry leaves
 * the list (WaitlistOfferLapsed) and the seats pass on. No events unless the
 * entry holds that open offer (a redelivery, a left entry). */
int wait_lapse_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out);

/* The offer booking c->booking_id was confirmed: WaitlistFulfilled. No
 * events unless the entry holds that offer. */
int wait_fulfil_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out);

/* An entry by id, or NULL. Valid until the state changes. */
const wait_entry_t *wait_entry_find(const wait_state_t *s, const char *entry_id);
/* 1 while the entry is on the list at now (waiting, or its offer open). */
int wait_entry_active(const wait_entry_t *e, int64_t now);
/* The entry's 1-based place among the entries on the list at now; 0 when
 * it is not on the list. */
uint32_t wait_position(const wait_state_t *s, const char *entry_id, int64_t now);
/* The head: the first waiting entry (the next freed seats go to it), or
 * NULL. Entries with an open offer are passed over. */
const wait_entry_t *wait_head(const wait_state_t *s);
/* "waiting", "offered", "left", "lapsed", "fulfilled". */
const char *wait_entry_status_name(wait_entry_status_t st);

/* Lower-cases an e-mail address into the arena (RULE-AUTH-1: uniqueness is
 * case-insensitive); NULL when it is not a plausible address. */
const char *user_email_normalize(ts_arena_t *a, const char *email);

#endif
