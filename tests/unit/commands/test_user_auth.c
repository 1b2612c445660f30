/*
 * Account decisions (commands/user_auth.c) as tables: given u1's history,
 * when a login, refresh, logout, role grant or block, then events or a
 * rejection.
 *
 * RULE-AUTH-1: 5 consecutive failed logins lock the account for 15 minutes
 * from the 5th; refresh tokens live 7 days, rotate on each use, and reuse of
 * a spent one revokes its whole family. RULE-AUTH-2: roles are granted by
 * admins, attendee is always kept; a blocked user is recorded as such.
 */
#include "given_user.h"

#define MIN GIVEN_MIN
#define LOCK USER_LOCK_MS
#define TTL USER_REFRESH_TTL_MS

/* ---- login (RULE-AUTH-1) ---- */

typedef struct {
    const char *name;
    given_user_step_t given[8];
    int64_t at;      /* when, from T0 */
    int password_ok; /* the caller's scrypt verdict */
    const char *then;
} login_case_t;

/* Five failures at minutes 0..4: the 5th (at 4 min) starts the lock. */
#define FIVE F(0), F(1 * MIN), F(2 * MIN), F(3 * MIN), F(4 * MIN)
#define FOUR F(0), F(1 * MIN), F(2 * MIN), F(3 * MIN)

static const login_case_t logins[] = {
    {"right password: a session", {{0}}, 0, 1, "RefreshIssued(fam9:9999)"},
    {"wrong password: recorded", {{0}}, 0, 0, "LoginFailed(u1)"},
    {"RULE-AUTH-1 the 4th failure", {F(0), F(1), F(2)}, 10, 0, "LoginFailed(u1)"},
    {"RULE-AUTH-1 the 5th failure is recorded (and locks)", {FOUR}, 5 * MIN, 0, "LoginFailed(u1)"},
    {"RULE-AUTH-1 after 4 failures the right password still works",
     {FOUR},
     5 * MIN,
     1,
     "RefreshIssued(fam9:9999)"},
    {"RULE-AUTH-1 locked: the right password is refused", {FIVE}, 4 * MIN, 1, "!rate_limited"},
    {"RULE-AUTH-1 locked: a wrong one is refused unrecorded",
     {FIVE},
     4 * MIN + 1,
     0,
     "!rate_limited"},
    {"RULE-AUTH-1 locked 1 ms before the unlock instant",
     {FIVE},
     4 * MIN + LOCK - 1,
     1,
     "!rate_limited"},
    {"RULE-AUTH-1 open at the unlock instant",
     {FIVE},
     4 * MIN + LOCK,
     1,
     "RefreshIssued(fam9:9999)"},
    {"RULE-AUTH-1 after the lock a failure starts a new run",
     {FIVE},
     4 * MIN + LOCK,
     0,
     "LoginFailed(u1)"},
    {"RULE-AUTH-1 the lock counts from the 5th failure, not the 1st",
     {F(0), F(1 * MIN), F(2 * MIN), F(3 * MIN), F(60 * MIN)},
     60 * MIN + LOCK - 1,
     1,
     "!rate_limited"},
    {"RULE-AUTH-1 a success ends a run: 4 + success + 1 is not locked",
     {FOUR, I(4 * MIN, "f1", 'a'), F(5 * MIN)},
     6 * MIN,
     1,
     "RefreshIssued(fam9:9999)"},
    {"a blocked user may still log in (RULE-AUTH-2 forbids holds and buying)",
     {B},
     0,
     1,
     "RefreshIssued(fam9:9999)"},
};

