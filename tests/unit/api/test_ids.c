/*
 * test_ids — the pure pieces the api handlers share: an event id in a path
 * (api_event_id_valid, parse.c), an id that names its shard or waitlist
 * (api_shard_of_id, commands.c) and the owner-or-admin check
 * (api_owner_or_admin, auth.c).
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "api/api_int.h"

#include <string.h>

static void test_event_id(void **state)
{
    (void)state;
    char max[65], over[66];
    memset(max, 'a', 64);
    max[64] = '\0';
    memset(over, 'a', 65);
    over[65] = '\0';
    assert_true(api_event_id_valid("e1"));
    assert_true(api_event_id_valid("ABCxyz0123"));
    assert_true(api_event_id_valid(max));
    /* eng_new_id makes alphanumeric ids: '-' and '_' name no event. */
    assert_false(api_event_id_valid("e-1"));
    assert_false(api_event_id_valid("e_1"));
    assert_false(api_event_id_valid(""));
    assert_false(api_event_id_valid(NULL));
    assert_false(api_event_id_valid(over));
    assert_false(api_event_id_valid("e 1"));
    assert_false(api_event_id_valid("e/1"));
}

static void test_shard_of_id(void **state)
{
    (void)state;
    api_req_t r;
    memset(&r, 0, sizeof r);
    ts_arena_init(&r.arena, 0);
    const char *event = "untouched", *section = "untouched";
    assert_int_equal(api_shard_of_id(&r, "bk-ev1-S01-abc", "bk-", &event, &section), 0);
    assert_string_equal(event, "ev1");
    assert_string_equal(section, "S01");
    /* A waitlist entry names its list the same way (RULE-WL-1). */
    assert_int_equal(api_shard_of_id(&r, "wl-ev1-std-r4nd", "wl-", &event, &section), 0);
    assert_string_equal(event, "ev1");
    assert_string_equal(section, "std");

    static const char *const bad[] = {
        "bk-ev1-S01",      /* no random part */
        "bk-ev1-S01-",     /* empty random part */
        "bk--S01-abc",     /* empty event */
        "bk-ev_1-S01-abc", /* not an event id */
        "bk-ev1-S01-ab-c", /* one '-' too many */
        "pay-ev1-S01-abc", /* another prefix */
        "bk-ev1-S 1-abc",  /* not an id at all */
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++)
        assert_int_equal(api_shard_of_id(&r, bad[i], "bk-", &event, &section), -1);
    assert_int_equal(api_shard_of_id(&r, NULL, "bk-", &event, &section), -1);
    ts_arena_deinit(&r.arena);
}

static void test_owner_or_admin(void **state)
{
    (void)state;
    api_req_t r;
    memset(&r, 0, sizeof r);
    r.user_id = "u1";
    r.roles = EVT_ROLE_ATTENDEE;
    assert_true(api_owner_or_admin(&r, "u1"));
    assert_false(api_owner_or_admin(&r, "u2"));
    assert_false(api_owner_or_admin(&r, NULL)); /* nobody's */
    assert_false(api_owner_or_admin(&r, ""));
    r.roles |= EVT_ROLE_ADMIN;
    assert_true(api_owner_or_admin(&r, "u2"));
    assert_true(api_owner_or_admin(&r, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_id),
        cmocka_unit_test(test_shard_of_id),
        cmocka_unit_test(test_owner_or_admin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
