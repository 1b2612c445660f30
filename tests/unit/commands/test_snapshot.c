/*
 * Snapshots (cmd_aggregate_ops_t encode/decode): for each aggregate, a state
 * built from events is encoded, decoded, and the decoded state must decide
 * exactly like the original — the same hold outcomes, booking statuses,
 * expiry head — and re-encode to the same bytes. Garbage and truncated bytes
 * decode to NULL; an empty state encodes to nothing and decodes from nothing.
 */
#include "given.h"

/* RULE-TKT-1: a public ticket key as the engine makes it. */
#define GIVEN_TICKET_KEY "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

/* Encodes state, checks the bytes are not empty, decodes them, and checks
 * that the decoded state encodes to the very same bytes. */
static void *roundtrip(cmd_agg_kind_t kind, const void *state)
{
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(kind);
    ts_buf_t a, b;
    ts_buf_init(&a);
    ts_buf_init(&b);
    ops->encode(state, &a);
    assert_true(a.len > 0);
    void *copy = ops->decode(a.data, a.len);
    assert_non_null(copy);
    ops->encode(copy, &b);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.data, a.data, a.len);
    ts_buf_deinit(&a);
    ts_buf_deinit(&b);
    return copy;
}

/* Garbage, a prefix of a valid snapshot and a valid snapshot with bytes
 * cut from its front all decode to NULL. */
static void assert_corrupt_is_null(cmd_agg_kind_t kind, const void *state)
{
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(kind);
    static const char text[] = "this is not a snapshot at all";
    uint8_t noise[96];
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (uint8_t)(i * 37 + 11);
    assert_null(ops->decode(text, sizeof(text) - 1));
    assert_null(ops->decode(noise, sizeof(noise)));
    assert_null(ops->decode(noise, 1));
    assert_null(ops->decode(noise, 4));

    ts_buf_t buf;
    ts_buf_init(&buf);
    ops->encode(state, &buf);
    assert_true(buf.len > 8);
    assert_null(ops->decode(buf.data, buf.len / 2));
    assert_null(ops->decode(buf.data, 8));
    assert_null(ops->decode(buf.data + 4, buf.len - 4));
    ts_buf_deinit(&buf);
}

/* ---- venue ---- */

static void test_snapshot_venue(void **state)
{
    (void)state;
    cmd_venue_state_t *orig = given_venue();
    cmd_venue_state_t *copy = roundtrip(CMD_AGG_VENUE, orig);

    assert_true(copy->exists);
    assert_string_equal(copy->v.venue_id, "v1");
    assert_string_equal(copy->v.name, "Arena");
    assert_string_equal(copy->v.city, "Zagreb");
    assert_string_equal(copy->v.country, "HR");
    assert_int_equal(copy->v.n_sections, 4);
    for (uint32_t i = 0; i < 4; i++) {
        const evt_section_t *x = &orig->v.sections[i], *y = &copy->v.sections[i];
        assert_string_equal(y->key, x->key);
        assert_string_equal(y->name, x->name);
        assert_int_equal(y->kind, x->kind);
        assert_int_equal(y->capacity, x->capacity);
        assert_int_equal(y->n_rows, x->n_rows);
        for (uint32_t r = 0; r < x->n_rows; r++) {
            assert_string_equal(y->rows[r].label, x->rows[r].label);
            assert_int_equal(y->rows[r].seats, x->rows[r].seats);
            assert_int_equal(y->rows[r].n_accessible, x->rows[r].n_accessible);
            for (uint32_t k = 0; k < x->rows[r].n_accessible; k++)
                assert_int_equal(y->rows[r].accessible[k], x->rows[r].accessible[k]);
        }
    }
    assert_int_equal(copy->v.sections[0].rows[0].accessible[1], 2);

    /* The decoded venue decides like the original: an event on it is
     * created, one naming a section it lacks is not, and the venue cannot be
     * created twice. */
    const cmd_venue_state_t *venues[] = {orig, copy};
    cmd_event_state_t *none = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    for (int i = 0; i < 2; i++) {
        given_t *g = given_new();
        evt_event_created_t in;
        given_event_input(&g->arena, &in);
        given_when(g, GIVEN_T0, "org1");
        event_create_decide(none, venues[i], &in, &g->ctx, &g->out);
        then_line(g, "EventCreated(n1)");
        assert_string_equal(g->out.events[0].u.event_created.city, "Zagreb");

        in.tiers[2].sections[0] = "Z";
        given_when(g, GIVEN_T0, "org1");
        event_create_decide(none, venues[i], &in, &g->ctx, &g->out);
        then_line(g, "!validation_failed field=tiers.sections");

        evt_venue_created_t v;
        given_venue_input(&g->arena, &v);
        given_when(g, GIVEN_T0, "org1");
        venue_create_decide(venues[i], &v, &g->ctx, &g->out);
        then_line(g, "!conflict");
        given_free(g);
    }
    given_state_free(CMD_AGG_EVENT, none);

    assert_corrupt_is_null(CMD_AGG_VENUE, orig);
    given_state_free(CMD_AGG_VENUE, copy);
    given_state_free(CMD_AGG_VENUE, orig);
}

/* ---- event ---- */

