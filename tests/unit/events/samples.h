/*
 * samples.h — fully populated commits for the codec tests, and a deep
 * field-by-field comparison of two commits.
 *
 * One sample per event type (every field set, so a field the codec forgets
 * shows up as a difference) and one group commit. Shared by test_codec.c and
 * test_fixtures.c.
 *
 * FROZEN: tests/fixtures/commit_v1_*.bin were written from these values
 * (`events_test_fixtures --write DIR`), and test_fixtures.c compares the
 * decoded fixtures against them. Never change a value here; add a new sample
 * (and new fixtures) instead.
 *
 * Everything is static data or static inline so each test file can use any
 * part of it.
 */
#ifndef TS_TEST_EVENTS_SAMPLES_H
#define TS_TEST_EVENTS_SAMPLES_H

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "events/events.h"

#include <string.h>

/* RFC 3339 of the times below, for the JSON tests. */
#define SAMPLE_STARTS_AT 1797789600000  /* 2026-12-20T18:00:00Z */
#define SAMPLE_ENDS_AT 1797796800000    /* 2026-12-20T20:00:00Z */
#define SAMPLE_SALE_FROM 1790845200000  /* 2026-10-01T09:00:00Z */
#define SAMPLE_SALE_TO 1797782400000    /* 2026-12-20T16:00:00Z */
#define SAMPLE_HOLD_AT 1793611800000    /* 2026-11-02T09:30:00Z */
#define SAMPLE_HOLD_UNTIL 1793613000000 /* 2026-11-02T09:50:00Z */
#define SAMPLE_COMMIT_AT 1793611800250  /* 2026-11-02T09:30:00.250Z */
#define SAMPLE_PASSWORD_HASH "scrypt$16384$8$1$73616c747973616c74$9f86d081884c7d659a2feaa0c55ad015"

static inline ts_money_t sample_money(int64_t amount)
{
    ts_money_t m = {amount, "EUR"};
    return m;
}

/* A seated section with two rows (accessible seats in both) and a standing one. */
static inline evt_section_t *sample_sections(void)
{
    static uint32_t acc1[] = {1, 2};
    static uint32_t acc2[] = {3};
    static evt_row_t rows[] = {{"1", 2, 2, acc1}, {"2", 3, 1, acc2}};
    static evt_section_t secs[2];
    secs[0] = (evt_section_t){.key = "A",
                              .name = "North Stand",
                              .kind = EVT_SEATED,
                              .capacity = 5,
                              .n_rows = 2,
                              .rows = rows};
    secs[1] = (evt_section_t){.key = "GA", .name = "Floor", .kind = EVT_STANDING, .capacity = 2000};
    return secs;
}

