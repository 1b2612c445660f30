/*
 * Payments on an inventory shard as tables: inv_payment_request_decide and
 * inv_webhook_decide (RULE-PAY-1, RULE-PAY-2, RULE-TKT-1), then what apply
 * makes of a confirm.
 *
 * Prices (given.h): a seat of A is 2500 EUR; two seats: subtotal 5000, fee
 * 5000 × 600 / 10000 = 300, total 5300. A GA unit is 1500; three units:
 * 4500 + 270 = 4770. GA capacity is 5. Holds last 20 minutes (GIVEN_HOLD).
 */
#include "given.h"

/* ---- payment intents ---- */

typedef struct {
    const char *name;
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at;
    const char *actor;
    int admin;
    const char *booking;
    const char *then;
} request_case_t;

#define B1 HELD("b1", "u1", 0, "A-1-1,A-1-2")

static const request_case_t requests[] = {
    {"RULE-PAY-1 an intent for exactly the total",
     {B1},
     GIVEN_MIN,
     "u1",
     0,
     "b1",
     "PaymentRequested(b1:n1 5300 EUR)"},
    {"a second intent for a held booking",
     {B1, PAY_REQUESTED("b1", NULL, 0)},
     GIVEN_MIN,
     "u1",
     0,
     "b1",
     "PaymentRequested(b1:n1 5300 EUR)"},
    {"RULE-HOLD-3 1 ms before expiry",
     {B1},
     GIVEN_HOLD - 1,
     "u1",
     0,
     "b1",
     "PaymentRequested(b1:n1 5300 EUR)"},
    {"RULE-HOLD-3 at the expiry instant", {B1}, GIVEN_HOLD, "u1", 0, "b1", "!hold_expired"},
    {"an expiry recorded", {B1, EXPIRED("b1")}, GIVEN_HOLD, "u1", 0, "b1", "!hold_expired"},
    {"released", {B1, RELEASED("b1")}, GIVEN_MIN, "u1", 0, "b1", "!conflict"},
    {"confirmed", {B1, CONFIRMED("b1", 0, "t1,t2")}, GIVEN_MIN, "u1", 0, "b1", "!conflict"},
    {"the event is cancelled", {B1, INV_CANCELLED()}, GIVEN_MIN, "u1", 0, "b1", "!not_on_sale"},
    {"another user", {B1}, GIVEN_MIN, "u2", 0, "b1", "!forbidden"},
    {"an admin does not pay for the holder", {B1}, GIVEN_MIN, "admin1", 1, "b1", "!forbidden"},
    {"an unknown booking", {B1}, GIVEN_MIN, "u1", 0, "b9", "!not_found"},
};

