/*
 * inv_hold_decide as tables: given a shard's events, when a hold, then the
 * events or the rejection (RULE-HOLD-1, -2, -5, RULE-EVT-1). Lazy expiry at
 * the exact instant (RULE-HOLD-3) is in test_inventory_release_expire.c.
 *
 * Shards (given.h): A is seated, row 1 has seats 1..10 and row 2 seats 1..6,
 * 2500 EUR, on sale from GIVEN_SALE_START until the event starts; GA is
 * standing with capacity 5, on sale until GIVEN_FLOOR_END. Both allow 4 per
 * order. The new hold is booking n1 with command id cmd-n1.
 */
#include "given.h"

typedef struct {
    const char *name;
    const char *section;
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at;          /* ctx->now, from GIVEN_T0 */
    const char *actor;   /* default u2 */
    const char *command; /* ctx->command_id, default cmd-n1 */
    const char *seats;   /* seated: "A-1-1,A-1-2" */
    uint32_t quantity;
    const char *tier;
    const char *then;
} hold_case_t;

static void run_hold_cases(const hold_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const hold_case_t *c = &cases[i];
        inv_state_t *s = given_inventory(c->section, c->given);
        given_t *g = given_new();
        inv_hold_cmd_t cmd = {.event_id = "e1", .section = c->section, .tier = c->tier};
        cmd.seats = given_split(&g->arena, c->seats, &cmd.n_seats);
        cmd.quantity = c->quantity;
        given_when(g, GIVEN_T0 + c->at, c->actor ? c->actor : "u2");
        g->ctx.command_id = c->command ? c->command : "cmd-n1";
        assert_int_equal(inv_hold_decide(s, &cmd, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* RULE-HOLD-1: a seat is held by at most one booking at a time. */
static const hold_case_t seat_once[] = {
    {.name = "RULE-HOLD-1 free seats are held",
     .section = "A",
     .seats = "A-1-1,A-1-2",
     .then = "HoldPlaced(n1:A-1-1,A-1-2 x2)"},
    {.name = "RULE-HOLD-1 a seat held by another booking rejects the hold, naming only it",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-2")},
     .at = GIVEN_MIN,
     .seats = "A-1-1,A-1-2,A-1-3",
     .then = "!seat_unavailable field=seats seats=A-1-2"},
    {.name = "RULE-HOLD-1 taken seats are named in request order",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-2,A-2-6"), HELD("b2", "u3", GIVEN_MIN, "A-1-9")},
     .at = 2 * GIVEN_MIN,
     .seats = "A-2-6,A-1-1,A-1-9,A-1-2",
     .then = "!seat_unavailable field=seats seats=A-2-6,A-1-9,A-1-2"},
    {.name = "RULE-HOLD-1 the holder itself cannot hold its seat a second time",
     .section = "A",
     .given = {HELD("b1", "u2", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .seats = "A-1-1",
     .then = "!seat_unavailable field=seats seats=A-1-1"},
    {.name = "RULE-HOLD-1 the seat next to a held one is free",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .seats = "A-1-2",
     .then = "HoldPlaced(n1:A-1-2 x1)"},
    {.name = "RULE-HOLD-1 released seats can be held again",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1,A-1-2"), RELEASED("b1")},
     .at = GIVEN_MIN,
     .seats = "A-1-2,A-1-1",
     .then = "HoldPlaced(n1:A-1-2,A-1-1 x2)"},
    {.name = "RULE-HOLD-1 seats of a recorded expiry can be held again (nothing to expire)",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1"), EXPIRED("b1")},
     .at = GIVEN_HOLD,
     .seats = "A-1-1",
     .then = "HoldPlaced(n1:A-1-1 x1)"},
    {.name = "RULE-HOLD-1 a release frees only that booking's seats",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1,A-1-2"), HELD("b2", "u3", 0, "A-1-3"), RELEASED("b1")},
     .at = GIVEN_MIN,
     .seats = "A-1-2,A-1-3",
     .then = "!seat_unavailable field=seats seats=A-1-3"},
    {.name = "RULE-HOLD-1 a seat released then held again is taken by the new booking",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1"), RELEASED("b1"), HELD("b2", "u3", GIVEN_MIN, "A-1-1")},
     .at = 2 * GIVEN_MIN,
     .seats = "A-1-1",
     .then = "!seat_unavailable field=seats seats=A-1-1"},
};

static void test_rule_hold_1_seat_held_once(void **state)
{
    (void)state;
    run_hold_cases(seat_once, TS_ARRAY_LEN(seat_once));
}

/* RULE-HOLD-1 for standing room: capacity 5 units, never more. */
static const hold_case_t ga_capacity[] = {
    {.name = "RULE-HOLD-1 GA: max_per_order units of an empty section",
     .section = "GA",
     .quantity = 4,
     .then = "HoldPlaced(n1:x4)"},
    {.name = "RULE-HOLD-1 GA: the last unit",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 4)},
     .at = GIVEN_MIN,
     .quantity = 1,
     .then = "HoldPlaced(n1:x1)"},
    {.name = "RULE-HOLD-1 GA: one more than is left is sold_out",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 4)},
     .at = GIVEN_MIN,
     .quantity = 2,
     .then = "!sold_out field=quantity"},
    {.name = "RULE-HOLD-1 GA: a full section is sold_out",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 4), HELD_GA("b2", "u3", GIVEN_MIN, 1)},
     .at = 2 * GIVEN_MIN,
     .quantity = 1,
     .then = "!sold_out field=quantity"},
    {.name = "RULE-HOLD-1 GA: released units can be held again",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 4), HELD_GA("b2", "u3", GIVEN_MIN, 1), RELEASED("b1")},
     .at = 2 * GIVEN_MIN,
     .quantity = 4,
     .then = "HoldPlaced(n1:x4)"},
    {.name = "RULE-HOLD-1 GA: units of a recorded expiry can be held again",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 4), HELD_GA("b2", "u3", GIVEN_MIN, 1), EXPIRED("b1")},
     .at = 2 * GIVEN_MIN,
     .quantity = 4,
     .then = "HoldPlaced(n1:x4)"},
    {.name = "RULE-HOLD-1 GA: a release frees only its own units",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 3), HELD_GA("b2", "u3", GIVEN_MIN, 2), RELEASED("b2")},
     .at = 2 * GIVEN_MIN,
     .quantity = 3,
     .then = "!sold_out field=quantity"},
};

