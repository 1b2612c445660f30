/*
 * The quota aggregate (RULE-HOLD-4): a user's active holds plus confirmed
 * tickets for one event never exceed max_per_user, across all the user's
 * bookings (each on its own shard). Held quota lapses at the hold's expiry
 * (RULE-HOLD-3, lazily); confirmed quota never does. One aggregate holds a
 * bucket of the event's users: each user's cap counts that user's bookings
 * only.
 *
 * A waitlist offer (RULE-WL-1) is a hold and takes quota like one. A
 * transfer (RULE-TKT-3) moves a sold unit: the recipient takes quota for
 * the new ticket, checked like a hold's, and the old ticket's unit leaves
 * its holder.
 *
 * Tables: given the quota's events (user, booking, [ticket,] quantity,
 * expiry offset from GIVEN_T0), when take / confirm / return / ticket
 * return at an instant, then the events or the rejection. Events render as
 * Type(user:booking xquantity), or Type(user:booking/ticket xquantity) for
 * a moved ticket. The user is u1 and max_per_user is 4 unless a case says
 * otherwise.
 */
#include "given.h"

typedef struct {
    char op; /* 'T' taken, 'C' confirmed, 'R' returned; 0 ends */
    const char *booking;
    uint32_t quantity;
    int64_t expires;    /* from GIVEN_T0 */
    const char *user;   /* NULL: u1 */
    const char *ticket; /* a ticket moved by a transfer (RULE-TKT-3), or NULL */
} quota_step_t;

#define Q_TAKEN(b, q, exp)                                                                         \
    {                                                                                              \
        'T', (b), (q), (exp), NULL, NULL                                                           \
    }
#define Q_TAKEN_BY(u, b, q, exp)                                                                   \
    {                                                                                              \
        'T', (b), (q), (exp), (u), NULL                                                            \
    }
#define Q_CONFIRMED(b, q)                                                                          \
    {                                                                                              \
        'C', (b), (q), 0, NULL, NULL                                                               \
    }
#define Q_CONFIRMED_BY(u, b, q)                                                                    \
    {                                                                                              \
        'C', (b), (q), 0, (u), NULL                                                                \
    }
#define Q_RETURNED(b)                                                                              \
    {                                                                                              \
        'R', (b), 0, 0, NULL, NULL                                                                 \
    }
/* RULE-TKT-3: ticket t of booking b received by user u (taken, confirmed),
 * and the unit of ticket t leaving its holder (returned: a received
 * ticket's entry, or an issued ticket gone from its booking's user). */
#define Q_TICKET_TAKEN_BY(u, b, t, exp)                                                            \
    {                                                                                              \
        'T', (b), 1, (exp), (u), (t)                                                               \
    }
#define Q_TICKET_CONFIRMED_BY(u, b, t)                                                             \
    {                                                                                              \
        'C', (b), 1, 0, (u), (t)                                                                   \
    }
#define Q_TICKET_RETURNED(b, t)                                                                    \
    {                                                                                              \
        'R', (b), 1, 0, NULL, (t)                                                                  \
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
    e.u.quota.ticket_id = st->ticket;
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
    char op;    /* 'T' take, 'C' confirm, 'R' return, 'X' ticket return */
    const char *booking;
    uint32_t quantity;
    uint32_t max;       /* 0: 4 */
    const char *user;   /* NULL: u1; "" none */
    const char *ticket; /* T, C: a moved ticket; X: the ticket leaving its holder */
    int issued;         /* X: the ticket was issued by its booking (version 1) */
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
                         .expires_at = GIVEN_T0 + c->at + GIVEN_HOLD,
                         .ticket_id = c->ticket};
        if (c->op == 'T')
            quota_take_decide(s, &q, c->max ? c->max : 4, &g->ctx, &g->out);
        else if (c->op == 'C')
            quota_confirm_decide(s, &q, &g->ctx, &g->out);
        else if (c->op == 'X')
            quota_ticket_return_decide(s, &q, c->issued, &g->ctx, &g->out);
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