static inline void sample_body(evt_type_t type, evt_event_t *e)
{
    static const char *tier_sections[] = {"A", "GA"};
    static evt_tier_t tiers[2];
    static evt_refund_step_t refund[] = {{168, 100}, {24, 50}};
    static const char *seats[] = {"A-1-1", "A-1-2"};

    memset(e, 0, sizeof *e);
    e->type = type;
    switch (type) {
    case EVT_VENUE_CREATED:
        e->u.venue_created = (evt_venue_created_t){.venue_id = "ven_1",
                                                   .name = "Arena Zagreb",
                                                   .city = "Zagreb",
                                                   .country = "HR",
                                                   .n_sections = 2,
                                                   .sections = sample_sections()};
        break;
    case EVT_EVENT_CREATED:
        tiers[0] = (evt_tier_t){.key = "std",
                                .name = "Standard",
                                .price = sample_money(2500),
                                .n_sections = 1,
                                .sections = tier_sections,
                                .sale_starts_at = SAMPLE_SALE_FROM,
                                .sale_ends_at = SAMPLE_SALE_TO};
        tiers[1] = (evt_tier_t){.key = "floor",
                                .name = "Floor",
                                .price = sample_money(1500),
                                .n_sections = 2,
                                .sections = tier_sections,
                                .sale_starts_at = SAMPLE_SALE_FROM + 1,
                                .sale_ends_at = SAMPLE_SALE_TO - 1};
        e->u.event_created =
            (evt_event_created_t){.event_id = "evt_1",
                                  .venue_id = "ven_1",
                                  .organizer_id = "usr_org",
                                  .title = "Derby",
                                  .description = "The derby, \"live\"\nwith a newline and \xc5\xbe",
                                  .genre = "football",
                                  .city = "Zagreb",
                                  .starts_at = SAMPLE_STARTS_AT,
                                  .ends_at = SAMPLE_ENDS_AT,
                                  .n_tiers = 2,
                                  .tiers = tiers,
                                  .policy = {.max_per_order = 4,
                                             .max_per_user = 8,
                                             .hold_minutes = 20,
                                             .transfer_cutoff_hours = 48,
                                             .service_fee_bps = 600,
                                             .vat_bps = 500,
                                             .n_refund = 2,
                                             .refund = refund}};
        break;
    case EVT_EVENT_PUBLISHED:
        e->u.event_published = (evt_event_published_t){
            .event_id = "evt_1", .n_sections = 2, .sections = sample_sections()};
        break;
    case EVT_INVENTORY_OPENED:
        e->u.inventory_opened = (evt_inventory_opened_t){.event_id = "evt_1",
                                                         .section = sample_sections()[0],
                                                         .tier_key = "std",
                                                         .price = sample_money(2500),
                                                         .sale_starts_at = SAMPLE_SALE_FROM,
                                                         .sale_ends_at = SAMPLE_SALE_TO,
                                                         .max_per_order = 4,
                                                         .hold_minutes = 20,
                                                         .service_fee_bps = 600,
                                                         .vat_bps = 500};
        break;
    case EVT_HOLD_PLACED:
        /* RULE-PRICE-1: 5000 - 500 = 4500; fee 6 % of 4500 = 270; total 4770;
         * VAT 5 % included = 4770 * 500 / 10500 = 227.14 -> 227. */
        e->u.hold_placed = (evt_hold_placed_t){.booking_id = "bkg_1",
                                               .event_id = "evt_1",
                                               .section = "A",
                                               .user_id = "usr_1",
                                               .command_id = "cmd_1",
                                               .tier_key = "std",
                                               .created_at = SAMPLE_HOLD_AT,
                                               .expires_at = SAMPLE_HOLD_UNTIL,
                                               .n_seats = 2,
                                               .seats = seats,
                                               .quantity = 2,
                                               .unit_price = sample_money(2500),
                                               .subtotal = 5000,
                                               .discount = 500,
                                               .service_fee = 270,
                                               .total = 4770,
                                               .vat_included = 227};
        break;
    case EVT_HOLD_RELEASED:
        e->u.hold_ended.booking_id = "bkg_1";
        break;
    case EVT_HOLD_EXPIRED:
        e->u.hold_ended.booking_id = "bkg_2";
        break;
    case EVT_USER_REGISTERED:
        e->u.user_registered = (evt_user_registered_t){.user_id = "usr_1",
                                                       .email = "Ana@Example.org",
                                                       .name = "Ana Horvat",
                                                       .password_hash = SAMPLE_PASSWORD_HASH,
                                                       .roles = EVT_ROLE_ATTENDEE | EVT_ROLE_ADMIN};
        break;
    case EVT_CLAIMED:
        e->u.claimed = (evt_claimed_t){.kind = "email", .owner = "usr_1"};
        break;
    case EVT_NONE:
        break;
    default: /* v2 types: samples_v2.h */
        break;
    }
}

static inline const char *sample_subject(evt_type_t type)
{
    switch (type) {
    case EVT_VENUE_CREATED:
        return "tix.venue.ven_1";
    case EVT_EVENT_CREATED:
    case EVT_EVENT_PUBLISHED:
        return "tix.event.evt_1";
    case EVT_USER_REGISTERED:
        return "tix.user.usr_1";
    case EVT_CLAIMED:
        return "tix.claim.email.4b6d3bd2d1b5ec63c4cbcbcd8e8a4e2f0b04f2a5f1b7e6cf3d1e2a9c8b7d6e5f";
    default:
        return "tix.inv.evt_1.A";
    }
}

/* A commit of the one event *ev of type `type`, every commit field set. */
static inline evt_commit_t sample_commit(evt_type_t type, evt_event_t *ev)
{
    evt_commit_t c;
    memset(&c, 0, sizeof c);
    sample_body(type, ev);
    c.subject = sample_subject(type);
    c.version = 40 + (uint64_t)type;
    c.command_id = "cmd_1";
    c.correlation_id = "cor_1";
    c.actor = "usr_1";
    c.time = SAMPLE_COMMIT_AT;
    for (size_t i = 0; i < sizeof c.prev_hash; i++)
        c.prev_hash[i] = (uint8_t)(0xA0 + i * 3);
    c.n_events = 1;
    c.events = ev;
    return c;
}

