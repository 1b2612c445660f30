/*
 * Holds of another length than the shard's: waitlist offers (RULE-WL-1),
 * held in their user's name for offer_minutes. RULE-HOLD-3 must stay exact
 * when holds of two lengths interleave: each is free at its own expiry
 * instant, lazily in decide and by the sweeper.
 *
 * Shard A (seated) and GA (capacity 5) hold for 20 minutes (GIVEN_HOLD).
 * OFFERED(b, user, at, seats, minutes) is a hold of `minutes`.
 */
#include "given.h"

/* The v2 fields of a hold command end up in HoldPlaced. */
static void test_offer_hold_fields(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("A", none);
    given_t *g = given_new();
    inv_hold_cmd_t cmd = {.event_id = "e1",
                          .section = "A",
                          .user_id = "u7",
                          .offer_entry = "wl-e1-std-1",
                          .hold_minutes = 15};
    cmd.seats = given_split(&g->arena, "A-1-1", &cmd.n_seats);
    given_when(g, GIVEN_T0, "system");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:A-1-1 x1)");
    const evt_hold_placed_t *h = &g->out.events[0].u.hold_placed;
    assert_string_equal(h->user_id, "u7");
    assert_string_equal(h->offer_entry, "wl-e1-std-1");
    assert_null(h->promo_code);
    assert_int_equal(h->expires_at, GIVEN_T0 + 15 * GIVEN_MIN);
    given_apply_out(CMD_AGG_INV, s, g);
    const inv_booking_t *b = inv_booking_find(s, "n1");
    assert_string_equal(b->hold.user_id, "u7");
    assert_string_equal(b->hold.offer_entry, "wl-e1-std-1");
    assert_true(b->odd_hold);
    assert_int_equal(s->n_odd_holds, 1);
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + 15 * GIVEN_MIN);
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

typedef struct {
    const char *name;
    const char *section;
    given_step_t given[GIVEN_MAX_STEPS];
    char op; /* 'H' a hold by u9, 'X' the sweeper */
    int64_t at;
    const char *seats; /* 'H' on A */
    uint32_t quantity; /* 'H' on GA */
    const char *then;
} offer_case_t;

#define B1 HELD("b1", "u1", 0, "A-1-1")                     /* expires at 20 min */
#define B2_SHORT OFFERED("b2", "u2", GIVEN_MIN, "A-1-2", 5) /* expires at 6 min */
#define B2_LONG OFFERED("b2", "u2", GIVEN_MIN, "A-1-2", 30) /* expires at 31 min */
#define B3 HELD("b3", "u3", 2 * GIVEN_MIN, "A-1-3")         /* expires at 22 min */

