/*
 * Expiry and release as tables (RULE-HOLD-3): lazy expiry inside
 * inv_hold_decide at the exact instant, the sweeper's inv_expire_decide, and
 * inv_release_decide. Holds last 20 minutes (GIVEN_HOLD = 1,200,000 ms), so a
 * hold created at t expires at t + GIVEN_HOLD: still taken at
 * t + GIVEN_HOLD - 1, free at t + GIVEN_HOLD.
 */
#include "given.h"

/* ---- lazy expiry in inv_hold_decide ---- */

typedef struct {
    const char *name;
    const char *section;
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at; /* from GIVEN_T0 */
    const char *seats;
    uint32_t quantity;
    const char *then;
} lazy_case_t;

static const lazy_case_t lazy[] = {
    {.name = "RULE-HOLD-3 1 ms before expiry the seat is still taken",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_HOLD - 1,
     .seats = "A-1-1",
     .then = "!seat_unavailable field=seats seats=A-1-1"},
    {.name = "RULE-HOLD-3 at created + hold_minutes the seat is free; the expiry is recorded first",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_HOLD,
     .seats = "A-1-1",
     .then = "HoldExpired(b1) HoldPlaced(n1:A-1-1 x1)"},
    {.name = "RULE-HOLD-3 expiry is measured from created_at, not from T0",
     .section = "A",
     .given = {HELD("b1", "u1", 7 * GIVEN_MIN, "A-1-1")},
     .at = 7 * GIVEN_MIN + GIVEN_HOLD - 1,
     .seats = "A-1-1",
     .then = "!seat_unavailable field=seats seats=A-1-1"},
    {.name = "RULE-HOLD-3 expired holds are recorded even when the new hold takes other seats",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_HOLD,
     .seats = "A-1-5",
     .then = "HoldExpired(b1) HoldPlaced(n1:A-1-5 x1)"},
    {.name = "RULE-HOLD-3 only holds past expiry are recorded, oldest first",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", 5 * GIVEN_MIN, "A-1-2"),
               HELD("b3", "u3", 6 * GIVEN_MIN, "A-1-3")},
     .at = 5 * GIVEN_MIN + GIVEN_HOLD,
     .seats = "A-1-1,A-1-2",
     .then = "HoldExpired(b1) HoldExpired(b2) HoldPlaced(n1:A-1-1,A-1-2 x2)"},
    {.name = "RULE-HOLD-3 a hold not yet expired still blocks its seat among expired ones",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", 5 * GIVEN_MIN, "A-1-2")},
     .at = 5 * GIVEN_MIN + GIVEN_HOLD - 1,
     .seats = "A-1-1,A-1-2",
     .then = "!seat_unavailable field=seats seats=A-1-2"},
    {.name = "RULE-HOLD-3 released and recorded expiries are not expired again",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", GIVEN_MIN, "A-1-2"),
               HELD("b3", "u1", 2 * GIVEN_MIN, "A-1-3"), RELEASED("b1"), EXPIRED("b2")},
     .at = 3 * GIVEN_MIN + GIVEN_HOLD,
     .seats = "A-1-1,A-1-2,A-1-3",
     .then = "HoldExpired(b3) HoldPlaced(n1:A-1-1,A-1-2,A-1-3 x3)"},
    {.name = "RULE-HOLD-3 a rejected hold records no expiry",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", GIVEN_MIN, "A-1-2")},
     .at = GIVEN_HOLD,
     .seats = "A-1-1,A-1-2",
     .then = "!seat_unavailable field=seats seats=A-1-2"},
    {.name = "RULE-HOLD-3 a seat expired, retaken and still held is taken",
     .section = "A",
     .given = {HELD("b1", "u1", 0, "A-1-1"), EXPIRED("b1"), HELD("b2", "u3", GIVEN_HOLD, "A-1-1")},
     .at = GIVEN_HOLD + GIVEN_MIN,
     .seats = "A-1-1",
     .then = "!seat_unavailable field=seats seats=A-1-1"},
    /* Standing room: capacity 5 is freed lazily at the instant, too. */
    {.name = "RULE-HOLD-3 GA: full 1 ms before the oldest hold expires",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 4), HELD_GA("b2", "u1", GIVEN_MIN, 1)},
     .at = GIVEN_HOLD - 1,
     .quantity = 1,
     .then = "!sold_out field=quantity"},
    {.name = "RULE-HOLD-3 GA: the expired units are free at the instant",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 4), HELD_GA("b2", "u1", GIVEN_MIN, 1)},
     .at = GIVEN_HOLD,
     .quantity = 4,
     .then = "HoldExpired(b1) HoldPlaced(n1:x4)"},
    {.name = "RULE-HOLD-3 GA: only the expired units are free",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 3), HELD_GA("b2", "u1", GIVEN_MIN, 2)},
     .at = GIVEN_HOLD,
     .quantity = 4,
     .then = "!sold_out field=quantity"},
    {.name = "RULE-HOLD-3 GA: both expired",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 3), HELD_GA("b2", "u1", GIVEN_MIN, 2)},
     .at = GIVEN_MIN + GIVEN_HOLD,
     .quantity = 4,
     .then = "HoldExpired(b1) HoldExpired(b2) HoldPlaced(n1:x4)"},
    {.name = "RULE-HOLD-3 GA: a release before expiry is not counted twice",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 3), HELD_GA("b2", "u1", GIVEN_MIN, 2), RELEASED("b1"),
               HELD_GA("b3", "u3", 2 * GIVEN_MIN, 3)},
     .at = GIVEN_MIN + GIVEN_HOLD,
     .quantity = 3,
     .then = "!sold_out field=quantity"},
    {.name = "RULE-HOLD-3 GA: ... and two units are left after b2 expires",
     .section = "GA",
     .given = {HELD_GA("b1", "u1", 0, 3), HELD_GA("b2", "u1", GIVEN_MIN, 2), RELEASED("b1"),
               HELD_GA("b3", "u3", 2 * GIVEN_MIN, 3)},
     .at = GIVEN_MIN + GIVEN_HOLD,
     .quantity = 2,
     .then = "HoldExpired(b2) HoldPlaced(n1:x2)"},
};