static void test_rule_auth_1_login(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(logins); i++) {
        const login_case_t *c = &logins[i];
        cmd_user_state_t *s = given_user(c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, "anonymous");
        user_login_cmd_t cmd = {
            .password_ok = c->password_ok, .family_id = "fam9", .token_hash = HASH('9')};
        assert_int_equal(user_login_decide(s, &cmd, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        if (!g->out.reject)
            then_ref(g, "u1");
        given_free(g);
        given_state_free(CMD_AGG_USER, s);
    }
}

/* The run of failures through apply, and the lock's exact window. */
static void test_rule_auth_1_lock_window(void **state)
{
    (void)state;
    cmd_user_state_t *s = given_user(NULL);
    int64_t t = GIVEN_T0;
    for (int k = 1; k <= 5; k++) {
        assert_int_equal(user_locked_until(s, t), 0);
        given_t *g = given_new();
        given_when(g, t, "anonymous");
        user_login_cmd_t cmd = {.family_id = "f", .token_hash = HASH('1')};
        user_login_decide(s, &cmd, &g->ctx, &g->out);
        then_line(g, "LoginFailed(u1)");
        assert_int_equal(g->out.events[0].u.user_note.at, t);
        assert_string_equal(g->out.events[0].u.user_note.reason,
                            k == 5 ? "locked" : "wrong_password");
        given_apply_out(CMD_AGG_USER, s, g);
        given_free(g);
        assert_int_equal(s->failures, k);
        if (k < 5)
            t += 7 * GIVEN_MIN;
    }
    /* RULE-AUTH-1: locked from the 5th failure for exactly 15 minutes. */
    assert_int_equal(user_locked_until(s, t), t + LOCK);
    assert_int_equal(user_locked_until(s, t + LOCK - 1), t + LOCK);
    assert_int_equal(user_locked_until(s, t + LOCK), 0);
    assert_int_equal(user_locked_until(s, t + LOCK + 1), 0);
    /* A failure after the lock: a run of 1, not locked. */
    given_t *g = given_new();
    given_when(g, t + LOCK, "anonymous");
    user_login_cmd_t cmd = {.family_id = "f", .token_hash = HASH('1')};
    user_login_decide(s, &cmd, &g->ctx, &g->out);
    given_apply_out(CMD_AGG_USER, s, g);
    given_free(g);
    assert_int_equal(s->failures, 1);
    assert_int_equal(user_locked_until(s, t + LOCK), 0);
    given_state_free(CMD_AGG_USER, s);
}

static void test_rule_auth_1_login_issues_a_7_day_token(void **state)
{
    (void)state;
    cmd_user_state_t *s = given_user((given_user_step_t[]){FOUR, {0}});
    given_t *g = given_new();
    given_when(g, GIVEN_T0 + 5 * MIN, "anonymous");
    user_login_cmd_t cmd = {.password_ok = 1, .family_id = "fam9", .token_hash = HASH('9')};
    user_login_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "RefreshIssued(fam9:9999)");
    const evt_refresh_token_t *r = &g->out.events[0].u.refresh_token;
    assert_string_equal(r->user_id, "u1");
    assert_string_equal(r->token_hash, HASH('9'));
    assert_int_equal(r->expires_at, GIVEN_T0 + 5 * MIN + TTL);
    given_apply_out(CMD_AGG_USER, s, g);
    given_free(g);
    /* A successful login ends the run of failures. */
    assert_int_equal(s->failures, 0);
    const user_family_t *f = user_family_find(s, "fam9");
    assert_non_null(f);
    assert_string_equal(f->current.hash, HASH('9'));
    given_state_free(CMD_AGG_USER, s);
}

static void test_login_rejections(void **state)
{
    (void)state;
    cmd_user_state_t *none = cmd_aggregate_ops(CMD_AGG_USER)->state_new();
    cmd_user_state_t *s = given_user((given_user_step_t[]){I(0, "f1", 'a'), {0}});
    struct {
        const char *name;
        const cmd_user_state_t *s;
        const char *family;
        const char *hash;
        const char *then;
    } cases[] = {
        {"no such user", none, "fam9", HASH('9'), "!unauthorized"},
        {"a session id already taken", s, "f1", HASH('9'), "!conflict"},
        {"a malformed family id", s, "a.b", HASH('9'), "!validation_failed field=refresh_token"},
        {"a hash that is not hex SHA-256", s, "fam9", "abc",
         "!validation_failed field=refresh_token"},
        {"upper-case hex is not ours", s, "fam9", HASH('A'),
         "!validation_failed field=refresh_token"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + MIN, "anonymous");
        user_login_cmd_t cmd = {
            .password_ok = 1, .family_id = cases[i].family, .token_hash = cases[i].hash};
        user_login_decide(cases[i].s, &cmd, &g->ctx, &g->out);
        then_case(g, cases[i].name, cases[i].then);
        given_free(g);
    }
    given_state_free(CMD_AGG_USER, none);
    given_state_free(CMD_AGG_USER, s);
}

