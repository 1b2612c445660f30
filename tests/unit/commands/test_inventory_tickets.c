/*
 * Tickets as tables: check-in at the gate (RULE-TKT-2) and transfer
 * (RULE-TKT-3), then what apply makes of them.
 *
 * b1 (u1) bought A-1-1 and A-1-2: tickets t1 and t2, version 1. The event
 * starts at GIVEN_START; transfers close 48 h before it (the default policy).
 */
#include "given.h"

#define BEFORE(h, ms) (GIVEN_START - GIVEN_T0 - (int64_t)(h)*GIVEN_HOUR + (ms))
#define B1_SOLD                                                                                    \
    HELD("b1", "u1", 0, "A-1-1,A-1-2"), PAY_REQUESTED("b1", NULL, GIVEN_MIN),                      \
        CONFIRMED("b1", 2 * GIVEN_MIN, "t1,t2")
#define T1_USED CHECKED_IN("t1", GIVEN_DAY, "N1", "nonce-a")
#define T1_MOVED TRANSFERRED("t1", GIVEN_DAY, "u5", "t1b", 2)

/* ---- check-in ---- */

typedef struct {
    const char *name;
    given_step_t given[GIVEN_MAX_STEPS];
    const char *ticket;
    uint32_t version; /* from the code; default 1 */
    const char *gate, *nonce;
    const char *then; /* the events */
    inv_checkin_result_t result;
    const char *first_gate; /* NULL: no first scan is named */
} checkin_case_t;

static const checkin_case_t checkins[] = {
    {.name = "RULE-TKT-2 a valid ticket is admitted",
     .given = {B1_SOLD},
     .ticket = "t1",
     .gate = "N1",
     .nonce = "nonce-a",
     .then = "TicketCheckedIn(t1 gate=N1 nonce=nonce-a)",
     .result = INV_CHECKIN_ADMITTED},
    {.name = "RULE-TKT-2 a rescan is already_used with the first scan's gate",
     .given = {B1_SOLD, T1_USED},
     .ticket = "t1",
     .gate = "S2",
     .nonce = "nonce-b",
     .then = "",
     .result = INV_CHECKIN_ALREADY_USED,
     .first_gate = "N1"},
    {.name = "RULE-TKT-2 a scanner's retry with the same nonce gets the same answer",
     .given = {B1_SOLD, T1_USED},
     .ticket = "t1",
     .gate = "N1",
     .nonce = "nonce-a",
     .then = "",
     .result = INV_CHECKIN_ADMITTED,
     .first_gate = "N1"},
    {.name = "RULE-TKT-2 a rescan without a nonce is already_used",
     .given = {B1_SOLD, T1_USED},
     .ticket = "t1",
     .gate = "N1",
     .then = "",
     .result = INV_CHECKIN_ALREADY_USED,
     .first_gate = "N1"},
    {.name = "RULE-TKT-2 no nonce twice is not a retry",
     .given = {B1_SOLD, CHECKED_IN("t1", GIVEN_DAY, "N1", NULL)},
     .ticket = "t1",
     .gate = "N1",
     .then = "",
     .result = INV_CHECKIN_ALREADY_USED,
     .first_gate = "N1"},
    {.name = "RULE-TKT-2 the other ticket of the booking is still admitted",
     .given = {B1_SOLD, T1_USED},
     .ticket = "t2",
     .gate = "N1",
     .nonce = "nonce-c",
     .then = "TicketCheckedIn(t2 gate=N1 nonce=nonce-c)",
     .result = INV_CHECKIN_ADMITTED},
    {.name = "RULE-TKT-2 a code of another version is revoked",
     .given = {B1_SOLD},
     .ticket = "t1",
     .version = 2,
     .then = "",
     .result = INV_CHECKIN_REVOKED},
    {.name = "RULE-TKT-2 the old code of a transferred ticket is revoked",
     .given = {B1_SOLD, T1_MOVED},
     .ticket = "t1",
     .then = "",
     .result = INV_CHECKIN_REVOKED},
    {.name = "RULE-TKT-3 the recipient's new ticket is admitted",
     .given = {B1_SOLD, T1_MOVED},
     .ticket = "t1b",
     .version = 2,
     .gate = "E3",
     .then = "TicketCheckedIn(t1b gate=E3 nonce=-)",
     .result = INV_CHECKIN_ADMITTED},
    {.name = "RULE-TKT-2 the new ticket with the old version is revoked",
     .given = {B1_SOLD, T1_MOVED},
     .ticket = "t1b",
     .then = "",
     .result = INV_CHECKIN_REVOKED},
    {.name = "RULE-TKT-2 a ticket of a cancelled booking is revoked",
     .given = {B1_SOLD, CANCELLED("b1", GIVEN_DAY, 5000)},
     .ticket = "t2",
     .then = "",
     .result = INV_CHECKIN_REVOKED},
    {.name = "RULE-TKT-2 a used ticket of a cancelled event is revoked",
     .given = {B1_SOLD, T1_USED, INV_CANCELLED(), CANCELLED("b1", GIVEN_DAY, 5300)},
     .ticket = "t1",
     .nonce = "nonce-a",
     .then = "",
     .result = INV_CHECKIN_REVOKED},
    {.name = "RULE-TKT-2 the event is cancelled: a ticket not yet revoked is revoked",
     .given = {B1_SOLD, INV_CANCELLED()},
     .ticket = "t2",
     .then = "",
     .result = INV_CHECKIN_REVOKED},
    {.name = "RULE-TKT-2 the event is cancelled: a used ticket is revoked too",
     .given = {B1_SOLD, T1_USED, INV_CANCELLED()},
     .ticket = "t1",
     .nonce = "nonce-a",
     .then = "",
     .result = INV_CHECKIN_REVOKED},
    {.name = "RULE-TKT-2 an unknown ticket is invalid",
     .given = {B1_SOLD},
     .ticket = "t9",
     .then = "",
     .result = INV_CHECKIN_INVALID},
};

