/*
 * Refunds and cancellations (RULE-REF-1): inv_refund_amount at the policy's
 * thresholds, inv_cancel_booking_decide, and the cancellation of a whole
 * event (inv_cancel_all_decide) in batches.
 *
 * The default policy (given.h): at least 168 h before the start 100 %, at
 * least 24 h 50 %, else 0 %, of total − service fee (the fee is kept). b1
 * holds A-1-1 and A-1-2: total 5300 of which fee 300, so 5000 is refundable.
 */
#include "given.h"

/* An offset from GIVEN_T0 that is h hours (plus ms) before the start. */
#define BEFORE(h, ms) (GIVEN_START - GIVEN_T0 - (int64_t)(h)*GIVEN_HOUR + (ms))

#define B1 HELD("b1", "u1", 0, "A-1-1,A-1-2")
#define B1_SOLD B1, PAY_REQUESTED("b1", NULL, GIVEN_MIN), CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2")

/* ---- the arithmetic ---- */

typedef struct {
    const char *name;
    int64_t unit;     /* the price of a GA unit */
    uint32_t units;   /* held and confirmed */
    uint32_t n_steps; /* 0: no refund policy at all */
    evt_refund_step_t steps[3];
    int64_t at;         /* from GIVEN_T0 */
    int64_t total, fee; /* what the hold cost (checked) */
    int64_t refund;
} refund_case_t;

#define DEFAULT_STEPS                                                                              \
    2,                                                                                             \
    {                                                                                              \
        {168, 100},                                                                                \
        {                                                                                          \
            24, 50                                                                                 \
        }                                                                                          \
    }

static const refund_case_t refunds[] = {
    /* 2 × 1500 = 3000; fee 180; total 3180; 3000 back */
    {"RULE-REF-1 exactly 168 h before: 100 % of total − fee", 1500, 2, DEFAULT_STEPS,
     BEFORE(168, 0), 3180, 180, 3000},
    {"RULE-REF-1 168 h − 1 ms before: 50 %", 1500, 2, DEFAULT_STEPS, BEFORE(168, 1), 3180, 180,
     1500},
    {"RULE-REF-1 a week and more before: 100 %", 1500, 2, DEFAULT_STEPS, 0, 3180, 180, 3000},
    {"RULE-REF-1 exactly 24 h before: 50 %", 1500, 2, DEFAULT_STEPS, BEFORE(24, 0), 3180, 180,
     1500},
    {"RULE-REF-1 24 h − 1 ms before: 0 %", 1500, 2, DEFAULT_STEPS, BEFORE(24, 1), 3180, 180, 0},
    {"RULE-REF-1 at the start: 0 %", 1500, 2, DEFAULT_STEPS, BEFORE(0, 0), 3180, 180, 0},
    {"RULE-REF-1 after the start: 0 %", 1500, 2, DEFAULT_STEPS, BEFORE(0, GIVEN_HOUR), 3180, 180,
     0},
    /* 999; fee 59.94 → 60; total 1059; 999 × 50 % = 499.5 → 500 (half-up) */
    {"RULE-REF-1 half a minor unit rounds up", 999, 1, DEFAULT_STEPS, BEFORE(24, 0), 1059, 60, 500},
    /* 999 × 33 % = 329.67 → 330 */
    {"RULE-REF-1 33 % of 999", 999, 1, 1, {{24, 33}}, BEFORE(24, 0), 1059, 60, 330},
    /* 3 × 333 = 999; 999 × 1 % = 9.99 → 10 */
    {"RULE-REF-1 1 % of 999", 333, 3, 1, {{1, 1}}, BEFORE(1, 0), 1059, 60, 10},
    {"RULE-REF-1 the steps in any order: the highest threshold met wins",
     1500,
     2,
     3,
     {{24, 50}, {0, 10}, {168, 100}},
     BEFORE(168, 0),
     3180,
     180,
     3000},
    /* 3000 × 10 % = 300 */
    {"RULE-REF-1 a step at 0 h applies until the start",
     1500,
     2,
     3,
     {{24, 50}, {0, 10}, {168, 100}},
     BEFORE(0, 0),
     3180,
     180,
     300},
    {"RULE-REF-1 ... and not after it",
     1500,
     2,
     3,
     {{24, 50}, {0, 10}, {168, 100}},
     BEFORE(0, 1),
     3180,
     180,
     0},
    {"RULE-REF-1 no policy: nothing back", 1500, 2, 0, {{0, 0}}, 0, 3180, 180, 0},
    /* 1 minor unit: fee 0, 50 % of 1 = 0.5 → 1 */
    {"RULE-REF-1 50 % of one minor unit", 1, 1, DEFAULT_STEPS, BEFORE(24, 0), 1, 0, 1},
};

