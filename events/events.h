/*
 * events — the domain events of Turnstile and the commit that carries them.
 *
 * An event is a fact that happened to one aggregate (venue, event, inventory
 * shard, user, unique claim). A commit (evt_commit_t) is one JetStream
 * message on its aggregate's subject and holds 1..N events; the codec
 * (codec.h) turns it into FlatBuffers bytes (schemas/commit.fbs) and back.
 *
 * Layout. Every struct here is plain data: strings are NUL-terminated and
 * owned by whoever filled the struct (usually an arena: see ts_arena_t); arrays
 * are a count plus a pointer. Times are ms since the epoch (UTC); 0 means
 * "not set". Money is integer minor units (RULE-PRICE-1).
 *
 * Invariants. Once in the log an event never changes: new fields may be added
 * at the end of a schema table, nothing is removed or renumbered (see
 * tests/fixtures and schemas/commit.fbs).
 *
 * No I/O, no clock, no globals: this folder is part of the pure domain.
 */
#ifndef TS_EVENTS_H
#define TS_EVENTS_H

#include "base/base.h"

#include <stdint.h>

/* The event types, with their names as they appear in JSON and Loki. */
#define EVT_TYPE_LIST(X)                                                                           \
    X(EVT_VENUE_CREATED, 1, "VenueCreated")                                                        \
    X(EVT_EVENT_CREATED, 2, "EventCreated")                                                        \
    X(EVT_EVENT_PUBLISHED, 3, "EventPublished")                                                    \
    X(EVT_INVENTORY_OPENED, 4, "InventoryOpened")                                                  \
    X(EVT_HOLD_PLACED, 5, "HoldPlaced")                                                            \
    X(EVT_HOLD_RELEASED, 6, "HoldReleased")                                                        \
    X(EVT_HOLD_EXPIRED, 7, "HoldExpired")                                                          \
    X(EVT_USER_REGISTERED, 8, "UserRegistered")                                                    \
    X(EVT_CLAIMED, 9, "Claimed")                                                                   \
    X(EVT_EVENT_UPDATED, 10, "EventUpdated")                                                       \
    X(EVT_EVENT_CANCELLED, 11, "EventCancelled")                                                   \
    X(EVT_PROMO_CREATED, 12, "PromoCreated")                                                       \
    X(EVT_PROMO_USED, 13, "PromoUsed")                                                             \
    X(EVT_PROMO_RELEASED, 14, "PromoReleased")                                                     \
    X(EVT_PAYMENT_REQUESTED, 15, "PaymentRequested")                                               \
    X(EVT_PAYMENT_FAILED, 16, "PaymentFailed")                                                     \
    X(EVT_BOOKING_CONFIRMED, 17, "BookingConfirmed")                                               \
    X(EVT_BOOKING_REFUND_DUE, 18, "BookingRefundDue")                                              \
    X(EVT_BOOKING_CANCELLED, 19, "BookingCancelled")                                               \
    X(EVT_REFUND_COMPLETED, 20, "RefundCompleted")                                                 \
    X(EVT_TICKET_CHECKED_IN, 21, "TicketCheckedIn")                                                \
    X(EVT_TICKET_TRANSFERRED, 22, "TicketTransferred")                                             \
    X(EVT_INVENTORY_CANCELLED, 23, "InventoryCancelled")                                           \
    X(EVT_INVENTORY_RESCHEDULED, 24, "InventoryRescheduled")                                       \
    X(EVT_LOGIN_FAILED, 25, "LoginFailed")                                                         \
    X(EVT_ROLES_CHANGED, 26, "RolesChanged")                                                       \
    X(EVT_USER_BLOCKED, 27, "UserBlocked")                                                         \
    X(EVT_USER_UNBLOCKED, 28, "UserUnblocked")                                                     \
    X(EVT_REFRESH_ISSUED, 29, "RefreshIssued")                                                     \
    X(EVT_REFRESH_ROTATED, 30, "RefreshRotated")                                                   \
    X(EVT_REFRESH_REVOKED, 31, "RefreshRevoked")                                                   \
    X(EVT_QUOTA_TAKEN, 32, "QuotaTaken")                                                           \
    X(EVT_QUOTA_CONFIRMED, 33, "QuotaConfirmed")                                                   \
    X(EVT_QUOTA_RETURNED, 34, "QuotaReturned")                                                     \
    X(EVT_WAITLIST_JOINED, 35, "WaitlistJoined")                                                   \
    X(EVT_WAITLIST_LEFT, 36, "WaitlistLeft")                                                       \
    X(EVT_WAITLIST_OFFERED, 37, "WaitlistOffered")                                                 \
    X(EVT_WAITLIST_OFFER_LAPSED, 38, "WaitlistOfferLapsed")                                        \
    X(EVT_WAITLIST_FULFILLED, 39, "WaitlistFulfilled")