/* The bound of commands.h: the 33rd live session revokes the oldest. */
static void test_login_session_limit(void **state)
{
    (void)state;
    given_user_step_t steps[USER_MAX_FAMILIES + 1];
    static char ids[USER_MAX_FAMILIES][8];
    for (int i = 0; i < USER_MAX_FAMILIES; i++) {
        snprintf(ids[i], sizeof(ids[i]), "f%d", i);
        steps[i] = (given_user_step_t)I(i * MIN, ids[i], 'a');
    }
    steps[USER_MAX_FAMILIES] = (given_user_step_t){0};
    cmd_user_state_t *s = given_user(steps);
    assert_int_equal(s->n_families, USER_MAX_FAMILIES);
    given_t *g = given_new();
    given_when(g, GIVEN_T0 + 40 * MIN, "anonymous");
    user_login_cmd_t cmd = {.password_ok = 1, .family_id = "fam9", .token_hash = HASH('9')};
    user_login_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "RefreshRevoked(f0:limit) RefreshIssued(fam9:9999)");
    given_apply_out(CMD_AGG_USER, s, g);
    given_free(g);
    assert_int_equal(s->n_families, USER_MAX_FAMILIES);
    assert_null(user_family_find(s, "f0"));
    assert_non_null(user_family_find(s, "f1"));
    assert_non_null(user_family_find(s, "fam9"));
    given_state_free(CMD_AGG_USER, s);
}

/* ---- refresh (RULE-AUTH-1) ---- */

typedef struct {
    const char *name;
    given_user_step_t given[8];
    int64_t at;
    const char *family;
    char presented;
    const char *then;
} refresh_case_t;

static const refresh_case_t refreshes[] = {
    {"the current token rotates", {I(0, "f1", 'a')}, MIN, "f1", 'a', "RefreshRotated(f1:bbbb)"},
    {"RULE-AUTH-1 1 ms before expiry it still rotates",
     {I(0, "f1", 'a')},
     TTL - 1,
     "f1",
     'a',
     "RefreshRotated(f1:bbbb)"},
    {"RULE-AUTH-1 at the expiry instant it is dead",
     {I(0, "f1", 'a')},
     TTL,
     "f1",
     'a',
     "!unauthorized"},
    {"RULE-AUTH-1 a rotated token's successor rotates",
     {I(0, "f1", 'a'), R(MIN, "f1", 'c')},
     2 * MIN,
     "f1",
     'c',
     "RefreshRotated(f1:bbbb)"},
    {"RULE-AUTH-1 the rotated token lives 7 days from its rotation",
     {I(0, "f1", 'a'), R(60 * MIN, "f1", 'c')},
     TTL + 59 * MIN,
     "f1",
     'c',
     "RefreshRotated(f1:bbbb)"},
    {"RULE-AUTH-1 reuse of a spent token revokes the family",
     {I(0, "f1", 'a'), R(MIN, "f1", 'c')},
     2 * MIN,
     "f1",
     'a',
     "RefreshRevoked(f1:reuse)"},
    {"RULE-AUTH-1 reuse of an older spent token too",
     {I(0, "f1", 'a'), R(MIN, "f1", 'c'), R(2 * MIN, "f1", 'd')},
     3 * MIN,
     "f1",
     'a',
     "RefreshRevoked(f1:reuse)"},
    {"RULE-AUTH-1 a spent token past its own expiry is only refused",
     {I(0, "f1", 'a'), R(MIN, "f1", 'c')},
     TTL,
     "f1",
     'a',
     "!unauthorized"},
    {"RULE-AUTH-1 after reuse revoked the family, its current token is dead",
     {I(0, "f1", 'a'), R(MIN, "f1", 'c'), L("f1")},
     3 * MIN,
     "f1",
     'c',
     "!unauthorized"},
    {"RULE-AUTH-1 after logout the token is refused",
     {I(0, "f1", 'a'), L("f1")},
     MIN,
     "f1",
     'a',
     "!unauthorized"},
    {"an unknown family", {I(0, "f1", 'a')}, MIN, "f2", 'a', "!unauthorized"},
    {"a token of another family",
     {I(0, "f1", 'a'), I(0, "f2", 'c')},
     MIN,
     "f1",
     'c',
     "!unauthorized"},
    {"a made-up token of a live family", {I(0, "f1", 'a')}, MIN, "f1", 'e', "!unauthorized"},
    {"families are separate: reuse in f1 leaves f2",
     {I(0, "f1", 'a'), I(0, "f2", 'c'), R(MIN, "f1", 'd')},
     2 * MIN,
     "f2",
     'c',
     "RefreshRotated(f2:bbbb)"},
    {"a blocked user may refresh (RULE-AUTH-2 forbids holds and buying)",
     {I(0, "f1", 'a'), B},
     MIN,
     "f1",
     'a',
     "RefreshRotated(f1:bbbb)"},
};