static void test_snapshot_event(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    for (int published = 0; published < 2; published++) {
        cmd_event_state_t *orig = given_event(published);
        cmd_event_state_t *copy = roundtrip(CMD_AGG_EVENT, orig);

        assert_true(copy->exists);
        assert_int_equal(copy->status, orig->status);
        assert_string_equal(copy->ev.event_id, "e1");
        assert_string_equal(copy->ev.organizer_id, "org1");
        assert_string_equal(copy->ev.title, "Derby");
        assert_string_equal(copy->ev.genre, "football");
        assert_int_equal(copy->ev.starts_at, GIVEN_START);
        assert_int_equal(copy->ev.ends_at, GIVEN_END);
        assert_int_equal(copy->ev.n_tiers, 3);
        assert_int_equal(copy->ev.tiers[0].sale_ends_at, GIVEN_FLOOR_END);
        assert_int_equal(copy->ev.tiers[1].sale_starts_at, GIVEN_SALE_START);
        assert_int_equal(copy->ev.policy.hold_minutes, 20);
        assert_int_equal(copy->ev.policy.n_refund, 2);
        assert_int_equal(copy->ev.policy.refund[0].min_hours_before, 168);
        assert_int_equal(copy->published.n_sections, published ? 3 : 0);

        const cmd_event_state_t *events[] = {orig, copy};
        for (int i = 0; i < 2; i++) {
            given_t *g = given_new();
            given_when(g, GIVEN_T0, "org1");
            event_publish_decide(events[i], venue, GIVEN_TICKET_KEY, &g->ctx, &g->out);
            then_line(g, published ? "!conflict" : "EventPublished(e1:A,B,GA)");
            assert_string_equal(event_tier_of_section(events[i], "A")->key, "std");

            inv_state_t *shard = cmd_aggregate_ops(CMD_AGG_INV)->state_new();
            given_when(g, GIVEN_T0, "system");
            inv_open_decide(shard, events[i], "A", &g->ctx, &g->out);
            if (published) {
                then_line(g, "InventoryOpened(e1/A)");
                evt_event_t want = given_inventory_opened(&g->arena, "A");
                given_assert_opened_equal(&g->out.events[0].u.inventory_opened,
                                          &want.u.inventory_opened);
            } else {
                then_line(g, "!not_on_sale");
            }
            given_state_free(CMD_AGG_INV, shard);
            given_free(g);
        }
        if (published)
            assert_corrupt_is_null(CMD_AGG_EVENT, orig);
        given_state_free(CMD_AGG_EVENT, copy);
        given_state_free(CMD_AGG_EVENT, orig);
    }
    given_state_free(CMD_AGG_VENUE, venue);
}

/* ---- inventory ---- */

typedef struct {
    char op; /* 'H' hold, 'R' release, 'X' expire (max 10) */
    int64_t at;
    const char *actor;
    const char *command;
    const char *what; /* seats, or the booking to release */
    uint32_t quantity;
    const char *then;
    const char *ref; /* NULL: not checked */
} inv_probe_t;

/* Runs each probe on the original and on the decoded state: both give the
 * expected outcome. */
static void probe(inv_state_t *const states[2], const char *section, const inv_probe_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            given_t *g = given_new();
            given_when(g, GIVEN_T0 + p[i].at, p[i].actor);
            g->ctx.command_id = p[i].command ? p[i].command : "cmd-n1";
            if (p[i].op == 'H') {
                inv_hold_cmd_t cmd = {.event_id = "e1", .section = section};
                cmd.seats = given_split(&g->arena, p[i].what, &cmd.n_seats);
                cmd.quantity = p[i].quantity;
                inv_hold_decide(states[k], &cmd, &g->ctx, &g->out);
            } else if (p[i].op == 'R') {
                inv_release_decide(states[k], p[i].what, &g->ctx, &g->out);
            } else {
                inv_expire_decide(states[k], 10, &g->ctx, &g->out);
            }
            char label[64];
            snprintf(label, sizeof(label), "probe %zu on the %s state", i,
                     k ? "decoded" : "original");
            then_case(g, label, p[i].then);
            if (p[i].ref)
                then_ref(g, p[i].ref);
            given_free(g);
        }
    }
}

static void assert_same_bookings(const inv_state_t *x, const inv_state_t *y, int64_t now)
{
    assert_int_equal(y->opened, x->opened);
    assert_int_equal(y->n_bookings, x->n_bookings);
    assert_int_equal(y->expiry_head, x->expiry_head);
    assert_int_equal(y->ga_taken, x->ga_taken);
    assert_int_equal(y->n_seat_slots, x->n_seat_slots);
    assert_int_equal(inv_next_expiry(y), inv_next_expiry(x));
    if (x->n_seat_slots)
        assert_memory_equal(y->seat_owner, x->seat_owner, x->n_seat_slots * sizeof(int32_t));
    for (uint32_t i = 0; i < x->n_bookings; i++) {
        const inv_booking_t *a = &x->bookings[i];
        const inv_booking_t *b = inv_booking_find(y, a->hold.booking_id);
        assert_non_null(b);
        assert_ptr_equal(b, &y->bookings[i]);
        assert_int_equal(b->status, a->status);
        assert_string_equal(inv_booking_status_name(b, now), inv_booking_status_name(a, now));
        assert_string_equal(b->hold.user_id, a->hold.user_id);
        assert_string_equal(b->hold.command_id, a->hold.command_id);
        assert_int_equal(b->hold.created_at, a->hold.created_at);
        assert_int_equal(b->hold.expires_at, a->hold.expires_at);
        assert_int_equal(b->hold.quantity, a->hold.quantity);
        assert_int_equal(b->hold.n_seats, a->hold.n_seats);
        for (uint32_t s = 0; s < a->hold.n_seats; s++) {
            assert_string_equal(b->hold.seats[s], a->hold.seats[s]);
            assert_int_equal(b->seat_index[s], a->seat_index[s]);
        }
        assert_int_equal(b->hold.total, a->hold.total);
        assert_int_equal(b->hold.vat_included, a->hold.vat_included);
    }
}

