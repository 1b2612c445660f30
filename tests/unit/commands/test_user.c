/*
 * Users and unique claims (RULE-AUTH-1): e-mail normalisation (unique
 * case-insensitively), user_register_decide and claim_decide.
 */
#include "given.h"

/* ---- user_email_normalize ---- */

static void test_rule_auth_1_email_normalize(void **state)
{
    (void)state;
    char long_ok[256], long_bad[257];
    /* 64 + 1 + 189 = 254 characters: the longest address. */
    memset(long_ok, 'a', 254);
    long_ok[64] = '@';
    long_ok[254] = '\0';
    memset(long_bad, 'a', 255);
    long_bad[64] = '@';
    long_bad[255] = '\0';
    const struct {
        const char *in;
        const char *then; /* NULL: refused */
    } cases[] = {
        {"Alice@Example.COM", "alice@example.com"},
        {"alice@example.com", "alice@example.com"},
        {"a@b", "a@b"},
        {"O'Brien+tix@Mail.Example.org", "o'brien+tix@mail.example.org"},
        {long_ok, long_ok},
        {long_bad, NULL},
        {NULL, NULL},
        {"", NULL},
        {"@", NULL},
        {"ab", NULL},
        {"a@", NULL},
        {"@b", NULL},
        {"abc@", NULL},
        {"@abc", NULL},
        {"a@@b", NULL},
        {"a@b@c", NULL},
        {"a b@c.d", NULL},
        {" a@b.c", NULL},
        {"a@b.c ", NULL},
        {"a@b\t.c", NULL},
        {"a@b.c\n", NULL},
        {"a@b\x7f", NULL},
    };
    ts_arena_t a;
    ts_arena_init(&a, 0);
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        const char *got = user_email_normalize(&a, cases[i].in);
        if (cases[i].then) {
            if (!got)
                print_message("case %zu: \"%s\" was refused\n", i, cases[i].in);
            assert_non_null(got);
            assert_string_equal(got, cases[i].then);
        } else {
            if (got)
                print_message("case %zu: \"%s\" gave \"%s\"\n", i,
                              cases[i].in ? cases[i].in : "(null)", got);
            assert_null(got);
        }
    }
    ts_arena_deinit(&a);
}

/* RULE-AUTH-1: spellings that differ only in case claim the same value, and
 * the input is not modified. */
static void test_rule_auth_1_email_case_insensitive(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_arena_init(&a, 0);
    char in[] = "Bob.Smith@MAIL.Example.ORG";
    const char *x = user_email_normalize(&a, in);
    const char *y = user_email_normalize(&a, "bob.smith@mail.example.org");
    const char *z = user_email_normalize(&a, "BOB.SMITH@MAIL.EXAMPLE.ORG");
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(z);
    assert_string_equal(x, y);
    assert_string_equal(y, z);
    assert_string_equal(in, "Bob.Smith@MAIL.Example.ORG");
    assert_ptr_not_equal(x, in);
    ts_arena_deinit(&a);
}

/* ---- user_register_decide ---- */

#define HASH "scrypt$16384$8$1$00112233$aabbccdd"

typedef struct {
    const char *name;
    const char *user_id;
    const char *email;
    const char *hash;
    uint32_t roles;
    const char *then;
} register_case_t;

static const register_case_t registers[] = {
    {"RULE-AUTH-1 a new user, e-mail lower-cased", NULL, "Alice@Example.com", HASH,
     EVT_ROLE_ATTENDEE, "UserRegistered(n1:alice@example.com)"},
    {"a given user id is kept", "u-admin", "root@example.com", HASH,
     EVT_ROLE_ADMIN | EVT_ROLE_ATTENDEE, "UserRegistered(u-admin:root@example.com)"},
    {"RULE-AUTH-1 an address without a domain", NULL, "alice@", HASH, EVT_ROLE_ATTENDEE,
     "!validation_failed field=email"},
    {"RULE-AUTH-1 an address without a local part", NULL, "@example.com", HASH, EVT_ROLE_ATTENDEE,
     "!validation_failed field=email"},
    {"RULE-AUTH-1 an address with a space", NULL, "al ice@example.com", HASH, EVT_ROLE_ATTENDEE,
     "!validation_failed field=email"},
    {"no address", NULL, NULL, HASH, EVT_ROLE_ATTENDEE, "!validation_failed field=email"},
    {"RULE-AUTH-1 no password hash", NULL, "a@b.c", NULL, EVT_ROLE_ATTENDEE,
     "!validation_failed field=password"},
    {"RULE-AUTH-1 a plain password instead of a hash", NULL, "a@b.c", "correct horse battery",
     EVT_ROLE_ATTENDEE, "!validation_failed field=password"},
    {"RULE-AUTH-1 another hash scheme", NULL, "a@b.c", "bcrypt$2b$10$abc", EVT_ROLE_ATTENDEE,
     "!validation_failed field=password"},
    {"RULE-AUTH-1 scrypt without its parameters", NULL, "a@b.c", "scrypt", EVT_ROLE_ATTENDEE,
     "!validation_failed field=password"},
    {"RULE-AUTH-2 no role", NULL, "a@b.c", HASH, 0, "!validation_failed field=roles"},
    {"the e-mail is checked first", NULL, "bad", NULL, 0, "!validation_failed field=email"},
};