/* RULE-WL-1 with RULE-HOLD-4: a waitlist offer is a hold in the waiting
 * user's name, for offer_minutes (15 here), and takes quota like one: an
 * offer that would take the user past max_per_user is not made (the saga
 * passes the entry over), one that reaches it exactly is. */
static const quota_case_t offers[] = {
    {.name = "RULE-WL-1 + RULE-HOLD-4 an offer reaching the cap exactly is made",
     .given = {Q_TAKEN("b1", 2, GIVEN_HOLD), Q_CONFIRMED("b2", 1)},
     .op = 'T',
     .booking = "offer1",
     .quantity = 1,
     .then = "QuotaTaken(u1:offer1 x1)"},
    {.name = "RULE-WL-1 + RULE-HOLD-4 an offer one over the cap is refused",
     .given = {Q_TAKEN("b1", 2, GIVEN_HOLD), Q_CONFIRMED("b2", 1)},
     .op = 'T',
     .booking = "offer1",
     .quantity = 2,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-WL-1 + RULE-HOLD-4 a user at the cap with tickets gets no offer",
     .given = {Q_CONFIRMED("b1", 4)},
     .op = 'T',
     .booking = "offer1",
     .quantity = 1,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-WL-1 + RULE-HOLD-3 the user's hold lapsed at its expiry: the offer is made",
     .given = {Q_TAKEN("b1", 4, GIVEN_HOLD)},
     .at = GIVEN_HOLD,
     .op = 'T',
     .booking = "offer1",
     .quantity = 2,
     .then = "QuotaTaken(u1:offer1 x2)"},
    {.name = "RULE-WL-1 the same offer again (a redelivered commit) takes nothing more",
     .given = {Q_TAKEN("b1", 2, GIVEN_HOLD), Q_TAKEN("offer1", 2, 15 * GIVEN_MIN)},
     .op = 'T',
     .booking = "offer1",
     .quantity = 2,
     .then = ""},
    {.name = "RULE-WL-1 an offer the shard refused gives its quota back",
     .given = {Q_TAKEN("offer1", 2, 15 * GIVEN_MIN)},
     .op = 'R',
     .booking = "offer1",
     .then = "QuotaReturned(u1:offer1 x2)"},
    {.name = "RULE-WL-1 an offer paid for keeps its quota",
     .given = {Q_TAKEN("offer1", 2, 15 * GIVEN_MIN)},
     .at = 5 * GIVEN_MIN,
     .op = 'C',
     .booking = "offer1",
     .quantity = 2,
     .then = "QuotaConfirmed(u1:offer1 x2)"},
};

static void test_rule_wl_1_offer_takes_quota(void **state)
{
    (void)state;
    run_quota_cases(offers, TS_ARRAY_LEN(offers));
}

/* RULE-WL-1 with RULE-HOLD-4 and RULE-HOLD-3: an offer left to lapse gives
 * its quota back: lazily at the offer's expiry instant, and for good when
 * the saga returns it after HoldExpired; the user may then hold up to the
 * cap again. */
