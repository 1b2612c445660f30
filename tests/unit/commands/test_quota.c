/*
 * The quota aggregate (RULE-HOLD-4): a user's active holds plus confirmed
 * tickets for one event never exceed max_per_user, across all the user's
 * bookings (each on its own shard). Held quota lapses at the hold's expiry
 * (RULE-HOLD-3, lazily); confirmed quota never does. One aggregate holds a
 * bucket of the event's users: each user's cap counts that user's bookings
 * only.
 *
 * Tables: given the quota's events (user, booking, quantity, expiry offset
 * from GIVEN_T0), when take / confirm / return at an instant, then the
 * events or the rejection. Events render as Type(user:booking xquantity).
 * The user is u1 and max_per_user is 4 unless a case says otherwise.
 */
#include "given.h"

typedef struct {
    char op; /* 'T' taken, 'C' confirmed, 'R' returned; 0 ends */
    const char *booking;
    uint32_t quantity;
    int64_t expires;  /* from GIVEN_T0 */
    const char *user; /* NULL: u1 */
} quota_step_t;

#define Q_TAKEN(b, q, exp)                                                                         \
    {                                                                                              \
        'T', (b), (q), (exp), NULL                                                                 \
    }
#define Q_TAKEN_BY(u, b, q, exp)                                                                   \
    {                                                                                              \
        'T', (b), (q), (exp), (u)                                                                  \
    }
#define Q_CONFIRMED(b, q)                                                                          \
    {                                                                                              \
        'C', (b), (q), 0, NULL                                                                     \
    }
#define Q_CONFIRMED_BY(u, b, q)                                                                    \
    {                                                                                              \
        'C', (b), (q), 0, (u)                                                                      \
    }
#define Q_RETURNED(b)                                                                              \
    {                                                                                              \
        'R', (b), 0, 0, NULL                                                                       \
    }

static evt_event_t quota_event(const quota_step_t *st)
{
    evt_event_t e = {.type = st->op == 'T'   ? EVT_QUOTA_TAKEN
                             : st->op == 'C' ? EVT_QUOTA_CONFIRMED
                                             : EVT_QUOTA_RETURNED};
    e.u.quota.event_id = "e1";
    e.u.quota.booking_id = st->booking;
    /* A return names its booking's user as quota_return_decide does; the
     * steps leave it out, and apply must not need it. */
    e.u.quota.user_id = st->op == 'R' ? NULL : st->user ? st->user : "u1";
    e.u.quota.quantity = st->quantity;
    e.u.quota.expires_at = st->op == 'T' ? GIVEN_T0 + st->expires : 0;
    return e;
}