static void test_checkin(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(checkins); i++) {
        const checkin_case_t *c = &checkins[i];
        inv_state_t *s = given_inventory("A", c->given);
        given_t *g = given_new();
        inv_checkin_cmd_t cmd = {.ticket_id = c->ticket,
                                 .version = c->version ? c->version : 1,
                                 .gate = c->gate,
                                 .nonce = c->nonce};
        inv_checkin_result_t result = (inv_checkin_result_t)-1;
        const inv_ticket_t *first = (const inv_ticket_t *)&result; /* must be overwritten */
        given_when(g, GIVEN_T0 + 2 * GIVEN_DAY, "gate1");
        assert_int_equal(inv_checkin_decide(s, &cmd, &g->ctx, &g->out, &result, &first), 0);
        then_case(g, c->name, c->then);
        if (result != c->result)
            print_message("case: %s: result %d\n", c->name, (int)result);
        assert_int_equal(result, c->result);
        if (c->first_gate) {
            assert_non_null(first);
            assert_string_equal(first->gate, c->first_gate);
            assert_int_equal(first->checked_in_at, GIVEN_T0 + GIVEN_DAY);
        } else {
            assert_null(first);
        }
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* ---- transfer ---- */

typedef struct {
    const char *name;
    given_step_t given[GIVEN_MAX_STEPS];
    int64_t at;
    const char *actor; /* default u1 */
    int admin;
    const char *ticket;
    const char *to;
    const char *then;
} transfer_case_t;

static const transfer_case_t transfers[] = {
    {"RULE-TKT-3 1 ms before the cutoff",
     {B1_SOLD},
     BEFORE(48, -1),
     NULL,
     0,
     "t1",
     "u5",
     "TicketTransferred(t1->n1:u5/v2)"},
    {"RULE-TKT-3 at the cutoff instant",
     {B1_SOLD},
     BEFORE(48, 0),
     NULL,
     0,
     "t1",
     "u5",
     "!transfer_closed"},
    {"RULE-TKT-3 after the start",
     {B1_SOLD},
     BEFORE(0, 1),
     NULL,
     0,
     "t1",
     "u5",
     "!transfer_closed"},
    {"RULE-TKT-3 the start moved a day later: the cutoff too",
     {B1_SOLD, RESCHEDULED(GIVEN_DAY)},
     BEFORE(48, 0),
     NULL,
     0,
     "t1",
     "u5",
     "TicketTransferred(t1->n1:u5/v2)"},
    {"RULE-TKT-3 the recipient passes it on: version 3",
     {B1_SOLD, T1_MOVED},
     GIVEN_DAY,
     "u5",
     0,
     "t1b",
     "u6",
     "TicketTransferred(t1b->n1:u6/v3)"},
    {"RULE-TKT-3 a used ticket stays",
     {B1_SOLD, T1_USED},
     GIVEN_DAY,
     NULL,
     0,
     "t1",
     "u5",
     "!conflict"},
    {"RULE-TKT-3 a cancelled ticket stays",
     {B1_SOLD, CANCELLED("b1", GIVEN_DAY, 0)},
     GIVEN_DAY,
     NULL,
     0,
     "t1",
     "u5",
     "!conflict"},
    {"RULE-TKT-3 a ticket transferred already stays (an admin asks)",
     {B1_SOLD, T1_MOVED},
     GIVEN_DAY,
     "admin1",
     1,
     "t1",
     "u6",
     "!conflict"},
    {"RULE-TKT-3 the former holder has no say",
     {B1_SOLD, T1_MOVED},
     GIVEN_DAY,
     NULL,
     0,
     "t1b",
     "u6",
     "!forbidden"},
    {"RULE-AUTH-2 not the holder", {B1_SOLD}, GIVEN_DAY, "u2", 0, "t1", "u5", "!forbidden"},
    {"RULE-AUTH-2 an admin may",
     {B1_SOLD},
     GIVEN_DAY,
     "admin1",
     1,
     "t1",
     "u5",
     "TicketTransferred(t1->n1:u5/v2)"},
    {"RULE-TKT-3 the event is cancelled: closed",
     {B1_SOLD, INV_CANCELLED()},
     GIVEN_DAY,
     NULL,
     0,
     "t1",
     "u5",
     "!transfer_closed"},
    {"to oneself", {B1_SOLD}, GIVEN_DAY, NULL, 0, "t1", "u1", "!validation_failed field=to_email"},
    {"to nobody", {B1_SOLD}, GIVEN_DAY, NULL, 0, "t1", "", "!validation_failed field=to_email"},
    {"an unknown ticket", {B1_SOLD}, GIVEN_DAY, NULL, 0, "t9", "u5", "!not_found"},
};

static void test_transfer(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(transfers); i++) {
        const transfer_case_t *c = &transfers[i];
        inv_state_t *s = given_inventory("A", c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, c->actor ? c->actor : "u1");
        g->ctx.actor_is_admin = c->admin;
        assert_int_equal(inv_transfer_decide(s, c->ticket, c->to, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        if (!g->out.reject)
            then_ref(g, "n1");
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* RULE-TKT-3 through apply: the old ticket is revoked at the transfer's
 * version, the recipient holds a new one for the same seat; a later
 * revocation has a later version. */
static void test_transfer_applied(void **state)
{
    (void)state;
    static const given_step_t h[] = {B1_SOLD, {0}};
    inv_state_t *s = given_inventory("A", h);
    assert_int_equal(s->version, 4);
    given_t *g = given_new();
    given_when(g, GIVEN_T0 + GIVEN_DAY, "u1");
    g->ctx.new_id = "t1b";
    inv_transfer_decide(s, "t1", "u5", &g->ctx, &g->out);
    then_line(g, "TicketTransferred(t1->t1b:u5/v2)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->version, 5);
    const inv_ticket_t *t1 = inv_ticket_find(s, "t1");
    const inv_ticket_t *t1b = inv_ticket_find(s, "t1b");
    assert_string_equal(inv_ticket_status_name(t1), "transferred");
    assert_int_equal(t1->revoked_version, 5);
    assert_ptr_equal(&s->tickets[t1->replaced_by], t1b);
    assert_string_equal(inv_ticket_status_name(t1b), "valid");
    assert_string_equal(t1b->t.holder_id, "u5");
    assert_string_equal(t1b->t.seat, "A-1-1");
    assert_int_equal(t1b->t.version, 2);
    assert_int_equal(t1b->booking, t1->booking);
    assert_int_equal(t1b->revoked_version, 0);

    /* The recipient enters; the check-in is recorded once. */
    inv_checkin_cmd_t in = {.ticket_id = "t1b", .version = 2, .gate = "N1", .nonce = "q"};
    inv_checkin_result_t r;
    const inv_ticket_t *first;
    given_when(g, GIVEN_T0 + 2 * GIVEN_DAY, "gate1");
    inv_checkin_decide(s, &in, &g->ctx, &g->out, &r, &first);
    then_line(g, "TicketCheckedIn(t1b gate=N1 nonce=q)");
    given_apply_out(CMD_AGG_INV, s, g);
    assert_string_equal(inv_ticket_status_name(t1b), "used");
    assert_int_equal(t1b->checked_in_at, GIVEN_T0 + 2 * GIVEN_DAY);
    assert_string_equal(t1b->nonce, "q");

    /* A second TicketCheckedIn in the log changes nothing, and counts not. */
    uint64_t v = s->version;
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(s->version, v);
    assert_int_equal(t1b->checked_in_at, GIVEN_T0 + 2 * GIVEN_DAY);

    /* The event is cancelled: t2 and t1b are revoked later than t1. */
    given_when(g, GIVEN_T0 + 2 * GIVEN_DAY, "system");
    inv_cancel_all_decide(s, NULL, 0, &g->ctx, &g->out);
    given_apply_out(CMD_AGG_INV, s, g);
    assert_int_equal(inv_ticket_find(s, "t2")->revoked_version, 8);
    assert_int_equal(inv_ticket_find(s, "t1b")->revoked_version, 8);
    assert_int_equal(inv_ticket_find(s, "t1")->revoked_version, 5);
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkin),
        cmocka_unit_test(test_transfer),
        cmocka_unit_test(test_transfer_applied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
