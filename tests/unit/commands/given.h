/*
 * given — table helpers for the pure-domain tests (STYLE.md 12, 14).
 *
 * A domain test reads: given events, when a command, then events or a
 * rejection. given_t holds what one decision needs from the outside: an
 * arena, a ctx with a fixed time, actor, command id and fresh id, and the
 * result. The outcome is rendered as one line of text that the tables
 * compare with what they expect:
 *
 *     "HoldExpired(b1) HoldPlaced(n1:A-1-3 x1)"       the events, in order
 *     "!seat_unavailable field=seats seats=A-1-2"      a rejection (and no events)
 *     ""                                               accepted, nothing to do
 *
 * A failing comparison prints both lines, the case's name, and the rejection's
 * code, field and detail, at the file:line of the table runner's call.
 *
 * Fixtures: one venue, one event on it and its inventory shards, built by
 * applying events through cmd_aggregate_ops(kind)->apply.
 *
 *   venue v1 "Arena", Zagreb, HR, sections in this order:
 *     A  seated:   row 1 (10 seats, accessible 1 and 2), row 2 (6 seats)
 *     B  seated:   row 1 (4 seats)
 *     C  seated:   row 1 (2 seats)        -- sold by no tier
 *     GA standing: capacity 5
 *   event e1 "Derby" by org1, GIVEN_START..GIVEN_END, default policy
 *   (4 per order, 20-minute holds, 600 bps fee, 500 bps VAT), tiers in this
 *   order: floor (GA, 1500 EUR, on sale until GIVEN_FLOOR_END),
 *   std (A, 2500 EUR, from GIVEN_SALE_START until the event starts),
 *   vip (B, 9000 EUR, no window).
 *
 * Times in tables are offsets in ms from GIVEN_T0. Everything a helper
 * allocates lives in the arena it is given, or in the state it builds.
 */
#ifndef TS_TEST_GIVEN_H
#define TS_TEST_GIVEN_H

// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "commands/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIVEN_MIN 60000LL
#define GIVEN_HOUR (60 * GIVEN_MIN)
#define GIVEN_DAY (24 * GIVEN_HOUR)
#define GIVEN_HOLD (20 * GIVEN_MIN) /* the default hold_minutes, RULE-HOLD-3 */

#define GIVEN_T0 1796083200000LL                   /* 2026-12-01T00:00:00Z */
#define GIVEN_START 1797789600000LL                /* 2026-12-20T18:00:00Z */
#define GIVEN_END (GIVEN_START + 2 * GIVEN_HOUR)   /* 2026-12-20T20:00:00Z */
#define GIVEN_SALE_START (GIVEN_T0 - GIVEN_HOUR)   /* tier std */
#define GIVEN_FLOOR_END (GIVEN_T0 + 7 * GIVEN_DAY) /* tier floor */

/* ---- one decision ---- */

typedef struct {
    ts_arena_t arena; /* owns the decision's events and rejection */
    cmd_ctx_t ctx;
    cmd_result_t out;
    char line[4096];
} given_t;

static inline given_t *given_new(void)
{
    given_t *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    ts_arena_init(&g->arena, 0);
    g->ctx.now = GIVEN_T0;
    g->ctx.actor = "u1";
    g->ctx.command_id = "cmd-n1";
    g->ctx.new_id = "n1";
    g->ctx.arena = &g->arena;
    return g;
}

static inline void given_free(given_t *g)
{
    if (!g)
        return;
    ts_arena_deinit(&g->arena);
    free(g);
}

/* Starts a decision at now by actor (not admin): clears the result. */
static inline cmd_result_t *given_when(given_t *g, int64_t now, const char *actor)
{
    memset(&g->out, 0, sizeof(g->out));
    g->ctx.now = now;
    g->ctx.actor = actor;
    g->ctx.actor_is_admin = 0;
    return &g->out;
}