static void test_snapshot_inventory_seated(void **state)
{
    (void)state;
    static const given_step_t h[] = {HELD("b1", "u1", 0, "A-1-1,A-1-2"),
                                     HELD("b2", "u1", GIVEN_MIN, "A-1-3"),
                                     HELD("b3", "u3", 2 * GIVEN_MIN, "A-1-4"),
                                     HELD("b4", "u3", 3 * GIVEN_MIN, "A-2-1"),
                                     RELEASED("b2"),
                                     EXPIRED("b3"),
                                     {0}};
    inv_state_t *orig = given_inventory("A", h);
    inv_state_t *copy = roundtrip(CMD_AGG_INV, orig);
    assert_same_bookings(orig, copy, GIVEN_T0 + 5 * GIVEN_MIN);
    assert_int_equal(copy->n_bookings, 4);
    assert_int_equal(copy->expiry_head, 0);
    assert_int_equal(inv_booking_find(copy, "b1")->status, INV_HELD);
    assert_int_equal(inv_booking_find(copy, "b2")->status, INV_RELEASED);
    assert_int_equal(inv_booking_find(copy, "b3")->status, INV_EXPIRED);
    assert_int_equal(inv_booking_find(copy, "b4")->status, INV_HELD);
    assert_int_equal(inv_next_expiry(copy), GIVEN_T0 + GIVEN_HOLD);
    assert_string_equal(copy->info.tier_key, "std");
    assert_int_equal(copy->info.sale_starts_at, GIVEN_SALE_START);

    inv_state_t *const states[2] = {orig, copy};
    static const inv_probe_t probes[] = {
        /* RULE-HOLD-1: b1's seat is taken, b2's and b3's are free. */
        {'H', 5 * GIVEN_MIN, "u2", NULL, "A-1-1", 0, "!seat_unavailable field=seats seats=A-1-1",
         NULL},
        {'H', 5 * GIVEN_MIN, "u2", NULL, "A-1-3,A-1-4", 0, "HoldPlaced(n1:A-1-3,A-1-4 x2)", "n1"},
        /* RULE-HOLD-3: lazy expiry at the exact instant. */
        {'H', GIVEN_HOLD - 1, "u2", NULL, "A-1-2", 0, "!seat_unavailable field=seats seats=A-1-2",
         NULL},
        {'H', GIVEN_HOLD, "u2", NULL, "A-1-2", 0, "HoldExpired(b1) HoldPlaced(n1:A-1-2 x1)", "n1"},
        {'H', 3 * GIVEN_MIN + GIVEN_HOLD - 1, "u2", NULL, "A-2-1", 0,
         "!seat_unavailable field=seats seats=A-2-1", NULL},
        {'H', 3 * GIVEN_MIN + GIVEN_HOLD, "u2", NULL, "A-2-1", 0,
         "HoldExpired(b1) HoldExpired(b4) HoldPlaced(n1:A-2-1 x1)", "n1"},
        /* RULE-HOLD-5: command ids survive the snapshot. */
        {'H', 5 * GIVEN_MIN, "u3", "cmd-b4", "A-1-9", 0, "", "b4"},
        {'H', 5 * GIVEN_MIN, "u1", "cmd-b2", "A-1-9", 0, "", "b2"},
        /* Releases. */
        {'R', 5 * GIVEN_MIN, "u1", NULL, "b1", 0, "HoldReleased(b1 holder)", "b1"},
        {'R', 5 * GIVEN_MIN, "u2", NULL, "b1", 0, "!forbidden", "b1"},
        {'R', 5 * GIVEN_MIN, "u1", NULL, "b2", 0, "!conflict", "b2"},
        {'R', 5 * GIVEN_MIN, "u3", NULL, "b3", 0, "!hold_expired", "b3"},
        /* The sweeper. */
        {'X', GIVEN_DAY, "system", NULL, NULL, 0, "HoldExpired(b1) HoldExpired(b4)", NULL},
    };
    probe(states, "A", probes, TS_ARRAY_LEN(probes));

    assert_corrupt_is_null(CMD_AGG_INV, orig);
    given_state_free(CMD_AGG_INV, copy);
    given_state_free(CMD_AGG_INV, orig);
}

static void test_snapshot_inventory_ga(void **state)
{
    (void)state;
    static const given_step_t h[] = {HELD_GA("b1", "u1", 0, 4),
                                     HELD_GA("b2", "u1", 0, 1),
                                     HELD_GA("b3", "u3", 2 * GIVEN_MIN, 3),
                                     RELEASED("b1"),
                                     EXPIRED("b2"),
                                     {0}};
    inv_state_t *orig = given_inventory("GA", h);
    inv_state_t *copy = roundtrip(CMD_AGG_INV, orig);
    assert_same_bookings(orig, copy, GIVEN_T0 + 3 * GIVEN_MIN);
    assert_int_equal(copy->expiry_head, 2);
    assert_int_equal(copy->ga_taken, 3);
    assert_int_equal(copy->info.section.kind, EVT_STANDING);
    assert_int_equal(copy->info.section.capacity, 5);

    inv_state_t *const states[2] = {orig, copy};
    static const inv_probe_t probes[] = {
        {'H', 3 * GIVEN_MIN, "u2", NULL, NULL, 2, "HoldPlaced(n1:x2)", "n1"},
        {'H', 3 * GIVEN_MIN, "u2", NULL, NULL, 3, "!sold_out field=quantity", NULL},
        {'H', 2 * GIVEN_MIN + GIVEN_HOLD - 1, "u2", NULL, NULL, 3, "!sold_out field=quantity",
         NULL},
        {'H', 2 * GIVEN_MIN + GIVEN_HOLD, "u2", NULL, NULL, 4, "HoldExpired(b3) HoldPlaced(n1:x4)",
         "n1"},
        {'H', 3 * GIVEN_MIN, "u3", "cmd-b3", NULL, 3, "", "b3"},
        {'X', GIVEN_DAY, "system", NULL, NULL, 0, "HoldExpired(b3)", NULL},
    };
    probe(states, "GA", probes, TS_ARRAY_LEN(probes));

    given_state_free(CMD_AGG_INV, copy);
    given_state_free(CMD_AGG_INV, orig);
}

