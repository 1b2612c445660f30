/*
 * Best available (commands/best.c): quantity adjacent free seats in one row
 * (RULE-HOLD-1), no single seat stranded when any placement avoids it,
 * accessible seats only when asked and spared otherwise, front row first,
 * then leftmost; picked and held in one decision of the shard's lane.
 *
 * Shards here are section S of event e1 with the rows a case lists ("5" is
 * one row of 5 seats; "6a1-2" a row of 6 whose seats 1 and 2 are
 * accessible), 2500 EUR, 4 per order, 20-minute holds, on sale from
 * GIVEN_T0 - 1 h until GIVEN_START. Taken seats are held by booking bx
 * (user u9) at GIVEN_T0.
 */
#include "given.h"

#define SALE_START (GIVEN_T0 - GIVEN_HOUR)

/* "5,6a1-2" → rows "1" (5 seats), "2" (6 seats, 1 and 2 accessible). */
static evt_section_t section_of(ts_arena_t *a, const char *spec)
{
    uint32_t n = 0;
    const char **rows = given_split(a, spec, &n);
    evt_section_t s = {.key = "S", .name = "Stand", .kind = EVT_SEATED, .n_rows = n};
    s.rows = ts_arena_alloc(a, n * sizeof(evt_row_t));
    for (uint32_t r = 0; r < n; r++) {
        char *end = NULL;
        evt_row_t *row = &s.rows[r];
        row->label = ts_arena_printf(a, "%u", r + 1);
        row->seats = (uint32_t)strtoul(rows[r], &end, 10);
        s.capacity += row->seats;
        if (*end == 'a') {
            uint32_t from = (uint32_t)strtoul(end + 1, &end, 10), to = from;
            if (*end == '-')
                to = (uint32_t)strtoul(end + 1, &end, 10);
            row->n_accessible = to - from + 1;
            row->accessible = ts_arena_alloc(a, row->n_accessible * sizeof(uint32_t));
            for (uint32_t k = 0; k < row->n_accessible; k++)
                row->accessible[k] = from + k;
        }
    }
    return s;
}

/* A shard of section S with these rows; taken ("S-1-1,S-1-5") are held by
 * bx from GIVEN_T0; released: bx was released since. */
static inv_state_t *given_shard(const char *rows, const char *taken, int released)
{
    ts_arena_t a;
    ts_arena_init(&a, 0);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_INV);
    inv_state_t *s = ops->state_new();
    evt_event_t o = {.type = EVT_INVENTORY_OPENED};
    evt_inventory_opened_t *info = &o.u.inventory_opened;
    info->event_id = "e1";
    info->section = section_of(&a, rows);
    info->tier_key = "std";
    info->price.amount = 2500;
    memcpy(info->price.currency, "EUR", 4);
    info->sale_starts_at = SALE_START;
    info->sale_ends_at = GIVEN_START;
    info->max_per_order = 4;
    info->hold_minutes = 20;
    info->service_fee_bps = 600;
    info->vat_bps = 500;
    ops->apply(s, &o);
    if (taken && taken[0]) {
        given_step_t st = HELD("bx", "u9", 0, taken);
        evt_event_t h = given_hold_placed(&a, info, &st);
        ops->apply(s, &h);
        if (released) {
            evt_event_t r = {.type = EVT_HOLD_RELEASED};
            r.u.hold_ended.booking_id = "bx";
            ops->apply(s, &r);
        }
    }
    ts_arena_deinit(&a);
    return s;
}

typedef struct {
    const char *name;
    const char *rows;
    const char *taken;
    int released;
    int64_t at; /* from GIVEN_T0 */
    uint32_t quantity;
    int accessible;
    const char *then; /* "row 2 seats 1-2 orphans 0", or "none free 3" */
} pick_case_t;