static void test_refund_amount(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(refunds); i++) {
        const refund_case_t *c = &refunds[i];
        ts_arena_t a;
        ts_arena_init(&a, 0);
        evt_event_t ev[2];
        ev[0] = given_inventory_opened(&a, "GA");
        ev[0].u.inventory_opened.price.amount = c->unit;
        ev[0].u.inventory_opened.n_refund = c->n_steps;
        ev[0].u.inventory_opened.refund = (evt_refund_step_t *)c->steps;
        const given_step_t st = HELD_GA("b1", "u1", 0, c->units);
        ev[1] = given_hold_placed(&a, &ev[0].u.inventory_opened, &st);
        inv_state_t *s = given_state(CMD_AGG_INV, ev, 2);
        ts_arena_deinit(&a);
        const inv_booking_t *b = inv_booking_find(s, "b1");
        if (b->hold.total != c->total || b->hold.service_fee != c->fee ||
            inv_refund_amount(s, b, GIVEN_T0 + c->at) != c->refund)
            print_message("case: %s: total %lld fee %lld refund %lld\n", c->name,
                          (long long)b->hold.total, (long long)b->hold.service_fee,
                          (long long)inv_refund_amount(s, b, GIVEN_T0 + c->at));
        assert_int_equal(b->hold.total, c->total);
        assert_int_equal(b->hold.service_fee, c->fee);
        assert_int_equal(inv_refund_amount(s, b, GIVEN_T0 + c->at), c->refund);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* ---- one booking ---- */

typedef struct {
    const char *name;
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at;
    const char *actor;
    int admin;
    const char *booking;
    const char *then;
} cancel_case_t;

static const cancel_case_t cancels[] = {
    {"a held booking is released by its holder",
     {B1},
     GIVEN_MIN,
     "u1",
     0,
     "b1",
     "HoldReleased(b1 holder)"},
    {"... or by an admin", {B1}, GIVEN_MIN, "admin1", 1, "b1", "HoldReleased(b1 admin)"},
    {"RULE-HOLD-3 a hold at its expiry instant", {B1}, GIVEN_HOLD, "u1", 0, "b1", "!hold_expired"},
    {"RULE-REF-1 exactly 168 h before: all but the fee",
     {B1_SOLD},
     BEFORE(168, 0),
     "u1",
     0,
     "b1",
     "BookingCancelled(b1 refund=5000 holder)"},
    {"RULE-REF-1 168 h − 1 ms before: half",
     {B1_SOLD},
     BEFORE(168, 1),
     "u1",
     0,
     "b1",
     "BookingCancelled(b1 refund=2500 holder)"},
    {"RULE-REF-1 exactly 24 h before: half",
     {B1_SOLD},
     BEFORE(24, 0),
     "u1",
     0,
     "b1",
     "BookingCancelled(b1 refund=2500 holder)"},
    {"RULE-REF-1 24 h − 1 ms before: nothing back, cancelled all the same",
     {B1_SOLD},
     BEFORE(24, 1),
     "u1",
     0,
     "b1",
     "BookingCancelled(b1 refund=0 holder)"},
    {"RULE-REF-1 an admin cancels by the same policy",
     {B1_SOLD},
     BEFORE(24, 0),
     "admin1",
     1,
     "b1",
     "BookingCancelled(b1 refund=2500 admin)"},
    {"RULE-REF-1 the start moved later: hours count to the new start",
     {B1_SOLD, RESCHEDULED(GIVEN_DAY)},
     BEFORE(24, 1),
     "u1",
     0,
     "b1",
     "BookingCancelled(b1 refund=2500 holder)"},
    {"RULE-REF-1 the event is cancelled: the total, fee included",
     {B1_SOLD, INV_CANCELLED()},
     BEFORE(1, 0),
     "u1",
     0,
     "b1",
     "BookingCancelled(b1 refund=5300 event_cancelled)"},
    {"another user", {B1_SOLD}, GIVEN_DAY, "u2", 0, "b1", "!forbidden"},
    {"cancelled twice",
     {B1_SOLD, CANCELLED("b1", GIVEN_DAY, 0)},
     GIVEN_DAY,
     "u1",
     0,
     "b1",
     "!conflict"},
    {"a refund due",
     {B1_SOLD, CANCELLED("b1", GIVEN_DAY, 5000)},
     GIVEN_DAY,
     "u1",
     0,
     "b1",
     "!conflict"},
    {"a released hold", {B1, RELEASED("b1")}, GIVEN_MIN, "u1", 0, "b1", "!conflict"},
    {"an unknown booking", {B1}, GIVEN_MIN, "u1", 0, "b9", "!not_found"},
};

static void test_cancel_booking(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(cancels); i++) {
        const cancel_case_t *c = &cancels[i];
        inv_state_t *s = given_inventory("A", c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, c->actor);
        g->ctx.actor_is_admin = c->admin;
        assert_int_equal(inv_cancel_booking_decide(s, c->booking, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* Through apply: the seats are free again, the tickets revoked at the
 * cancellation's version (a transferred one keeps its own), and a refund
 * due becomes refunded. */
static void test_cancel_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {B1_SOLD,
                                     TRANSFERRED("t1", GIVEN_DAY, "u5", "t1b", 2),
                                     CHECKED_IN("t2", 2 * GIVEN_DAY, "N1", "x"),
                                     CANCELLED("b1", 3 * GIVEN_DAY, 2500),
                                     {0}};
    inv_state_t *s = given_inventory("A", h);
    const inv_booking_t *b = inv_booking_find(s, "b1");
    assert_int_equal(b->status, INV_REFUND_DUE);
    assert_int_equal(b->refund, 2500);
    assert_string_equal(b->end_reason, "holder");
    /* opened, placed, requested, confirmed, transferred, checked in, cancelled */
    assert_int_equal(s->version, 7);
    const inv_ticket_t *t1 = inv_ticket_find(s, "t1"), *t1b = inv_ticket_find(s, "t1b"),
                       *t2 = inv_ticket_find(s, "t2");
    assert_string_equal(inv_ticket_status_name(t1), "transferred");
    assert_int_equal(t1->revoked_version, 5);
    assert_string_equal(inv_ticket_status_name(t1b), "cancelled");
    assert_int_equal(t1b->revoked_version, 7);
    assert_string_equal(inv_ticket_status_name(t2), "cancelled");
    assert_int_equal(t2->revoked_version, 7);

    given_t *g = given_new();
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A"};
    cmd.seats = given_split(&g->arena, "A-1-1,A-1-2", &cmd.n_seats);
    given_when(g, GIVEN_T0 + 3 * GIVEN_DAY, "u9");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:A-1-1,A-1-2 x2)");

    inv_webhook_cmd_t rf = {.payment_id = "pay-b1",
                            .provider_event_id = "rf-1",
                            .type = "refund.succeeded",
                            .amount = 2500,
                            .currency = "EUR"};
    given_when(g, GIVEN_T0 + 3 * GIVEN_DAY, "system");
    inv_webhook_decide(s, &rf, &g->ctx, &g->out);
    then_line(g, "RefundCompleted(b1:pay-b1 2500 EUR)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_string_equal(inv_booking_status_name(b, 0), "refunded");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);

    /* Nothing back: cancelled, not refund-due. */
    static const given_step_t h0[] = {B1_SOLD, CANCELLED("b1", BEFORE(1, 0), 0), {0}};
    s = given_inventory("A", h0);
    assert_string_equal(inv_booking_status_name(inv_booking_find(s, "b1"), 0), "cancelled");
    given_state_free(CMD_AGG_INV, s);
}

/* ---- the whole event ---- */

static void test_cancel_all(void **state)
{
    (void)state;
    static const given_step_t h[] = {B1_SOLD,
                                     HELD("b2", "u2", 0, "A-2-1"),
                                     HELD("b3", "u3", GIVEN_DAY, "A-2-2"),
                                     HELD("b4", "u4", GIVEN_DAY, "A-2-3"),
                                     RELEASED("b4"),
                                     {0}};
    inv_state_t *s = given_inventory("A", h);
    given_t *g = given_new();
    /* RULE-REF-1: the organizer cancels: everything back, fee included; b2
     * lapsed long ago (RULE-HOLD-3), b3 is live. */
    given_when(g, GIVEN_T0 + GIVEN_DAY + GIVEN_MIN, "system");
    inv_cancel_all_decide(s, NULL, 2, &g->ctx, &g->out);
    then_line(g, "InventoryCancelled(e1 event_cancelled) "
                 "BookingCancelled(b1 refund=5300 event_cancelled) HoldExpired(b2)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_true(s->cancelled);
    assert_string_equal(inv_ticket_status_name(inv_ticket_find(s, "t1")), "cancelled");
    assert_string_equal(inv_ticket_status_name(inv_ticket_find(s, "t2")), "cancelled");

    /* RULE-EVT-1: a cancelled event sells nothing. */
    given_when(g, GIVEN_T0 + GIVEN_DAY + GIVEN_MIN, "u9");
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A"};
    cmd.seats = given_split(&g->arena, "A-1-5", &cmd.n_seats);
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!not_on_sale");

    given_when(g, GIVEN_T0 + GIVEN_DAY + GIVEN_MIN, "system");
    inv_cancel_all_decide(s, "organizer", 2, &g->ctx, &g->out);
    then_line(g, "HoldReleased(b3 organizer)");
    given_apply_out(CMD_AGG_INV, s, g);
    given_when(g, GIVEN_T0 + GIVEN_DAY + GIVEN_MIN, "system");
    inv_cancel_all_decide(s, NULL, 2, &g->ctx, &g->out);
    then_line(g, "");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);

    /* A shard never opened has nothing to cancel. */
    s = given_state(CMD_AGG_INV, NULL, 0);
    g = given_new();
    inv_cancel_all_decide(s, NULL, 0, &g->ctx, &g->out);
    then_line(g, "");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* At most 200 bookings per call, whatever max asks, until none is left. */
static void test_cancel_all_batches(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t opened = given_inventory_opened(&a, "GA");
    opened.u.inventory_opened.section.capacity = 1000;
    inv_state_t *s = given_state(CMD_AGG_INV, &opened, 1);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_INV);
    for (uint32_t i = 0; i < 450; i++) {
        char *b = ts_arena_printf(&a, "b%u", i);
        const given_step_t st = HELD_GA(b, "u1", i, 2);
        evt_event_t e = given_hold_placed(&a, &opened.u.inventory_opened, &st);
        ops->apply(s, &e);
        if (i % 3 == 0)
            continue; /* a third stays held */
        evt_event_t c = {.type = EVT_BOOKING_CONFIRMED};
        c.u.booking_confirmed.booking_id = b;
        c.u.booking_confirmed.n_tickets = 2;
        c.u.booking_confirmed.tickets = ts_arena_alloc(&a, 2 * sizeof(evt_ticket_t));
        for (uint32_t k = 0; k < 2; k++)
            c.u.booking_confirmed.tickets[k] = (evt_ticket_t){
                .ticket_id = ts_arena_printf(&a, "t%u.%u", i, k), .holder_id = "u1", .version = 1};
        ops->apply(s, &c);
    }
    assert_int_equal(s->ga_taken, 900);
    assert_int_equal(s->n_tickets, 600);
    ts_arena_deinit(&a);

    static const uint32_t expect[] = {201, 200, 50, 0};
    given_t *g = given_new();
    for (size_t round = 0; round < TS_ARRAY_LEN(expect); round++) {
        given_when(g, GIVEN_T0 + GIVEN_MIN, "system");
        inv_cancel_all_decide(s, NULL, round == 1 ? 1000 : 0, &g->ctx, &g->out);
        assert_null(g->out.reject);
        assert_int_equal(g->out.n_events, expect[round]);
        given_apply_out(CMD_AGG_INV, s, g);
    }
    assert_int_equal(s->ga_taken, 0);
    for (uint32_t i = 0; i < s->n_tickets; i++)
        assert_int_equal(s->tickets[i].status, INV_TICKET_CANCELLED);
    for (uint32_t i = 0; i < s->n_bookings; i++) {
        const inv_booking_t *b = &s->bookings[i];
        assert_int_equal(b->status, i % 3 == 0 ? INV_RELEASED : INV_REFUND_DUE);
        if (i % 3)
            assert_int_equal(b->refund, b->hold.total);
    }
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* ---- the event's schedule ---- */

/* PATCH moves the event: the shard follows; a sale that ended at the start
 * ends at the new start (section A's tier has no end of its own). */
static void test_reschedule(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("A", none);
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "system");
    inv_reschedule_decide(s, GIVEN_START, GIVEN_END, &g->ctx, &g->out);
    then_line(g, "");
    given_when(g, GIVEN_T0, "system");
    inv_reschedule_decide(s, GIVEN_START, GIVEN_START - 1, &g->ctx, &g->out);
    then_line(g, "!validation_failed field=ends_at");

    /* A hold an hour after the old start is not on sale ... */
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A"};
    cmd.seats = given_split(&g->arena, "A-1-1", &cmd.n_seats);
    given_when(g, GIVEN_START + GIVEN_HOUR, "u1");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!not_on_sale");

    given_when(g, GIVEN_T0, "system");
    inv_reschedule_decide(s, GIVEN_START + GIVEN_DAY, GIVEN_END + GIVEN_DAY, &g->ctx, &g->out);
    then_line(g, "InventoryRescheduled(e1)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->info.starts_at, GIVEN_START + GIVEN_DAY);
    assert_int_equal(s->info.ends_at, GIVEN_END + GIVEN_DAY);
    assert_int_equal(s->info.sale_ends_at, GIVEN_START + GIVEN_DAY);

    /* ... and is after the move, until the new start. */
    given_when(g, GIVEN_START + GIVEN_HOUR, "u1");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:A-1-1 x1)");
    given_when(g, GIVEN_START + GIVEN_DAY, "u1");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!not_on_sale");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);

    /* A tier with its own end of sale keeps it (GA's floor tier). */
    s = given_inventory("GA", none);
    g = given_new();
    inv_reschedule_decide(s, GIVEN_START + GIVEN_DAY, GIVEN_END + GIVEN_DAY, &g->ctx, &g->out);
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->info.sale_ends_at, GIVEN_FLOOR_END);
    given_free(g);
    given_state_free(CMD_AGG_INV, s);

    /* Nothing to move on a shard never opened. */
    s = given_state(CMD_AGG_INV, NULL, 0);
    g = given_new();
    inv_reschedule_decide(s, GIVEN_START, GIVEN_END, &g->ctx, &g->out);
    then_line(g, "");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refund_amount),      cmocka_unit_test(test_cancel_booking),
        cmocka_unit_test(test_cancel_applied),     cmocka_unit_test(test_cancel_all),
        cmocka_unit_test(test_cancel_all_batches), cmocka_unit_test(test_reschedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
