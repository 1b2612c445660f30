/*
 * Promo codes on the event aggregate (RULE-PROMO-1): percent or fixed amount
 * off, max uses, a validity window [valid_from, valid_until). A use is
 * reserved by booking when the hold is placed and given back when the booking
 * ends unsold; uses and releases are idempotent.
 *
 * Fixture: event e1 by org1 (given.h), published unless a case says draft,
 * with promo SPRING (10 % off, 3 uses, valid from GIVEN_T0 - 1 h until
 * GIVEN_T0 + 1 day) and FLAT (500 off, 1 use, same window).
 */
#include "given.h"

#define SPRING_FROM (GIVEN_T0 - GIVEN_HOUR)
#define SPRING_UNTIL (GIVEN_T0 + GIVEN_DAY)

static evt_event_t promo_created(const char *code, uint32_t percent, int64_t amount,
                                 uint32_t max_uses)
{
    evt_event_t e = {.type = EVT_PROMO_CREATED, .actor = "org1"};
    e.u.promo = (evt_promo_t){.event_id = "e1",
                              .code = code,
                              .percent_off = percent,
                              .amount_off = amount,
                              .max_uses = max_uses,
                              .valid_from = SPRING_FROM,
                              .valid_until = SPRING_UNTIL};
    return e;
}

static evt_event_t promo_use(evt_type_t t, const char *code, const char *booking)
{
    evt_event_t e = {.type = t};
    e.u.promo_use = (evt_promo_use_t){.event_id = "e1", .code = code, .booking_id = booking};
    return e;
}

/* One given use: 'U' used, 'R' released; 0 ends. */
typedef struct {
    char op;
    const char *code;
    const char *booking;
} use_step_t;

static cmd_event_state_t *given_promos(int published, const use_step_t *steps)
{
    cmd_event_state_t *s = given_event(published);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_EVENT);
    evt_event_t p1 = promo_created("SPRING", 10, 0, 3), p2 = promo_created("FLAT", 0, 500, 1);
    ops->apply(s, &p1);
    ops->apply(s, &p2);
    for (const use_step_t *st = steps; st && st->op; st++) {
        evt_event_t e =
            promo_use(st->op == 'U' ? EVT_PROMO_USED : EVT_PROMO_RELEASED, st->code, st->booking);
        ops->apply(s, &e);
    }
    return s;
}

/* ---- promo_create_decide ---- */

typedef struct {
    const char *name;
    const char *actor; /* default org1 */
    int admin;
    int draft;
    evt_promo_t p;
    const char *then;
} create_case_t;

#define PROMO(code_, pct, amt, uses, from, until)                                                  \
    {                                                                                              \
        .code = (code_), .percent_off = (pct), .amount_off = (amt), .max_uses = (uses),            \
        .valid_from = (from), .valid_until = (until)                                               \
    }