/* A group commit on one inventory shard: two holds from different commands
 * and a release. The second hold carries its own command id and actor. */
static inline evt_commit_t sample_group_commit(evt_event_t ev[3])
{
    static const char *seats2[] = {"A-2-3"};
    evt_commit_t c = sample_commit(EVT_HOLD_PLACED, &ev[0]);
    sample_body(EVT_HOLD_PLACED, &ev[1]);
    ev[1].command_id = "cmd_2";
    ev[1].actor = "usr_2";
    ev[1].u.hold_placed.booking_id = "bkg_2";
    ev[1].u.hold_placed.user_id = "usr_2";
    ev[1].u.hold_placed.command_id = "cmd_2";
    ev[1].u.hold_placed.n_seats = 1;
    ev[1].u.hold_placed.seats = seats2;
    ev[1].u.hold_placed.quantity = 1;
    ev[1].u.hold_placed.discount = 0;
    sample_body(EVT_HOLD_RELEASED, &ev[2]);
    c.version = 1000;
    c.n_events = 3;
    return c;
}

/* ---- deep comparison ---- */

static inline void assert_str_same(const char *a, const char *b)
{
    if (!a || !b) {
        assert_ptr_equal(a, b);
        return;
    }
    assert_string_equal(a, b);
}

static inline void assert_money_same(const ts_money_t *a, const ts_money_t *b)
{
    assert_int_equal(a->amount, b->amount);
    assert_string_equal(a->currency, b->currency);
}

static inline void assert_strings_same(uint32_t na, const char *const *a, uint32_t nb,
                                       const char *const *b)
{
    assert_int_equal(na, nb);
    for (uint32_t i = 0; i < na; i++)
        assert_str_same(a[i], b[i]);
}

static inline void assert_section_same(const evt_section_t *a, const evt_section_t *b)
{
    assert_str_same(a->key, b->key);
    assert_str_same(a->name, b->name);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->capacity, b->capacity);
    assert_int_equal(a->n_rows, b->n_rows);
    for (uint32_t i = 0; i < a->n_rows; i++) {
        assert_str_same(a->rows[i].label, b->rows[i].label);
        assert_int_equal(a->rows[i].seats, b->rows[i].seats);
        assert_int_equal(a->rows[i].n_accessible, b->rows[i].n_accessible);
        for (uint32_t j = 0; j < a->rows[i].n_accessible; j++)
            assert_int_equal(a->rows[i].accessible[j], b->rows[i].accessible[j]);
    }
}

static inline void assert_sections_same(uint32_t na, const evt_section_t *a, uint32_t nb,
                                        const evt_section_t *b)
{
    assert_int_equal(na, nb);
    for (uint32_t i = 0; i < na; i++)
        assert_section_same(&a[i], &b[i]);
}

static inline void assert_event_created_same(const evt_event_created_t *a,
                                             const evt_event_created_t *b)
{
    assert_str_same(a->event_id, b->event_id);
    assert_str_same(a->venue_id, b->venue_id);
    assert_str_same(a->organizer_id, b->organizer_id);
    assert_str_same(a->title, b->title);
    assert_str_same(a->description, b->description);
    assert_str_same(a->genre, b->genre);
    assert_str_same(a->city, b->city);
    assert_int_equal(a->starts_at, b->starts_at);
    assert_int_equal(a->ends_at, b->ends_at);
    assert_int_equal(a->n_tiers, b->n_tiers);
    for (uint32_t i = 0; i < a->n_tiers; i++) {
        const evt_tier_t *x = &a->tiers[i], *y = &b->tiers[i];
        assert_str_same(x->key, y->key);
        assert_str_same(x->name, y->name);
        assert_money_same(&x->price, &y->price);
        assert_strings_same(x->n_sections, x->sections, y->n_sections, y->sections);
        assert_int_equal(x->sale_starts_at, y->sale_starts_at);
        assert_int_equal(x->sale_ends_at, y->sale_ends_at);
    }
    const evt_policy_t *p = &a->policy, *q = &b->policy;
    assert_int_equal(p->max_per_order, q->max_per_order);
    assert_int_equal(p->max_per_user, q->max_per_user);
    assert_int_equal(p->hold_minutes, q->hold_minutes);
    assert_int_equal(p->transfer_cutoff_hours, q->transfer_cutoff_hours);
    assert_int_equal(p->service_fee_bps, q->service_fee_bps);
    assert_int_equal(p->vat_bps, q->vat_bps);
    assert_int_equal(p->n_refund, q->n_refund);
    for (uint32_t i = 0; i < p->n_refund; i++) {
        assert_int_equal(p->refund[i].min_hours_before, q->refund[i].min_hours_before);
        assert_int_equal(p->refund[i].percent, q->refund[i].percent);
    }
}