static const pick_case_t picks[] = {
    {.name = "adjacent seats from the left of the front row",
     .rows = "6,6",
     .quantity = 2,
     .then = "row 1 seats 1-2 orphans 0"},
    {.name = "orphans: row of 5, seats 1 and 5 taken, 2 asked; another row avoids a single",
     .rows = "5,5",
     .taken = "S-1-1,S-1-5",
     .quantity = 2,
     .then = "row 2 seats 1-2 orphans 0"},
    {.name = "orphans: row of 5, seats 1 and 5 taken, 2 asked; unavoidable, still seated",
     .rows = "5",
     .taken = "S-1-1,S-1-5",
     .quantity = 2,
     .then = "row 1 seats 2-3 orphans 1"},
    {.name = "orphans: row of 5, seats 1 and 5 taken, 3 asked fill the gap",
     .rows = "5",
     .taken = "S-1-1,S-1-5",
     .quantity = 3,
     .then = "row 1 seats 2-4 orphans 0"},
    {.name = "orphans: seat 1 taken, 2 asked take 2-3 (4-5 stay a pair), not 3-4",
     .rows = "5",
     .taken = "S-1-1",
     .quantity = 2,
     .then = "row 1 seats 2-3 orphans 0"},
    {.name = "orphans: 4 of a free row of 5 strand a seat; a row of 4 fits exactly",
     .rows = "5,4",
     .quantity = 4,
     .then = "row 2 seats 1-4 orphans 0"},
    {.name = "orphans: a later row beats a front row that would strand a seat",
     .rows = "3,6",
     .taken = "S-1-1",
     .quantity = 1,
     .then = "row 2 seats 1-1 orphans 0"},
    {.name = "orphans: 1 asked takes the single seat itself rather than strand one",
     .rows = "5",
     .taken = "S-1-1,S-1-3",
     .quantity = 1,
     .then = "row 1 seats 2-2 orphans 0"},
    {.name = "adjacency: free seats 1, 3, 5 hold no pair",
     .rows = "5",
     .taken = "S-1-2,S-1-4",
     .quantity = 2,
     .then = "none free 3"},
    {.name = "adjacency: the only pair is in the second row",
     .rows = "5,5",
     .taken = "S-1-2,S-1-4,S-2-1,S-2-2",
     .quantity = 2,
     .then = "row 2 seats 3-4 orphans 1"},
    {.name = "no room: one seat left, two asked",
     .rows = "3",
     .taken = "S-1-1,S-1-2",
     .quantity = 2,
     .then = "none free 1"},
    {.name = "no room: a row shorter than the party",
     .rows = "2,3",
     .quantity = 4,
     .then = "none free 5"},
    {.name = "accessible asked: only accessible seats",
     .rows = "6a1-2,6",
     .quantity = 2,
     .accessible = 1,
     .then = "row 1 seats 1-2 orphans 0"},
    {.name = "accessible asked: not enough of them",
     .rows = "6a1-2,6",
     .quantity = 3,
     .accessible = 1,
     .then = "none free 2"},
    {.name = "accessible asked: one of two taken",
     .rows = "6a1-2,6",
     .taken = "S-1-1",
     .quantity = 2,
     .accessible = 1,
     .then = "none free 1"},
    {.name = "accessible asked: in a later row",
     .rows = "6,6a5-6",
     .quantity = 2,
     .accessible = 1,
     .then = "row 2 seats 5-6 orphans 0"},
    {.name = "accessible not asked: accessible seats are spared",
     .rows = "6a1-2,6",
     .quantity = 2,
     .then = "row 1 seats 3-4 orphans 0"},
    {.name = "accessible not asked: used when nothing else fits",
     .rows = "4a1-2",
     .quantity = 4,
     .then = "row 1 seats 1-4 orphans 0"},
    {.name = "orphans come first: accessible seats used rather than strand a seat",
     .rows = "6a1-2",
     .taken = "S-1-3",
     .quantity = 2,
     .then = "row 1 seats 1-2 orphans 0"},
    {.name = "RULE-HOLD-3 a hold's seats are taken 1 ms before its expiry",
     .rows = "3",
     .taken = "S-1-1,S-1-2,S-1-3",
     .at = GIVEN_HOLD - 1,
     .quantity = 3,
     .then = "none free 0"},
    {.name = "RULE-HOLD-3 a hold's seats are free at its expiry instant",
     .rows = "3",
     .taken = "S-1-1,S-1-2,S-1-3",
     .at = GIVEN_HOLD,
     .quantity = 3,
     .then = "row 1 seats 1-3 orphans 0"},
    {.name = "RULE-HOLD-1 a released hold's seats are free",
     .rows = "3",
     .taken = "S-1-1,S-1-2,S-1-3",
     .released = 1,
     .at = GIVEN_MIN,
     .quantity = 3,
     .then = "row 1 seats 1-3 orphans 0"},
};