typedef enum {
    EVT_NONE = 0,
#define EVT_TYPE_ENUM(name, value, text) name = value,
    EVT_TYPE_LIST(EVT_TYPE_ENUM)
#undef EVT_TYPE_ENUM
} evt_type_t;

/* The highest evt_type_t value this build knows. */
#define EVT_TYPE_MAX EVT_WAITLIST_FULFILLED

/* "HoldPlaced" etc.; "Unknown" for anything else. */
const char *evt_type_name(evt_type_t t);

typedef enum { EVT_SEATED = 0, EVT_STANDING = 1 } evt_section_kind_t;

typedef struct {
    const char *label;     /* [A-Za-z0-9_]{1,16} */
    uint32_t seats;        /* seats numbered 1..seats */
    uint32_t n_accessible; /* accessible seat numbers */
    uint32_t *accessible;
} evt_row_t;

typedef struct {
    const char *key; /* [A-Za-z0-9_]{1,16} */
    const char *name;
    evt_section_kind_t kind;
    uint32_t capacity; /* standing: GA units; seated: sum of row seats */
    uint32_t n_rows;   /* seated only */
    evt_row_t *rows;
} evt_section_t;

typedef struct {
    const char *venue_id;
    const char *name;
    const char *city;
    const char *country;
    uint32_t n_sections;
    evt_section_t *sections;
} evt_venue_created_t;

typedef struct {
    const char *key;
    const char *name;
    ts_money_t price;
    uint32_t n_sections;
    const char **sections;  /* section keys sold in this tier */
    int64_t sale_starts_at; /* 0: on sale from publish */
    int64_t sale_ends_at;   /* 0: until the event starts */
} evt_tier_t;

typedef struct {
    uint32_t min_hours_before;
    uint32_t percent;
} evt_refund_step_t;

typedef struct {
    uint32_t max_per_order;         /* default 4 */
    uint32_t max_per_user;          /* default 8 */
    uint32_t hold_minutes;          /* default 20 */
    uint32_t transfer_cutoff_hours; /* default 48 */
    uint32_t service_fee_bps;       /* default 600 */
    uint32_t vat_bps;               /* default 500 */
    uint32_t n_refund;
    evt_refund_step_t *refund;
} evt_policy_t;

typedef struct {
    const char *event_id;
    const char *venue_id;
    const char *organizer_id;
    const char *title;
    const char *description;
    const char *genre;
    const char *city; /* copied from the venue at creation, for search */
    int64_t starts_at;
    int64_t ends_at;
    uint32_t n_tiers;
    evt_tier_t *tiers;
    evt_policy_t policy;
} evt_event_created_t;

/* RULE-EVT-1: the venue's layout is frozen into the event at publish.
 * RULE-TKT-1: ticket_key is the base64 Ed25519 public key that verifies the
 * event's ticket codes (the private key stays in the engine's data dir). */
typedef struct {
    const char *event_id;
    uint32_t n_sections;
    evt_section_t *sections;
    const char *ticket_key;
} evt_event_published_t;

/* The first event on an inventory shard tix.inv.<event>.<section>: the
 * frozen section plus everything a hold needs to decide alone. */
typedef struct {
    const char *event_id;
    evt_section_t section;
    const char *tier_key;
    ts_money_t price;
    int64_t sale_starts_at;
    int64_t sale_ends_at;
    uint32_t max_per_order;
    uint32_t hold_minutes;
    uint32_t service_fee_bps;
    uint32_t vat_bps;
    /* v2: copied from the event so the shard decides tickets, transfers
     * (RULE-TKT-3) and refunds (RULE-REF-1) alone */
    int64_t starts_at;
    int64_t ends_at;
    uint32_t max_per_user;
    uint32_t transfer_cutoff_hours;
    uint32_t n_refund;
    evt_refund_step_t *refund;
} evt_inventory_opened_t;

