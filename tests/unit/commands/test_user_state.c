/*
 * The user state (commands/user.c): what apply keeps of the account events,
 * how it forgets what can no longer redeem, and snapshots that rebuild the
 * state exactly (RULE-AUTH-1, -2).
 */
#include "given_user.h"

#define MIN GIVEN_MIN
#define TTL USER_REFRESH_TTL_MS

static void test_apply_roles_block(void **state)
{
    (void)state;
    cmd_user_state_t *s =
        given_user((given_user_step_t[]){O(EVT_ROLE_ATTENDEE | EVT_ROLE_AUDITOR), B, {0}});
    assert_true(s->exists);
    assert_int_equal(s->u.roles, EVT_ROLE_ATTENDEE | EVT_ROLE_AUDITOR);
    assert_true(s->blocked);
    given_state_free(CMD_AGG_USER, s);
    s = given_user((given_user_step_t[]){B, UB, {0}});
    assert_false(s->blocked);
    given_state_free(CMD_AGG_USER, s);
}

/* A family whose current token expired is dropped at the next issue or
 * rotation (its "now" is the event's expires_at - TTL); so are spent
 * tokens past their own expiry. */
static void test_apply_prunes_what_cannot_redeem(void **state)
{
    (void)state;
    cmd_user_state_t *s = given_user((given_user_step_t[]){
        I(0, "old", 'a'), I(MIN, "f1", 'a'), R(2 * MIN, "f1", 'c'), I(TTL, "new", 'd'), {0}});
    /* "old" expired at TTL exactly: gone at an issue at TTL. "f1" lives. */
    assert_null(user_family_find(s, "old"));
    const user_family_t *f1 = user_family_find(s, "f1");
    assert_non_null(f1);
    assert_int_equal(f1->n_spent, 1);
    assert_non_null(user_family_find(s, "new"));
    given_state_free(CMD_AGG_USER, s);

    /* f1's spent token 'a' expires at MIN + TTL; an issue at that instant
     * forgets it, and the current one is kept. */
    s = given_user((given_user_step_t[]){
        I(MIN, "f1", 'a'), R(2 * MIN, "f1", 'c'), I(MIN + TTL, "f2", 'e'), {0}});
    f1 = user_family_find(s, "f1");
    assert_non_null(f1);
    assert_int_equal(f1->n_spent, 0);
    assert_string_equal(f1->current.hash, HASH('c'));
    given_state_free(CMD_AGG_USER, s);
}

/* The bound of commands.h: a family remembers its last USER_MAX_SPENT
 * spent tokens; an older one is refused as unknown, not taken for reuse. */
static void test_spent_tokens_are_bounded(void **state)
{
    (void)state;
    cmd_user_state_t *s = given_user((given_user_step_t[]){I(0, "f1", '0'), {0}});
    const char hex[] = "123456789abcdef";
    ts_arena_t a;
    ts_arena_init(&a, 0);
    for (int k = 0; k < USER_MAX_SPENT + 2; k++) {
        given_user_step_t st = R((k + 1) * MIN, "f1", hex[k % 15]);
        evt_event_t e = given_user_event(&a, &st);
        cmd_aggregate_ops(CMD_AGG_USER)->apply(s, &e);
    }
    ts_arena_deinit(&a);
    const user_family_t *f = user_family_find(s, "f1");
    assert_int_equal(f->n_spent, USER_MAX_SPENT);
    /* '0', the first token, is forgotten; '3' is remembered as spent. */
    given_t *g = given_new();
    given_when(g, GIVEN_T0 + 100 * MIN, "u1");
    user_refresh_cmd_t cmd = {
        .family_id = "f1", .token_hash = HASH('0'), .new_token_hash = HASH('b')};
    user_refresh_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!unauthorized");
    cmd.token_hash = HASH('3');
    given_when(g, GIVEN_T0 + 100 * MIN, "u1");
    user_refresh_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "RefreshRevoked(f1:reuse)");
    given_free(g);
    given_state_free(CMD_AGG_USER, s);
}

/* ---- snapshots ---- */

static void *roundtrip(const void *state)
{
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_USER);
    ts_buf_t a, b;
    ts_buf_init(&a);
    ts_buf_init(&b);
    assert_int_equal(ops->encode(state, &a), TS_OK);
    assert_true(a.len > 0);
    void *copy = ops->decode(a.data, a.len);
    assert_non_null(copy);
    assert_int_equal(ops->encode(copy, &b), TS_OK);
    assert_int_equal(b.len, a.len);
    assert_memory_equal(b.data, a.data, a.len);
    ts_buf_deinit(&a);
    ts_buf_deinit(&b);
    return copy;
}