static void test_best_pick(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(picks); i++) {
        const pick_case_t *c = &picks[i];
        inv_state_t *s = given_shard(c->rows, c->taken, c->released);
        inv_best_pick_t p;
        char got[128];
        if (inv_best_pick(s, c->quantity, c->accessible, GIVEN_T0 + c->at, &p) == 0)
            snprintf(got, sizeof(got), "row %s seats %u-%u orphans %u",
                     s->info.section.rows[p.row].label, p.first, p.first + c->quantity - 1,
                     p.orphans);
        else
            snprintf(got, sizeof(got), "none free %u", p.n_free);
        if (strcmp(got, c->then) != 0)
            print_message("case: %s\nexpected: \"%s\"\n     got: \"%s\"\n", c->name, c->then, got);
        assert_string_equal(got, c->then);
        given_state_free(CMD_AGG_INV, s);
    }
}

typedef struct {
    const char *name;
    const char *rows;
    const char *taken;
    int64_t at;
    uint32_t quantity;
    int accessible;
    const char *then;
} best_case_t;

static const best_case_t bests[] = {
    {.name = "picked and held in one decision",
     .rows = "5,5",
     .taken = "S-1-1,S-1-5",
     .quantity = 2,
     .then = "HoldPlaced(n1:S-2-1,S-2-2 x2)"},
    {.name = "accessible seats held",
     .rows = "6a5-6,6",
     .quantity = 2,
     .accessible = 1,
     .then = "HoldPlaced(n1:S-1-5,S-1-6 x2)"},
    {.name = "enough free seats, none adjacent: seat_unavailable naming none",
     .rows = "5",
     .taken = "S-1-2,S-1-4",
     .quantity = 2,
     .then = "!seat_unavailable field=quantity"},
    {.name = "fewer free seats than asked: sold_out",
     .rows = "3",
     .taken = "S-1-1,S-1-2",
     .quantity = 2,
     .then = "!sold_out field=quantity"},
    {.name = "RULE-HOLD-2 more than max_per_order",
     .rows = "6",
     .quantity = 5,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-2 max_per_order exactly",
     .rows = "6",
     .quantity = 4,
     .then = "HoldPlaced(n1:S-1-1,S-1-2,S-1-3,S-1-4 x4)"},
    {.name = "no quantity",
     .rows = "6",
     .quantity = 0,
     .then = "!validation_failed field=quantity"},
    {.name = "RULE-HOLD-2 1 ms before the sale starts (before any talk of seats)",
     .rows = "3",
     .taken = "S-1-1,S-1-2,S-1-3",
     .at = SALE_START - GIVEN_T0 - 1,
     .quantity = 2,
     .then = "!not_on_sale"},
    {.name = "RULE-HOLD-2 exactly when the sale starts",
     .rows = "3",
     .at = SALE_START - GIVEN_T0,
     .quantity = 2,
     .then = "HoldPlaced(n1:S-1-1,S-1-2 x2)"},
    {.name = "RULE-HOLD-2 exactly when the sale ends",
     .rows = "3",
     .at = GIVEN_START - GIVEN_T0,
     .quantity = 2,
     .then = "!not_on_sale"},
    {.name = "RULE-HOLD-3 lazy expiry: the expired hold is recorded, its seats taken",
     .rows = "2",
     .taken = "S-1-1,S-1-2",
     .at = GIVEN_HOLD,
     .quantity = 2,
     .then = "HoldExpired(bx) HoldPlaced(n1:S-1-1,S-1-2 x2)"},
};