static void run_refresh(const cmd_user_state_t *s, given_t *g, int64_t at, const char *family,
                        char presented)
{
    given_when(g, GIVEN_T0 + at, "u1");
    user_refresh_cmd_t cmd = {
        .family_id = family, .token_hash = HASH(presented), .new_token_hash = HASH('b')};
    assert_int_equal(user_refresh_decide(s, &cmd, &g->ctx, &g->out), 0);
}

static void test_rule_auth_1_refresh(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(refreshes); i++) {
        const refresh_case_t *c = &refreshes[i];
        cmd_user_state_t *s = given_user(c->given);
        given_t *g = given_new();
        run_refresh(s, g, c->at, c->family, c->presented);
        then_case(g, c->name, c->then);
        if (!g->out.reject)
            then_ref(g, "u1");
        given_free(g);
        given_state_free(CMD_AGG_USER, s);
    }
}

/* The story of a stolen token: rotation, then the thief's reuse revokes the
 * family, and neither the thief's nor the owner's token works any more. */
static void test_rule_auth_1_reuse_after_rotation(void **state)
{
    (void)state;
    cmd_user_state_t *s = given_user((given_user_step_t[]){I(0, "f1", 'a'), {0}});
    given_t *g = given_new();
    run_refresh(s, g, MIN, "f1", 'a');
    then_line(g, "RefreshRotated(f1:bbbb)");
    assert_int_equal(g->out.events[0].u.refresh_token.expires_at, GIVEN_T0 + MIN + TTL);
    given_apply_out(CMD_AGG_USER, s, g);
    const user_family_t *f = user_family_find(s, "f1");
    assert_string_equal(f->current.hash, HASH('b'));
    assert_int_equal(f->n_spent, 1);
    assert_string_equal(f->spent[0].hash, HASH('a'));

    run_refresh(s, g, 2 * MIN, "f1", 'a');
    then_line(g, "RefreshRevoked(f1:reuse)");
    /* The event names the token that came back, never a token. */
    assert_string_equal(g->out.events[0].u.refresh_token.token_hash, HASH('a'));
    given_apply_out(CMD_AGG_USER, s, g);
    assert_null(user_family_find(s, "f1"));

    run_refresh(s, g, 3 * MIN, "f1", 'b');
    then_line(g, "!unauthorized");
    run_refresh(s, g, 3 * MIN, "f1", 'a');
    then_line(g, "!unauthorized");
    given_free(g);
    given_state_free(CMD_AGG_USER, s);
}

static void test_refresh_rejections(void **state)
{
    (void)state;
    cmd_user_state_t *none = cmd_aggregate_ops(CMD_AGG_USER)->state_new();
    given_t *g = given_new();
    run_refresh(none, g, MIN, "f1", 'a');
    then_line(g, "!unauthorized");
    cmd_user_state_t *s = given_user((given_user_step_t[]){I(0, "f1", 'a'), {0}});
    given_when(g, GIVEN_T0 + MIN, "u1");
    user_refresh_cmd_t cmd = {.family_id = "f1", .token_hash = HASH('a'), .new_token_hash = "x"};
    user_refresh_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!validation_failed field=refresh_token");
    cmd.token_hash = NULL;
    cmd.new_token_hash = HASH('b');
    user_refresh_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "!validation_failed field=refresh_token");
    given_free(g);
    given_state_free(CMD_AGG_USER, none);
    given_state_free(CMD_AGG_USER, s);
}

/* ---- logout ---- */

typedef struct {
    const char *name;
    given_user_step_t given[8];
    const char *actor;
    int admin;
    int64_t at;
    const char *family;
    char presented;
    const char *then;
} logout_case_t;

static const logout_case_t logouts[] = {
    {"the current token ends its session",
     {I(0, "f1", 'a')},
     "u1",
     0,
     MIN,
     "f1",
     'a',
     "RefreshRevoked(f1:logout)"},
    {"a spent token ends its session too",
     {I(0, "f1", 'a'), R(MIN, "f1", 'c')},
     "u1",
     0,
     2 * MIN,
     "f1",
     'a',
     "RefreshRevoked(f1:logout)"},
    {"twice: nothing left to end", {I(0, "f1", 'a'), L("f1")}, "u1", 0, MIN, "f1", 'a', ""},
    {"an expired session: nothing left to end", {I(0, "f1", 'a')}, "u1", 0, TTL, "f1", 'a', ""},
    {"an unknown family: nothing to end", {I(0, "f1", 'a')}, "u1", 0, MIN, "f9", 'a', ""},
    {"a made-up token of a live family",
     {I(0, "f1", 'a')},
     "u1",
     0,
     MIN,
     "f1",
     'e',
     "!unauthorized"},
    {"RULE-AUTH-2 not your session", {I(0, "f1", 'a')}, "u2", 0, MIN, "f1", 'a', "!forbidden"},
    {"RULE-AUTH-2 an admin may end anyone's",
     {I(0, "f1", 'a')},
     "adm",
     1,
     MIN,
     "f1",
     'a',
     "RefreshRevoked(f1:logout)"},
    {"the other sessions stay",
     {I(0, "f1", 'a'), I(0, "f2", 'c')},
     "u1",
     0,
     MIN,
     "f2",
     'c',
     "RefreshRevoked(f2:logout)"},
};