/* A shard whose seats were all held, released and held again: the snapshot
 * keeps the bookings in order, so the expiry head, the seat owners and the
 * command ids of released bookings come back as they were. */
static void test_snapshot_inventory_many(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t opened = given_inventory_opened(&a, "A");
    inv_state_t *orig = given_state(CMD_AGG_INV, &opened, 1);
    /* 16 seats, each held then released, then held again: 32 bookings. */
    static const char *seats[] = {"A-1-1", "A-1-2", "A-1-3", "A-1-4",  "A-1-5", "A-1-6",
                                  "A-1-7", "A-1-8", "A-1-9", "A-1-10", "A-2-1", "A-2-2",
                                  "A-2-3", "A-2-4", "A-2-5", "A-2-6"};
    for (uint32_t round = 0; round < 2; round++) {
        for (uint32_t i = 0; i < TS_ARRAY_LEN(seats); i++) {
            given_step_t st =
                HELD(ts_arena_printf(&a, "r%ub%u", round, i), "u1", round * 1000 + i, seats[i]);
            evt_event_t e = given_hold_placed(&a, &opened.u.inventory_opened, &st);
            cmd_aggregate_ops(CMD_AGG_INV)->apply(orig, &e);
            if (round == 0) {
                evt_event_t r = {.type = EVT_HOLD_RELEASED};
                r.u.hold_ended.booking_id = st.booking;
                cmd_aggregate_ops(CMD_AGG_INV)->apply(orig, &r);
            }
        }
    }
    ts_arena_deinit(&a);
    inv_state_t *copy = roundtrip(CMD_AGG_INV, orig);
    assert_same_bookings(orig, copy, GIVEN_T0);
    assert_int_equal(copy->n_bookings, 32);
    assert_int_equal(copy->expiry_head, 16);

    inv_state_t *const states[2] = {orig, copy};
    static const inv_probe_t probes[] = {
        {'H', 0 + 1000 + 15, "u2", NULL, "A-2-6", 0, "!seat_unavailable field=seats seats=A-2-6",
         NULL},
        /* r1b0 expires at 1000 + HOLD, r1b1 at 1001 + HOLD. */
        {'H', 1000 + GIVEN_HOLD, "u2", NULL, "A-1-1", 0,
         "HoldExpired(r1b0) HoldPlaced(n1:A-1-1 x1)", "n1"},
        {'H', 1000 + GIVEN_HOLD, "u2", NULL, "A-1-2", 0,
         "!seat_unavailable field=seats seats=A-1-2", NULL},
        {'H', 1000 + GIVEN_HOLD, "u2", "cmd-r0b3", "A-1-2", 0, "", "r0b3"},
    };
    probe(states, "A", probes, TS_ARRAY_LEN(probes));

    given_state_free(CMD_AGG_INV, copy);
    given_state_free(CMD_AGG_INV, orig);
}

/* ---- inventory v2: payments, tickets, refunds, offers, cancellation ---- */