static inline void given__cat(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void given__cat(char *buf, size_t n, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
}

static inline void given__list(char *buf, size_t n, const char *const *items, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        given__cat(buf, n, "%s%s", i ? "," : "", items[i] ? items[i] : "(null)");
}

static inline void given_render_event(char *buf, size_t n, const evt_event_t *e)
{
    switch (e->type) {
    case EVT_HOLD_PLACED: {
        const evt_hold_placed_t *h = &e->u.hold_placed;
        given__cat(buf, n, "HoldPlaced(%s:", h->booking_id);
        given__list(buf, n, h->seats, h->n_seats);
        given__cat(buf, n, "%sx%u)", h->n_seats ? " " : "", h->quantity);
        break;
    }
    case EVT_HOLD_RELEASED:
    case EVT_HOLD_EXPIRED:
        given__cat(buf, n, "%s(%s", evt_type_name(e->type), e->u.hold_ended.booking_id);
        if (e->u.hold_ended.reason)
            given__cat(buf, n, " %s", e->u.hold_ended.reason);
        given__cat(buf, n, ")");
        break;
    case EVT_PAYMENT_REQUESTED:
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_REFUND_COMPLETED: {
        const evt_payment_t *p = &e->u.payment;
        given__cat(buf, n, "%s(%s:%s %lld %s", evt_type_name(e->type), p->booking_id,
                   p->payment_id ? p->payment_id : "-", (long long)p->amount, p->currency);
        if (p->reason)
            given__cat(buf, n, " %s", p->reason);
        given__cat(buf, n, ")");
        break;
    }
    case EVT_BOOKING_CONFIRMED: {
        const evt_booking_confirmed_t *c = &e->u.booking_confirmed;
        given__cat(buf, n, "BookingConfirmed(%s:", c->booking_id);
        for (uint32_t i = 0; i < c->n_tickets; i++)
            given__cat(buf, n, "%s%s=%s/%s/v%u", i ? "," : "", c->tickets[i].ticket_id,
                       c->tickets[i].seat ? c->tickets[i].seat : "GA", c->tickets[i].holder_id,
                       c->tickets[i].version);
        given__cat(buf, n, "%s)", c->reacquired ? " reacquired" : "");
        break;
    }
    case EVT_BOOKING_CANCELLED:
        given__cat(buf, n, "BookingCancelled(%s refund=%lld %s)", e->u.booking_cancelled.booking_id,
                   (long long)e->u.booking_cancelled.refund,
                   e->u.booking_cancelled.reason ? e->u.booking_cancelled.reason : "-");
        break;
    case EVT_TICKET_CHECKED_IN:
        given__cat(buf, n, "TicketCheckedIn(%s gate=%s nonce=%s)", e->u.ticket_checked_in.ticket_id,
                   e->u.ticket_checked_in.gate ? e->u.ticket_checked_in.gate : "-",
                   e->u.ticket_checked_in.nonce ? e->u.ticket_checked_in.nonce : "-");
        break;
    case EVT_TICKET_TRANSFERRED:
        given__cat(buf, n, "TicketTransferred(%s->%s:%s/v%u)", e->u.ticket_transferred.ticket_id,
                   e->u.ticket_transferred.new_ticket_id, e->u.ticket_transferred.to_user_id,
                   e->u.ticket_transferred.version);
        break;
    case EVT_INVENTORY_CANCELLED:
        given__cat(buf, n, "InventoryCancelled(%s %s)", e->u.inventory_change.event_id,
                   e->u.inventory_change.reason ? e->u.inventory_change.reason : "-");
        break;
    case EVT_INVENTORY_RESCHEDULED:
        given__cat(buf, n, "InventoryRescheduled(%s)", e->u.inventory_change.event_id);
        break;
    case EVT_INVENTORY_OPENED:
        given__cat(buf, n, "InventoryOpened(%s/%s)", e->u.inventory_opened.event_id,
                   e->u.inventory_opened.section.key);
        break;
    case EVT_VENUE_CREATED:
        given__cat(buf, n, "VenueCreated(%s)", e->u.venue_created.venue_id);
        break;
    case EVT_EVENT_CREATED:
        given__cat(buf, n, "EventCreated(%s)", e->u.event_created.event_id);
        break;
    case EVT_EVENT_PUBLISHED:
        given__cat(buf, n, "EventPublished(%s:", e->u.event_published.event_id);
        for (uint32_t i = 0; i < e->u.event_published.n_sections; i++)
            given__cat(buf, n, "%s%s", i ? "," : "", e->u.event_published.sections[i].key);
        given__cat(buf, n, ")");
        break;
    case EVT_USER_REGISTERED:
        given__cat(buf, n, "UserRegistered(%s:%s)", e->u.user_registered.user_id,
                   e->u.user_registered.email);
        break;
    case EVT_CLAIMED:
        given__cat(buf, n, "Claimed(%s:%s)", e->u.claimed.kind, e->u.claimed.owner);
        break;
    case EVT_EVENT_UPDATED:
        given__cat(buf, n, "EventUpdated(%s:%s)", e->u.event_created.event_id,
                   e->u.event_created.title);
        break;
    case EVT_PROMO_CREATED:
        given__cat(buf, n, "PromoCreated(%s)", e->u.promo.code);
        break;
    case EVT_PROMO_USED:
    case EVT_PROMO_RELEASED:
        given__cat(buf, n, "%s(%s:%s)", evt_type_name(e->type), e->u.promo_use.code,
                   e->u.promo_use.booking_id);
        break;
    case EVT_QUOTA_TAKEN:
    case EVT_QUOTA_CONFIRMED:
    case EVT_QUOTA_RETURNED:
        given__cat(buf, n, "%s(%s:%s%s%s x%u)", evt_type_name(e->type),
                   e->u.quota.user_id ? e->u.quota.user_id : "-", e->u.quota.booking_id,
                   e->u.quota.ticket_id ? "/" : "",
                   e->u.quota.ticket_id ? e->u.quota.ticket_id : "", e->u.quota.quantity);
        break;
    /* Accounts (RULE-AUTH-1, -2): a token hash shows as its first 4 hex
     * digits; roles as their names joined by '+'. */
    case EVT_LOGIN_FAILED:
    case EVT_USER_BLOCKED:
    case EVT_USER_UNBLOCKED:
        given__cat(buf, n, "%s(%s)", evt_type_name(e->type), e->u.user_note.user_id);
        break;
    case EVT_ROLES_CHANGED:
        given__cat(buf, n, "RolesChanged(%s:", e->u.user_note.user_id);
        for (uint32_t bit = 1, first = 1; bit <= EVT_ROLE_ADMIN; bit <<= 1)
            if (e->u.user_note.roles & bit) {
                given__cat(buf, n, "%s%s", first ? "" : "+", evt_role_name(bit));
                first = 0;
            }
        given__cat(buf, n, ")");
        break;
    case EVT_REFRESH_ISSUED:
    case EVT_REFRESH_ROTATED:
        given__cat(buf, n, "%s(%s:%.4s)", evt_type_name(e->type), e->u.refresh_token.family_id,
                   e->u.refresh_token.token_hash ? e->u.refresh_token.token_hash : "-");
        break;
    case EVT_REFRESH_REVOKED:
        given__cat(buf, n, "RefreshRevoked(%s:%s)", e->u.refresh_token.family_id,
                   e->u.refresh_token.reason ? e->u.refresh_token.reason : "-");
        break;
    default:
        given__cat(buf, n, "Unknown(%d)", (int)e->type);
        break;
    }
}

/* The outcome as one line (see the top of this file). A rejection that
 * still carries events shows " events=N", which no table expects. */
static inline const char *given_render(given_t *g)
{
    char *buf = g->line;
    size_t n = sizeof(g->line);
    const cmd_result_t *r = &g->out;
    buf[0] = '\0';
    if (r->reject) {
        given__cat(buf, n, "!%s", r->reject->code);
        if (r->reject->field)
            given__cat(buf, n, " field=%s", r->reject->field);
        if (r->reject->n_seats) {
            given__cat(buf, n, " seats=");
            given__list(buf, n, r->reject->seats, r->reject->n_seats);
        }
        if (r->reject->limit)
            given__cat(buf, n, " limit=%lld", (long long)r->reject->limit);
        if (r->n_events)
            given__cat(buf, n, " events=%u", r->n_events);
        return buf;
    }
    for (uint32_t i = 0; i < r->n_events; i++) {
        if (i)
            given__cat(buf, n, " ");
        given_render_event(buf, n, &r->events[i]);
    }
    return buf;
}

static inline void given__then(given_t *g, const char *label, const char *expected,
                               const char *file, int line)
{
    const char *got = given_render(g);
    if (strcmp(got, expected) != 0) {
        if (label)
            print_message("case: %s\n", label);
        if (g->out.reject)
            print_message("rejected: %s (field %s): %s\n", g->out.reject->code,
                          g->out.reject->field ? g->out.reject->field : "-",
                          g->out.reject->detail ? g->out.reject->detail : "-");
        else
            print_message("accepted with %u event(s)\n", g->out.n_events);
        print_message("expected: \"%s\"\n     got: \"%s\"\n", expected, got);
    }
    _assert_string_equal(got, expected, file, line);
}

/* then_line(g, "HoldPlaced(n1:A-1-1 x1)"): the outcome is exactly that. */
#define then_line(g, expected) given__then((g), NULL, (expected), __FILE__, __LINE__)
/* The same, naming the table row on failure. */
#define then_case(g, label, expected) given__then((g), (label), (expected), __FILE__, __LINE__)
/* The answer refers to this id. */
#define then_ref(g, expected)                                                                      \
    do {                                                                                           \
        assert_non_null((g)->out.ref);                                                             \
        assert_string_equal((g)->out.ref, (expected));                                             \
    } while (0)

/* ---- states ---- */

static inline void *given_state(cmd_agg_kind_t kind, const evt_event_t *events, uint32_t n)
{
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(kind);
    assert_non_null(ops);
    void *s = ops->state_new();
    assert_non_null(s);
    for (uint32_t i = 0; i < n; i++)
        ops->apply(s, &events[i]);
    return s;
}

/* Folds the events of the last decision into state. */
static inline void given_apply_out(cmd_agg_kind_t kind, void *state, const given_t *g)
{
    assert_null(g->out.reject);
    for (uint32_t i = 0; i < g->out.n_events; i++)
        cmd_aggregate_ops(kind)->apply(state, &g->out.events[i]);
}

static inline void given_state_free(cmd_agg_kind_t kind, void *state)
{
    cmd_aggregate_ops(kind)->state_free(state);
}

/* "A-1-1,A-1-2" → an array in a; NULL or "" is no seats. The split is
 * strict, so "A-1-1," names an empty seat id after A-1-1. */
static inline const char **given_split(ts_arena_t *a, const char *csv, uint32_t *n)
{
    *n = 0;
    if (!csv || !csv[0])
        return NULL;
    uint32_t count = 1;
    for (const char *p = csv; *p; p++)
        count += *p == ',';
    const char **out = ts_arena_alloc(a, count * sizeof(*out));
    const char *start = csv;
    for (uint32_t i = 0; i < count; i++) {
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        out[i] = ts_arena_strndup(a, start, len);
        start = end ? end + 1 : start + len;
    }
    *n = count;
    return out;
}

/* ---- the venue ---- */

static inline evt_row_t given__row(const char *label, uint32_t seats, uint32_t n_acc, uint32_t *acc)
{
    evt_row_t r = {.label = label, .seats = seats, .n_accessible = n_acc, .accessible = acc};
    return r;
}

/* The input of venue_create_decide for the fixture venue, in a (so a test may
 * change it). Seated capacities are left 0: the decision derives them. */
static inline void given_venue_input(ts_arena_t *a, evt_venue_created_t *v)
{
    memset(v, 0, sizeof(*v));
    v->name = "Arena";
    v->city = "Zagreb";
    v->country = "HR";
    v->n_sections = 4;
    v->sections = ts_arena_alloc(a, 4 * sizeof(evt_section_t));
    uint32_t *acc = ts_arena_alloc(a, 2 * sizeof(uint32_t));
    acc[0] = 1;
    acc[1] = 2;
    evt_row_t *ra = ts_arena_alloc(a, 2 * sizeof(evt_row_t));
    ra[0] = given__row("1", 10, 2, acc);
    ra[1] = given__row("2", 6, 0, NULL);
    evt_row_t *rb = ts_arena_alloc(a, sizeof(evt_row_t));
    rb[0] = given__row("1", 4, 0, NULL);
    evt_row_t *rc = ts_arena_alloc(a, sizeof(evt_row_t));
    rc[0] = given__row("1", 2, 0, NULL);
    evt_section_t *s = v->sections;
    s[0] =
        (evt_section_t){.key = "A", .name = "North", .kind = EVT_SEATED, .n_rows = 2, .rows = ra};
    s[1] =
        (evt_section_t){.key = "B", .name = "Boxes", .kind = EVT_SEATED, .n_rows = 1, .rows = rb};
    s[2] =
        (evt_section_t){.key = "C", .name = "Press", .kind = EVT_SEATED, .n_rows = 1, .rows = rc};
    s[3] = (evt_section_t){.key = "GA", .name = "Floor", .kind = EVT_STANDING, .capacity = 5};
}

/* VenueCreated v1 as the log holds it (capacities 16, 4, 2, 5). */
static inline evt_event_t given_venue_created(ts_arena_t *a)
{
    evt_event_t e = {.type = EVT_VENUE_CREATED, .actor = "org1"};
    given_venue_input(a, &e.u.venue_created);
    e.u.venue_created.venue_id = "v1";
    e.u.venue_created.sections[0].capacity = 16;
    e.u.venue_created.sections[1].capacity = 4;
    e.u.venue_created.sections[2].capacity = 2;
    return e;
}

static inline cmd_venue_state_t *given_venue(void)
{
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t e = given_venue_created(&a);
    cmd_venue_state_t *v = given_state(CMD_AGG_VENUE, &e, 1);
    ts_arena_deinit(&a); /* apply copies: the state must not borrow */
    return v;
}

/* ---- the event ---- */

static inline evt_tier_t given__tier(ts_arena_t *a, const char *key, const char *name,
                                     int64_t price, const char *section)
{
    evt_tier_t t = {.key = key, .name = name, .n_sections = 1};
    t.price.amount = price;
    memcpy(t.price.currency, "EUR", 4);
    t.sections = ts_arena_alloc(a, sizeof(char *));
    t.sections[0] = section;
    return t;
}

/* The input of event_create_decide for e1, in a (so a test may change it). */
static inline void given_event_input(ts_arena_t *a, evt_event_created_t *e)
{
    memset(e, 0, sizeof(*e));
    e->venue_id = "v1";
    e->title = "Derby";
    e->description = "The city derby";
    e->genre = "football";
    e->starts_at = GIVEN_START;
    e->ends_at = GIVEN_END;
    e->n_tiers = 3;
    e->tiers = ts_arena_alloc(a, 3 * sizeof(evt_tier_t));
    e->tiers[0] = given__tier(a, "floor", "Floor", 1500, "GA");
    e->tiers[0].sale_ends_at = GIVEN_FLOOR_END;
    e->tiers[1] = given__tier(a, "std", "Standard", 2500, "A");
    e->tiers[1].sale_starts_at = GIVEN_SALE_START;
    e->tiers[2] = given__tier(a, "vip", "VIP", 9000, "B");
    evt_policy_defaults(&e->policy);
}

static inline evt_event_t given_event_created(ts_arena_t *a)
{
    evt_event_t e = {.type = EVT_EVENT_CREATED, .actor = "org1"};
    given_event_input(a, &e.u.event_created);
    e.u.event_created.event_id = "e1";
    e.u.event_created.organizer_id = "org1";
    e.u.event_created.city = "Zagreb";
    return e;
}

/* EventPublished e1: the sections sold by a tier, frozen in venue order. */
static inline evt_event_t given_event_published(ts_arena_t *a)
{
    evt_event_t v = given_venue_created(a);
    evt_event_t e = {.type = EVT_EVENT_PUBLISHED, .actor = "org1"};
    e.u.event_published.event_id = "e1";
    e.u.event_published.n_sections = 3;
    e.u.event_published.sections = ts_arena_alloc(a, 3 * sizeof(evt_section_t));
    e.u.event_published.sections[0] = v.u.venue_created.sections[0]; /* A */
    e.u.event_published.sections[1] = v.u.venue_created.sections[1]; /* B */
    e.u.event_published.sections[2] = v.u.venue_created.sections[3]; /* GA */
    return e;
}

/* e1 as a draft (published = 0) or published. */
static inline cmd_event_state_t *given_event(int published)
{
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t es[2] = {given_event_created(&a), given_event_published(&a)};
    cmd_event_state_t *s = given_state(CMD_AGG_EVENT, es, published ? 2 : 1);
    ts_arena_deinit(&a);
    return s;
}

/* ---- the inventory shards ---- */

/* InventoryOpened of e1's section "A", "B" or "GA", as inv_open_decide makes
 * it from the fixture event (test_event.c checks that they agree). */
static inline evt_event_t given_inventory_opened(ts_arena_t *a, const char *section)
{
    evt_event_t v = given_venue_created(a);
    evt_event_t e = {.type = EVT_INVENTORY_OPENED, .actor = "system"};
    evt_inventory_opened_t *o = &e.u.inventory_opened;
    o->event_id = "e1";
    memcpy(o->price.currency, "EUR", 4);
    if (strcmp(section, "A") == 0) {
        o->section = v.u.venue_created.sections[0];
        o->tier_key = "std";
        o->price.amount = 2500;
        o->sale_starts_at = GIVEN_SALE_START;
        o->sale_ends_at = GIVEN_START;
    } else if (strcmp(section, "B") == 0) {
        o->section = v.u.venue_created.sections[1];
        o->tier_key = "vip";
        o->price.amount = 9000;
        o->sale_ends_at = GIVEN_START;
    } else {
        assert_string_equal(section, "GA");
        o->section = v.u.venue_created.sections[3];
        o->tier_key = "floor";
        o->price.amount = 1500;
        o->sale_ends_at = GIVEN_FLOOR_END;
    }
    o->max_per_order = 4;
    o->hold_minutes = 20;
    o->service_fee_bps = 600;
    o->vat_bps = 500;
    /* v2: the event's times and the default policy's (API.md) */
    o->starts_at = GIVEN_START;
    o->ends_at = GIVEN_END;
    o->max_per_user = 8;
    o->transfer_cutoff_hours = 48;
    o->n_refund = 2;
    o->refund = ts_arena_alloc(a, 2 * sizeof(evt_refund_step_t));
    o->refund[0] = (evt_refund_step_t){.min_hours_before = 168, .percent = 100};
    o->refund[1] = (evt_refund_step_t){.min_hours_before = 24, .percent = 50};
    return e;
}

/* Two InventoryOpened carry the same section, tier and policy. */
static inline void given_assert_opened_equal(const evt_inventory_opened_t *got,
                                             const evt_inventory_opened_t *want)
{
    assert_string_equal(got->event_id, want->event_id);
    assert_string_equal(got->section.key, want->section.key);
    assert_int_equal(got->section.kind, want->section.kind);
    assert_int_equal(got->section.capacity, want->section.capacity);
    assert_int_equal(got->section.n_rows, want->section.n_rows);
    for (uint32_t r = 0; r < want->section.n_rows; r++) {
        assert_string_equal(got->section.rows[r].label, want->section.rows[r].label);
        assert_int_equal(got->section.rows[r].seats, want->section.rows[r].seats);
    }
    assert_string_equal(got->tier_key, want->tier_key);
    assert_int_equal(got->price.amount, want->price.amount);
    assert_string_equal(got->price.currency, want->price.currency);
    assert_int_equal(got->sale_starts_at, want->sale_starts_at);
    assert_int_equal(got->sale_ends_at, want->sale_ends_at);
    assert_int_equal(got->max_per_order, want->max_per_order);
    assert_int_equal(got->hold_minutes, want->hold_minutes);
    assert_int_equal(got->service_fee_bps, want->service_fee_bps);
    assert_int_equal(got->vat_bps, want->vat_bps);
    assert_int_equal(got->starts_at, want->starts_at);
    assert_int_equal(got->ends_at, want->ends_at);
    assert_int_equal(got->max_per_user, want->max_per_user);
    assert_int_equal(got->transfer_cutoff_hours, want->transfer_cutoff_hours);
    assert_int_equal(got->n_refund, want->n_refund);
    for (uint32_t i = 0; i < want->n_refund; i++) {
        assert_int_equal(got->refund[i].min_hours_before, want->refund[i].min_hours_before);
        assert_int_equal(got->refund[i].percent, want->refund[i].percent);
    }
}

/* One given event of a shard's history, after InventoryOpened. The fields
 * mean different things per op (see the macros below). */
typedef struct {
    char op;             /* see the macros; 0 ends */
    const char *booking; /* a booking id; a ticket id for 'I' and 'T' */
    const char *user;    /* 'H': holder; 'Q', 'F': payment id; 'L': reason; 'I': gate;
                            'T': recipient */
    int64_t at;          /* created_at etc., from GIVEN_T0 */
    const char *seats;   /* 'H': "A-1-1,A-1-2"; 'C': ticket ids; 'F': provider event;
                            'I': nonce; 'T': new ticket id */
    uint32_t quantity;   /* 'H': GA units; 'C': reacquired; 'D', 'K', 'Z': amount;
                            'T': new version; 'O': offer minutes */
} given_step_t;

#define HELD(b, user, at, seats)                                                                   \
    {                                                                                              \
        'H', (b), (user), (at), (seats), 0                                                         \
    }
#define HELD_GA(b, user, at, qty)                                                                  \
    {                                                                                              \
        'H', (b), (user), (at), NULL, (qty)                                                        \
    }
#define RELEASED(b)                                                                                \
    {                                                                                              \
        'R', (b), NULL, 0, NULL, 0                                                                 \
    }
#define EXPIRED(b)                                                                                 \
    {                                                                                              \
        'X', (b), NULL, 0, NULL, 0                                                                 \
    }
/* ---- v2 ---- */
/* HoldReleased with a reason ("holder", "payment_failed", ...). */
#define RELEASED_FOR(b, reason)                                                                    \
    {                                                                                              \
        'L', (b), (reason), 0, NULL, 0                                                             \
    }
/* A waitlist offer (RULE-WL-1): seats held for minutes, offer entry wl-<b>. */
#define OFFERED(b, user, at, seats, minutes)                                                       \
    {                                                                                              \
        'O', (b), (user), (at), (seats), (minutes)                                                 \
    }
/* PaymentRequested of the booking total (RULE-PAY-1). */
#define PAY_REQUESTED(b, pay, at)                                                                  \
    {                                                                                              \
        'Q', (b), (pay), (at), NULL, 0                                                             \
    }
/* PaymentFailed with provider event pev. */
#define PAY_FAILED(b, pay, pev)                                                                    \
    {                                                                                              \
        'F', (b), (pay), 0, (pev), 0                                                               \
    }
/* BookingConfirmed by payment pay-<b>, provider event evt-<b>, tickets "t1,t2"
 * (one per seat of the hold, or per GA unit), version 1, to the holder. */
#define CONFIRMED(b, at, tickets)                                                                  \
    {                                                                                              \
        'C', (b), NULL, (at), (tickets), 0                                                         \
    }
#define REACQUIRED(b, at, tickets)                                                                 \
    {                                                                                              \
        'C', (b), NULL, (at), (tickets), 1                                                         \
    }
/* BookingRefundDue (RULE-PAY-2) of amount. */
#define REFUND_DUE(b, amount)                                                                      \
    {                                                                                              \
        'D', (b), NULL, 0, NULL, (amount)                                                          \
    }
/* BookingCancelled with refund (RULE-REF-1), reason "holder". */
#define CANCELLED(b, at, refund)                                                                   \
    {                                                                                              \
        'K', (b), NULL, (at), NULL, (refund)                                                       \
    }
/* RefundCompleted of amount, provider event rf-<b>. */
#define REFUNDED(b, amount)                                                                        \
    {                                                                                              \
        'Z', (b), NULL, 0, NULL, (amount)                                                          \
    }
/* TicketCheckedIn (RULE-TKT-2). */
#define CHECKED_IN(ticket, at, gate, nonce)                                                        \
    {                                                                                              \
        'I', (ticket), (gate), (at), (nonce), 0                                                    \
    }
/* TicketTransferred (RULE-TKT-3) to user, as new ticket id of version. */
#define TRANSFERRED(ticket, at, to, new_ticket, version)                                           \
    {                                                                                              \
        'T', (ticket), (to), (at), (new_ticket), (version)                                         \
    }
/* InventoryCancelled ("event_cancelled"). */
#define INV_CANCELLED()                                                                            \
    {                                                                                              \
        'N', NULL, NULL, 0, NULL, 0                                                                \
    }
/* InventoryRescheduled: the event starts `at` later (ends 2 h after). */
#define RESCHEDULED(delta)                                                                         \
    {                                                                                              \
        'S', NULL, NULL, (delta), NULL, 0                                                          \
    }

/* The HoldPlaced of a step, priced like inv_hold_decide prices it. */
static inline evt_event_t given_hold_placed(ts_arena_t *a, const evt_inventory_opened_t *o,
                                            const given_step_t *st)
{
    evt_event_t e = {.type = EVT_HOLD_PLACED, .actor = st->user};
    evt_hold_placed_t *h = &e.u.hold_placed;
    h->booking_id = st->booking;
    h->event_id = o->event_id;
    h->section = o->section.key;
    h->user_id = st->user;
    h->command_id = ts_arena_printf(a, "cmd-%s", st->booking);
    h->tier_key = o->tier_key;
    h->created_at = GIVEN_T0 + st->at;
    h->expires_at = h->created_at + (int64_t)o->hold_minutes * GIVEN_MIN;
    h->seats = given_split(a, st->seats, &h->n_seats);
    h->quantity = h->n_seats ? h->n_seats : st->quantity;
    if (st->op == 'O') {
        h->expires_at = h->created_at + (int64_t)st->quantity * GIVEN_MIN;
        h->quantity = h->n_seats ? h->n_seats : 1;
        h->offer_entry = ts_arena_printf(a, "wl-%s", st->booking);
    }
    h->unit_price = o->price;
    inv_price(h, o->service_fee_bps, o->vat_bps);
    return e;
}

/* The HoldPlaced of booking among events[0..n), which must be there. */
static inline const evt_hold_placed_t *given__hold_of(const evt_event_t *events, uint32_t n,
                                                      const char *booking)
{
    for (uint32_t i = 0; i < n; i++)
        if (events[i].type == EVT_HOLD_PLACED &&
            strcmp(events[i].u.hold_placed.booking_id, booking) == 0)
            return &events[i].u.hold_placed;
    fail_msg("no HoldPlaced for %s in the given steps", booking);
    return NULL;
}

/* The event of a v2 step, after the events[0..n) already built. */
static inline evt_event_t given__v2_event(ts_arena_t *a, const evt_event_t *events, uint32_t n,
                                          const given_step_t *st)
{
    evt_event_t e = {.type = EVT_NONE};
    evt_payment_t *p = &e.u.payment;
    switch (st->op) {
    case 'L':
        e.type = EVT_HOLD_RELEASED;
        e.u.hold_ended.booking_id = st->booking;
        e.u.hold_ended.reason = st->user;
        break;
    case 'Q':
    case 'F':
    case 'D':
    case 'Z': {
        const evt_hold_placed_t *h = given__hold_of(events, n, st->booking);
        e.type = st->op == 'Q'   ? EVT_PAYMENT_REQUESTED
                 : st->op == 'F' ? EVT_PAYMENT_FAILED
                 : st->op == 'D' ? EVT_BOOKING_REFUND_DUE
                                 : EVT_REFUND_COMPLETED;
        p->booking_id = st->booking;
        p->payment_id = st->user ? st->user : ts_arena_printf(a, "pay-%s", st->booking);
        p->provider = "simulated";
        memcpy(p->currency, h->unit_price.currency, 4);
        p->at = GIVEN_T0 + st->at;
        p->amount = st->op == 'Q' ? h->total : st->op == 'F' ? 0 : (int64_t)st->quantity;
        if (st->op == 'F')
            p->provider_event_id = st->seats;
        if (st->op == 'D') {
            p->provider_event_id = ts_arena_printf(a, "evt-%s", st->booking);
            p->reason = "seats_taken";
        }
        if (st->op == 'Z')
            p->provider_event_id = ts_arena_printf(a, "rf-%s", st->booking);
        break;
    }
    case 'C': {
        const evt_hold_placed_t *h = given__hold_of(events, n, st->booking);
        evt_booking_confirmed_t *c = &e.u.booking_confirmed;
        e.type = EVT_BOOKING_CONFIRMED;
        c->booking_id = st->booking;
        c->payment_id = ts_arena_printf(a, "pay-%s", st->booking);
        c->provider_event_id = ts_arena_printf(a, "evt-%s", st->booking);
        c->at = GIVEN_T0 + st->at;
        c->reacquired = (int)st->quantity;
        uint32_t nt;
        const char **ids = given_split(a, st->seats, &nt);
        assert_int_equal(nt, h->quantity);
        c->n_tickets = nt;
        c->tickets = ts_arena_alloc(a, nt * sizeof(evt_ticket_t));
        for (uint32_t i = 0; i < nt; i++)
            c->tickets[i] = (evt_ticket_t){.ticket_id = ids[i],
                                           .seat = h->n_seats ? h->seats[i] : NULL,
                                           .holder_id = h->user_id,
                                           .version = 1};
        break;
    }
    case 'K':
        e.type = EVT_BOOKING_CANCELLED;
        e.u.booking_cancelled.booking_id = st->booking;
        e.u.booking_cancelled.refund = st->quantity;
        e.u.booking_cancelled.reason = "holder";
        e.u.booking_cancelled.at = GIVEN_T0 + st->at;
        break;
    case 'I':
        e.type = EVT_TICKET_CHECKED_IN;
        e.u.ticket_checked_in.ticket_id = st->booking;
        e.u.ticket_checked_in.at = GIVEN_T0 + st->at;
        e.u.ticket_checked_in.gate = st->user;
        e.u.ticket_checked_in.nonce = st->seats;
        break;
    case 'T':
        e.type = EVT_TICKET_TRANSFERRED;
        e.u.ticket_transferred.ticket_id = st->booking;
        e.u.ticket_transferred.new_ticket_id = st->seats;
        e.u.ticket_transferred.to_user_id = st->user;
        e.u.ticket_transferred.version = st->quantity;
        e.u.ticket_transferred.at = GIVEN_T0 + st->at;
        break;
    case 'N':
        e.type = EVT_INVENTORY_CANCELLED;
        e.u.inventory_change.event_id = "e1";
        e.u.inventory_change.reason = "event_cancelled";
        break;
    case 'S':
        e.type = EVT_INVENTORY_RESCHEDULED;
        e.u.inventory_change.event_id = "e1";
        e.u.inventory_change.starts_at = GIVEN_START + st->at;
        e.u.inventory_change.ends_at = GIVEN_END + st->at;
        break;
    default:
        fail_msg("unknown given step op '%c'", st->op);
    }
    return e;
}

/* The events of a shard: InventoryOpened of section, then steps (0-ended).
 * Returns the count; events holds at most cap. */
static inline uint32_t given_inventory_events(ts_arena_t *a, const char *section,
                                              const given_step_t *steps, evt_event_t *events,
                                              uint32_t cap)
{
    uint32_t n = 0;
    events[n++] = given_inventory_opened(a, section);
    for (const given_step_t *st = steps; st && st->op; st++) {
        assert_true(n < cap);
        if (st->op == 'H' || st->op == 'O') {
            events[n++] = given_hold_placed(a, &events[0].u.inventory_opened, st);
        } else if (st->op == 'R' || st->op == 'X') {
            evt_event_t e = {.type = st->op == 'R' ? EVT_HOLD_RELEASED : EVT_HOLD_EXPIRED};
            e.u.hold_ended.booking_id = st->booking;
            events[n++] = e;
        } else {
            events[n] = given__v2_event(a, events, n, st);
            n++;
        }
    }
    return n;
}

#define GIVEN_MAX_STEPS 32

/* A shard of e1 with this history. */
static inline inv_state_t *given_inventory(const char *section, const given_step_t *steps)
{
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t events[1 + GIVEN_MAX_STEPS];
    uint32_t n = given_inventory_events(&a, section, steps, events, TS_ARRAY_LEN(events));
    inv_state_t *s = given_state(CMD_AGG_INV, events, n);
    ts_arena_deinit(&a); /* apply copies: the state must not borrow */
    return s;
}

#endif