static const create_case_t creates[] = {
    {.name = "RULE-PROMO-1 percent off, code kept upper-cased",
     .p = PROMO("summer-25", 25, 0, 100, 0, SPRING_UNTIL),
     .then = "PromoCreated(SUMMER-25)"},
    {.name = "RULE-PROMO-1 amount off",
     .p = PROMO("TENOFF", 0, 1000, 1, 0, SPRING_UNTIL),
     .then = "PromoCreated(TENOFF)"},
    {.name = "RULE-PROMO-1 100 % is the most",
     .p = PROMO("FREE", 100, 0, 1, 0, SPRING_UNTIL),
     .then = "PromoCreated(FREE)"},
    {.name = "RULE-PROMO-1 101 % is refused",
     .p = PROMO("MORE", 101, 0, 1, 0, SPRING_UNTIL),
     .then = "!validation_failed field=percent_off"},
    {.name = "RULE-PROMO-1 both percent and amount are refused",
     .p = PROMO("BOTH", 10, 100, 1, 0, SPRING_UNTIL),
     .then = "!validation_failed field=amount_off"},
    {.name = "RULE-PROMO-1 neither percent nor amount is refused",
     .p = PROMO("NONE", 0, 0, 1, 0, SPRING_UNTIL),
     .then = "!validation_failed field=percent_off"},
    {.name = "RULE-PROMO-1 a negative amount is refused",
     .p = PROMO("NEG", 0, -5, 1, 0, SPRING_UNTIL),
     .then = "!validation_failed field=amount_off"},
    {.name = "RULE-PROMO-1 max_uses 0 is refused",
     .p = PROMO("ZERO", 10, 0, 0, 0, SPRING_UNTIL),
     .then = "!validation_failed field=max_uses"},
    {.name = "RULE-PROMO-1 max_uses 1 is the least",
     .p = PROMO("ONE", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "PromoCreated(ONE)"},
    {.name = "RULE-PROMO-1 valid_until is required",
     .p = PROMO("NOEND", 10, 0, 1, 0, 0),
     .then = "!validation_failed field=valid_until"},
    {.name = "RULE-PROMO-1 valid_until now is already over",
     .p = PROMO("PAST", 10, 0, 1, 0, GIVEN_T0),
     .then = "!validation_failed field=valid_until"},
    {.name = "RULE-PROMO-1 valid_until 1 ms from now",
     .p = PROMO("SOON", 10, 0, 1, 0, GIVEN_T0 + 1),
     .then = "PromoCreated(SOON)"},
    {.name = "RULE-PROMO-1 valid_until at valid_from is refused",
     .p = PROMO("EMPTY", 10, 0, 1, GIVEN_T0 + GIVEN_DAY, GIVEN_T0 + GIVEN_DAY),
     .then = "!validation_failed field=valid_until"},
    {.name = "RULE-PROMO-1 a window that opens later",
     .p = PROMO("LATER", 10, 0, 1, GIVEN_T0 + GIVEN_DAY, GIVEN_T0 + 2 * GIVEN_DAY),
     .then = "PromoCreated(LATER)"},
    {.name = "a code with a space is refused",
     .p = PROMO("BAD CODE", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "!validation_failed field=code"},
    {.name = "an empty code is refused",
     .p = PROMO("", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "!validation_failed field=code"},
    {.name = "a code of 32 characters",
     .p = PROMO("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "PromoCreated(ABCDEFGHIJKLMNOPQRSTUVWXYZ012345)"},
    {.name = "a code of 33 characters is refused",
     .p = PROMO("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "!validation_failed field=code"},
    {.name = "a duplicate code is a conflict, whatever its case",
     .p = PROMO("spring", 5, 0, 1, 0, SPRING_UNTIL),
     .then = "!conflict field=code"},
    {.name = "RULE-AUTH-2 another organizer may not",
     .actor = "org2",
     .p = PROMO("MINE", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "!forbidden"},
    {.name = "RULE-AUTH-2 an admin may",
     .actor = "adm",
     .admin = 1,
     .p = PROMO("ADMIN", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "PromoCreated(ADMIN)"},
    {.name = "a draft event may have promo codes",
     .draft = 1,
     .p = PROMO("EARLY", 10, 0, 1, 0, SPRING_UNTIL),
     .then = "PromoCreated(EARLY)"},
};

static void test_rule_promo_1_create(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(creates); i++) {
        const create_case_t *c = &creates[i];
        cmd_event_state_t *s = given_promos(!c->draft, NULL);
        given_t *g = given_new();
        given_when(g, GIVEN_T0, c->actor ? c->actor : "org1");
        g->ctx.actor_is_admin = c->admin;
        promo_create_decide(s, &c->p, &g->ctx, &g->out);
        then_case(g, c->name, c->then);
        if (!g->out.reject)
            assert_string_equal(g->out.events[0].u.promo.event_id, "e1");
        given_free(g);
        given_state_free(CMD_AGG_EVENT, s);
    }
    cmd_event_state_t *none = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    given_t *g = given_new();
    evt_promo_t p = PROMO("X", 10, 0, 1, 0, SPRING_UNTIL);
    given_when(g, GIVEN_T0, "org1");
    promo_create_decide(none, &p, &g->ctx, &g->out);
    then_line(g, "!not_found");
    given_free(g);
    given_state_free(CMD_AGG_EVENT, none);
}

/* ---- promo_use_decide / promo_release_decide ---- */

typedef struct {
    const char *name;
    use_step_t given[8];
    int draft;
    int64_t at; /* from GIVEN_T0 */
    char op;    /* 'U' use, 'F' forced use, 'R' release */
    const char *code;
    const char *booking;
    const char *then;
} use_case_t;

static const use_case_t uses[] = {
    {.name = "RULE-PROMO-1 the first use",
     .op = 'U',
     .code = "SPRING",
     .booking = "b1",
     .then = "PromoUsed(SPRING:b1)"},
    {.name = "RULE-PROMO-1 codes are matched whatever their case",
     .op = 'U',
     .code = "Spring",
     .booking = "b1",
     .then = "PromoUsed(SPRING:b1)"},
    {.name = "RULE-PROMO-1 the last of max_uses",
     .given = {{'U', "SPRING", "b1"}, {'U', "SPRING", "b2"}},
     .op = 'U',
     .code = "SPRING",
     .booking = "b3",
     .then = "PromoUsed(SPRING:b3)"},
    {.name = "RULE-PROMO-1 max_uses reached",
     .given = {{'U', "SPRING", "b1"}, {'U', "SPRING", "b2"}, {'U', "SPRING", "b3"}},
     .op = 'U',
     .code = "SPRING",
     .booking = "b4",
     .then = "!limit_exceeded field=promo_code limit=3"},
    {.name = "RULE-PROMO-1 a released use can be used by another booking",
     .given = {{'U', "SPRING", "b1"},
               {'U', "SPRING", "b2"},
               {'U', "SPRING", "b3"},
               {'R', "SPRING", "b2"}},
     .op = 'U',
     .code = "SPRING",
     .booking = "b4",
     .then = "PromoUsed(SPRING:b4)"},
    {.name = "RULE-PROMO-1 uses are per code",
     .given = {{'U', "SPRING", "b1"}, {'U', "SPRING", "b2"}, {'U', "SPRING", "b3"}},
     .op = 'U',
     .code = "FLAT",
     .booking = "b4",
     .then = "PromoUsed(FLAT:b4)"},
    {.name = "RULE-PROMO-1 a use of max_uses 1 already taken",
     .given = {{'U', "FLAT", "b1"}},
     .op = 'U',
     .code = "FLAT",
     .booking = "b2",
     .then = "!limit_exceeded field=promo_code limit=1"},
    {.name = "RULE-PROMO-1 the same booking again is a no-op",
     .given = {{'U', "SPRING", "b1"}, {'U', "SPRING", "b2"}, {'U', "SPRING", "b3"}},
     .op = 'U',
     .code = "SPRING",
     .booking = "b3",
     .then = ""},
    {.name = "RULE-PROMO-1 one booking, one code",
     .given = {{'U', "SPRING", "b1"}},
     .op = 'U',
     .code = "FLAT",
     .booking = "b1",
     .then = "!conflict field=promo_code"},
    {.name = "RULE-PROMO-1 an unknown code",
     .op = 'U',
     .code = "WINTER",
     .booking = "b1",
     .then = "!validation_failed field=promo_code"},
    {.name = "RULE-PROMO-1 1 ms before valid_from",
     .at = SPRING_FROM - GIVEN_T0 - 1,
     .op = 'U',
     .code = "SPRING",
     .booking = "b1",
     .then = "!not_on_sale field=promo_code"},
    {.name = "RULE-PROMO-1 exactly at valid_from",
     .at = SPRING_FROM - GIVEN_T0,
     .op = 'U',
     .code = "SPRING",
     .booking = "b1",
     .then = "PromoUsed(SPRING:b1)"},
    {.name = "RULE-PROMO-1 1 ms before valid_until",
     .at = SPRING_UNTIL - GIVEN_T0 - 1,
     .op = 'U',
     .code = "SPRING",
     .booking = "b1",
     .then = "PromoUsed(SPRING:b1)"},
    {.name = "RULE-PROMO-1 exactly at valid_until",
     .at = SPRING_UNTIL - GIVEN_T0,
     .op = 'U',
     .code = "SPRING",
     .booking = "b1",
     .then = "!not_on_sale field=promo_code"},
    {.name = "RULE-EVT-1 a draft does not sell",
     .draft = 1,
     .op = 'U',
     .code = "SPRING",
     .booking = "b1",
     .then = "!not_on_sale"},
    {.name = "RULE-PAY-2 a forced use counts a confirmed booking past max_uses",
     .given = {{'U', "SPRING", "b1"}, {'U', "SPRING", "b2"}, {'U', "SPRING", "b3"}},
     .at = SPRING_UNTIL - GIVEN_T0 + GIVEN_DAY,
     .op = 'F',
     .code = "SPRING",
     .booking = "b4",
     .then = "PromoUsed(SPRING:b4)"},
    {.name = "release a use in force",
     .given = {{'U', "SPRING", "b1"}},
     .op = 'R',
     .booking = "b1",
     .then = "PromoReleased(SPRING:b1)"},
    {.name = "a use released twice: the second is a no-op",
     .given = {{'U', "SPRING", "b1"}, {'R', "SPRING", "b1"}},
     .op = 'R',
     .booking = "b1",
     .then = ""},
    {.name = "release a booking that used no code: a no-op",
     .given = {{'U', "SPRING", "b1"}},
     .op = 'R',
     .booking = "b2",
     .then = ""},
};

static void test_rule_promo_1_use_and_release(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(uses); i++) {
        const use_case_t *c = &uses[i];
        cmd_event_state_t *s = given_promos(!c->draft, c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, "system");
        if (c->op == 'R')
            promo_release_decide(s, c->booking, &g->ctx, &g->out);
        else
            promo_use_decide(s, c->code, c->booking, c->op == 'F', &g->ctx, &g->out);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_EVENT, s);
    }
}

/* RULE-PROMO-1 under concurrency, as the event's lane sees it: ten holds
 * race for a code of three uses; the lane decides them one after another,
 * each against the state the previous ones left, so exactly three win. */
static void test_rule_promo_1_max_uses_in_one_lane(void **state)
{
    (void)state;
    cmd_event_state_t *s = given_promos(1, NULL);
    int won = 0;
    for (int i = 0; i < 10; i++) {
        given_t *g = given_new();
        given_when(g, GIVEN_T0, "system");
        const char *booking = ts_arena_printf(&g->arena, "b%d", i);
        promo_use_decide(s, "SPRING", booking, 0, &g->ctx, &g->out);
        if (!g->out.reject) {
            won++;
            given_apply_out(CMD_AGG_EVENT, s, g);
        } else {
            assert_string_equal(g->out.reject->code, "limit_exceeded");
            assert_int_equal(g->out.reject->limit, 3);
        }
        given_free(g);
    }
    assert_int_equal(won, 3);
    assert_int_equal(promo_find(s, "spring")->uses, 3);
    given_state_free(CMD_AGG_EVENT, s);
}

/* The event's snapshot keeps its updated description, promos and uses (a
 * released use included), and decides like the state it was made from. */
static void test_event_snapshot_with_promos(void **state)
{
    (void)state;
    static const use_step_t steps[] = {{'U', "SPRING", "b1"},
                                       {'U', "SPRING", "b2"},
                                       {'R', "SPRING", "b1"},
                                       {'U', "FLAT", "b3"},
                                       {0}};
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_EVENT);
    cmd_event_state_t *s = given_promos(1, steps);
    evt_event_t upd = {.type = EVT_EVENT_UPDATED};
    upd.u.event_created = s->ev;
    upd.u.event_created.title = "Derby (moved)";
    ops->apply(s, &upd);
    ts_buf_t a, b;
    ts_buf_init(&a);
    ts_buf_init(&b);
    assert_int_equal(ops->encode(s, &a), TS_OK);
    cmd_event_state_t *copy = ops->decode(a.data, a.len);
    assert_non_null(copy);
    assert_int_equal(ops->encode(copy, &b), TS_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_string_equal(copy->ev.title, "Derby (moved)");
    assert_int_equal(copy->status, CMD_EVENT_PUBLISHED);
    assert_int_equal(promo_find(copy, "SPRING")->uses, 1);
    assert_int_equal(promo_find(copy, "FLAT")->uses, 1);
    assert_int_equal(promo_find(copy, "FLAT")->p.amount_off, 500);
    /* b1's use was released: released again it is still a no-op. */
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "system");
    promo_release_decide(copy, "b1", &g->ctx, &g->out);
    then_line(g, "");
    given_when(g, GIVEN_T0, "system");
    promo_release_decide(copy, "b2", &g->ctx, &g->out);
    then_line(g, "PromoReleased(SPRING:b2)");
    given_free(g);
    ts_buf_deinit(&a);
    ts_buf_deinit(&b);
    given_state_free(CMD_AGG_EVENT, copy);
    given_state_free(CMD_AGG_EVENT, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_promo_1_create),
        cmocka_unit_test(test_rule_promo_1_use_and_release),
        cmocka_unit_test(test_rule_promo_1_max_uses_in_one_lane),
        cmocka_unit_test(test_event_snapshot_with_promos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
