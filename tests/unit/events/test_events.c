/*
 * test_events — events/events.h: seat ids, role names, event type names.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "events/events.h"

#include <string.h>

static void test_seat_id_parse_good(void **state)
{
    (void)state;
    static const struct {
        const char *id, *section, *row;
        uint32_t number;
    } good[] = {
        {"A-3-12", "A", "3", 12},
        {"GA_2-row_b-1", "GA_2", "row_b", 1},
        {"abcdefghijklmnop-0123456789abcdef-999999", "abcdefghijklmnop", "0123456789abcdef",
         999999},
    };
    ts_arena_t a;
    ts_arena_init(&a, 0);
    for (size_t i = 0; i < TS_ARRAY_LEN(good); i++) {
        const char *section = NULL, *row = NULL;
        uint32_t number = 0;
        assert_int_equal(evt_seat_id_parse(&a, good[i].id, &section, &row, &number), 0);
        assert_string_equal(section, good[i].section);
        assert_string_equal(row, good[i].row);
        assert_int_equal(number, good[i].number);
    }
    ts_arena_deinit(&a);
}

static void test_seat_id_parse_bad(void **state)
{
    (void)state;
    static const char *bad[] = {
        "A-3",                   /* no number */
        "A-3-0",                 /* seats are numbered from 1 */
        "A-3-012",               /* no leading zero */
        "A-3-x",                 /* not a number */
        "A-3-12x",               /* trailing junk */
        "A-3-",                  /* empty number */
        "A--1",                  /* empty row */
        "-3-1",                  /* empty section */
        "A-3-1-2",               /* too many parts */
        "A-3-1234567",           /* more than 6 digits */
        "abcdefghijklmnopq-3-1", /* section key of 17 characters */
        "A-abcdefghijklmnopq-1", /* row label of 17 characters */
        "A.1-3-1",               /* '.' is not a key character */
        "A 1-3-1",               /* nor is a space */
        "",
        "A",
    };
    ts_arena_t a;
    ts_arena_init(&a, 0);
    for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
        const char *section = "unchanged", *row = "unchanged";
        uint32_t number = 77;
        if (evt_seat_id_parse(&a, bad[i], &section, &row, &number) != -1)
            fail_msg("seat id '%s' accepted", bad[i]);
        /* Out-parameters are written only on success. */
        assert_string_equal(section, "unchanged");
        assert_string_equal(row, "unchanged");
        assert_int_equal(number, 77);
    }
    const char *section, *row;
    uint32_t number;
    assert_int_equal(evt_seat_id_parse(&a, NULL, &section, &row, &number), -1);
    ts_arena_deinit(&a);
}

static void test_roles(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t bit;
    } roles[] = {
        {"attendee", EVT_ROLE_ATTENDEE},     {"organizer", EVT_ROLE_ORGANIZER},
        {"box_office", EVT_ROLE_BOX_OFFICE}, {"auditor", EVT_ROLE_AUDITOR},
        {"admin", EVT_ROLE_ADMIN},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(roles); i++) {
        assert_int_equal(evt_role_parse(roles[i].name), roles[i].bit);
        assert_string_equal(evt_role_name(roles[i].bit), roles[i].name);
    }
    /* RULE-AUTH-2: only the five roles exist; names are exact. */
    assert_int_equal(evt_role_parse("Admin"), 0);
    assert_int_equal(evt_role_parse("root"), 0);
    assert_int_equal(evt_role_parse(""), 0);
    assert_int_equal(evt_role_parse(NULL), 0);
    assert_null(evt_role_name(0));
    assert_null(evt_role_name(EVT_ROLE_ATTENDEE | EVT_ROLE_ADMIN)); /* not a single bit */
    assert_null(evt_role_name(1u << 5));
}

static void test_type_names(void **state)
{
    (void)state;
    assert_string_equal(evt_type_name(EVT_VENUE_CREATED), "VenueCreated");
    assert_string_equal(evt_type_name(EVT_EVENT_CREATED), "EventCreated");
    assert_string_equal(evt_type_name(EVT_EVENT_PUBLISHED), "EventPublished");
    assert_string_equal(evt_type_name(EVT_INVENTORY_OPENED), "InventoryOpened");
    assert_string_equal(evt_type_name(EVT_HOLD_PLACED), "HoldPlaced");
    assert_string_equal(evt_type_name(EVT_HOLD_RELEASED), "HoldReleased");
    assert_string_equal(evt_type_name(EVT_HOLD_EXPIRED), "HoldExpired");
    assert_string_equal(evt_type_name(EVT_USER_REGISTERED), "UserRegistered");
    assert_string_equal(evt_type_name(EVT_CLAIMED), "Claimed");
    assert_string_equal(evt_type_name(EVT_NONE), "Unknown");
    assert_string_equal(evt_type_name((evt_type_t)99), "Unknown");
}

static void test_policy_defaults(void **state)
{
    (void)state;
    evt_policy_t p;
    evt_policy_defaults(&p);
    assert_int_equal(p.max_per_order, 4);          /* RULE-HOLD-2 */
    assert_int_equal(p.max_per_user, 8);           /* RULE-HOLD-4 */
    assert_int_equal(p.hold_minutes, 20);          /* RULE-HOLD-3 */
    assert_int_equal(p.transfer_cutoff_hours, 48); /* RULE-TKT-3 */
    assert_int_equal(p.service_fee_bps, 600);
    assert_int_equal(p.vat_bps, 500);
    /* RULE-REF-1: >= 168 h 100 %, >= 24 h 50 %, else nothing. */
    assert_int_equal(p.n_refund, 2);
    assert_int_equal(p.refund[0].min_hours_before, 168);
    assert_int_equal(p.refund[0].percent, 100);
    assert_int_equal(p.refund[1].min_hours_before, 24);
    assert_int_equal(p.refund[1].percent, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seat_id_parse_good),
        cmocka_unit_test(test_seat_id_parse_bad),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_policy_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