static cmd_quota_state_t *given_quota(const quota_step_t *steps)
{
    cmd_quota_state_t *s = cmd_aggregate_ops(CMD_AGG_QUOTA)->state_new();
    for (const quota_step_t *st = steps; st && st->op; st++) {
        evt_event_t e = quota_event(st);
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
    uint32_t max;     /* 0: 4 */
    const char *user; /* NULL: u1; "" none */
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
                         .user_id = !c->user     ? "u1"
                                    : c->user[0] ? c->user
                                                 : NULL,
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
     .then = "QuotaTaken(u1:b9 x4)"},
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
     .then = "QuotaTaken(u1:b9 x1)"},
    {.name = "RULE-HOLD-4 across three bookings: 1 + 2 held, then 1",
     .given = {Q_TAKEN("b1", 1, GIVEN_HOLD), Q_TAKEN("b2", 2, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "QuotaTaken(u1:b9 x1)"},
    {.name = "RULE-HOLD-4 after releasing one booking its quantity is free again",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_RETURNED("b1")},
     .at = GIVEN_MIN,
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "QuotaTaken(u1:b9 x2)"},
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
     .then = "QuotaTaken(u1:b9 x2)"},
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
     .then = "QuotaTaken(u1:b9 x4)"},
    {.name = "RULE-HOLD-4 the event's own max_per_user (8 by default)",
     .given = {Q_TAKEN("b1", 4, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 4,
     .max = 8,
     .then = "QuotaTaken(u1:b9 x4)"},
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
     .then = "QuotaTaken(u1:b9 x3)"},
    {.name = "a quantity of 0 is refused",
     .op = 'T',
     .booking = "b9",
     .quantity = 0,
     .then = "!validation_failed field=quantity"},
    {.name = "a take names its user",
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .user = "",
     .then = "!validation_failed field=user_id"},
    /* A bucket holds many users: each one's cap counts their own bookings. */
    {.name = "RULE-HOLD-4 bucket: u1 at the cap does not limit u2",
     .given = {Q_TAKEN("b1", 4, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 4,
     .user = "u2",
     .then = "QuotaTaken(u2:b9 x4)"},
    {.name = "RULE-HOLD-4 bucket: u2's holds and tickets do not count for u1",
     .given = {Q_TAKEN_BY("u2", "b1", 4, GIVEN_HOLD), Q_CONFIRMED_BY("u2", "b2", 4),
               Q_TAKEN("b3", 3, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "QuotaTaken(u1:b9 x1)"},
    {.name = "RULE-HOLD-4 bucket: u1 is still capped among other users' bookings",
     .given = {Q_TAKEN_BY("u2", "b1", 1, GIVEN_HOLD), Q_TAKEN("b2", 2, GIVEN_HOLD),
               Q_TAKEN_BY("u3", "b3", 4, GIVEN_HOLD), Q_CONFIRMED("b4", 1),
               Q_TAKEN_BY("u2", "b5", 2, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-4 bucket: u2's return frees nothing of u1's",
     .given = {Q_TAKEN("b1", 4, GIVEN_HOLD), Q_TAKEN_BY("u2", "b2", 4, GIVEN_HOLD),
               Q_RETURNED("b2")},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-HOLD-4 + RULE-HOLD-3 bucket: only u1's own hold lapses for u1",
     .given = {Q_TAKEN("b1", 2, GIVEN_HOLD), Q_TAKEN("b2", 2, 2 * GIVEN_HOLD),
               Q_TAKEN_BY("u2", "b3", 4, 3 * GIVEN_HOLD)},
     .at = GIVEN_HOLD,
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "QuotaTaken(u1:b9 x2)"},
    {.name = "a booking id of another user is refused, whatever its status",
     .given = {Q_TAKEN_BY("u2", "b9", 1, GIVEN_HOLD), Q_RETURNED("b9")},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "!validation_failed field=booking_id"},
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
     .then = "QuotaConfirmed(u1:b1 x3)"},
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
     .then = "QuotaConfirmed(u1:b1 x3)"},
    {.name = "a sale that never took quota counts (e.g. a waitlist offer)",
     .op = 'C',
     .booking = "b7",
     .quantity = 2,
     .then = "QuotaConfirmed(u1:b7 x2)"},
    {.name = "a sale counts even past the cap: the tickets exist",
     .given = {Q_CONFIRMED("b1", 4)},
     .op = 'C',
     .booking = "b7",
     .quantity = 2,
     .then = "QuotaConfirmed(u1:b7 x2)"},
    {.name = "return a held booking",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD)},
     .op = 'R',
     .booking = "b1",
     .then = "QuotaReturned(u1:b1 x3)"},
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
     .then = "QuotaReturned(u1:b1 x3)"},
    {.name = "return a cancelled confirmed booking",
     .given = {Q_TAKEN("b1", 3, GIVEN_HOLD), Q_CONFIRMED("b1", 3)},
     .op = 'R',
     .booking = "b1",
     .then = "QuotaReturned(u1:b1 x3)"},
    {.name = "a sale that never took quota names its user",
     .op = 'C',
     .booking = "b7",
     .quantity = 2,
     .user = "",
     .then = "!validation_failed field=user_id"},
    {.name = "confirm counts for the user who took the quota",
     .given = {Q_TAKEN_BY("u2", "b1", 3, GIVEN_HOLD)},
     .op = 'C',
     .booking = "b1",
     .quantity = 3,
     .user = "",
     .then = "QuotaConfirmed(u2:b1 x3)"},
    {.name = "bucket: return names the booking's user",
     .given = {Q_TAKEN("b1", 1, GIVEN_HOLD), Q_TAKEN_BY("u2", "b2", 3, GIVEN_HOLD)},
     .op = 'R',
     .booking = "b2",
     .then = "QuotaReturned(u2:b2 x3)"},
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

/* quota_in_use at the instants that matter, per user. */
static void test_rule_hold_4_in_use(void **state)
{
    (void)state;
    static const quota_step_t steps[] = {Q_TAKEN("b1", 1, GIVEN_HOLD),
                                         Q_TAKEN_BY("u2", "b5", 5, 3 * GIVEN_HOLD),
                                         Q_TAKEN("b2", 2, 2 * GIVEN_HOLD),
                                         Q_CONFIRMED("b3", 3),
                                         Q_CONFIRMED_BY("u2", "b6", 7),
                                         Q_TAKEN("b4", 4, GIVEN_HOLD),
                                         Q_RETURNED("b4"),
                                         {0}};
    cmd_quota_state_t *s = given_quota(steps);
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0), 6);
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0 + GIVEN_HOLD - 1), 6);
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0 + GIVEN_HOLD), 5);
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0 + 2 * GIVEN_HOLD), 3);
    assert_int_equal(quota_in_use(s, "u2", GIVEN_T0 + 2 * GIVEN_HOLD), 12);
    assert_int_equal(quota_in_use(s, "u2", GIVEN_T0 + 3 * GIVEN_HOLD), 7);
    assert_int_equal(quota_in_use(s, "u3", GIVEN_T0), 0);
    given_state_free(CMD_AGG_QUOTA, s);
}