static void assert_same_str(const char *got, const char *want)
{
    if (!want) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

/* Every field of two shards, down to the order of facts and tickets. */
static void assert_same_inv(const inv_state_t *x, const inv_state_t *y)
{
    assert_same_bookings(x, y, GIVEN_T0);
    const evt_inventory_opened_t *a = &x->info, *b = &y->info;
    given_assert_opened_equal(b, a);
    assert_int_equal(y->cancelled, x->cancelled);
    assert_same_str(y->cancel_reason, x->cancel_reason);
    assert_int_equal(y->version, x->version);
    assert_int_equal(y->n_facts, x->n_facts);
    assert_memory_equal(y->facts, x->facts, x->n_facts * sizeof(inv_fact_t));
    assert_int_equal(y->n_schedules, x->n_schedules);
    assert_memory_equal(y->schedules, x->schedules, x->n_schedules * sizeof(inv_schedule_t));
    assert_int_equal(y->n_odd_holds, x->n_odd_holds);
    if (x->n_odd_holds)
        assert_memory_equal(y->odd_holds, x->odd_holds, x->n_odd_holds * sizeof(uint32_t));
    assert_int_equal(y->n_payments, x->n_payments);
    for (uint32_t i = 0; i < x->n_payments; i++) {
        const inv_payment_t *p = &x->payments[i], *q = &y->payments[i];
        assert_string_equal(q->payment_id, p->payment_id);
        assert_same_str(q->provider, p->provider);
        assert_int_equal(q->booking, p->booking);
        assert_int_equal(q->amount, p->amount);
        assert_int_equal(q->at, p->at);
        assert_ptr_equal(inv_booking_of_payment(y, p->payment_id), &y->bookings[p->booking]);
    }
    for (uint32_t i = 0; i < x->n_bookings; i++) {
        const inv_booking_t *p = &x->bookings[i], *q = &y->bookings[i];
        assert_same_str(q->hold.promo_code, p->hold.promo_code);
        assert_same_str(q->hold.offer_entry, p->hold.offer_entry);
        assert_int_equal(q->hold.discount, p->hold.discount);
        assert_int_equal(q->hold.service_fee, p->hold.service_fee);
        assert_same_str(q->payment_id, p->payment_id);
        assert_int_equal(q->paid_amount, p->paid_amount);
        assert_int_equal(q->refund, p->refund);
        assert_int_equal(q->confirmed_at, p->confirmed_at);
        assert_same_str(q->end_reason, p->end_reason);
        assert_int_equal(q->first_ticket, p->first_ticket);
        assert_int_equal(q->n_tickets, p->n_tickets);
        assert_int_equal(q->reacquired, p->reacquired);
        assert_int_equal(q->odd_hold, p->odd_hold);
        assert_int_equal(q->n_provider_events, p->n_provider_events);
        for (uint32_t k = 0; k < p->n_provider_events; k++)
            assert_string_equal(q->provider_events[k], p->provider_events[k]);
    }
    assert_int_equal(y->n_tickets, x->n_tickets);
    for (uint32_t i = 0; i < x->n_tickets; i++) {
        const inv_ticket_t *p = &x->tickets[i], *q = &y->tickets[i];
        assert_ptr_equal(inv_ticket_find(y, p->t.ticket_id), q);
        assert_string_equal(q->t.ticket_id, p->t.ticket_id);
        assert_same_str(q->t.seat, p->t.seat);
        assert_same_str(q->t.holder_id, p->t.holder_id);
        assert_int_equal(q->t.version, p->t.version);
        assert_int_equal(q->booking, p->booking);
        assert_int_equal(q->status, p->status);
        assert_int_equal(q->checked_in_at, p->checked_in_at);
        assert_same_str(q->gate, p->gate);
        assert_same_str(q->nonce, p->nonce);
        assert_int_equal(q->revoked_version, p->revoked_version);
        assert_int_equal(q->replaced_by, p->replaced_by);
    }
}

/* One v2 decision on a shard, rendered (with the check-in's answer). */
typedef struct {
    char op; /* 'P' pay request, 'W' webhook, 'C' check-in, 'T' transfer, 'K' cancel booking,
                'A' cancel all, 'H' hold, 'X' sweeper */
    int64_t at;
    const char *actor;
    const char *what; /* booking, payment, ticket or seats */
    const char *arg;  /* webhook type, recipient, nonce */
    const char *then;
} v2_probe_t;

static void probe_v2(inv_state_t *const states[2], const char *section, const v2_probe_t *p,
                     size_t n)
{
    static const char *ids[] = {"x1", "x2", "x3", "x4"};
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            const inv_state_t *s = states[k];
            given_t *g = given_new();
            given_when(g, GIVEN_T0 + p[i].at, p[i].actor);
            g->ctx.actor_is_admin = strcmp(p[i].actor, "admin1") == 0;
            char extra[128] = "";
            if (p[i].op == 'P') {
                inv_payment_request_decide(s, p[i].what, NULL, &g->ctx, &g->out);
            } else if (p[i].op == 'W') {
                const inv_booking_t *b = inv_booking_of_payment(s, p[i].what);
                inv_webhook_cmd_t c = {.payment_id = p[i].what,
                                       .provider_event_id = "evt-probe",
                                       .type = p[i].arg,
                                       .amount = b ? b->hold.total : 0,
                                       .currency = "EUR",
                                       .ticket_ids = ids,
                                       .n_ticket_ids = 4};
                if (b && strcmp(p[i].arg, "refund.succeeded") == 0)
                    c.amount = b->refund;
                inv_webhook_decide(s, &c, &g->ctx, &g->out);
            } else if (p[i].op == 'C') {
                const inv_ticket_t *t = inv_ticket_find(s, p[i].what);
                inv_checkin_cmd_t c = {.ticket_id = p[i].what,
                                       .version = t ? t->t.version : 1,
                                       .gate = "G9",
                                       .nonce = p[i].arg};
                inv_checkin_result_t r;
                const inv_ticket_t *first;
                inv_checkin_decide(s, &c, &g->ctx, &g->out, &r, &first);
                snprintf(extra, sizeof(extra), " =%d%s%s", (int)r, first ? " first=" : "",
                         first ? (first->gate ? first->gate : "-") : "");
            } else if (p[i].op == 'T') {
                inv_transfer_decide(s, p[i].what, p[i].arg, &g->ctx, &g->out);
            } else if (p[i].op == 'K') {
                inv_cancel_booking_decide(s, p[i].what, &g->ctx, &g->out);
            } else if (p[i].op == 'A') {
                inv_cancel_all_decide(s, NULL, 0, &g->ctx, &g->out);
            } else if (p[i].op == 'H') {
                inv_hold_cmd_t cmd = {.event_id = "e1", .section = section};
                cmd.seats = given_split(&g->arena, p[i].what, &cmd.n_seats);
                g->ctx.command_id = NULL;
                inv_hold_decide(s, &cmd, &g->ctx, &g->out);
            } else {
                inv_expire_decide(s, 10, &g->ctx, &g->out);
            }
            char got[4200];
            snprintf(got, sizeof(got), "%s%s", given_render(g), extra);
            if (strcmp(got, p[i].then) != 0)
                print_message("probe %zu on the %s state\nexpected: \"%s\"\n     got: \"%s\"\n", i,
                              k ? "decoded" : "original", p[i].then, got);
            assert_string_equal(got, p[i].then);
            given_free(g);
        }
    }
}

/* A seated shard with every v2 fact, interleaved so that their order
 * matters: b3's seat was held by b4 after b3 expired, then b3 reacquired it
 * (RULE-PAY-2), was cancelled, and b6 holds it now. */