static void test_logout(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(logouts); i++) {
        const logout_case_t *c = &logouts[i];
        cmd_user_state_t *s = given_user(c->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + c->at, c->actor);
        g->ctx.actor_is_admin = c->admin;
        user_refresh_cmd_t cmd = {.family_id = c->family, .token_hash = HASH(c->presented)};
        assert_int_equal(user_logout_decide(s, &cmd, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_USER, s);
    }
}

/* RULE-AUTH-1: logout, then the same refresh token is refused; the other
 * session of the user still rotates. */
static void test_rule_auth_1_logout_then_refresh(void **state)
{
    (void)state;
    cmd_user_state_t *s = given_user((given_user_step_t[]){I(0, "f1", 'a'), I(0, "f2", 'c'), {0}});
    given_t *g = given_new();
    given_when(g, GIVEN_T0 + MIN, "u1");
    user_refresh_cmd_t cmd = {.family_id = "f1", .token_hash = HASH('a')};
    user_logout_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "RefreshRevoked(f1:logout)");
    given_apply_out(CMD_AGG_USER, s, g);
    run_refresh(s, g, 2 * MIN, "f1", 'a');
    then_line(g, "!unauthorized");
    run_refresh(s, g, 2 * MIN, "f2", 'c');
    then_line(g, "RefreshRotated(f2:bbbb)");
    given_free(g);
    given_state_free(CMD_AGG_USER, s);
}

static void test_logout_unknown_user(void **state)
{
    (void)state;
    cmd_user_state_t *none = cmd_aggregate_ops(CMD_AGG_USER)->state_new();
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "u1");
    user_refresh_cmd_t cmd = {.family_id = "f1", .token_hash = HASH('a')};
    user_logout_decide(none, &cmd, &g->ctx, &g->out);
    then_line(g, "!unauthorized");
    given_free(g);
    given_state_free(CMD_AGG_USER, none);
}

/* ---- roles (RULE-AUTH-2) ---- */

static void test_rule_auth_2_grant_role(void **state)
{
    (void)state;
    cmd_user_state_t *none = cmd_aggregate_ops(CMD_AGG_USER)->state_new();
    cmd_user_state_t *att = given_user(NULL);
    cmd_user_state_t *org =
        given_user((given_user_step_t[]){O(EVT_ROLE_ATTENDEE | EVT_ROLE_ORGANIZER), {0}});
    cmd_user_state_t *bare = given_user((given_user_step_t[]){O(EVT_ROLE_AUDITOR), {0}});
    struct {
        const char *name;
        const cmd_user_state_t *s;
        int admin;
        uint32_t role;
        const char *then;
    } cases[] = {
        {"an admin grants organizer", att, 1, EVT_ROLE_ORGANIZER,
         "RolesChanged(u1:attendee+organizer)"},
        {"roles add up", org, 1, EVT_ROLE_BOX_OFFICE,
         "RolesChanged(u1:attendee+organizer+box_office)"},
        {"an admin grants admin", att, 1, EVT_ROLE_ADMIN, "RolesChanged(u1:attendee+admin)"},
        {"a role held already: nothing to do", org, 1, EVT_ROLE_ORGANIZER, ""},
        {"attendee is always kept (restored if missing)", bare, 1, EVT_ROLE_AUDITOR,
         "RolesChanged(u1:attendee+auditor)"},
        {"RULE-AUTH-2 not an admin", att, 0, EVT_ROLE_ORGANIZER, "!forbidden"},
        {"RULE-AUTH-2 forbidden comes before not_found", none, 0, EVT_ROLE_ORGANIZER, "!forbidden"},
        {"no such user", none, 1, EVT_ROLE_ORGANIZER, "!not_found"},
        {"no role", att, 1, 0, "!validation_failed field=role"},
        {"two roles at once", att, 1, EVT_ROLE_ORGANIZER | EVT_ROLE_AUDITOR,
         "!validation_failed field=role"},
        {"an unknown bit", att, 1, 1u << 7, "!validation_failed field=role"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        given_t *g = given_new();
        given_when(g, GIVEN_T0, "adm");
        g->ctx.actor_is_admin = cases[i].admin;
        assert_int_equal(user_grant_role_decide(cases[i].s, cases[i].role, &g->ctx, &g->out), 0);
        then_case(g, cases[i].name, cases[i].then);
        given_free(g);
    }
    /* Applied, the roles are the user's. */
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "adm");
    g->ctx.actor_is_admin = 1;
    user_grant_role_decide(att, EVT_ROLE_ORGANIZER, &g->ctx, &g->out);
    assert_int_equal(g->out.events[0].u.user_note.at, GIVEN_T0);
    given_apply_out(CMD_AGG_USER, att, g);
    assert_int_equal(att->u.roles, EVT_ROLE_ATTENDEE | EVT_ROLE_ORGANIZER);
    given_free(g);
    given_state_free(CMD_AGG_USER, none);
    given_state_free(CMD_AGG_USER, att);
    given_state_free(CMD_AGG_USER, org);
    given_state_free(CMD_AGG_USER, bare);
}