/* Two users of one bucket, their takes decided one after the other as a
 * group commit does (each applied before the next is decided): each is
 * capped at 4 on their own, whatever the order. */
static void test_rule_hold_4_bucket_batch(void **state)
{
    (void)state;
    static const struct {
        const char *user, *booking;
        uint32_t quantity;
        const char *then;
    } batch[] = {
        {"u1", "b1", 3, "QuotaTaken(u1:b1 x3)"},
        {"u2", "b2", 4, "QuotaTaken(u2:b2 x4)"},
        {"u1", "b3", 2, "!limit_exceeded field=quantity limit=4"},
        {"u2", "b4", 1, "!limit_exceeded field=quantity limit=4"},
        {"u1", "b5", 1, "QuotaTaken(u1:b5 x1)"},
        {"u3", "b6", 4, "QuotaTaken(u3:b6 x4)"},
        {"u1", "b7", 1, "!limit_exceeded field=quantity limit=4"},
    };
    cmd_quota_state_t *s = given_quota(NULL);
    for (size_t i = 0; i < TS_ARRAY_LEN(batch); i++) {
        given_t *g = given_new();
        evt_quota_t q = {.event_id = "e1",
                         .booking_id = batch[i].booking,
                         .user_id = batch[i].user,
                         .quantity = batch[i].quantity,
                         .expires_at = GIVEN_T0 + GIVEN_HOLD};
        quota_take_decide(s, &q, 4, &g->ctx, &g->out);
        then_case(g, batch[i].booking, batch[i].then);
        if (!g->out.reject)
            given_apply_out(CMD_AGG_QUOTA, s, g);
        given_free(g);
    }
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0), 4);
    assert_int_equal(quota_in_use(s, "u2", GIVEN_T0), 4);
    assert_int_equal(quota_in_use(s, "u3", GIVEN_T0), 4);
    given_state_free(CMD_AGG_QUOTA, s);
}

/* A QuotaTaken without user_id (written before the field) counts for no
 * one; a return or confirm of a known booking needs none. */
static void test_quota_events_without_user(void **state)
{
    (void)state;
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_QUOTA);
    cmd_quota_state_t *s = given_quota(NULL);
    evt_event_t e = {.type = EVT_QUOTA_TAKEN};
    e.u.quota = (evt_quota_t){
        .event_id = "e1", .booking_id = "b0", .quantity = 4, .expires_at = GIVEN_T0 + GIVEN_HOLD};
    ops->apply(s, &e);
    assert_int_equal(s->n_entries, 0);
    quota_step_t taken = Q_TAKEN("b1", 2, GIVEN_HOLD);
    e = quota_event(&taken);
    ops->apply(s, &e);
    e.type = EVT_QUOTA_CONFIRMED;
    e.u.quota.user_id = NULL;
    ops->apply(s, &e);
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0 + 2 * GIVEN_HOLD), 2);
    e.type = EVT_QUOTA_RETURNED;
    ops->apply(s, &e);
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0), 0);
    given_state_free(CMD_AGG_QUOTA, s);
}