static void test_snapshot_inventory_v2(void **state)
{
    (void)state;
    static const given_step_t h[] = {HELD("b1", "u1", 0, "A-1-1,A-1-2"),
                                     PAY_REQUESTED("b1", "p-old", 0),
                                     HELD("b2", "u2", 0, "A-1-3"),
                                     PAY_REQUESTED("b1", NULL, GIVEN_MIN),
                                     HELD("b3", "u3", GIVEN_MIN, "A-1-4"),
                                     CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2"),
                                     PAY_REQUESTED("b2", NULL, 2 * GIVEN_MIN),
                                     PAY_FAILED("b2", "pay-b2", "evt-f2"),
                                     RELEASED_FOR("b2", "payment_failed"),
                                     PAY_REQUESTED("b3", NULL, 3 * GIVEN_MIN),
                                     EXPIRED("b3"),
                                     HELD("b4", "u4", GIVEN_HOLD + GIVEN_MIN, "A-1-4"),
                                     EXPIRED("b4"),
                                     REACQUIRED("b3", 2 * GIVEN_HOLD + GIVEN_MIN, "t3"),
                                     TRANSFERRED("t1", GIVEN_DAY, "u6", "t1b", 2),
                                     CHECKED_IN("t2", 2 * GIVEN_DAY, "N1", "nonce-a"),
                                     CANCELLED("b3", 2 * GIVEN_DAY, 1250),
                                     HELD("b6", "u6", 2 * GIVEN_DAY, "A-1-4"),
                                     OFFERED("b7", "u7", 2 * GIVEN_DAY, "A-2-1", 15),
                                     HELD("b5", "u5", 2 * GIVEN_DAY, "A-2-2"),
                                     PAY_REQUESTED("b5", NULL, 2 * GIVEN_DAY),
                                     EXPIRED("b5"),
                                     REFUND_DUE("b5", 2650),
                                     REFUNDED("b5", 2650),
                                     RESCHEDULED(GIVEN_DAY),
                                     {0}};
    inv_state_t *orig = given_inventory("A", h);
    /* The interleaving: b3 took A-1-4 back after b4, then was cancelled;
     * b6 (booking index 4) holds it now. */
    assert_int_equal(orig->seat_owner[3], 4);
    assert_int_equal(orig->version, 26);
    inv_state_t *copy = roundtrip(CMD_AGG_INV, orig);
    assert_same_inv(orig, copy);
    assert_int_equal(copy->info.starts_at, GIVEN_START + GIVEN_DAY);
    assert_int_equal(copy->schedules[0].starts_at, GIVEN_START);
    assert_string_equal(inv_booking_status_name(inv_booking_find(copy, "b3"), 0), "refund_due");
    assert_string_equal(inv_booking_status_name(inv_booking_find(copy, "b5"), 0), "refunded");
    assert_int_equal(inv_ticket_find(copy, "t1")->revoked_version, 16);
    assert_int_equal(inv_ticket_find(copy, "t3")->revoked_version, 18);

    /* Decisions on both states agree, with these outcomes. */
    inv_state_t *const states[2] = {orig, copy};
    static const v2_probe_t probes[] = {
        /* RULE-PAY-1: the intents are known, duplicates are no-ops. */
        {'W', 2 * GIVEN_DAY + GIVEN_MIN, "system", "p-old", "payment.succeeded", ""},
        {'W', 2 * GIVEN_DAY + GIVEN_MIN, "system", "pay-b2", "payment.succeeded",
         "BookingConfirmed(b2:x1=A-1-3/u2/v1 reacquired)"},
        {'W', 2 * GIVEN_DAY + GIVEN_MIN, "system", "pay-b3", "refund.succeeded",
         "RefundCompleted(b3:pay-b3 1250 EUR)"},
        {'W', 2 * GIVEN_DAY + GIVEN_MIN, "system", "pay-b5", "refund.succeeded", ""},
        {'P', 2 * GIVEN_DAY + GIVEN_MIN, "u6", "b6", NULL, "PaymentRequested(b6:n1 2650 EUR)"},
        /* RULE-TKT-2, -3 */
        {'C', 2 * GIVEN_DAY + GIVEN_MIN, "gate1", "t2", "nonce-b", " =1 first=N1"},
        {'C', 2 * GIVEN_DAY + GIVEN_MIN, "gate1", "t2", "nonce-a", " =0 first=N1"},
        {'C', 2 * GIVEN_DAY + GIVEN_MIN, "gate1", "t1", "n", " =2"},
        {'C', 2 * GIVEN_DAY + GIVEN_MIN, "gate1", "t3", "n", " =2"},
        {'C', 2 * GIVEN_DAY + GIVEN_MIN, "gate1", "t1b", "n",
         "TicketCheckedIn(t1b gate=G9 nonce=n) =0"},
        {'T', 2 * GIVEN_DAY + GIVEN_MIN, "u6", "t1b", "u8", "TicketTransferred(t1b->n1:u8/v3)"},
        {'T', 2 * GIVEN_DAY + GIVEN_MIN, "u1", "t2", "u8", "!conflict"},
        /* RULE-HOLD-1, -3 with the offer and the reacquired seat */
        {'H', 2 * GIVEN_DAY + GIVEN_MIN, "u9", "A-1-4", NULL,
         "!seat_unavailable field=seats seats=A-1-4"},
        {'H', 2 * GIVEN_DAY + 15 * GIVEN_MIN, "u9", "A-2-1", NULL,
         "HoldExpired(b7) HoldPlaced(n1:A-2-1 x1)"},
        {'H', 2 * GIVEN_DAY + GIVEN_MIN, "u9", "A-1-1", NULL,
         "!seat_unavailable field=seats seats=A-1-1"},
        {'X', 2 * GIVEN_DAY + GIVEN_HOLD, "system", NULL, NULL, "HoldExpired(b6) HoldExpired(b7)"},
        /* RULE-REF-1: 19 days before the (moved) start: all but the fee. */
        {'K', 2 * GIVEN_DAY + GIVEN_MIN, "u1", "b1", NULL,
         "BookingCancelled(b1 refund=5000 holder)"},
        {'A', 2 * GIVEN_DAY + GIVEN_MIN, "system", NULL, NULL,
         "InventoryCancelled(e1 event_cancelled) "
         "BookingCancelled(b1 refund=5300 event_cancelled) "
         "HoldReleased(b6 event_cancelled) HoldReleased(b7 event_cancelled)"},
    };
    probe_v2(states, "A", probes, TS_ARRAY_LEN(probes));

    /* Apply the same decision to both: they stay the same. */
    for (int k = 0; k < 2; k++) {
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + 2 * GIVEN_DAY + GIVEN_MIN, "system");
        inv_cancel_all_decide(states[k], NULL, 0, &g->ctx, &g->out);
        given_apply_out(CMD_AGG_INV, states[k], g);
        given_free(g);
    }
    assert_same_inv(orig, copy);
    inv_state_t *again = roundtrip(CMD_AGG_INV, copy);
    assert_same_inv(orig, again);
    assert_true(again->cancelled);

    assert_corrupt_is_null(CMD_AGG_INV, orig);
    given_state_free(CMD_AGG_INV, again);
    given_state_free(CMD_AGG_INV, copy);
    given_state_free(CMD_AGG_INV, orig);
}