static const offer_case_t offers[] = {
    {"RULE-HOLD-3 a short offer 1 ms before its expiry",
     "A",
     {B1, B2_SHORT, B3},
     'H',
     6 * GIVEN_MIN - 1,
     "A-1-2",
     0,
     "!seat_unavailable field=seats seats=A-1-2"},
    {"RULE-HOLD-3 a short offer after an older hold: free at its own instant",
     "A",
     {B1, B2_SHORT, B3},
     'H',
     6 * GIVEN_MIN,
     "A-1-2",
     0,
     "HoldExpired(b2) HoldPlaced(n1:A-1-2 x1)"},
    {"RULE-HOLD-3 the older hold is still held then",
     "A",
     {B1, B2_SHORT, B3},
     'H',
     6 * GIVEN_MIN,
     "A-1-1",
     0,
     "!seat_unavailable field=seats seats=A-1-1"},
    {"RULE-HOLD-3 all lapsed: expired in booking order",
     "A",
     {B1, B2_SHORT, B3},
     'H',
     GIVEN_HOLD + 2 * GIVEN_MIN,
     "A-1-4",
     0,
     "HoldExpired(b1) HoldExpired(b2) HoldExpired(b3) HoldPlaced(n1:A-1-4 x1)"},
    {"RULE-HOLD-3 a long offer outlives later holds",
     "A",
     {B1, B2_LONG, B3},
     'H',
     GIVEN_HOLD + 2 * GIVEN_MIN,
     "A-1-2",
     0,
     "!seat_unavailable field=seats seats=A-1-2"},
    {"RULE-HOLD-3 ... and later holds expire past it",
     "A",
     {B1, B2_LONG, B3},
     'H',
     GIVEN_HOLD + 2 * GIVEN_MIN,
     "A-1-3",
     0,
     "HoldExpired(b1) HoldExpired(b3) HoldPlaced(n1:A-1-3 x1)"},
    {"RULE-HOLD-3 the long offer at its instant",
     "A",
     {B1, B2_LONG, B3},
     'H',
     31 * GIVEN_MIN,
     "A-1-2",
     0,
     "HoldExpired(b1) HoldExpired(b2) HoldExpired(b3) HoldPlaced(n1:A-1-2 x1)"},
    {"RULE-HOLD-3 the sweeper takes a short offer first",
     "A",
     {B1, B2_SHORT, B3},
     'X',
     6 * GIVEN_MIN,
     NULL,
     0,
     "HoldExpired(b2)"},
    {"RULE-HOLD-3 the sweeper with a long offer",
     "A",
     {B1, B2_LONG, B3},
     'X',
     GIVEN_HOLD + 2 * GIVEN_MIN,
     NULL,
     0,
     "HoldExpired(b1) HoldExpired(b3)"},
    {"RULE-HOLD-3 a recorded expiry of an offer is not emitted again",
     "A",
     {B1, B2_SHORT, B3, EXPIRED("b2")},
     'X',
     GIVEN_HOLD,
     NULL,
     0,
     "HoldExpired(b1)"},
    {"RULE-HOLD-3 GA: an offer's units 1 ms before its expiry",
     "GA",
     {HELD_GA("b1", "u1", 0, 3), OFFERED("b2", "u2", GIVEN_MIN, NULL, 5)},
     'H',
     6 * GIVEN_MIN - 1,
     NULL,
     2,
     "!sold_out field=quantity"},
    {"RULE-HOLD-3 GA: ... and at it",
     "GA",
     {HELD_GA("b1", "u1", 0, 3), OFFERED("b2", "u2", GIVEN_MIN, NULL, 5)},
     'H',
     6 * GIVEN_MIN,
     NULL,
     2,
     "HoldExpired(b2) HoldPlaced(n1:x2)"},
};

static void test_offer_expiry(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(offers); i++) {
        const offer_case_t *c = &offers[i];
        inv_state_t *s = given_inventory(c->section, c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, c->op == 'H' ? "u9" : "system");
        if (c->op == 'H') {
            inv_hold_cmd_t cmd = {.event_id = "e1", .section = c->section};
            cmd.seats = given_split(&g->arena, c->seats, &cmd.n_seats);
            cmd.quantity = c->quantity;
            inv_hold_decide(s, &cmd, &g->ctx, &g->out);
        } else {
            inv_expire_decide(s, 100, &g->ctx, &g->out);
        }
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* The sweeper's next wake-up is the earliest expiry of either kind, and the
 * bookkeeping follows the ends. */
static void test_offer_next_expiry(void **state)
{
    (void)state;
    static const given_step_t h[] = {B1, B2_SHORT, B3, {0}};
    inv_state_t *s = given_inventory("A", h);
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + 6 * GIVEN_MIN);
    assert_int_equal(s->expiry_head, 0);
    given_t *g = given_new();
    given_when(g, GIVEN_T0 + GIVEN_HOLD, "system");
    inv_expire_decide(s, 1, &g->ctx, &g->out);
    then_line(g, "HoldExpired(b1)");
    given_apply_out(CMD_AGG_INV, s, g);
    /* b2 is still held (its expiry not recorded), b3 heads the main holds. */
    assert_int_equal(s->expiry_head, 2);
    assert_int_equal(s->n_odd_holds, 1);
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + 6 * GIVEN_MIN);
    given_when(g, GIVEN_T0 + GIVEN_HOLD, "system");
    inv_expire_decide(s, 10, &g->ctx, &g->out);
    then_line(g, "HoldExpired(b2)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->n_odd_holds, 0);
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + 22 * GIVEN_MIN);
    given_free(g);
    given_state_free(CMD_AGG_INV, s);

    /* An offer alone. */
    static const given_step_t h2[] = {B2_LONG, {0}};
    s = given_inventory("A", h2);
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + 31 * GIVEN_MIN);
    assert_int_equal(s->expiry_head, 1);
    given_state_free(CMD_AGG_INV, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_hold_fields),
        cmocka_unit_test(test_offer_expiry),
        cmocka_unit_test(test_offer_next_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