typedef struct {
    const char *booking_id;
    const char *event_id;
    const char *section;
    const char *user_id;
    const char *command_id; /* the command that placed it (RULE-HOLD-5) */
    const char *tier_key;
    int64_t created_at;
    int64_t expires_at; /* RULE-HOLD-3 */
    uint32_t n_seats;   /* seated: seat ids "<section>-<row>-<number>" */
    const char **seats;
    uint32_t quantity; /* number of items: n_seats, or GA units */
    ts_money_t unit_price;
    int64_t subtotal; /* RULE-PRICE-1, all in unit_price.currency */
    int64_t discount;
    int64_t service_fee;
    int64_t total;
    int64_t vat_included;
    const char *promo_code;  /* v2, RULE-PROMO-1: NULL when none */
    const char *offer_entry; /* v2, RULE-WL-1: the waitlist entry offered this hold */
} evt_hold_placed_t;

/* HoldReleased and HoldExpired share this shape; reason (v2) is written for
 * HoldReleased only: "holder", "payment_failed", ... */
typedef struct {
    const char *booking_id;
    const char *reason;
} evt_hold_ended_t;

typedef struct {
    const char *user_id;
    const char *email; /* as given; uniqueness is case-insensitive */
    const char *name;
    const char *password_hash; /* "scrypt$N$r$p$salt_hex$hash_hex" */
    uint32_t roles;            /* bit set of evt_role_t */
} evt_user_registered_t;

typedef enum {
    EVT_ROLE_ATTENDEE = 1u << 0,
    EVT_ROLE_ORGANIZER = 1u << 1,
    EVT_ROLE_BOX_OFFICE = 1u << 2,
    EVT_ROLE_AUDITOR = 1u << 3,
    EVT_ROLE_ADMIN = 1u << 4,
} evt_role_t;

/* A unique claim (tix.claim.<kind>.<sha256>) names its owner. */
typedef struct {
    const char *kind;  /* "email" */
    const char *owner; /* e.g. the user id */
} evt_claimed_t;

/* ---- v2: the complete domain ---- */

/* EventUpdated has the shape of EventCreated (evt_event_created_t): the
 * whole new description after a PATCH. */

typedef struct {
    const char *event_id;
    const char *reason;
} evt_event_cancelled_t;

/* PromoCreated (RULE-PROMO-1): percent_off (1..100) or amount_off (minor
 * units, the event's currency), never both. */
typedef struct {
    const char *event_id;
    const char *code;
    uint32_t percent_off;
    int64_t amount_off;
    uint32_t max_uses;
    int64_t valid_from; /* 0: from creation */
    int64_t valid_until;
} evt_promo_t;

/* PromoUsed, PromoReleased. */
typedef struct {
    const char *event_id;
    const char *code;
    const char *booking_id;
} evt_promo_use_t;

/* PaymentRequested, PaymentFailed, BookingRefundDue, RefundCompleted: a
 * payment's facts on its booking's shard (RULE-PAY-1, -2). */
typedef struct {
    const char *booking_id;
    const char *payment_id;
    const char *provider;          /* "simulated" */
    const char *provider_event_id; /* the webhook's id; NULL for requests */
    int64_t amount;
    char currency[4];
    int64_t at;
    const char *reason;
} evt_payment_t;

typedef struct {
    const char *ticket_id;
    const char *seat; /* NULL for a GA unit */
    const char *holder_id;
    uint32_t version;
} evt_ticket_t;

/* RULE-TKT-1, RULE-PAY-2 */
typedef struct {
    const char *booking_id;
    const char *payment_id;
    const char *provider_event_id;
    int64_t at;
    int reacquired;
    uint32_t n_tickets;
    evt_ticket_t *tickets;
} evt_booking_confirmed_t;

/* RULE-REF-1 */
typedef struct {
    const char *booking_id;
    int64_t refund; /* minor units going back; 0: nothing */
    const char *reason;
    int64_t at;
} evt_booking_cancelled_t;

/* RULE-TKT-2 */
typedef struct {
    const char *ticket_id;
    int64_t at;
    const char *gate;
    const char *nonce;
} evt_ticket_checked_in_t;

/* RULE-TKT-3 */
typedef struct {
    const char *ticket_id;
    const char *new_ticket_id;
    const char *to_user_id;
    uint32_t version;
    int64_t at;
} evt_ticket_transferred_t;