static void test_rule_hold_3_lazy_expiry(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(lazy); i++) {
        const lazy_case_t *c = &lazy[i];
        inv_state_t *s = given_inventory(c->section, c->given);
        given_t *g = given_new();
        inv_hold_cmd_t cmd = {.event_id = "e1", .section = c->section, .quantity = c->quantity};
        cmd.seats = given_split(&g->arena, c->seats, &cmd.n_seats);
        given_when(g, GIVEN_T0 + c->at, "u2");
        inv_hold_decide(s, &cmd, &g->ctx, &g->out);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* RULE-HOLD-3 end to end: the events of a lazy expiry, applied, leave the old
 * booking expired and the seat with the new one; the old holder's release is
 * then refused. */
static void test_rule_hold_3_lazy_expiry_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {HELD("b1", "u1", 0, "A-1-1,A-1-2"), {0}};
    inv_state_t *s = given_inventory("A", h);
    given_t *g = given_new();
    const char *seats[] = {"A-1-2"};
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A", .seats = seats, .n_seats = 1};
    given_when(g, GIVEN_T0 + GIVEN_HOLD, "u2");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldExpired(b1) HoldPlaced(n1:A-1-2 x1)");
    given_apply_out(CMD_AGG_INV, s, g);

    assert_int_equal(inv_booking_find(s, "b1")->status, INV_EXPIRED);
    assert_int_equal(inv_booking_find(s, "n1")->status, INV_HELD);
    assert_int_equal(s->expiry_head, 1);
    assert_int_equal(s->seat_owner[0], -1); /* A-1-1 */
    assert_int_equal(s->seat_owner[1], 1);  /* A-1-2: n1 */
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + 2 * GIVEN_HOLD);

    given_when(g, GIVEN_T0 + GIVEN_HOLD + 1, "u1");
    inv_release_decide(s, "b1", &g->ctx, &g->out);
    then_line(g, "!hold_expired");

    /* A-1-1 is free, A-1-2 is n1's. */
    const char *both[] = {"A-1-1", "A-1-2"};
    cmd.seats = both;
    cmd.n_seats = 2;
    given_when(g, GIVEN_T0 + GIVEN_HOLD + 2, "u3");
    g->ctx.command_id = "cmd-n2";
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!seat_unavailable field=seats seats=A-1-2");

    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* ---- the sweeper: inv_expire_decide ---- */