/* Standing room: units reacquired, refunded and offered come back. */
static void test_snapshot_inventory_v2_ga(void **state)
{
    (void)state;
    static const given_step_t h[] = {HELD_GA("b1", "u1", 0, 2),
                                     PAY_REQUESTED("b1", NULL, 0),
                                     EXPIRED("b1"),
                                     HELD_GA("b2", "u2", GIVEN_HOLD, 2),
                                     REACQUIRED("b1", GIVEN_HOLD, "g1,g2"),
                                     OFFERED("b3", "u3", GIVEN_HOLD, NULL, 5),
                                     PAY_REQUESTED("b2", NULL, GIVEN_HOLD),
                                     CONFIRMED("b2", GIVEN_HOLD, "g3,g4"),
                                     CANCELLED("b2", GIVEN_DAY, 0),
                                     CHECKED_IN("g1", GIVEN_DAY, NULL, NULL),
                                     INV_CANCELLED(),
                                     {0}};
    inv_state_t *orig = given_inventory("GA", h);
    assert_int_equal(orig->ga_taken, 3);
    inv_state_t *copy = roundtrip(CMD_AGG_INV, orig);
    assert_same_inv(orig, copy);
    assert_true(copy->cancelled);
    assert_string_equal(copy->cancel_reason, "event_cancelled");
    assert_null(inv_ticket_find(copy, "g1")->gate);
    assert_null(copy->tickets[2].t.seat);

    inv_state_t *const states[2] = {orig, copy};
    static const v2_probe_t probes[] = {
        /* The event is cancelled: no ticket admits (RULE-TKT-2). */
        {'C', GIVEN_DAY, "gate1", "g2", "n", " =2"},
        {'C', GIVEN_DAY, "gate1", "g1", NULL, " =2"},
        {'C', GIVEN_DAY, "gate1", "g3", NULL, " =2"},
        {'A', GIVEN_DAY, "system", NULL, NULL,
         "BookingCancelled(b1 refund=3180 event_cancelled) HoldExpired(b3)"},
    };
    probe_v2(states, "GA", probes, TS_ARRAY_LEN(probes));
    given_state_free(CMD_AGG_INV, copy);
    given_state_free(CMD_AGG_INV, orig);
}

/* ---- user and claim ---- */

static void test_snapshot_user(void **state)
{
    (void)state;
    evt_event_t e = {.type = EVT_USER_REGISTERED};
    e.u.user_registered.user_id = "u1";
    e.u.user_registered.email = "alice@example.com";
    e.u.user_registered.name = "Alice";
    e.u.user_registered.password_hash = "scrypt$16384$8$1$00$11";
    e.u.user_registered.roles = EVT_ROLE_ATTENDEE | EVT_ROLE_AUDITOR;
    cmd_user_state_t *orig = given_state(CMD_AGG_USER, &e, 1);
    cmd_user_state_t *copy = roundtrip(CMD_AGG_USER, orig);
    assert_true(copy->exists);
    assert_string_equal(copy->u.user_id, "u1");
    assert_string_equal(copy->u.email, "alice@example.com");
    assert_string_equal(copy->u.name, "Alice");
    assert_string_equal(copy->u.password_hash, "scrypt$16384$8$1$00$11");
    assert_int_equal(copy->u.roles, EVT_ROLE_ATTENDEE | EVT_ROLE_AUDITOR);

    evt_user_registered_t again = e.u.user_registered;
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "anonymous");
    user_register_decide(copy, &again, &g->ctx, &g->out);
    then_line(g, "!conflict");
    given_free(g);

    assert_corrupt_is_null(CMD_AGG_USER, orig);
    given_state_free(CMD_AGG_USER, copy);
    given_state_free(CMD_AGG_USER, orig);
}

