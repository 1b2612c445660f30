/*
 * test_shape — projections/shape.c: PostgreSQL array literals and the JSON
 * shapes the read models store and serve (API.md).
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"

#include <stdlib.h>
#include <string.h>

/* Compares j (consumed) with the JSON text want, keys in any order. */
static void assert_json(json_t *j, const char *want)
{
    json_error_t err;
    json_t *w = json_loads(want, JSON_DECODE_ANY, &err);
    assert_non_null(w);
    assert_non_null(j);
    if (!json_equal(j, w)) {
        char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s\nwant %s", got, want);
        free(got);
    }
    json_decref(w);
    json_decref(j);
}

static void test_pg_array(void **state)
{
    (void)state;
    ts_buf_t b;
    ts_buf_init(&b);
    assert_string_equal(proj__pg_array_close(&b), "{}");
    b.len = 0;
    proj__pg_array_add(&b, "A-1-1");
    proj__pg_array_add(&b, "");
    proj__pg_array_add(&b, "NULL");
    proj__pg_array_add(&b, "a,b}{\"c\\");
    proj__pg_array_add(&b, NULL);
    /* Every string quoted (so "NULL" stays a string), NULL unquoted. */
    assert_string_equal(proj__pg_array_close(&b),
                        "{\"A-1-1\",\"\",\"NULL\",\"a,b}{\\\"c\\\\\",NULL}");
    ts_buf_deinit(&b);
}

static void test_money_and_time(void **state)
{
    (void)state;
    assert_json(proj__money_json(2500, "EUR"), "{\"amount\": 2500, \"currency\": \"EUR\"}");
    assert_json(proj__time_json(1797789600000), "\"2026-12-20T18:00:00Z\"");
    assert_json(proj__time_json(1797789600123), "\"2026-12-20T18:00:00.123Z\"");
    assert_json(proj__time_json(0), "null");
}

static void test_layout(void **state)
{
    (void)state;
    uint32_t acc[] = {1, 2};
    evt_row_t rows[] = {{"1", 20, 2, acc}, {"2", 18, 0, NULL}};
    evt_section_t secs[] = {
        /* A seated capacity that disagrees with its rows: the rows win. */
        {"A", "North", EVT_SEATED, 999, 2, rows},
        {"GA", "Floor", EVT_STANDING, 2000, 0, NULL},
    };
    evt_venue_created_t v = {"v1", "Arena", "Zagreb", "HR", 2, secs};
    int64_t cap = 0;
    assert_json(proj__layout_json(&v, &cap),
                "{\"sections\": ["
                "{\"key\": \"A\", \"name\": \"North\", \"kind\": \"seated\", \"capacity\": 38,"
                " \"rows\": [{\"label\": \"1\", \"seats\": 20, \"accessible\": [1, 2]},"
                "           {\"label\": \"2\", \"seats\": 18, \"accessible\": []}]},"
                "{\"key\": \"GA\", \"name\": \"Floor\", \"kind\": \"standing\","
                " \"capacity\": 2000}]}");
    assert_int_equal(cap, 2038);
}

static void test_tiers_and_policy(void **state)
{
    (void)state;
    const char *std_secs[] = {"A", "B"};
    evt_tier_t tiers[] = {
        {"std", "Standard", {2500, "EUR"}, 2, std_secs, 1797000000000, 1797789600000},
        {"floor", "Floor", {1500, "EUR"}, 0, NULL, 0, 0},
    };
    json_t *t = proj__tiers_json(tiers, 2);
    json_t *from = proj__price_from(t);
    assert_json(t, "[{\"key\": \"std\", \"name\": \"Standard\","
                   "  \"price\": {\"amount\": 2500, \"currency\": \"EUR\"},"
                   "  \"sections\": [\"A\", \"B\"],"
                   "  \"sale_starts_at\": \"2026-12-11T14:40:00Z\","
                   "  \"sale_ends_at\": \"2026-12-20T18:00:00Z\"},"
                   " {\"key\": \"floor\", \"name\": \"Floor\","
                   "  \"price\": {\"amount\": 1500, \"currency\": \"EUR\"},"
                   "  \"sections\": [], \"sale_starts_at\": null, \"sale_ends_at\": null}]");
    assert_json(from, "{\"amount\": 1500, \"currency\": \"EUR\"}");
    assert_json(proj__price_from(NULL), "null");

    evt_policy_t p;
    evt_policy_defaults(&p);
    assert_json(proj__policy_json(&p),
                "{\"max_per_order\": 4, \"max_per_user\": 8, \"hold_minutes\": 20,"
                " \"transfer_cutoff_hours\": 48, \"service_fee_bps\": 600, \"vat_bps\": 500,"
                " \"refund\": [{\"min_hours_before\": 168, \"percent\": 100},"
                "             {\"min_hours_before\": 24, \"percent\": 50}]}");
}

static void test_items(void **state)
{
    (void)state;
    const char *seats[] = {"A-1-1", "A-1-2"};
    evt_hold_placed_t h = {0};
    h.tier_key = "std";
    h.n_seats = 2;
    h.seats = seats;
    h.quantity = 2;
    h.unit_price = (ts_money_t){2500, "EUR"};
    assert_json(proj__items_json(&h), "[{\"seat\": \"A-1-1\", \"tier\": \"std\","
                                      "  \"price\": {\"amount\": 2500, \"currency\": \"EUR\"}},"
                                      " {\"seat\": \"A-1-2\", \"tier\": \"std\","
                                      "  \"price\": {\"amount\": 2500, \"currency\": \"EUR\"}}]");
    /* API.md: a GA unit is an item with "seat": null. */
    h.tier_key = "floor";
    h.n_seats = 0;
    h.seats = NULL;
    h.quantity = 3;
    h.unit_price = (ts_money_t){1500, "EUR"};
    json_t *ga = proj__items_json(&h);
    assert_int_equal(json_array_size(ga), 3);
    assert_json(json_incref(json_array_get(ga, 2)),
                "{\"seat\": null, \"tier\": \"floor\","
                " \"price\": {\"amount\": 1500, \"currency\": \"EUR\"}}");
    json_decref(ga);
}

static void test_untrusted_strings(void **state)
{
    (void)state;
    /* Bytes from the log that are not UTF-8 become null, never a crash or a
     * missing key. */
    evt_section_t sec = {"\xff\xfe", NULL, EVT_STANDING, 10, 0, NULL};
    evt_venue_created_t v = {"v1", "Arena", NULL, NULL, 1, &sec};
    int64_t cap = 0;
    assert_json(proj__layout_json(&v, &cap),
                "{\"sections\": [{\"key\": null, \"name\": null, \"kind\": \"standing\","
                " \"capacity\": 10}]}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pg_array), cmocka_unit_test(test_money_and_time),
        cmocka_unit_test(test_layout),   cmocka_unit_test(test_tiers_and_policy),
        cmocka_unit_test(test_items),    cmocka_unit_test(test_untrusted_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