static void test_rule_wl_1_lapsed_offer_returns_quota(void **state)
{
    (void)state;
    static const quota_step_t steps[] = {Q_CONFIRMED("b1", 2), {0}};
    cmd_quota_state_t *s = given_quota(steps);
    given_t *g = given_new();
    const int64_t offer_end = GIVEN_T0 + 15 * GIVEN_MIN;
    evt_quota_t offer = {.event_id = "e1",
                         .booking_id = "offer1",
                         .user_id = "u1",
                         .quantity = 2,
                         .expires_at = offer_end};
    quota_take_decide(s, &offer, 4, &g->ctx, &g->out);
    then_line(g, "QuotaTaken(u1:offer1 x2)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    assert_int_equal(quota_in_use(s, "u1", offer_end - 1), 4);

    /* At the cap while the offer is open: a hold of one more is refused. */
    evt_quota_t hold = {.event_id = "e1",
                        .booking_id = "b9",
                        .user_id = "u1",
                        .quantity = 1,
                        .expires_at = offer_end - 1 + GIVEN_HOLD};
    given_when(g, offer_end - 1, "u1");
    quota_take_decide(s, &hold, 4, &g->ctx, &g->out);
    then_line(g, "!limit_exceeded field=quantity limit=4");

    /* RULE-HOLD-3: at the offer's expiry instant its quota is free, before
     * anything is recorded. */
    assert_int_equal(quota_in_use(s, "u1", offer_end), 2);
    given_when(g, offer_end, "u1");
    hold.quantity = 2;
    hold.expires_at = offer_end + GIVEN_HOLD;
    quota_take_decide(s, &hold, 4, &g->ctx, &g->out);
    then_line(g, "QuotaTaken(u1:b9 x2)");

    /* The saga returns the lapsed offer's quota (HoldExpired); again, it is
     * a no-op. */
    given_when(g, offer_end + 1500, "system");
    quota_return_decide(s, "e1", "offer1", &g->ctx, &g->out);
    then_line(g, "QuotaReturned(u1:offer1 x2)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    given_when(g, offer_end + 1600, "system");
    quota_return_decide(s, "e1", "offer1", &g->ctx, &g->out);
    then_line(g, "");
    assert_int_equal(quota_in_use(s, "u1", GIVEN_T0), 2);
    given_when(g, GIVEN_T0 + GIVEN_MIN, "u1");
    hold.expires_at = GIVEN_T0 + GIVEN_MIN + GIVEN_HOLD;
    quota_take_decide(s, &hold, 4, &g->ctx, &g->out);
    then_line(g, "QuotaTaken(u1:b9 x2)");
    given_free(g);
    given_state_free(CMD_AGG_QUOTA, s);
}

/* RULE-TKT-3 with RULE-HOLD-4: the recipient's cap counts a ticket
 * transferred to them (checked before the transfer, like a hold), and the
 * ticket's unit leaves its holder. u1 bought booking b1 (tickets t1, t2);
 * u2 is the recipient. */
static const quota_case_t transfers[] = {
    /* the recipient takes the new ticket's unit */
    {.name = "RULE-TKT-3 + RULE-HOLD-4 a recipient below the cap takes the ticket",
     .given = {Q_CONFIRMED("b1", 2), Q_CONFIRMED_BY("u2", "b5", 2)},
     .op = 'T',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "u2",
     .then = "QuotaTaken(u2:b1/t9 x1)"},
    {.name = "RULE-TKT-3 + RULE-HOLD-4 a recipient reaching the cap exactly takes the ticket",
     .given = {Q_CONFIRMED_BY("u2", "b5", 2), Q_TAKEN_BY("u2", "b6", 1, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "u2",
     .then = "QuotaTaken(u2:b1/t9 x1)"},
    {.name = "RULE-TKT-3 + RULE-HOLD-4 a recipient at the cap is refused (one over)",
     .given = {Q_CONFIRMED_BY("u2", "b5", 2), Q_TAKEN_BY("u2", "b6", 2, GIVEN_HOLD)},
     .op = 'T',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "u2",
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-TKT-3 + RULE-HOLD-4 tickets received count for the recipient's cap",
     .given = {Q_TICKET_CONFIRMED_BY("u2", "b1", "t8"), Q_CONFIRMED_BY("u2", "b5", 2),
               Q_TICKET_TAKEN_BY("u2", "b1", "t7", GIVEN_HOLD)},
     .op = 'T',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "u2",
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-TKT-3 the same transfer's take again is a no-op",
     .given = {Q_TICKET_TAKEN_BY("u2", "b1", "t9", GIVEN_HOLD)},
     .op = 'T',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "u2",
     .then = ""},
    {.name = "RULE-TKT-3 another user's ticket is refused",
     .given = {Q_TICKET_TAKEN_BY("u3", "b1", "t9", GIVEN_HOLD)},
     .op = 'T',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "u2",
     .then = "!validation_failed field=ticket_id"},
    {.name = "RULE-TKT-3 a ticket gone from its holder takes no quota",
     .given = {Q_CONFIRMED("b1", 2), Q_TICKET_RETURNED("b1", "t1")},
     .op = 'T',
     .booking = "b1",
     .ticket = "t1",
     .quantity = 1,
     .then = "!validation_failed field=ticket_id"},
    /* the transfer is in the log: the recipient keeps it */
    {.name = "RULE-TKT-3 the transfer recorded: the recipient's unit is confirmed",
     .given = {Q_TICKET_TAKEN_BY("u2", "b1", "t9", GIVEN_HOLD)},
     .op = 'C',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "",
     .then = "QuotaConfirmed(u2:b1/t9 x1)"},
    {.name = "RULE-TKT-3 confirmed after its reservation lapsed: the ticket exists, it counts",
     .given = {Q_TICKET_TAKEN_BY("u2", "b1", "t9", GIVEN_HOLD)},
     .at = 2 * GIVEN_HOLD,
     .op = 'C',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "",
     .then = "QuotaConfirmed(u2:b1/t9 x1)"},
    {.name = "RULE-TKT-3 confirmed twice: the second is a no-op",
     .given = {Q_TICKET_CONFIRMED_BY("u2", "b1", "t9")},
     .op = 'C',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "",
     .then = ""},
    {.name = "RULE-TKT-3 a ticket's unit returned (moved on, revoked) is never confirmed again",
     .given = {Q_TICKET_CONFIRMED_BY("u2", "b1", "t9"), Q_TICKET_RETURNED("b1", "t9")},
     .op = 'C',
     .booking = "b1",
     .ticket = "t9",
     .quantity = 1,
     .user = "u2",
     .then = ""},
    /* the old ticket's unit leaves its holder */
    {.name = "RULE-TKT-3 an issued ticket transferred: one unit of its booking goes back",
     .given = {Q_TAKEN("b1", 2, GIVEN_HOLD), Q_CONFIRMED("b1", 2)},
     .op = 'X',
     .booking = "b1",
     .ticket = "t1",
     .issued = 1,
     .user = "",
     .then = "QuotaReturned(u1:b1/t1 x1)"},
    {.name = "RULE-TKT-3 the same ticket gone again is a no-op",
     .given = {Q_CONFIRMED("b1", 2), Q_TICKET_RETURNED("b1", "t1")},
     .op = 'X',
     .booking = "b1",
     .ticket = "t1",
     .issued = 1,
     .then = ""},
    {.name = "RULE-TKT-3 both tickets of a booking gone: each gives one unit back",
     .given = {Q_CONFIRMED("b1", 2), Q_TICKET_RETURNED("b1", "t1")},
     .op = 'X',
     .booking = "b1",
     .ticket = "t2",
     .issued = 1,
     .then = "QuotaReturned(u1:b1/t2 x1)"},
    {.name = "RULE-TKT-3 a booking whose every unit is gone gives nothing more",
     .given = {Q_CONFIRMED("b1", 1), Q_TICKET_RETURNED("b1", "t1")},
     .op = 'X',
     .booking = "b1",
     .ticket = "t2",
     .issued = 1,
     .then = ""},
    {.name = "RULE-TKT-3 a booking whose quota went back (cancelled) gives nothing more",
     .given = {Q_CONFIRMED("b1", 2), Q_RETURNED("b1")},
     .op = 'X',
     .booking = "b1",
     .ticket = "t1",
     .issued = 1,
     .then = ""},
    {.name = "RULE-TKT-3 a booking the quota never saw: nothing counts its ticket",
     .op = 'X',
     .booking = "b1",
     .ticket = "t1",
     .issued = 1,
     .then = ""},
    {.name = "RULE-TKT-3 a received ticket transferred on gives its own entry back",
     .given = {Q_CONFIRMED("b1", 2), Q_TICKET_RETURNED("b1", "t1"),
               Q_TICKET_CONFIRMED_BY("u2", "b1", "t9")},
     .op = 'X',
     .booking = "b1",
     .ticket = "t9",
     .then = "QuotaReturned(u2:b1/t9 x1)"},
    {.name = "RULE-TKT-3 a received ticket whose transfer was refused gives its reservation back",
     .given = {Q_TICKET_TAKEN_BY("u2", "b1", "t9", GIVEN_HOLD)},
     .op = 'X',
     .booking = "b1",
     .ticket = "t9",
     .then = "QuotaReturned(u2:b1/t9 x1)"},
    {.name = "RULE-TKT-3 a received ticket returned twice: the second is a no-op",
     .given = {Q_TICKET_CONFIRMED_BY("u2", "b1", "t9"), Q_TICKET_RETURNED("b1", "t9")},
     .op = 'X',
     .booking = "b1",
     .ticket = "t9",
     .then = ""},
    {.name = "RULE-TKT-3 a ticket received before transfers moved quota: nothing to give back",
     .given = {Q_CONFIRMED("b1", 2)},
     .op = 'X',
     .booking = "b1",
     .ticket = "t9",
     .then = ""},
    {.name = "RULE-TKT-3 a ticket return names its ticket",
     .given = {Q_CONFIRMED("b1", 2)},
     .op = 'X',
     .booking = "b1",
     .issued = 1,
     .then = "!validation_failed field=ticket_id"},
    /* the sender after the transfer */
    {.name = "RULE-TKT-3 + RULE-HOLD-4 the sender at the cap may hold again after a transfer",
     .given = {Q_CONFIRMED("b1", 4), Q_TICKET_RETURNED("b1", "t1")},
     .op = 'T',
     .booking = "b9",
     .quantity = 1,
     .then = "QuotaTaken(u1:b9 x1)"},
    {.name = "RULE-TKT-3 + RULE-HOLD-4 the sender is freed by one ticket, not more",
     .given = {Q_CONFIRMED("b1", 4), Q_TICKET_RETURNED("b1", "t1")},
     .op = 'T',
     .booking = "b9",
     .quantity = 2,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-TKT-3 cancelling a booking with a ticket gone returns the units left",
     .given = {Q_CONFIRMED("b1", 3), Q_TICKET_RETURNED("b1", "t1")},
     .op = 'R',
     .booking = "b1",
     .then = "QuotaReturned(u1:b1 x2)"},
};

static void test_rule_tkt_3_transfer_moves_quota(void **state)
{
    (void)state;
    run_quota_cases(transfers, TS_ARRAY_LEN(transfers));
}

/* RULE-TKT-3 with RULE-HOLD-4 through a chain of transfers, as the API and
 * the bookings saga run them (cap 2): u1 buys 2 and gives one to u2, who
 * holds 1 more and so reaches the cap; u2 passes the ticket on to u3, who
 * gives it back to u1. Each user's units follow the tickets they hold. */
static void test_rule_tkt_3_chain_of_transfers(void **state)
{
    (void)state;
    static const quota_step_t steps[] = {Q_TAKEN("b1", 2, GIVEN_HOLD),
                                         Q_CONFIRMED("b1", 2),
                                         Q_TAKEN_BY("u2", "b2", 1, 3 * GIVEN_HOLD),
                                         {0}};
    cmd_quota_state_t *s = given_quota(steps);
    given_t *g = given_new();
    const int64_t t = GIVEN_T0 + GIVEN_MIN;
    evt_quota_t x = {.event_id = "e1", .booking_id = "b1", .quantity = 1};

    /* u1 → u2: t1 becomes t2. u2 holds 1 and reaches the cap of 2. */
    x.ticket_id = "t2";
    x.user_id = "u2";
    x.expires_at = t + 10 * GIVEN_MIN;
    given_when(g, t, "u1");
    quota_take_decide(s, &x, 2, &g->ctx, &g->out);
    then_line(g, "QuotaTaken(u2:b1/t2 x1)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    given_when(g, t, "system");
    quota_confirm_decide(s, &x, &g->ctx, &g->out);
    then_line(g, "QuotaConfirmed(u2:b1/t2 x1)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    x.ticket_id = "t1";
    x.user_id = "u1";
    given_when(g, t, "system");
    quota_ticket_return_decide(s, &x, 1, &g->ctx, &g->out);
    then_line(g, "QuotaReturned(u1:b1/t1 x1)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    assert_int_equal(quota_in_use(s, "u1", t), 1);
    assert_int_equal(quota_in_use(s, "u2", t), 2);
    /* Long after every hold: u2's ticket still counts, not its lapsed hold. */
    assert_int_equal(quota_in_use(s, "u2", GIVEN_T0 + GIVEN_DAY), 1);

    /* u2 is at the cap: a second ticket cannot be given to u2 now. */
    x.ticket_id = "t3";
    x.user_id = "u2";
    given_when(g, t, "u1");
    quota_take_decide(s, &x, 2, &g->ctx, &g->out);
    then_line(g, "!limit_exceeded field=quantity limit=2");

    /* u2 → u3: t2 becomes t4; u2's entry for t2 goes back. */
    x.ticket_id = "t4";
    x.user_id = "u3";
    given_when(g, t, "u2");
    quota_take_decide(s, &x, 2, &g->ctx, &g->out);
    then_line(g, "QuotaTaken(u3:b1/t4 x1)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    x.ticket_id = "t2";
    x.user_id = "u2";
    given_when(g, t, "system");
    quota_ticket_return_decide(s, &x, 0, &g->ctx, &g->out);
    then_line(g, "QuotaReturned(u2:b1/t2 x1)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    assert_int_equal(quota_in_use(s, "u2", t), 1); /* the hold of b2 only */
    assert_int_equal(quota_in_use(s, "u3", t), 1);

    /* u3 → u1: the buyer gets it back as a ticket of its own (t5). */
    x.ticket_id = "t5";
    x.user_id = "u1";
    given_when(g, t, "u3");
    quota_take_decide(s, &x, 2, &g->ctx, &g->out);
    then_line(g, "QuotaTaken(u1:b1/t5 x1)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    assert_int_equal(quota_in_use(s, "u1", t), 2);

    /* The booking is cancelled: its units left go back; the tickets it
     * revoked that others received are returned one by one. */
    given_when(g, t, "system");
    quota_return_decide(s, "e1", "b1", &g->ctx, &g->out);
    then_line(g, "QuotaReturned(u1:b1 x1)");
    given_apply_out(CMD_AGG_QUOTA, s, g);
    assert_int_equal(quota_in_use(s, "u1", t), 1); /* t5, not yet revoked */
    given_free(g);
    given_state_free(CMD_AGG_QUOTA, s);
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
            n += e->quantity > e->out ? e->quantity - e->out : 0;
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
    char tickets[2000][12];
    for (int step = 0; step < 2000; step++) {
        x = x * 1103515245u + 12345u;
        int b = (int)((x >> 8) % 40), op = (int)((x >> 16) % 6);
        evt_event_t e = {.type = op == 0 || op == 4 ? EVT_QUOTA_TAKEN
                                 : op == 1          ? EVT_QUOTA_CONFIRMED
                                                    : EVT_QUOTA_RETURNED};
        e.u.quota.event_id = "e1";
        e.u.quota.booking_id = bookings[b];
        e.u.quota.user_id = users[b % 3]; /* a booking is one user's */
        e.u.quota.quantity = 1 + (x >> 20) % 4;
        e.u.quota.expires_at = GIVEN_T0 + (int64_t)((x >> 4) % 5) * GIVEN_MIN;
        /* RULE-TKT-3: 3, an issued ticket of the booking gone by transfer;
         * 4, a ticket received by a user of its own; 5, such a ticket (an
         * earlier step's) returned, or confirmed. */
        snprintf(tickets[step], sizeof(tickets[step]), "%c%d", op == 3 ? 'g' : 'r', step);
        if (op == 3 || op == 4) {
            e.u.quota.ticket_id = tickets[step];
            e.u.quota.quantity = 1;
        }
        if (op == 4)
            e.u.quota.user_id = users[(x >> 24) % 3];
        if (op == 5 && step > 0) {
            int k = (int)((x >> 4) % (uint32_t)step);
            e.type = (x >> 28) & 1 ? EVT_QUOTA_CONFIRMED : EVT_QUOTA_RETURNED;
            e.u.quota.ticket_id = tickets[k];
            e.u.quota.quantity = 1;
            const quota_entry_t *q = quota_entry_find(s, tickets[k]);
            e.u.quota.user_id = q ? q->user_id : users[k % 3];
        }
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
                                         /* RULE-TKT-3: u2's b7 (3 tickets): t1 to u1
                                          * (t71), t2 to u3 (t72) and on to u1 (t73);
                                          * u2's b6: its ticket gone, then cancelled */
                                         Q_CONFIRMED_BY("u2", "b7", 3),
                                         Q_TICKET_TAKEN_BY("u1", "b7", "t71", GIVEN_HOLD),
                                         Q_TICKET_CONFIRMED_BY("u1", "b7", "t71"),
                                         Q_TICKET_RETURNED("b7", "t1"),
                                         Q_TICKET_CONFIRMED_BY("u3", "b7", "t72"),
                                         Q_TICKET_RETURNED("b7", "t2"),
                                         Q_TICKET_TAKEN_BY("u1", "b7", "t73", GIVEN_HOLD),
                                         Q_TICKET_RETURNED("b7", "t72"),
                                         Q_CONFIRMED_BY("u2", "b6", 1),
                                         Q_TICKET_RETURNED("b6", "t61"),
                                         Q_RETURNED("b6"),
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
    assert_int_equal(copy->n_entries, 14);
    for (int64_t at = 0; at <= GIVEN_HOLD; at += GIVEN_HOLD / 2)
        for (int u = 1; u <= 3; u++) {
            const char *user = u == 1 ? "u1" : u == 2 ? "u2" : "u3";
            assert_int_equal(quota_in_use(copy, user, GIVEN_T0 + at),
                             quota_in_use(s, user, GIVEN_T0 + at));
        }
    /* u1: b1, b3 (held), t71, t73 (held); u2: b8 (held), b9, b7 less its
     * two tickets gone; u3: nothing, t72 passed on. */
    assert_int_equal(quota_in_use(copy, "u1", GIVEN_T0), 4);
    assert_int_equal(quota_in_use(copy, "u1", GIVEN_T0 + GIVEN_HOLD), 2);
    assert_int_equal(quota_in_use(copy, "u2", GIVEN_T0), 5);
    assert_int_equal(quota_in_use(copy, "u2", GIVEN_T0 + GIVEN_HOLD), 2);
    assert_int_equal(quota_in_use(copy, "u3", GIVEN_T0), 0);
    assert_int_equal(quota_entry_find(copy, "b7")->out, 2);
    assert_int_equal(quota_entry_find(copy, "t1")->kind, QUOTA_GONE);
    assert_int_equal(quota_entry_find(copy, "t73")->kind, QUOTA_TICKET);
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
        cmocka_unit_test(test_rule_wl_1_offer_takes_quota),
        cmocka_unit_test(test_rule_wl_1_lapsed_offer_returns_quota),
        cmocka_unit_test(test_rule_tkt_3_transfer_moves_quota),
        cmocka_unit_test(test_rule_tkt_3_chain_of_transfers),
        cmocka_unit_test(test_rule_hold_4_in_use),
        cmocka_unit_test(test_rule_hold_4_bucket_batch),
        cmocka_unit_test(test_rule_hold_4_sums_agree_with_a_walk),
        cmocka_unit_test(test_quota_events_without_user),
        cmocka_unit_test(test_quota_snapshot_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