static void test_snapshot_claim(void **state)
{
    (void)state;
    evt_event_t e = {.type = EVT_CLAIMED};
    e.u.claimed.kind = "email";
    e.u.claimed.owner = "u1";
    cmd_claim_state_t *orig = given_state(CMD_AGG_CLAIM, &e, 1);
    cmd_claim_state_t *copy = roundtrip(CMD_AGG_CLAIM, orig);
    assert_true(copy->exists);
    assert_string_equal(copy->c.kind, "email");
    assert_string_equal(copy->c.owner, "u1");

    given_t *g = given_new();
    given_when(g, GIVEN_T0, "system");
    claim_decide(copy, "email", "u1", &g->ctx, &g->out);
    then_line(g, "");
    then_ref(g, "u1");
    given_when(g, GIVEN_T0, "system");
    claim_decide(copy, "email", "u2", &g->ctx, &g->out);
    then_line(g, "!conflict");
    then_ref(g, "u1");
    given_free(g);

    assert_corrupt_is_null(CMD_AGG_CLAIM, orig);
    given_state_free(CMD_AGG_CLAIM, copy);
    given_state_free(CMD_AGG_CLAIM, orig);
}

/* Optional fields that are absent (NULL) or empty ("") come back as they
 * were: a state the codec could not encode would snapshot to nothing. */
static void test_snapshot_optional_fields(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_arena_init(&a, 0);

    evt_event_t ev = given_event_created(&a);
    ev.u.event_created.description = NULL;
    ev.u.event_created.genre = NULL;
    ev.u.event_created.policy.n_refund = 0;
    ev.u.event_created.policy.refund = NULL;
    cmd_event_state_t *e = given_state(CMD_AGG_EVENT, &ev, 1);
    cmd_event_state_t *e2 = roundtrip(CMD_AGG_EVENT, e);
    assert_true(e2->exists);
    assert_null(e2->ev.description);
    assert_null(e2->ev.genre);
    assert_int_equal(e2->ev.policy.n_refund, 0);
    assert_string_equal(e2->ev.title, "Derby");
    given_state_free(CMD_AGG_EVENT, e2);
    given_state_free(CMD_AGG_EVENT, e);

    /* A hold placed without a command id (a saga's), and a user registered
     * without a name (user_register_decide makes it ""). */
    evt_event_t inv[2];
    inv[0] = given_inventory_opened(&a, "GA");
    const given_step_t st = HELD_GA("b1", "u1", 0, 2);
    inv[1] = given_hold_placed(&a, &inv[0].u.inventory_opened, &st);
    inv[1].u.hold_placed.command_id = NULL;
    inv_state_t *s = given_state(CMD_AGG_INV, inv, 2);
    inv_state_t *s2 = roundtrip(CMD_AGG_INV, s);
    assert_int_equal(s2->n_bookings, 1);
    assert_null(s2->bookings[0].hold.command_id);
    assert_int_equal(s2->ga_taken, 2);
    given_state_free(CMD_AGG_INV, s2);
    given_state_free(CMD_AGG_INV, s);

    evt_event_t ue = {.type = EVT_USER_REGISTERED};
    ue.u.user_registered.user_id = "u1";
    ue.u.user_registered.email = "a@b.c";
    ue.u.user_registered.name = "";
    ue.u.user_registered.password_hash = "scrypt$1$1$1$00$11";
    ue.u.user_registered.roles = EVT_ROLE_ATTENDEE;
    cmd_user_state_t *u = given_state(CMD_AGG_USER, &ue, 1);
    cmd_user_state_t *u2 = roundtrip(CMD_AGG_USER, u);
    assert_non_null(u2->u.name);
    assert_string_equal(u2->u.name, "");
    given_state_free(CMD_AGG_USER, u2);
    given_state_free(CMD_AGG_USER, u);

    ts_arena_deinit(&a);
}

/* An empty state of any kind encodes to no bytes, and no bytes decode to an
 * empty state (not NULL). */
static void test_snapshot_empty_states(void **state)
{
    (void)state;
    for (int k = 0; k < CMD_AGG_COUNT; k++) {
        const cmd_aggregate_ops_t *ops = cmd_aggregate_ops((cmd_agg_kind_t)k);
        assert_non_null(ops);
        assert_int_equal(ops->kind, k);
        assert_true(ops->format_version > 0);
        void *s = ops->state_new();
        ts_buf_t buf;
        ts_buf_init(&buf);
        ops->encode(s, &buf);
        assert_int_equal(buf.len, 0);
        void *copy = ops->decode(buf.data, buf.len);
        assert_non_null(copy);
        ts_buf_deinit(&buf);
        ops->state_free(copy);
        ops->state_free(s);
    }
    inv_state_t *inv = cmd_aggregate_ops(CMD_AGG_INV)->decode(NULL, 0);
    assert_non_null(inv);
    assert_false(inv->opened);
    assert_int_equal(inv->n_bookings, 0);
    given_state_free(CMD_AGG_INV, inv);
    cmd_user_state_t *user = cmd_aggregate_ops(CMD_AGG_USER)->decode(NULL, 0);
    assert_false(user->exists);
    given_state_free(CMD_AGG_USER, user);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snapshot_venue),
        cmocka_unit_test(test_snapshot_event),
        cmocka_unit_test(test_snapshot_inventory_seated),
        cmocka_unit_test(test_snapshot_inventory_ga),
        cmocka_unit_test(test_snapshot_inventory_many),
        cmocka_unit_test(test_snapshot_inventory_v2),
        cmocka_unit_test(test_snapshot_inventory_v2_ga),
        cmocka_unit_test(test_snapshot_user),
        cmocka_unit_test(test_snapshot_claim),
        cmocka_unit_test(test_snapshot_optional_fields),
        cmocka_unit_test(test_snapshot_empty_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
