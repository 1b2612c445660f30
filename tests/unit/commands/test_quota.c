/*
 * The quota aggregate (RULE-HOLD-4): a user's active holds plus confirmed
 * tickets for one event never exceed max_per_user, across all the user's
 * bookings (each on its own shard). Held quota lapses at the hold's expiry
 * (RULE-HOLD-3, lazily); confirmed quota never does.
 *
 * Tables: given the quota's events (booking, quantity, expiry offset from
 * GIVEN_T0), when take / confirm / return at an instant, then the events or
 * the rejection. max_per_user is 4 unless a case says otherwise.
 */
#include "given.h"

typedef struct {
    char op; /* 'T' taken, 'C' confirmed, 'R' returned; 0 ends */
    const char *booking;
    uint32_t quantity;
    int64_t expires; /* from GIVEN_T0 */
} quota_step_t;

#define Q_TAKEN(b, q, exp)                                                                         \
    {                                                                                              \
        'T', (b), (q), (exp)                                                                       \
    }
#define Q_CONFIRMED(b, q)                                                                          \
    {                                                                                              \
        'C', (b), (q), 0                                                                           \
    }
#define Q_RETURNED(b)                                                                              \
    {                                                                                              \
        'R', (b), 0, 0                                                                             \
    }

static cmd_quota_state_t *given_quota(const quota_step_t *steps)
{
    cmd_quota_state_t *s = cmd_aggregate_ops(CMD_AGG_QUOTA)->state_new();
    for (const quota_step_t *st = steps; st && st->op; st++) {
        evt_event_t e = {.type = st->op == 'T'   ? EVT_QUOTA_TAKEN
                                 : st->op == 'C' ? EVT_QUOTA_CONFIRMED
                                                 : EVT_QUOTA_RETURNED};
        e.u.quota.event_id = "e1";
        e.u.quota.booking_id = st->booking;
        e.u.quota.quantity = st->quantity;
        e.u.quota.expires_at = st->op == 'T' ? GIVEN_T0 + st->expires : 0;
        cmd_aggregate_ops(CMD_AGG_QUOTA)->apply(s, &e);
    }
    return s;
}

typedef struct {
    const char *name;
    quota_step_t given[8];
    int64_t at; /* from GIVEN_T0 */
    char op;    /* 'T' take, 'C' confirm, 'R' return */
    const char *booking;
    uint32_t quantity;
    uint32_t max; /* 0: 4 */
    const char *then;
} quota_case_t;

static void run_quota_cases(const quota_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const quota_case_t *c = &cases[i];
        cmd_quota_state_t *s = given_quota(c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, "u1");
        evt_quota_t q = {.event_id = "e1",
                         .booking_id = c->booking,
                         .quantity = c->quantity,
                         .expires_at = GIVEN_T0 + c->at + GIVEN_HOLD};
        if (c->op == 'T')
            quota_take_decide(s, &q, c->max ? c->max : 4, &g->ctx, &g->out);
        else if (c->op == 'C')
            quota_confirm_decide(s, &q, &g->ctx, &g->out);
        else
            quota_return_decide(s, "e1", c->booking, &g->ctx, &g->out);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_QUOTA, s);
    }
}