static void test_user_register(void **state)
{
    (void)state;
    cmd_user_state_t *none = cmd_aggregate_ops(CMD_AGG_USER)->state_new();
    for (size_t i = 0; i < TS_ARRAY_LEN(registers); i++) {
        const register_case_t *c = &registers[i];
        given_t *g = given_new();
        evt_user_registered_t u = {.user_id = c->user_id,
                                   .email = c->email,
                                   .name = "Alice",
                                   .password_hash = c->hash,
                                   .roles = c->roles};
        given_when(g, GIVEN_T0, "anonymous");
        assert_int_equal(user_register_decide(none, &u, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        if (!g->out.reject)
            then_ref(g, c->user_id ? c->user_id : "n1");
        given_free(g);
    }
    given_state_free(CMD_AGG_USER, none);
}

static void test_user_register_applied(void **state)
{
    (void)state;
    cmd_user_state_t *s = cmd_aggregate_ops(CMD_AGG_USER)->state_new();
    given_t *g = given_new();
    evt_user_registered_t u = {.email = "Carol@Example.com",
                               .password_hash = HASH,
                               .roles = EVT_ROLE_ATTENDEE | EVT_ROLE_ORGANIZER};
    given_when(g, GIVEN_T0, "anonymous");
    g->ctx.new_id = "u-carol";
    user_register_decide(s, &u, &g->ctx, &g->out);
    then_line(g, "UserRegistered(u-carol:carol@example.com)");
    /* No name is an empty name. */
    assert_string_equal(g->out.events[0].u.user_registered.name, "");
    assert_string_equal(g->out.events[0].u.user_registered.password_hash, HASH);
    given_apply_out(CMD_AGG_USER, s, g);
    given_free(g);

    assert_true(s->exists);
    assert_string_equal(s->u.user_id, "u-carol");
    assert_string_equal(s->u.email, "carol@example.com");
    assert_string_equal(s->u.name, "");
    assert_string_equal(s->u.password_hash, HASH);
    assert_int_equal(s->u.roles, EVT_ROLE_ATTENDEE | EVT_ROLE_ORGANIZER);

    g = given_new();
    given_when(g, GIVEN_T0, "anonymous");
    user_register_decide(s, &u, &g->ctx, &g->out);
    then_line(g, "!conflict");
    given_free(g);
    given_state_free(CMD_AGG_USER, s);
}

/* ---- claim_decide (RULE-AUTH-1: one owner per e-mail) ---- */

static void test_rule_auth_1_claim(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *claimed_by; /* given Claimed, or NULL */
        const char *owner;
        const char *then;
        const char *ref;
    } cases[] = {
        {"a free value", NULL, "u1", "Claimed(email:u1)", "u1"},
        {"claimed again by its owner: nothing to do", "u1", "u1", "", "u1"},
        {"claimed by someone else", "u1", "u2", "!conflict", "u1"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        evt_event_t e = {.type = EVT_CLAIMED};
        e.u.claimed.kind = "email";
        e.u.claimed.owner = cases[i].claimed_by;
        cmd_claim_state_t *s = given_state(CMD_AGG_CLAIM, &e, cases[i].claimed_by ? 1 : 0);
        given_t *g = given_new();
        given_when(g, GIVEN_T0, "system");
        assert_int_equal(claim_decide(s, "email", cases[i].owner, &g->ctx, &g->out), 0);
        then_case(g, cases[i].name, cases[i].then);
        then_ref(g, cases[i].ref);
        given_free(g);
        given_state_free(CMD_AGG_CLAIM, s);
    }
}

/* The first Claimed wins: a later one in the log changes nothing. */
static void test_claim_first_wins(void **state)
{
    (void)state;
    evt_event_t es[2] = {{.type = EVT_CLAIMED}, {.type = EVT_CLAIMED}};
    es[0].u.claimed.kind = "email";
    es[0].u.claimed.owner = "u1";
    es[1].u.claimed.kind = "email";
    es[1].u.claimed.owner = "u2";
    cmd_claim_state_t *s = given_state(CMD_AGG_CLAIM, es, 2);
    assert_true(s->exists);
    assert_string_equal(s->c.kind, "email");
    assert_string_equal(s->c.owner, "u1");
    given_state_free(CMD_AGG_CLAIM, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_auth_1_email_normalize),
        cmocka_unit_test(test_rule_auth_1_email_case_insensitive),
        cmocka_unit_test(test_user_register),
        cmocka_unit_test(test_user_register_applied),
        cmocka_unit_test(test_rule_auth_1_claim),
        cmocka_unit_test(test_claim_first_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