/* ---- block (RULE-AUTH-2) ---- */

static void test_rule_auth_2_block(void **state)
{
    (void)state;
    cmd_user_state_t *none = cmd_aggregate_ops(CMD_AGG_USER)->state_new();
    cmd_user_state_t *open = given_user(NULL);
    cmd_user_state_t *blocked = given_user((given_user_step_t[]){B, {0}});
    cmd_user_state_t *again = given_user((given_user_step_t[]){B, UB, {0}});
    struct {
        const char *name;
        const cmd_user_state_t *s;
        int admin;
        int block;
        const char *then;
    } cases[] = {
        {"an admin blocks", open, 1, 1, "UserBlocked(u1)"},
        {"blocked already: nothing to do", blocked, 1, 1, ""},
        {"an admin unblocks", blocked, 1, 0, "UserUnblocked(u1)"},
        {"not blocked: nothing to unblock", open, 1, 0, ""},
        {"unblocked, blocked again", again, 1, 1, "UserBlocked(u1)"},
        {"RULE-AUTH-2 not an admin", open, 0, 1, "!forbidden"},
        {"RULE-AUTH-2 not an admin, unblocking", blocked, 0, 0, "!forbidden"},
        {"no such user", none, 1, 1, "!not_found"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        given_t *g = given_new();
        given_when(g, GIVEN_T0, "adm");
        g->ctx.actor_is_admin = cases[i].admin;
        assert_int_equal(
            user_block_decide(cases[i].s, cases[i].block, "scalping", &g->ctx, &g->out), 0);
        then_case(g, cases[i].name, cases[i].then);
        given_free(g);
    }
    assert_false(open->blocked);
    assert_true(blocked->blocked);
    assert_false(again->blocked);
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "adm");
    g->ctx.actor_is_admin = 1;
    user_block_decide(open, 1, "scalping", &g->ctx, &g->out);
    assert_string_equal(g->out.events[0].u.user_note.reason, "scalping");
    given_apply_out(CMD_AGG_USER, open, g);
    assert_true(open->blocked);
    given_free(g);
    given_state_free(CMD_AGG_USER, none);
    given_state_free(CMD_AGG_USER, open);
    given_state_free(CMD_AGG_USER, blocked);
    given_state_free(CMD_AGG_USER, again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_auth_1_login),
        cmocka_unit_test(test_rule_auth_1_lock_window),
        cmocka_unit_test(test_rule_auth_1_login_issues_a_7_day_token),
        cmocka_unit_test(test_login_rejections),
        cmocka_unit_test(test_login_session_limit),
        cmocka_unit_test(test_rule_auth_1_refresh),
        cmocka_unit_test(test_rule_auth_1_reuse_after_rotation),
        cmocka_unit_test(test_refresh_rejections),
        cmocka_unit_test(test_logout),
        cmocka_unit_test(test_rule_auth_1_logout_then_refresh),
        cmocka_unit_test(test_logout_unknown_user),
        cmocka_unit_test(test_rule_auth_2_grant_role),
        cmocka_unit_test(test_rule_auth_2_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