typedef struct {
    const char *name;
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at;
    uint32_t max;
    const char *then;
} expire_case_t;

/* b1 at 0, b2 at 5 min (released), b3 at 10 min, b4 at 10 min. */
#define SWEEP_GIVEN                                                                                \
    {                                                                                              \
        HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", 5 * GIVEN_MIN, "A-1-2"),                    \
            HELD("b3", "u1", 10 * GIVEN_MIN, "A-1-3"), HELD("b4", "u3", 10 * GIVEN_MIN, "A-1-4"),  \
            RELEASED("b2")                                                                         \
    }

static const expire_case_t sweeps[] = {
    {.name = "RULE-HOLD-3 nothing expired yet: no events",
     .given = SWEEP_GIVEN,
     .at = GIVEN_HOLD - 1,
     .max = 10,
     .then = ""},
    {.name = "RULE-HOLD-3 the oldest at its exact instant",
     .given = SWEEP_GIVEN,
     .at = GIVEN_HOLD,
     .max = 10,
     .then = "HoldExpired(b1)"},
    {.name = "RULE-HOLD-3 a released hold is skipped",
     .given = SWEEP_GIVEN,
     .at = 5 * GIVEN_MIN + GIVEN_HOLD,
     .max = 10,
     .then = "HoldExpired(b1)"},
    {.name = "RULE-HOLD-3 all expired, oldest first",
     .given = SWEEP_GIVEN,
     .at = 10 * GIVEN_MIN + GIVEN_HOLD,
     .max = 10,
     .then = "HoldExpired(b1) HoldExpired(b3) HoldExpired(b4)"},
    {.name = "RULE-HOLD-3 at most max, oldest first",
     .given = SWEEP_GIVEN,
     .at = 10 * GIVEN_MIN + GIVEN_HOLD,
     .max = 2,
     .then = "HoldExpired(b1) HoldExpired(b3)"},
    {.name = "RULE-HOLD-3 max 1",
     .given = SWEEP_GIVEN,
     .at = GIVEN_DAY,
     .max = 1,
     .then = "HoldExpired(b1)"},
    {.name = "RULE-HOLD-3 max 0", .given = SWEEP_GIVEN, .at = GIVEN_DAY, .max = 0, .then = ""},
    {.name = "RULE-HOLD-3 recorded expiries are not recorded again",
     .given = {HELD("b1", "u1", 0, "A-1-1"), HELD("b3", "u1", 10 * GIVEN_MIN, "A-1-3"),
               EXPIRED("b1")},
     .at = GIVEN_DAY,
     .max = 10,
     .then = "HoldExpired(b3)"},
    {.name = "RULE-HOLD-3 an empty shard", .at = GIVEN_DAY, .max = 10, .then = ""},
};

static void test_rule_hold_3_expire_decide(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(sweeps); i++) {
        const expire_case_t *c = &sweeps[i];
        inv_state_t *s = given_inventory("A", c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, "system");
        assert_int_equal(inv_expire_decide(s, c->max, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* RULE-HOLD-3: the sweeper's max is capped at CMD_MAX_EVENTS, and applying
 * what it emits empties the shard of held bookings. */
static void test_rule_hold_3_expire_many(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("GA", none);
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t opened = given_inventory_opened(&a, "GA");
    const uint32_t n = CMD_MAX_EVENTS + 5;
    for (uint32_t i = 0; i < n; i++) {
        given_step_t st = HELD_GA(ts_arena_printf(&a, "b%u", i), "u1", i, 1);
        evt_event_t e = given_hold_placed(&a, &opened.u.inventory_opened, &st);
        cmd_aggregate_ops(CMD_AGG_INV)->apply(s, &e);
    }
    ts_arena_deinit(&a);
    assert_int_equal(s->n_bookings, n);
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + GIVEN_HOLD);

    given_t *g = given_new();
    given_when(g, GIVEN_T0 + GIVEN_DAY, "system");
    inv_expire_decide(s, UINT32_MAX, &g->ctx, &g->out);
    assert_null(g->out.reject);
    assert_int_equal(g->out.n_events, CMD_MAX_EVENTS);
    assert_string_equal(g->out.events[0].u.hold_ended.booking_id, "b0");
    assert_string_equal(g->out.events[CMD_MAX_EVENTS - 1].u.hold_ended.booking_id, "b299");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->expiry_head, CMD_MAX_EVENTS);
    assert_int_equal(inv_next_expiry(s), GIVEN_T0 + GIVEN_HOLD + CMD_MAX_EVENTS);

    given_when(g, GIVEN_T0 + GIVEN_DAY, "system");
    inv_expire_decide(s, UINT32_MAX, &g->ctx, &g->out);
    assert_int_equal(g->out.n_events, 5);
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->expiry_head, n);
    assert_int_equal(inv_next_expiry(s), 0);
    assert_int_equal(s->ga_taken, 0);

    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* inv_next_expiry: the earliest expiry among held bookings, 0 when none. */
static void test_rule_hold_3_next_expiry(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        given_step_t given[GIVEN_MAX_STEPS];
        int none;     /* then 0 */
        int64_t then; /* else GIVEN_T0 + then */
    } cases[] = {
        {"an empty shard", {{0}}, 1, 0},
        {"one hold", {HELD("b1", "u1", 3, "A-1-1")}, 0, 3 + GIVEN_HOLD},
        {"the oldest hold",
         {HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", GIVEN_MIN, "A-1-2")},
         0,
         GIVEN_HOLD},
        {"the oldest still held",
         {HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", GIVEN_MIN, "A-1-2"), RELEASED("b1")},
         0,
         GIVEN_MIN + GIVEN_HOLD},
        {"a lazily expired hold counts until it is recorded",
         {HELD("b1", "u1", -GIVEN_DAY, "A-1-1"), HELD("b2", "u1", 0, "A-1-2")},
         0,
         -GIVEN_DAY + GIVEN_HOLD},
        {"none held",
         {HELD("b1", "u1", 0, "A-1-1"), HELD("b2", "u1", GIVEN_MIN, "A-1-2"), RELEASED("b2"),
          EXPIRED("b1")},
         1,
         0},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        inv_state_t *s = given_inventory("A", cases[i].given);
        int64_t want = cases[i].none ? 0 : GIVEN_T0 + cases[i].then;
        if (inv_next_expiry(s) != want)
            print_message("case: %s\n", cases[i].name);
        assert_int_equal(inv_next_expiry(s), want);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* ---- release ---- */

typedef struct {
    const char *name;
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at;
    const char *actor;
    int admin;
    const char *booking;
    const char *then;
} release_case_t;

static const release_case_t releases[] = {
    {.name = "release by the holder",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .actor = "u1",
     .booking = "b1",
     .then = "HoldReleased(b1 holder)"},
    {.name = "RULE-HOLD-3 release 1 ms before expiry",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_HOLD - 1,
     .actor = "u1",
     .booking = "b1",
     .then = "HoldReleased(b1 holder)"},
    {.name = "RULE-HOLD-3 release at the expiry instant is hold_expired",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_HOLD,
     .actor = "u1",
     .booking = "b1",
     .then = "!hold_expired"},
    {.name = "RULE-HOLD-3 release after the sweeper recorded the expiry is hold_expired",
     .given = {HELD("b1", "u1", 0, "A-1-1"), EXPIRED("b1")},
     .at = GIVEN_HOLD + GIVEN_MIN,
     .actor = "u1",
     .booking = "b1",
     .then = "!hold_expired"},
    {.name = "RULE-AUTH-2 release by another user is forbidden",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .actor = "u2",
     .booking = "b1",
     .then = "!forbidden"},
    {.name = "RULE-AUTH-2 another user learns nothing about an expired hold",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_DAY,
     .actor = "u2",
     .booking = "b1",
     .then = "!forbidden"},
    {.name = "RULE-AUTH-2 release by an admin",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .actor = "admin1",
     .admin = 1,
     .booking = "b1",
     .then = "HoldReleased(b1 admin)"},
    {.name = "released twice is a conflict",
     .given = {HELD("b1", "u1", 0, "A-1-1"), RELEASED("b1")},
     .at = GIVEN_MIN,
     .actor = "u1",
     .booking = "b1",
     .then = "!conflict"},
    {.name = "a released hold stays released after its expiry time",
     .given = {HELD("b1", "u1", 0, "A-1-1"), RELEASED("b1")},
     .at = GIVEN_DAY,
     .actor = "u1",
     .booking = "b1",
     .then = "!conflict"},
    {.name = "an unknown booking",
     .given = {HELD("b1", "u1", 0, "A-1-1")},
     .at = GIVEN_MIN,
     .actor = "u1",
     .booking = "b9",
     .then = "!not_found"},
    {.name = "GA: release by the holder",
     .given = {HELD_GA("b1", "u1", 0, 3)},
     .at = GIVEN_MIN,
     .actor = "u1",
     .booking = "b1",
     .then = "HoldReleased(b1 holder)"},
};

static void test_release_decide(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(releases); i++) {
        const release_case_t *c = &releases[i];
        /* GA steps carry no seats. */
        inv_state_t *s = given_inventory(c->given[0].seats ? "A" : "GA", c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, c->actor);
        g->ctx.actor_is_admin = c->admin;
        assert_int_equal(inv_release_decide(s, c->booking, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        if (strcmp(c->booking, "b1") == 0)
            then_ref(g, "b1");
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* Release then release again, through apply: the second is a conflict and
 * the seat is free for someone else. */
static void test_release_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {HELD("b1", "u1", 0, "A-2-3"), {0}};
    inv_state_t *s = given_inventory("A", h);
    given_t *g = given_new();
    given_when(g, GIVEN_T0 + GIVEN_MIN, "u1");
    inv_release_decide(s, "b1", &g->ctx, &g->out);
    then_line(g, "HoldReleased(b1 holder)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(inv_booking_find(s, "b1")->status, INV_RELEASED);
    assert_int_equal(inv_next_expiry(s), 0);

    given_when(g, GIVEN_T0 + 2 * GIVEN_MIN, "u1");
    inv_release_decide(s, "b1", &g->ctx, &g->out);
    then_line(g, "!conflict");

    const char *seats[] = {"A-2-3"};
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A", .seats = seats, .n_seats = 1};
    given_when(g, GIVEN_T0 + 2 * GIVEN_MIN, "u2");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:A-2-3 x1)");

    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* inv_booking_status_name as of a time (RULE-HOLD-3: expired at the instant). */
static void test_booking_status_names(void **state)
{
    (void)state;
    static const given_step_t h[] = {HELD("b1", "u1", 0, "A-1-1"),
                                     HELD("b2", "u1", 0, "A-1-2"),
                                     HELD("b3", "u1", 0, "A-1-3"),
                                     RELEASED("b2"),
                                     EXPIRED("b3"),
                                     {0}};
    inv_state_t *s = given_inventory("A", h);
    assert_string_equal(inv_booking_status_name(inv_booking_find(s, "b1"), GIVEN_T0), "held");
    assert_string_equal(
        inv_booking_status_name(inv_booking_find(s, "b1"), GIVEN_T0 + GIVEN_HOLD - 1), "held");
    assert_string_equal(inv_booking_status_name(inv_booking_find(s, "b1"), GIVEN_T0 + GIVEN_HOLD),
                        "expired");
    assert_string_equal(inv_booking_status_name(inv_booking_find(s, "b2"), GIVEN_T0), "released");
    assert_string_equal(inv_booking_status_name(inv_booking_find(s, "b3"), GIVEN_T0), "expired");
    assert_int_equal(s->expiry_head, 0); /* b1 is still held */
    given_state_free(CMD_AGG_INV, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_hold_3_lazy_expiry),
        cmocka_unit_test(test_rule_hold_3_lazy_expiry_applied),
        cmocka_unit_test(test_rule_hold_3_expire_decide),
        cmocka_unit_test(test_rule_hold_3_expire_many),
        cmocka_unit_test(test_rule_hold_3_next_expiry),
        cmocka_unit_test(test_release_decide),
        cmocka_unit_test(test_release_applied),
        cmocka_unit_test(test_booking_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