static inline void assert_inventory_opened_same(const evt_inventory_opened_t *a,
                                                const evt_inventory_opened_t *b)
{
    assert_str_same(a->event_id, b->event_id);
    assert_section_same(&a->section, &b->section);
    assert_str_same(a->tier_key, b->tier_key);
    assert_money_same(&a->price, &b->price);
    assert_int_equal(a->sale_starts_at, b->sale_starts_at);
    assert_int_equal(a->sale_ends_at, b->sale_ends_at);
    assert_int_equal(a->max_per_order, b->max_per_order);
    assert_int_equal(a->hold_minutes, b->hold_minutes);
    assert_int_equal(a->service_fee_bps, b->service_fee_bps);
    assert_int_equal(a->vat_bps, b->vat_bps);
}

static inline void assert_hold_placed_same(const evt_hold_placed_t *a, const evt_hold_placed_t *b)
{
    assert_str_same(a->booking_id, b->booking_id);
    assert_str_same(a->event_id, b->event_id);
    assert_str_same(a->section, b->section);
    assert_str_same(a->user_id, b->user_id);
    assert_str_same(a->command_id, b->command_id);
    assert_str_same(a->tier_key, b->tier_key);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_strings_same(a->n_seats, a->seats, b->n_seats, b->seats);
    assert_int_equal(a->quantity, b->quantity);
    assert_money_same(&a->unit_price, &b->unit_price);
    assert_int_equal(a->subtotal, b->subtotal);
    assert_int_equal(a->discount, b->discount);
    assert_int_equal(a->service_fee, b->service_fee);
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->vat_included, b->vat_included);
}

static inline void assert_event_same(const evt_event_t *a, const evt_event_t *b)
{
    assert_int_equal(a->type, b->type);
    assert_str_same(a->command_id, b->command_id);
    assert_str_same(a->actor, b->actor);
    switch (a->type) {
    case EVT_VENUE_CREATED: {
        const evt_venue_created_t *x = &a->u.venue_created, *y = &b->u.venue_created;
        assert_str_same(x->venue_id, y->venue_id);
        assert_str_same(x->name, y->name);
        assert_str_same(x->city, y->city);
        assert_str_same(x->country, y->country);
        assert_sections_same(x->n_sections, x->sections, y->n_sections, y->sections);
        break;
    }
    case EVT_EVENT_CREATED:
        assert_event_created_same(&a->u.event_created, &b->u.event_created);
        break;
    case EVT_EVENT_PUBLISHED:
        assert_str_same(a->u.event_published.event_id, b->u.event_published.event_id);
        assert_sections_same(a->u.event_published.n_sections, a->u.event_published.sections,
                             b->u.event_published.n_sections, b->u.event_published.sections);
        break;
    case EVT_INVENTORY_OPENED:
        assert_inventory_opened_same(&a->u.inventory_opened, &b->u.inventory_opened);
        break;
    case EVT_HOLD_PLACED:
        assert_hold_placed_same(&a->u.hold_placed, &b->u.hold_placed);
        break;
    case EVT_HOLD_RELEASED:
    case EVT_HOLD_EXPIRED:
        assert_str_same(a->u.hold_ended.booking_id, b->u.hold_ended.booking_id);
        break;
    case EVT_USER_REGISTERED: {
        const evt_user_registered_t *x = &a->u.user_registered, *y = &b->u.user_registered;
        assert_str_same(x->user_id, y->user_id);
        assert_str_same(x->email, y->email);
        assert_str_same(x->name, y->name);
        assert_str_same(x->password_hash, y->password_hash);
        assert_int_equal(x->roles, y->roles);
        break;
    }
    case EVT_CLAIMED:
        assert_str_same(a->u.claimed.kind, b->u.claimed.kind);
        assert_str_same(a->u.claimed.owner, b->u.claimed.owner);
        break;
    case EVT_NONE:
        fail_msg("event without a type");
        break;
    default:
        fail_msg("no comparison for %s", evt_type_name(a->type));
    }
}

static inline void assert_commit_same(const evt_commit_t *a, const evt_commit_t *b)
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
        assert_event_same(&a->events[i], &b->events[i]);
}

#endif