static void assert_same_user(const cmd_user_state_t *x, const cmd_user_state_t *y)
{
    assert_int_equal(y->exists, x->exists);
    assert_string_equal(y->u.user_id, x->u.user_id);
    assert_string_equal(y->u.email, x->u.email);
    assert_string_equal(y->u.name, x->u.name);
    assert_string_equal(y->u.password_hash, x->u.password_hash);
    assert_int_equal(y->u.roles, x->u.roles);
    assert_int_equal(y->blocked, x->blocked);
    assert_int_equal(y->failures, x->failures);
    assert_int_equal(y->last_failure_at, x->last_failure_at);
    assert_int_equal(y->n_families, x->n_families);
    for (uint32_t i = 0; i < x->n_families; i++) {
        const user_family_t *a = &x->families[i], *b = &y->families[i];
        assert_string_equal(b->id, a->id);
        assert_string_equal(b->current.hash, a->current.hash);
        assert_int_equal(b->current.expires_at, a->current.expires_at);
        assert_int_equal(b->n_spent, a->n_spent);
        for (uint32_t k = 0; k < a->n_spent; k++) {
            assert_string_equal(b->spent[k].hash, a->spent[k].hash);
            assert_int_equal(b->spent[k].expires_at, a->spent[k].expires_at);
        }
    }
}

/* Every account fact survives a snapshot: roles, block, the run of
 * failures, live families with their spent tokens; revoked and expired
 * ones stay gone. */
static void test_snapshot_rebuilds_the_state(void **state)
{
    (void)state;
    static const given_user_step_t histories[][12] = {
        {{0}},
        {O(EVT_ROLE_ATTENDEE | EVT_ROLE_ORGANIZER | EVT_ROLE_ADMIN), B, {0}},
        {I(0, "dead", '1'),
         I(MIN, "f1", 'a'),
         R(2 * MIN, "f1", 'c'),
         R(3 * MIN, "f1", 'd'),
         I(4 * MIN, "f2", 'e'),
         L("dead"),
         I(5 * MIN, "f3", 'f'),
         R(TTL + MIN, "f3", '2'),
         F(TTL + 2 * MIN),
         F(TTL + 3 * MIN),
         {0}},
        /* Locked: five failures after a session. */
        {I(0, "f1", 'a'), F(MIN), F(2 * MIN), F(3 * MIN), F(4 * MIN), F(5 * MIN), {0}},
        /* A lock that lapsed and one failure after it. */
        {F(0), F(1), F(2), F(3), F(4), F(4 + USER_LOCK_MS), B, UB, {0}},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(histories); i++) {
        cmd_user_state_t *s = given_user(histories[i]);
        cmd_user_state_t *copy = roundtrip(s);
        assert_same_user(s, copy);
        /* ... and it decides alike: the lock, and each family's tokens. */
        for (int64_t t = 0; t <= TTL + 30 * MIN; t += 5 * MIN)
            assert_int_equal(user_locked_until(copy, GIVEN_T0 + t),
                             user_locked_until(s, GIVEN_T0 + t));
        given_state_free(CMD_AGG_USER, copy);
        given_state_free(CMD_AGG_USER, s);
    }
}

static void test_snapshot_decides_alike(void **state)
{
    (void)state;
    cmd_user_state_t *s = given_user((given_user_step_t[]){
        I(0, "f1", 'a'), R(MIN, "f1", 'c'), I(2 * MIN, "f2", 'd'), F(3 * MIN), {0}});
    cmd_user_state_t *copy = roundtrip(s);
    const struct {
        const char *family;
        char presented;
        const char *then;
    } cases[] = {
        {"f1", 'c', "RefreshRotated(f1:bbbb)"},
        {"f1", 'a', "RefreshRevoked(f1:reuse)"},
        {"f2", 'd', "RefreshRotated(f2:bbbb)"},
        {"f2", 'a', "!unauthorized"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        const cmd_user_state_t *states[2] = {s, copy};
        for (int k = 0; k < 2; k++) {
            given_t *g = given_new();
            given_when(g, GIVEN_T0 + 10 * MIN, "u1");
            user_refresh_cmd_t cmd = {.family_id = cases[i].family,
                                      .token_hash = HASH(cases[i].presented),
                                      .new_token_hash = HASH('b')};
            user_refresh_decide(states[k], &cmd, &g->ctx, &g->out);
            then_case(g, k ? "the snapshot's copy" : "the original", cases[i].then);
            given_free(g);
        }
    }
    given_state_free(CMD_AGG_USER, copy);
    given_state_free(CMD_AGG_USER, s);
}

static void test_snapshot_of_nobody_is_empty(void **state)
{
    (void)state;
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_USER);
    cmd_user_state_t *none = ops->state_new();
    ts_buf_t b;
    ts_buf_init(&b);
    assert_int_equal(ops->encode(none, &b), TS_OK);
    assert_int_equal(b.len, 0);
    cmd_user_state_t *copy = ops->decode(b.data, 0);
    assert_non_null(copy);
    assert_false(copy->exists);
    ts_buf_deinit(&b);
    ops->state_free(copy);
    ops->state_free(none);
    /* Garbage is refused, not half-applied. */
    static const char junk[] = "not a snapshot of anything";
    assert_null(ops->decode(junk, sizeof(junk) - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_roles_block),
        cmocka_unit_test(test_apply_prunes_what_cannot_redeem),
        cmocka_unit_test(test_spent_tokens_are_bounded),
        cmocka_unit_test(test_snapshot_rebuilds_the_state),
        cmocka_unit_test(test_snapshot_decides_alike),
        cmocka_unit_test(test_snapshot_of_nobody_is_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