static void test_payment_request(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(requests); i++) {
        const request_case_t *c = &requests[i];
        inv_state_t *s = given_inventory("A", c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, c->actor);
        g->ctx.actor_is_admin = c->admin;
        assert_int_equal(inv_payment_request_decide(s, c->booking, NULL, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        if (!g->out.reject) {
            then_ref(g, "n1");
            assert_string_equal(g->out.events[0].u.payment.provider, "simulated");
        }
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* The intents of a booking all lead to it; the last is its payment. */
static void test_payment_request_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {
        B1, PAY_REQUESTED("b1", "p1", 0), PAY_REQUESTED("b1", "p2", 1000), {0}};
    inv_state_t *s = given_inventory("A", h);
    const inv_booking_t *b = inv_booking_find(s, "b1");
    assert_ptr_equal(inv_booking_of_payment(s, "p1"), b);
    assert_ptr_equal(inv_booking_of_payment(s, "p2"), b);
    assert_null(inv_booking_of_payment(s, "p3"));
    assert_null(inv_booking_of_payment(s, NULL));
    assert_string_equal(b->payment_id, "p2");
    assert_int_equal(s->n_payments, 2);
    assert_int_equal(s->payments[0].amount, 5300);
    given_state_free(CMD_AGG_INV, s);
}

/* ---- webhooks ---- */

typedef struct {
    const char *name;
    const char *section; /* default A */
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at;
    const char *type;     /* default payment.succeeded */
    const char *payment;  /* default pay-b1 */
    const char *pev;      /* provider event id, default evt-new */
    int64_t amount;       /* default the total of b1 */
    const char *currency; /* default EUR */
    const char *tickets;  /* default t1..t4 */
    const char *then;
} webhook_case_t;

#define PAID PAY_REQUESTED("b1", NULL, GIVEN_MIN)
#define B1_GA HELD_GA("b1", "u1", 0, 3)
#define AFTER (GIVEN_HOLD + 5 * GIVEN_MIN)

/* RULE-PAY-1: exactly the total, once per provider event. */
static const webhook_case_t pay1[] = {
    {.name = "RULE-PAY-1 succeeded for the total confirms with one ticket per seat (RULE-TKT-1)",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1)"},
    {.name = "RULE-PAY-1 one minor unit short",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .amount = 5299,
     .then = "!validation_failed field=amount"},
    {.name = "RULE-PAY-1 one minor unit over",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .amount = 5301,
     .then = "!validation_failed field=amount"},
    {.name = "RULE-PAY-1 another currency",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .currency = "USD",
     .then = "!validation_failed field=currency"},
    {.name = "RULE-PAY-1 a duplicate provider event of the confirm is a no-op",
     .given = {B1, PAID, CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2")},
     .at = 3 * GIVEN_MIN,
     .pev = "evt-b1",
     .then = ""},
    {.name = "RULE-PAY-1 a duplicate is a no-op before any other check",
     .given = {B1, PAID, CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2")},
     .at = 3 * GIVEN_MIN,
     .pev = "evt-b1",
     .amount = 1,
     .then = ""},
    {.name = "RULE-PAY-1 a duplicate failure is a no-op",
     .given = {B1, PAID, PAY_FAILED("b1", "pay-b1", "evt-f1"),
               RELEASED_FOR("b1", "payment_failed")},
     .at = 3 * GIVEN_MIN,
     .type = "payment.failed",
     .pev = "evt-f1",
     .then = ""},
    {.name = "RULE-PAY-1 the same payment again under another provider event: paid once",
     .given = {B1, PAID, CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2")},
     .at = 3 * GIVEN_MIN,
     .pev = "evt-other",
     .then = ""},
    {.name = "RULE-PAY-1 a second intent succeeding for a confirmed booking: paid once",
     .given = {B1, PAY_REQUESTED("b1", "pay-b1", 0), PAY_REQUESTED("b1", "pay-2", 0),
               CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2")},
     .at = 3 * GIVEN_MIN,
     .payment = "pay-2",
     .then = ""},
    {.name = "an older intent of a held booking succeeding confirms it",
     .given = {B1, PAY_REQUESTED("b1", "pay-b1", 0), PAY_REQUESTED("b1", "pay-2", 0)},
     .at = 3 * GIVEN_MIN,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1)"},
    {.name = "an unknown payment",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .payment = "pay-zz",
     .then = "!not_found field=payment_id"},
    {.name = "an unknown event type",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .type = "payment.refused",
     .then = "!validation_failed field=type"},
    {.name = "RULE-TKT-1 fewer ticket ids than items",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .tickets = "t1",
     .then = "!validation_failed field=ticket_ids"},
    {.name = "RULE-TKT-1 GA: one ticket per unit, without a seat",
     .section = "GA",
     .given = {B1_GA, PAID},
     .at = 2 * GIVEN_MIN,
     .amount = 4770,
     .then = "BookingConfirmed(b1:t1=GA/u1/v1,t2=GA/u1/v1,t3=GA/u1/v1)"},
};

/* RULE-PAY-2: paid after the hold ended. */
static const webhook_case_t pay2[] = {
    {.name = "RULE-HOLD-3 1 ms before the expiry instant: a plain confirm",
     .given = {B1, PAID},
     .at = GIVEN_HOLD - 1,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1)"},
    {.name = "RULE-PAY-2 at the expiry instant, seats free: reacquired",
     .given = {B1, PAID},
     .at = GIVEN_HOLD,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1 reacquired)"},
    {.name = "RULE-PAY-2 expiry recorded, seats free: reacquired",
     .given = {B1, PAID, EXPIRED("b1")},
     .at = AFTER,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1 reacquired)"},
    {.name = "RULE-PAY-2 expired, one seat held by another: refund due in full",
     .given = {B1, PAID, EXPIRED("b1"), HELD("b2", "u2", GIVEN_HOLD, "A-1-2")},
     .at = AFTER,
     .then = "BookingRefundDue(b1:pay-b1 5300 EUR seats_taken)"},
    {.name = "RULE-PAY-2 lapsed but not recorded, one seat held by another: refund due",
     .given = {B1, PAID, HELD("b2", "u2", GIVEN_HOLD, "A-1-2")},
     .at = AFTER,
     .then = "BookingRefundDue(b1:pay-b1 5300 EUR seats_taken)"},
    {.name = "RULE-PAY-2 the other hold lapsed too: reacquired",
     .given = {B1, PAID, EXPIRED("b1"), HELD("b2", "u2", GIVEN_HOLD, "A-1-2")},
     .at = 2 * GIVEN_HOLD,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1 reacquired)"},
    {.name = "RULE-PAY-2 the other hold sold the seat: refund due",
     .given = {B1, PAID, EXPIRED("b1"), HELD("b2", "u2", GIVEN_HOLD, "A-1-1"),
               CONFIRMED("b2", GIVEN_HOLD, "x1")},
     .at = 3 * GIVEN_HOLD,
     .then = "BookingRefundDue(b1:pay-b1 5300 EUR seats_taken)"},
    {.name = "RULE-PAY-2 the other booking was released: reacquired",
     .given = {B1, PAID, EXPIRED("b1"), HELD("b2", "u2", GIVEN_HOLD, "A-1-1"), RELEASED("b2")},
     .at = AFTER,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1 reacquired)"},
    {.name = "RULE-PAY-2 released by its holder: not taken again, refund due",
     .given = {B1, PAID, RELEASED_FOR("b1", "holder")},
     .at = 3 * GIVEN_MIN,
     .then = "BookingRefundDue(b1:pay-b1 5300 EUR released)"},
    {.name = "RULE-PAY-2 released after a failed payment, seats free: reacquired",
     .given = {B1, PAID, RELEASED_FOR("b1", "payment_failed")},
     .at = 3 * GIVEN_MIN,
     .then = "BookingConfirmed(b1:t1=A-1-1/u1/v1,t2=A-1-2/u1/v1 reacquired)"},
    {.name = "RULE-PAY-2 released after a failed payment, seat taken: refund due",
     .given = {B1, PAID, RELEASED_FOR("b1", "payment_failed"),
               HELD("b2", "u2", 2 * GIVEN_MIN, "A-1-1")},
     .at = 3 * GIVEN_MIN,
     .then = "BookingRefundDue(b1:pay-b1 5300 EUR seats_taken)"},
    {.name = "RULE-PAY-2 the event was cancelled: refund due even while held",
     .given = {B1, PAID, INV_CANCELLED()},
     .at = 3 * GIVEN_MIN,
     .then = "BookingRefundDue(b1:pay-b1 5300 EUR event_cancelled)"},
    {.name = "RULE-PAY-2 GA: expired, 2 of 5 units held by another, 3 wanted: reacquired",
     .section = "GA",
     .given = {B1_GA, PAID, EXPIRED("b1"), HELD_GA("b2", "u2", GIVEN_HOLD, 2)},
     .at = AFTER,
     .amount = 4770,
     .then = "BookingConfirmed(b1:t1=GA/u1/v1,t2=GA/u1/v1,t3=GA/u1/v1 reacquired)"},
    {.name = "RULE-PAY-2 GA: expired, 3 of 5 units held by another: refund due",
     .section = "GA",
     .given = {B1_GA, PAID, EXPIRED("b1"), HELD_GA("b2", "u2", GIVEN_HOLD, 3)},
     .at = AFTER,
     .amount = 4770,
     .then = "BookingRefundDue(b1:pay-b1 4770 EUR seats_taken)"},
    {.name = "RULE-PAY-2 GA: lapsed but not recorded, its own units count as free",
     .section = "GA",
     .given = {B1_GA, PAID, HELD_GA("b2", "u2", GIVEN_HOLD, 2)},
     .at = AFTER,
     .amount = 4770,
     .then = "BookingConfirmed(b1:t1=GA/u1/v1,t2=GA/u1/v1,t3=GA/u1/v1 reacquired)"},
};

/* payment.failed and refund.succeeded. */
static const webhook_case_t others[] = {
    {.name = "failed while held: the hold is released",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .type = "payment.failed",
     .then = "PaymentFailed(b1:pay-b1 5300 EUR payment_failed) HoldReleased(b1 payment_failed)"},
    {.name = "failed for an older intent: recorded, the hold stays",
     .given = {B1, PAY_REQUESTED("b1", "pay-old", 0), PAY_REQUESTED("b1", "pay-b1", GIVEN_MIN)},
     .at = 2 * GIVEN_MIN,
     .type = "payment.failed",
     .payment = "pay-old",
     .then = "PaymentFailed(b1:pay-old 5300 EUR payment_failed)"},
    {.name = "RULE-HOLD-3 failed at the expiry instant: recorded, the hold runs out",
     .given = {B1, PAID},
     .at = GIVEN_HOLD,
     .type = "payment.failed",
     .then = "PaymentFailed(b1:pay-b1 5300 EUR payment_failed)"},
    {.name = "failed after the confirm: nothing",
     .given = {B1, PAID, CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2")},
     .at = 3 * GIVEN_MIN,
     .type = "payment.failed",
     .then = ""},
    {.name = "failed after the expiry was recorded: nothing",
     .given = {B1, PAID, EXPIRED("b1")},
     .at = AFTER,
     .type = "payment.failed",
     .then = ""},
    {.name = "refund.succeeded for the refund due",
     .given = {B1, PAID, EXPIRED("b1"), REFUND_DUE("b1", 5300)},
     .at = AFTER,
     .type = "refund.succeeded",
     .pev = "rf-1",
     .then = "RefundCompleted(b1:pay-b1 5300 EUR)"},
    {.name = "refund.succeeded for a partial cancellation refund",
     .given = {B1, PAID, CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2"), CANCELLED("b1", 0, 2500)},
     .at = AFTER,
     .type = "refund.succeeded",
     .amount = 2500,
     .then = "RefundCompleted(b1:pay-b1 2500 EUR)"},
    {.name = "refund.succeeded for another amount than due",
     .given = {B1, PAID, CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2"), CANCELLED("b1", 0, 2500)},
     .at = AFTER,
     .type = "refund.succeeded",
     .amount = 5300,
     .then = "!validation_failed field=amount"},
    {.name = "refund.succeeded in another currency",
     .given = {B1, PAID, EXPIRED("b1"), REFUND_DUE("b1", 5300)},
     .at = AFTER,
     .type = "refund.succeeded",
     .currency = "USD",
     .then = "!validation_failed field=currency"},
    {.name = "refund.succeeded with nothing due: nothing",
     .given = {B1, PAID},
     .at = 2 * GIVEN_MIN,
     .type = "refund.succeeded",
     .then = ""},
    {.name = "refund.succeeded again under another provider event: nothing",
     .given = {B1, PAID, EXPIRED("b1"), REFUND_DUE("b1", 5300), REFUNDED("b1", 5300)},
     .at = AFTER,
     .type = "refund.succeeded",
     .pev = "rf-2",
     .then = ""},
};

static void run_webhooks(const webhook_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const webhook_case_t *c = &cases[i];
        const char *section = c->section ? c->section : "A";
        inv_state_t *s = given_inventory(section, c->given);
        given_t *g = given_new();
        static const char *ids[] = {"t1", "t2", "t3", "t4"};
        inv_webhook_cmd_t cmd = {
            .payment_id = c->payment ? c->payment : "pay-b1",
            .provider_event_id = c->pev ? c->pev : "evt-new",
            .type = c->type ? c->type : "payment.succeeded",
            .amount = c->amount ? c->amount : 5300,
            .currency = c->currency ? c->currency : "EUR",
            .ticket_ids = ids,
            .n_ticket_ids = 4,
        };
        if (c->tickets)
            cmd.ticket_ids = given_split(&g->arena, c->tickets, &cmd.n_ticket_ids);
        given_when(g, GIVEN_T0 + c->at, "system");
        assert_int_equal(inv_webhook_decide(s, &cmd, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        if (!g->out.reject || strcmp(g->out.reject->code, "not_found") != 0)
            then_ref(g, "b1");
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

static void test_webhook_pay1(void **state)
{
    (void)state;
    run_webhooks(pay1, TS_ARRAY_LEN(pay1));
}

static void test_webhook_pay2(void **state)
{
    (void)state;
    run_webhooks(pay2, TS_ARRAY_LEN(pay2));
}

static void test_webhook_others(void **state)
{
    (void)state;
    run_webhooks(others, TS_ARRAY_LEN(others));
}

/* ---- applied ---- */

/* Holds of seats in A at `at` by u9: the outcome line. */
static const char *try_hold(given_t *g, const inv_state_t *s, int64_t at, const char *seats)
{
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "A"};
    cmd.seats = given_split(&g->arena, seats, &cmd.n_seats);
    given_when(g, GIVEN_T0 + at, "u9");
    g->ctx.command_id = NULL;
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    return given_render(g);
}

/* RULE-TKT-1, RULE-HOLD-1: a confirm sells the seats for good and issues
 * the tickets; the booking records what it was paid. */
static void test_confirm_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {B1, PAID, CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2"), {0}};
    inv_state_t *s = given_inventory("A", h);
    const inv_booking_t *b = inv_booking_find(s, "b1");
    assert_int_equal(b->status, INV_CONFIRMED);
    assert_string_equal(inv_booking_status_name(b, GIVEN_T0 + GIVEN_DAY), "confirmed");
    assert_int_equal(b->paid_amount, 5300);
    assert_int_equal(b->confirmed_at, GIVEN_T0 + 2 * GIVEN_MIN);
    assert_string_equal(b->payment_id, "pay-b1");
    assert_int_equal(b->n_tickets, 2);
    assert_int_equal(b->n_provider_events, 1);
    assert_string_equal(b->provider_events[0], "evt-b1");
    assert_false(b->reacquired);
    assert_int_equal(s->expiry_head, 1);
    assert_int_equal(inv_next_expiry(s), 0);
    const inv_ticket_t *t2 = inv_ticket_find(s, "t2");
    assert_non_null(t2);
    assert_string_equal(t2->t.seat, "A-1-2");
    assert_string_equal(t2->t.holder_id, "u1");
    assert_int_equal(t2->t.version, 1);
    assert_string_equal(inv_ticket_status_name(t2), "valid");
    assert_ptr_equal(&s->bookings[t2->booking], b);
    assert_null(inv_ticket_find(s, "t3"));

    /* Sold: the seats are not free after the hold's expiry either. */
    given_t *g = given_new();
    assert_string_equal(try_hold(g, s, GIVEN_DAY, "A-1-2,A-1-3"),
                        "!seat_unavailable field=seats seats=A-1-2");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* RULE-PAY-2 through apply: a reacquired booking takes its seats again; a
 * refund-due one frees what it still held. */
static void test_pay2_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {B1,
                                     PAID,
                                     EXPIRED("b1"),
                                     REACQUIRED("b1", AFTER, "t1,t2"),
                                     HELD("b2", "u2", AFTER, "A-2-1"),
                                     PAY_REQUESTED("b2", NULL, AFTER),
                                     HELD("b3", "u3", AFTER + GIVEN_HOLD, "A-2-1"),
                                     REFUND_DUE("b2", 2650),
                                     {0}};
    inv_state_t *s = given_inventory("A", h);
    const inv_booking_t *b1 = inv_booking_find(s, "b1");
    assert_int_equal(b1->status, INV_CONFIRMED);
    assert_true(b1->reacquired);
    const inv_booking_t *b2 = inv_booking_find(s, "b2");
    assert_int_equal(b2->status, INV_REFUND_DUE);
    assert_string_equal(inv_booking_status_name(b2, 0), "refund_due");
    assert_int_equal(b2->refund, 2650);
    assert_int_equal(b2->paid_amount, 2650);
    /* b3 holds A-2-1 (b2 had lapsed); b2's refund did not free b3's seat. */
    assert_int_equal(s->seat_owner[s->row_offset[1]], 2);
    assert_int_equal(s->expiry_head, 2);

    given_t *g = given_new();
    assert_string_equal(try_hold(g, s, AFTER + GIVEN_HOLD + 1, "A-1-1"),
                        "!seat_unavailable field=seats seats=A-1-1");
    assert_string_equal(try_hold(g, s, AFTER + GIVEN_HOLD + 1, "A-2-1"),
                        "!seat_unavailable field=seats seats=A-2-1");
    assert_string_equal(try_hold(g, s, AFTER + 2 * GIVEN_HOLD, "A-2-1"),
                        "HoldExpired(b3) HoldPlaced(n1:A-2-1 x1)");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);

    /* GA: 3 units reacquired after the expiry count again. */
    static const given_step_t ga[] = {
        B1_GA, PAID, EXPIRED("b1"), REACQUIRED("b1", AFTER, "t1,t2,t3"), {0}};
    s = given_inventory("GA", ga);
    assert_int_equal(s->ga_taken, 3);
    given_state_free(CMD_AGG_INV, s);
}

/* A failed payment's provider event is recorded and the hold ends. */
static void test_failed_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {
        B1, PAID, PAY_FAILED("b1", "pay-b1", "evt-f1"), RELEASED_FOR("b1", "payment_failed"), {0}};
    inv_state_t *s = given_inventory("A", h);
    const inv_booking_t *b = inv_booking_find(s, "b1");
    assert_int_equal(b->status, INV_RELEASED);
    assert_string_equal(b->end_reason, "payment_failed");
    assert_int_equal(b->n_provider_events, 1);
    assert_string_equal(b->provider_events[0], "evt-f1");
    given_t *g = given_new();
    assert_string_equal(try_hold(g, s, 3 * GIVEN_MIN, "A-1-1"), "HoldPlaced(n1:A-1-1 x1)");
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_payment_request), cmocka_unit_test(test_payment_request_applied),
        cmocka_unit_test(test_webhook_pay1),    cmocka_unit_test(test_webhook_pay2),
        cmocka_unit_test(test_webhook_others),  cmocka_unit_test(test_confirm_applied),
        cmocka_unit_test(test_pay2_applied),    cmocka_unit_test(test_failed_applied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