static void test_rule_hold_1_ga_capacity(void **state)
{
    (void)state;
    run_hold_cases(ga_capacity, TS_ARRAY_LEN(ga_capacity));
}

/* RULE-HOLD-1: holds one unit at a time, each applied, until the capacity;
 * the next is sold_out, and a release makes room for exactly one more. */
static void test_rule_hold_1_ga_fills_up_then_sold_out(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("GA", none);
    given_t *g = given_new();
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "GA", .quantity = 1};
    static const char *ids[] = {"g1", "g2", "g3", "g4", "g5"};
    char expect[64];
    for (int i = 0; i < 5; i++) {
        given_when(g, GIVEN_T0 + i * 1000, "u2");
        g->ctx.new_id = ids[i];
        g->ctx.command_id = ids[i];
        inv_hold_decide(s, &cmd, &g->ctx, &g->out);
        snprintf(expect, sizeof(expect), "HoldPlaced(%s:x1)", ids[i]);
        then_line(g, expect);
        given_apply_out(CMD_AGG_INV, s, g);
    }
    assert_int_equal(s->ga_taken, 5);

    given_when(g, GIVEN_T0 + 5000, "u2");
    g->ctx.new_id = "g6";
    g->ctx.command_id = "g6";
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!sold_out field=quantity");

    /* u2 releases g3: one unit is free again, and only one. */
    given_when(g, GIVEN_T0 + 6000, "u2");
    inv_release_decide(s, "g3", &g->ctx, &g->out);
    then_line(g, "HoldReleased(g3 holder)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->ga_taken, 4);

    cmd.quantity = 2;
    given_when(g, GIVEN_T0 + 7000, "u2");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!sold_out field=quantity");
    cmd.quantity = 1;
    given_when(g, GIVEN_T0 + 7000, "u2");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(g6:x1)");

    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* RULE-HOLD-2: 1..max_per_order seats, all known and free, or nothing. */
static const hold_case_t seat_rules[] = {
    {.name = "RULE-HOLD-2 one seat",
     .section = "A",
     .seats = "A-2-1",
     .then = "HoldPlaced(n1:A-2-1 x1)"},
    {.name = "RULE-HOLD-2 exactly max_per_order (4) seats",
     .section = "A",
     .seats = "A-1-1,A-1-2,A-1-3,A-2-1",
     .then = "HoldPlaced(n1:A-1-1,A-1-2,A-1-3,A-2-1 x4)"},
    {.name = "RULE-HOLD-2 max_per_order + 1 seats is limit_exceeded with the limit",
     .section = "A",
     .seats = "A-1-1,A-1-2,A-1-3,A-1-4,A-1-5",
     .then = "!limit_exceeded field=seats limit=4"},
    {.name = "RULE-HOLD-2 the limit comes before seat checks",
     .section = "A",
     .seats = "A-9-1,A-9-2,A-9-3,A-9-4,A-9-5",
     .then = "!limit_exceeded field=seats limit=4"},
    {.name = "RULE-HOLD-2 no seats on a seated section",
     .section = "A",
     .then = "!validation_failed field=seats"},
    {.name = "RULE-HOLD-2 no seats on a seated section, even with a quantity",
     .section = "A",
     .quantity = 2,
     .then = "!validation_failed field=seats"},
    {.name = "RULE-HOLD-2 seated: a quantity equal to the seats is fine",
     .section = "A",
     .seats = "A-1-1,A-1-2",
     .quantity = 2,
     .then = "HoldPlaced(n1:A-1-1,A-1-2 x2)"},
    {.name = "RULE-HOLD-2 seated: a quantity that disagrees with the seats",
     .section = "A",
     .seats = "A-1-1,A-1-2",
     .quantity = 3,
     .then = "!validation_failed field=quantity"},
    {.name = "RULE-HOLD-2 unknown row",
     .section = "A",
     .seats = "A-1-1,A-3-1",
     .then = "!seat_unavailable field=seats seats=A-3-1"},
    {.name = "RULE-HOLD-2 row labels are exact (no row 01)",
     .section = "A",
     .seats = "A-01-1",
     .then = "!seat_unavailable field=seats seats=A-01-1"},
    {.name = "RULE-HOLD-2 seat number 0",
     .section = "A",
     .seats = "A-1-0",
     .then = "!seat_unavailable field=seats seats=A-1-0"},
    {.name = "RULE-HOLD-2 the last seat of a row exists",
     .section = "A",
     .seats = "A-1-10,A-2-6",
     .then = "HoldPlaced(n1:A-1-10,A-2-6 x2)"},
    {.name = "RULE-HOLD-2 seat number past the end of its row",
     .section = "A",
     .seats = "A-1-11,A-2-7,A-2-6",
     .then = "!seat_unavailable field=seats seats=A-1-11,A-2-7"},
    {.name = "RULE-HOLD-2 a seat of another section",
     .section = "A",
     .seats = "B-1-1,A-1-1",
     .then = "!seat_unavailable field=seats seats=B-1-1"},
    {.name = "RULE-HOLD-2 malformed seat ids",
     .section = "A",
     .seats = "A-1,A-1-x,A-1-01,A-1-1-1",
     .then = "!seat_unavailable field=seats seats=A-1,A-1-x,A-1-01,A-1-1-1"},
    {.name = "RULE-HOLD-2 more malformed seat ids (empty, spaces, no section)",
     .section = "A",
     .seats = "A-1-1,,A -1-2,-1-3",
     .then = "!seat_unavailable field=seats seats=,A -1-2,-1-3"},
    {.name = "RULE-HOLD-2 one bad seat rejects the whole hold (no events)",
     .section = "A",
     .seats = "A-1-1,A-1-2,A-9-9",
     .then = "!seat_unavailable field=seats seats=A-9-9"},
    {.name = "RULE-HOLD-2 taken and unknown seats are named together, in request order",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .seats = "A-1-1,A-9-1,A-1-2",
     .then = "!seat_unavailable field=seats seats=A-1-1,A-9-1"},
    {.name = "RULE-HOLD-2 the same seat twice",
     .section = "A",
     .seats = "A-1-1,A-1-2,A-1-1",
     .then = "!validation_failed field=seats"},
    {.name = "RULE-HOLD-2 the same held seat twice is still a validation error",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .seats = "A-1-1,A-1-1",
     .then = "!validation_failed field=seats"},
};

static void test_rule_hold_2_seats(void **state)
{
    (void)state;
    run_hold_cases(seat_rules, TS_ARRAY_LEN(seat_rules));
}

static const hold_case_t ga_rules[] = {
    {.name = "RULE-HOLD-2 GA: one unit",
     .section = "GA",
     .quantity = 1,
     .then = "HoldPlaced(n1:x1)"},
    {.name = "RULE-HOLD-2 GA: zero units",
     .section = "GA",
     .quantity = 0,
     .then = "!validation_failed field=quantity"},
    {.name = "RULE-HOLD-2 GA: max_per_order + 1 units is limit_exceeded with the limit",
     .section = "GA",
     .quantity = 5,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-2 GA: seat ids on a standing section",
     .section = "GA",
     .seats = "GA-1-1",
     .quantity = 1,
     .then = "!validation_failed field=seats"},
    {.name = "RULE-HOLD-2 GA: the section's tier by name",
     .section = "GA",
     .tier = "floor",
     .quantity = 2,
     .then = "HoldPlaced(n1:x2)"},
    {.name = "RULE-HOLD-2 GA: another tier's name",
     .section = "GA",
     .tier = "std",
     .quantity = 2,
     .then = "!validation_failed field=tier"},
};

static void test_rule_hold_2_ga(void **state)
{
    (void)state;
    run_hold_cases(ga_rules, TS_ARRAY_LEN(ga_rules));
}

/* RULE-HOLD-2: the tier must be on sale now. std sells from GIVEN_SALE_START
 * (inclusive) until the event starts (exclusive, no explicit end); floor
 * until GIVEN_FLOOR_END (exclusive). */
static const hold_case_t sale_window[] = {
    {.name = "RULE-HOLD-2 1 ms before sale_starts_at",
     .section = "A",
     .at = GIVEN_SALE_START - GIVEN_T0 - 1,
     .seats = "A-1-1",
     .then = "!not_on_sale"},
    {.name = "RULE-HOLD-2 exactly at sale_starts_at",
     .section = "A",
     .at = GIVEN_SALE_START - GIVEN_T0,
     .seats = "A-1-1",
     .then = "HoldPlaced(n1:A-1-1 x1)"},
    {.name = "RULE-HOLD-2 no sale_ends_at: 1 ms before the event starts",
     .section = "A",
     .at = GIVEN_START - GIVEN_T0 - 1,
     .seats = "A-1-1",
     .then = "HoldPlaced(n1:A-1-1 x1)"},
    {.name = "RULE-HOLD-2 no sale_ends_at: when the event starts",
     .section = "A",
     .at = GIVEN_START - GIVEN_T0,
     .seats = "A-1-1",
     .then = "!not_on_sale"},
    {.name = "RULE-HOLD-2 1 ms before sale_ends_at",
     .section = "GA",
     .at = GIVEN_FLOOR_END - GIVEN_T0 - 1,
     .quantity = 1,
     .then = "HoldPlaced(n1:x1)"},
    {.name = "RULE-HOLD-2 exactly at sale_ends_at",
     .section = "GA",
     .at = GIVEN_FLOOR_END - GIVEN_T0,
     .quantity = 1,
     .then = "!not_on_sale"},
    {.name = "RULE-HOLD-2 after sale_ends_at",
     .section = "GA",
     .at = GIVEN_FLOOR_END - GIVEN_T0 + GIVEN_DAY,
     .quantity = 1,
     .then = "!not_on_sale"},
    {.name = "RULE-HOLD-2 no sale_starts_at: on sale long before the event",
     .section = "B",
     .at = -30 * GIVEN_DAY,
     .seats = "B-1-4",
     .then = "HoldPlaced(n1:B-1-4 x1)"},
    {.name = "RULE-HOLD-2 the window is checked before the seats",
     .section = "A",
     .at = GIVEN_START - GIVEN_T0,
     .seats = "A-9-9,A-9-9",
     .then = "!not_on_sale"},
};

static void test_rule_hold_2_sale_window(void **state)
{
    (void)state;
    run_hold_cases(sale_window, TS_ARRAY_LEN(sale_window));
}

/* RULE-EVT-1 / RULE-HOLD-2: a shard that was never opened (the event is not
 * published) sells nothing, whatever is asked. */
static void test_rule_evt_1_unopened_shard_is_not_on_sale(void **state)
{
    (void)state;
    inv_state_t *s = cmd_aggregate_ops(CMD_AGG_INV)->state_new();
    given_t *g = given_new();
    const char *seats[] = {"A-1-1"};
    inv_hold_cmd_t seated = {.event_id = "e1", .section = "A", .seats = seats, .n_seats = 1};
    inv_hold_cmd_t ga = {.event_id = "e1", .section = "GA", .quantity = 1};

    given_when(g, GIVEN_T0, "u2");
    inv_hold_decide(s, &seated, &g->ctx, &g->out);
    then_line(g, "!not_on_sale");
    given_when(g, GIVEN_T0, "u2");
    inv_hold_decide(s, &ga, &g->ctx, &g->out);
    then_line(g, "!not_on_sale");

    /* HoldPlaced on an unopened shard is ignored by apply. */
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t opened = given_inventory_opened(&a, "A");
    const given_step_t st = HELD("b1", "u1", 0, "A-1-1");
    evt_event_t held = given_hold_placed(&a, &opened.u.inventory_opened, &st);
    cmd_aggregate_ops(CMD_AGG_INV)->apply(s, &held);
    assert_int_equal(s->n_bookings, 0);
    assert_null(inv_booking_find(s, "b1"));
    ts_arena_deinit(&a);

    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* RULE-HOLD-5: the same command id names the same booking and appends
 * nothing, whatever the state has become since. */
static const hold_case_t idempotent[] = {
    {.name = "RULE-HOLD-5 the same command id again",
     .section = "A",
     .given = {HELD("b1", "u2", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .command = "cmd-b1",
     .seats = "A-1-1",
     .then = ""},
    {.name = "RULE-HOLD-5 the same command id with other (free) seats still names b1",
     .section = "A",
     .given = {HELD("b1", "u2", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .command = "cmd-b1",
     .seats = "A-1-5",
     .then = ""},
    {.name = "RULE-HOLD-5 another command id for the same seat is a new hold, rejected",
     .section = "A",
     .given = {HELD("b1", "u2", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .command = "cmd-b2",
     .seats = "A-1-1",
     .then = "!seat_unavailable field=seats seats=A-1-1"},
    {.name = "RULE-HOLD-5 GA: the same command id when sold out",
     .section = "GA",
     .given = {HELD_GA("b1", "u2", 0, 4), HELD_GA("b2", "u1", 0, 1)},
     .at = GIVEN_MIN,
     .command = "cmd-b1",
     .quantity = 4,
     .then = ""},
};

static void test_rule_hold_5_same_command_twice(void **state)
{
    (void)state;
    run_hold_cases(idempotent, TS_ARRAY_LEN(idempotent));

    /* The answer refers to the first booking. */
    static const given_step_t h[] = {HELD("b1", "u2", 0, "A-1-1"), {0}};
    inv_state_t *s = given_inventory("A", h);
    given_t *g = given_new();
    const char *seats[] = {"A-1-1"};
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A", .seats = seats, .n_seats = 1};
    given_when(g, GIVEN_T0 + GIVEN_MIN, "u2");
    g->ctx.command_id = "cmd-b1";
    g->ctx.new_id = "n2";
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "");
    then_ref(g, "b1");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* RULE-HOLD-5 through decide and apply: the first decision's events, once
 * applied, make the second decision with the same command id a no-op. */
static void test_rule_hold_5_decide_apply_decide(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("A", none);
    given_t *g = given_new();
    const char *seats[] = {"A-1-1", "A-1-2"};
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A", .seats = seats, .n_seats = 2};

    given_when(g, GIVEN_T0, "u2");
    g->ctx.command_id = "idem-1";
    g->ctx.new_id = "first";
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(first:A-1-1,A-1-2 x2)");
    then_ref(g, "first");
    given_apply_out(CMD_AGG_INV, s, g);

    given_when(g, GIVEN_T0 + 1000, "u2");
    g->ctx.command_id = "idem-1";
    g->ctx.new_id = "second";
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    assert_int_equal(g->out.n_events, 0);
    then_line(g, "");
    then_ref(g, "first");
    assert_int_equal(s->n_bookings, 1);

    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* RULE-HOLD-2/-3 and RULE-PRICE-1: every field of HoldPlaced. */
static void test_hold_placed_fields(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("A", none);
    given_t *g = given_new();
    const char *seats[] = {"A-1-3", "A-1-1", "A-2-2"};
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A", .seats = seats, .n_seats = 3};
    given_when(g, GIVEN_T0 + 123, "u7");
    g->ctx.command_id = "cmd-x";
    g->ctx.new_id = "bk-x";
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(bk-x:A-1-3,A-1-1,A-2-2 x3)");
    then_ref(g, "bk-x");

    const evt_hold_placed_t *h = &g->out.events[0].u.hold_placed;
    assert_string_equal(h->event_id, "e1");
    assert_string_equal(h->section, "A");
    assert_string_equal(h->user_id, "u7");
    assert_string_equal(h->command_id, "cmd-x");
    assert_string_equal(h->tier_key, "std");
    assert_int_equal(h->created_at, GIVEN_T0 + 123);
    /* RULE-HOLD-3: created + 20 * 60000 ms. */
    assert_int_equal(h->expires_at, GIVEN_T0 + 123 + 1200000);
    assert_string_equal(h->unit_price.currency, "EUR");
    assert_int_equal(h->unit_price.amount, 2500);
    /* RULE-PRICE-1: 3 x 2500 = 7500; fee 7500 * 600 / 10000 = 450; total
     * 7950; VAT 7950 * 500 / 10500 = 378.57... -> 379. */
    assert_int_equal(h->subtotal, 7500);
    assert_int_equal(h->discount, 0);
    assert_int_equal(h->service_fee, 450);
    assert_int_equal(h->total, 7950);
    assert_int_equal(h->vat_included, 379);

    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* apply of HoldPlaced: the booking is found by id, its seats are owned, and
 * its strings are the state's own (the given arena is gone by now). */
static void test_apply_hold_placed(void **state)
{
    (void)state;
    static const given_step_t h[] = {
        HELD("b1", "u1", 0, "A-2-1,A-1-10"), HELD("b2", "u3", GIVEN_MIN, "A-1-1"), {0}};
    inv_state_t *s = given_inventory("A", h);
    assert_int_equal(s->n_seat_slots, 16);
    assert_int_equal(s->n_bookings, 2);
    const inv_booking_t *b1 = inv_booking_find(s, "b1");
    assert_non_null(b1);
    assert_string_equal(b1->hold.user_id, "u1");
    assert_string_equal(b1->hold.command_id, "cmd-b1");
    assert_string_equal(b1->hold.seats[0], "A-2-1");
    /* Seat index = row_offset[row] + number - 1: A-2-1 is 10, A-1-10 is 9. */
    assert_int_equal(b1->seat_index[0], 10);
    assert_int_equal(b1->seat_index[1], 9);
    assert_int_equal(s->seat_owner[10], 0);
    assert_int_equal(s->seat_owner[9], 0);
    assert_int_equal(s->seat_owner[0], 1);
    assert_int_equal(s->seat_owner[1], -1);
    assert_null(inv_booking_find(s, "b3"));
    assert_string_equal(inv_booking_status_name(b1, GIVEN_T0), "held");
    given_state_free(CMD_AGG_INV, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_hold_1_seat_held_once),
        cmocka_unit_test(test_rule_hold_1_ga_capacity),
        cmocka_unit_test(test_rule_hold_1_ga_fills_up_then_sold_out),
        cmocka_unit_test(test_rule_hold_2_seats),
        cmocka_unit_test(test_rule_hold_2_ga),
        cmocka_unit_test(test_rule_hold_2_sale_window),
        cmocka_unit_test(test_rule_evt_1_unopened_shard_is_not_on_sale),
        cmocka_unit_test(test_rule_hold_5_same_command_twice),
        cmocka_unit_test(test_rule_hold_5_decide_apply_decide),
        cmocka_unit_test(test_hold_placed_fields),
        cmocka_unit_test(test_apply_hold_placed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