static void test_best_hold(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(bests); i++) {
        const best_case_t *c = &bests[i];
        inv_state_t *s = given_shard(c->rows, c->taken, 0);
        given_t *g = given_new();
        inv_hold_cmd_t cmd = {.event_id = "e1", .section = "S", .quantity = c->quantity};
        given_when(g, GIVEN_T0 + c->at, "u2");
        inv_best_hold_decide(s, &cmd, c->accessible, &g->ctx, &g->out);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* RULE-HOLD-1 in the lane: two best holds decided one after the other never
 * get the same seats; RULE-HOLD-5: the first command again names its
 * booking. */
static void test_best_hold_twice(void **state)
{
    (void)state;
    inv_state_t *s = given_shard("4", NULL, 0);
    given_t *g = given_new();
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "S", .quantity = 2};
    given_when(g, GIVEN_T0, "u2");
    inv_best_hold_decide(s, &cmd, 0, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:S-1-1,S-1-2 x2)");
    given_apply_out(CMD_AGG_INV, s, g);

    given_when(g, GIVEN_T0 + 1, "u3");
    g->ctx.command_id = "cmd-n2";
    g->ctx.new_id = "n2";
    inv_best_hold_decide(s, &cmd, 0, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n2:S-1-3,S-1-4 x2)");
    given_apply_out(CMD_AGG_INV, s, g);

    given_when(g, GIVEN_T0 + 2, "u4");
    g->ctx.command_id = "cmd-n3";
    g->ctx.new_id = "n3";
    inv_best_hold_decide(s, &cmd, 0, &g->ctx, &g->out);
    then_line(g, "!sold_out field=quantity");

    given_when(g, GIVEN_T0 + 3, "u2");
    g->ctx.command_id = "cmd-n1";
    g->ctx.new_id = "n4";
    inv_best_hold_decide(s, &cmd, 0, &g->ctx, &g->out);
    then_line(g, "");
    then_ref(g, "n1");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* Sold seats stay taken after their hold's expiry; a cancelled booking's
 * seats are free again (fixture shard A: row 1 of 10 seats, 1 and 2
 * accessible; row 2 of 6). */
static void test_best_pick_sold_and_cancelled(void **state)
{
    (void)state;
    static const given_step_t sold[] = {HELD("b1", "u1", 0, "A-1-3,A-1-4,A-1-5,A-1-6"),
                                        CONFIRMED("b1", GIVEN_MIN, "t1,t2,t3,t4"),
                                        {0}};
    static const given_step_t cancelled[] = {HELD("b1", "u1", 0, "A-1-3,A-1-4,A-1-5,A-1-6"),
                                             CONFIRMED("b1", GIVEN_MIN, "t1,t2,t3,t4"),
                                             CANCELLED("b1", 2 * GIVEN_MIN, 0),
                                             {0}};
    inv_best_pick_t p;
    inv_state_t *s = given_inventory("A", sold);
    /* An hour on, long past the hold's 20 minutes: 3..6 are sold. */
    assert_int_equal(inv_best_pick(s, 4, 0, GIVEN_T0 + GIVEN_HOUR, &p), 0);
    assert_int_equal(p.row, 0);
    assert_int_equal(p.first, 7);
    assert_int_equal(p.orphans, 0);
    assert_int_equal(inv_best_pick(s, 3, 1, GIVEN_T0 + GIVEN_HOUR, &p), -1);
    assert_int_equal(p.n_free, 2); /* the accessible 1 and 2 */
    given_state_free(CMD_AGG_INV, s);

    s = given_inventory("A", cancelled);
    assert_int_equal(inv_best_pick(s, 4, 0, GIVEN_T0 + GIVEN_HOUR, &p), 0);
    assert_int_equal(p.row, 0);
    assert_int_equal(p.first, 3); /* 1 and 2 spared, nothing stranded */
    given_state_free(CMD_AGG_INV, s);
}

/* Standing room: best is any quantity units. */
static void test_best_hold_standing(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("GA", none);
    given_t *g = given_new();
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "GA", .quantity = 2, .tier = "floor"};
    given_when(g, GIVEN_T0, "u2");
    inv_best_hold_decide(s, &cmd, 0, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:x2)");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_pick),
        cmocka_unit_test(test_best_hold),
        cmocka_unit_test(test_best_hold_twice),
        cmocka_unit_test(test_best_hold_standing),
        cmocka_unit_test(test_best_pick_sold_and_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