/* The units in use by a plain walk over every entry of the state. */
static uint32_t in_use_by_walk(const cmd_quota_state_t *s, const char *user, int64_t now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_entries; i++) {
        const quota_entry_t *e = &s->entries[i];
        if (strcmp(e->user_id, user) == 0 &&
            (e->status == QUOTA_CONFIRMED || (e->status == QUOTA_TAKEN && now < e->expires_at)))
            n += e->quantity;
    }
    return n;
}

/* RULE-HOLD-4 + RULE-HOLD-3: the per-user sums that spare a take the walk
 * (confirmed, taken, earliest expiry) agree with a plain walk after any
 * sequence of takes, re-takes, confirms and returns, at every instant
 * around the expiries. A fixed pseudo-random sequence of 2,000 events over 3
 * users and 40 bookings. */
static void test_rule_hold_4_sums_agree_with_a_walk(void **state)
{
    (void)state;
    static const char *users[] = {"u1", "u2", "u3"};
    char bookings[40][8];
    for (int b = 0; b < 40; b++)
        snprintf(bookings[b], sizeof(bookings[b]), "b%d", b);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_QUOTA);
    cmd_quota_state_t *s = given_quota(NULL);
    uint32_t x = 12345;
    for (int step = 0; step < 2000; step++) {
        x = x * 1103515245u + 12345u;
        int b = (int)((x >> 8) % 40), op = (int)((x >> 16) % 3);
        evt_event_t e = {.type = op == 0   ? EVT_QUOTA_TAKEN
                                 : op == 1 ? EVT_QUOTA_CONFIRMED
                                           : EVT_QUOTA_RETURNED};
        e.u.quota.event_id = "e1";
        e.u.quota.booking_id = bookings[b];
        e.u.quota.user_id = users[b % 3]; /* a booking is one user's */
        e.u.quota.quantity = 1 + (x >> 20) % 4;
        e.u.quota.expires_at = GIVEN_T0 + (int64_t)((x >> 4) % 5) * GIVEN_MIN;
        ops->apply(s, &e);
        for (int64_t at = -1; at <= 5; at++)
            for (int u = 0; u < 3; u++) {
                int64_t now = GIVEN_T0 + at * GIVEN_MIN + (at & 1);
                if (quota_in_use(s, users[u], now) != in_use_by_walk(s, users[u], now))
                    fail_msg("step %d, %s at %lld: %u by the sums, %u by a walk", step, users[u],
                             (long long)(now - GIVEN_T0), quota_in_use(s, users[u], now),
                             in_use_by_walk(s, users[u], now));
            }
    }
    given_state_free(CMD_AGG_QUOTA, s);
}

/* A snapshot rebuilds a state that decides the same and encodes the same. */
static void test_quota_snapshot_round_trip(void **state)
{
    (void)state;
    static const quota_step_t steps[] = {Q_TAKEN("b1", 1, GIVEN_HOLD),
                                         Q_TAKEN_BY("u2", "b8", 3, GIVEN_HOLD),
                                         Q_CONFIRMED("b1", 1),
                                         Q_TAKEN("b2", 2, GIVEN_HOLD),
                                         Q_RETURNED("b2"),
                                         Q_TAKEN("b3", 1, GIVEN_HOLD),
                                         Q_CONFIRMED_BY("u2", "b9", 1),
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
    assert_int_equal(copy->n_entries, 6);
    for (int64_t at = 0; at <= GIVEN_HOLD; at += GIVEN_HOLD / 2) {
        assert_int_equal(quota_in_use(copy, "u1", GIVEN_T0 + at),
                         quota_in_use(s, "u1", GIVEN_T0 + at));
        assert_int_equal(quota_in_use(copy, "u2", GIVEN_T0 + at),
                         quota_in_use(s, "u2", GIVEN_T0 + at));
    }
    assert_int_equal(quota_in_use(copy, "u1", GIVEN_T0), 2);
    assert_int_equal(quota_in_use(copy, "u2", GIVEN_T0), 4);
    assert_int_equal(quota_in_use(copy, "u2", GIVEN_T0 + GIVEN_HOLD), 1);
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
        cmocka_unit_test(test_rule_hold_4_bucket_batch),
        cmocka_unit_test(test_rule_hold_4_sums_agree_with_a_walk),
        cmocka_unit_test(test_quota_events_without_user),
        cmocka_unit_test(test_quota_snapshot_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