/* InventoryCancelled, InventoryRescheduled. */
typedef struct {
    const char *event_id;
    const char *reason;
    int64_t starts_at;
    int64_t ends_at;
} evt_inventory_change_t;

/* LoginFailed, RolesChanged, UserBlocked, UserUnblocked. */
typedef struct {
    const char *user_id;
    int64_t at;
    uint32_t roles;
    const char *reason;
} evt_user_note_t;

/* RefreshIssued, RefreshRotated, RefreshRevoked (RULE-AUTH-1). */
typedef struct {
    const char *user_id;
    const char *family_id;
    const char *token_hash; /* hex SHA-256 of the token; never the token */
    int64_t expires_at;
    const char *reason;
} evt_refresh_token_t;

/* QuotaTaken, QuotaConfirmed, QuotaReturned (RULE-HOLD-4). */
typedef struct {
    const char *event_id;
    const char *booking_id;
    uint32_t quantity;
    int64_t expires_at;
    const char *user_id; /* the booking's user; NULL in events written before it */
    /* RULE-TKT-3: one ticket's unit moved by a transfer (commit.fbs); NULL:
     * the whole booking's quota */
    const char *ticket_id;
} evt_quota_t;

/* WaitlistJoined, -Left, -Offered, -OfferLapsed, -Fulfilled (RULE-WL-1). */
typedef struct {
    const char *event_id;
    const char *tier;
    const char *entry_id;
    const char *user_id;
    uint32_t quantity;
    int64_t at;
    const char *booking_id;
    int64_t expires_at;
    /* WaitlistLeft: "blocked", "limit_exceeded" when the offer saga passed
     * the entry over; NULL when its user left (commit.fbs) */
    const char *reason;
} evt_waitlist_entry_t;

typedef struct {
    evt_type_t type;
    /* Set only on events of a group commit whose command differs from the
     * commit's own (see evt_commit_t); NULL otherwise. */
    const char *command_id;
    const char *actor;
    union {
        evt_venue_created_t venue_created;
        evt_event_created_t event_created; /* also EventUpdated */
        evt_event_published_t event_published;
        evt_inventory_opened_t inventory_opened;
        evt_hold_placed_t hold_placed;
        evt_hold_ended_t hold_ended; /* released, expired */
        evt_user_registered_t user_registered;
        evt_claimed_t claimed;
        evt_event_cancelled_t event_cancelled;
        evt_promo_t promo;
        evt_promo_use_t promo_use;
        evt_payment_t payment;
        evt_booking_confirmed_t booking_confirmed;
        evt_booking_cancelled_t booking_cancelled;
        evt_ticket_checked_in_t ticket_checked_in;
        evt_ticket_transferred_t ticket_transferred;
        evt_inventory_change_t inventory_change;
        evt_user_note_t user_note;
        evt_refresh_token_t refresh_token;
        evt_quota_t quota;
        evt_waitlist_entry_t waitlist;
    } u;
} evt_event_t;

/* One JetStream message. version counts the commits of the aggregate (1 for
 * the first); prev_hash is the SHA-256 of the previous commit's payload on the
 * same subject (all zero for the first): the per-aggregate hash chain. */
typedef struct {
    const char *subject;
    uint64_t version;
    const char *command_id;
    const char *correlation_id;
    const char *actor;
    int64_t time;
    uint8_t prev_hash[32];
    uint32_t n_events;
    evt_event_t *events;
} evt_commit_t;

/* ---- roles ---- */
/* "attendee" ... "admin" → bit; 0 when unknown. */
uint32_t evt_role_parse(const char *name);
/* Name of one role bit; NULL when not a single known bit. */
const char *evt_role_name(uint32_t bit);

/* The default policy of API.md. */
void evt_policy_defaults(evt_policy_t *p);

/* Deep copy of a section into an arena (strings and arrays). */
void evt_section_copy(ts_arena_t *a, evt_section_t *dst, const evt_section_t *src);

/* Seat ids: "<section>-<row>-<number>". evt_seat_id_parse splits one into
 * the arena; returns 0 on success, -1 when malformed. */
int evt_seat_id_parse(ts_arena_t *a, const char *id, const char **section, const char **row,
                      uint32_t *number);

#endif