static const quota_case_t takes[] = {
    {.name = "RULE-HOLD-4 up to max_per_user in one booking",
     .op = 'T',
     .booking = "b9",
     .quantity = 4,
     .then = "QuotaTaken(b9 x4)"},
    {.name = "RULE-HOLD-4 one more than max_per_user in one booking",
     .op = 'T',
     .booking = "b9",
     .quantity = 5,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-4 per-user cap across two bookings: 3 held, then 2",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .at = GIVEN_MIN,
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-4 across two bookings: 3 held, then 1 reaches the cap exactly",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .at = GIVEN_MIN,
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "QuotaTaken(b9 x1)"},
    {.name = "RULE-HOLD-4 across three bookings: 1 + 2 held, then 1",
     .given = {Q_TAKEN("b1", 1, GIVEN_HOLD), Q_TAKEN("b2", 2, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "QuotaTaken(b9 x1)"},
    {.name = "RULE-HOLD-4 after releasing one booking its quantity is free again",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_RETURNED("b1")},
     .at = GIVEN_MIN,
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "QuotaTaken(b9 x2)"},
    {.name = "RULE-HOLD-4 + RULE-HOLD-3 held quota counts 1 ms before the hold's expiry",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .at = GIVEN_HOLD - 1,
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-4 + RULE-HOLD-3 held quota lapses at the hold's expiry instant",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .at = GIVEN_HOLD,
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "QuotaTaken(b9 x2)"},
    {.name = "RULE-HOLD-4 confirmed tickets never lapse",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_CONFIRMED("b1", 3)},
     .at = 30 * GIVEN_DAY,
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-4 confirmed plus held count together",
     .given = {Q_CONFIRMED("b1", 2), Q_TAKEN("b2", 2, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-4 a cancelled confirmed booking gives its tickets back",
     .given = {Q_CONFIRMED("b1", 4), Q_RETURNED("b1")},
     .op = 'T',
     .booking = "b9",
     .quantity = 4,
     .then = "QuotaTaken(b9 x4)"},
    {.name = "RULE-HOLD-4 the event's own max_per_user (8 by default)",
     .given = {Q_TAKEN("b1", 4, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 4,
     .max = 8,
     .then = "QuotaTaken(b9 x4)"},
    {.name = "RULE-HOLD-4 max_per_user 8: 4 + 4 + 1",
     .given = {Q_TAKEN("b1", 4, GIVEN_HOLD), Q_TAKEN("b2", 4, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .max = 8,
     .then = "!limit_exceeded field=quantity limit=8"},
    {.name = "RULE-HOLD-5 the same booking again takes nothing more",
     .given = {Q_TAKEN("b9", 3, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 3,
     .then = ""},
    {.name = "a returned booking may take quota again (a retried hold)",
     .given = {Q_TAKEN("b9", 3, GIVEN_HOLD), Q_RETURNED("b9")},
     .op = 'T',
     .booking = "b9",
     .quantity = 3,
     .then = "QuotaTaken(b9 x3)"},
    {.name = "a quantity of 0 is refused",
     .op = 'T',
     .booking = "b9",
     .quantity = 0,
     .then = "!validation_failed field=quantity"},
};

static void test_rule_hold_4_take(void **state)
{
    (void)state;
    run_quota_cases(takes, TS_ARRAY_LEN(takes));
}

static const quota_case_t confirms_and_returns[] = {
    {.name = "confirm a held booking",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .op = 'C',
     .booking = "b1",
     .quantity = 3,
     .then = "QuotaConfirmed(b1 x3)"},
    {.name = "confirm twice: the second is a no-op",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_CONFIRMED("b1", 3)},
     .op = 'C',
     .booking = "b1",
     .quantity = 3,
     .then = ""},
    {.name = "RULE-PAY-2 a re-acquired expired hold counts again",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_RETURNED("b1")},
     .at = GIVEN_HOLD + GIVEN_MIN,
     .op = 'C',
     .booking = "b1",
     .quantity = 3,
     .then = "QuotaConfirmed(b1 x3)"},
    {.name = "a sale that never took quota counts (e.g. a waitlist offer)",
     .op = 'C',
     .booking = "b7",
     .quantity = 2,
     .then = "QuotaConfirmed(b7 x2)"},
    {.name = "a sale counts even past the cap: the tickets exist",
     .given = {Q_CONFIRMED("b1", 4)},
     .op = 'C',
     .booking = "b7",
     .quantity = 2,
     .then = "QuotaConfirmed(b7 x2)"},
    {.name = "return a held booking",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .op = 'R',
     .booking = "b1",
     .then = "QuotaReturned(b1 x3)"},
    {.name = "return twice: the second is a no-op",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_RETURNED("b1")},
     .op = 'R',
     .booking = "b1",
     .then = ""},
    {.name = "return an expired hold (the saga after HoldExpired)",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .at = GIVEN_HOLD + GIVEN_MIN,
     .op = 'R',
     .booking = "b1",
     .then = "QuotaReturned(b1 x3)"},
    {.name = "return a cancelled confirmed booking",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_CONFIRMED("b1", 3)},
     .op = 'R',
     .booking = "b1",
     .then = "QuotaReturned(b1 x3)"},
    {.name = "return an unknown booking: nothing to do",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .op = 'R',
     .booking = "b2",
     .then = ""},
};

static void test_rule_hold_4_confirm_and_return(void **state)
{
    (void)state;
    run_quota_cases(confirms_and_returns, TS_ARRAY_LEN(confirms_and_returns));
}

/* quota_in_use at the instants that matter. */
static void test_rule_hold_4_in_use(void **state)
{
    (void)state;
    static const quota_step_t steps[] = {Q_TAKEN("b1", 1, GIVEN_HOLD),
                                         Q_TAKEN("b2", 2, 2 * GIVEN_HOLD),
                                         Q_CONFIRMED("b3", 3),
                                         Q_TAKEN("b4", 4, GIVEN_HOLD),
                                         Q_RETURNED("b4"),
                                         {0}};
    cmd_quota_state_t *s = given_quota(steps);
    assert_int_equal(quota_in_use(s, GIVEN_T0), 6);
    assert_int_equal(quota_in_use(s, GIVEN_T0 + GIVEN_HOLD - 1), 6);
    assert_int_equal(quota_in_use(s, GIVEN_T0 + GIVEN_HOLD), 5);
    assert_int_equal(quota_in_use(s, GIVEN_T0 + 2 * GIVEN_HOLD), 3);
    given_state_free(CMD_AGG_QUOTA, s);
}

/* A snapshot rebuilds a state that decides the same and encodes the same. */
static void test_quota_snapshot_round_trip(void **state)
{
    (void)state;
    static const quota_step_t steps[] = {Q_TAKEN("b1", 1, GIVEN_HOLD),
                                         Q_CONFIRMED("b1", 1),
                                         Q_TAKEN("b2", 2, GIVEN_HOLD),
                                         Q_RETURNED("b2"),
                                         Q_TAKEN("b3", 1, GIVEN_HOLD),
                                         Q_CONFIRMED("b4", 1),
                                         Q_RETURNED("b4"),
                                         {0}};
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_QUOTA);
    cmd_quota_state_t *s = given_quota(steps);
    ts_buf_t a, b;
    ts_buf_init(&a);
    ts_buf_init(&b);
    assert_int_equal(ops->encode(s, &a), TS_OK);
    cmd_quota_state_t *copy = ops->decode(a.data, a.len);
    assert_non_null(copy);
    assert_int_equal(ops->encode(copy, &b), TS_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_string_equal(copy->event_id, "e1");
    assert_int_equal(copy->n_entries, 4);
    for (int64_t at = 0; at <= GIVEN_HOLD; at += GIVEN_HOLD / 2)
        assert_int_equal(quota_in_use(copy, GIVEN_T0 + at), quota_in_use(s, GIVEN_T0 + at));
    assert_int_equal(quota_in_use(copy, GIVEN_T0), 2);
    ts_buf_deinit(&a);
    ts_buf_deinit(&b);
    given_state_free(CMD_AGG_QUOTA, copy);
    given_state_free(CMD_AGG_QUOTA, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_hold_4_take),
        cmocka_unit_test(test_rule_hold_4_confirm_and_return),
        cmocka_unit_test(test_rule_hold_4_in_use),
        cmocka_unit_test(test_quota_snapshot_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
