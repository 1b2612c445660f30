/*
 * test_sales — projections/sales.c: the GET /events/{id}/sales answer
 * assembled from the parts its one statement returns (proj__sales_json).
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

/* JSON from text written with ' for " (readable in C strings). */
static json_t *parse(const char *text)
{
    json_error_t err;
    if (!text)
        return NULL;
    char *t = strdup(text);
    for (char *c = t; *c; c++)
        if (*c == '\'')
            *c = '"';
    json_t *j = json_loads(t, JSON_DECODE_ANY, &err);
    if (!j)
        fail_msg("bad test JSON %s: %s", t, err.text);
    free(t);
    return j;
}

/* Compares j (consumed) with want, keys in any order. */
static void assert_json(json_t *j, const char *want)
{
    json_t *w = parse(want);
    assert_non_null(j);
    if (!json_equal(j, w)) {
        char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s\nwant %s", got, want);
        free(got);
    }
    json_decref(w);
    json_decref(j);
}

typedef struct {
    const char *tiers, *sections, *held, *sales, *series;
} parts_text_t;

static json_t *sales_json(const parts_text_t *t, const char *status)
{
    json_t *j[5] = {parse(t->tiers), parse(t->sections), parse(t->held), parse(t->sales),
                    parse(t->series)};
    proj__sales_parts_t p = {.event_id = "ev1",
                             .organizer_id = "us1",
                             .event_status = status,
                             .as_of_seq = 42,
                             .tiers = j[0],
                             .sections = j[1],
                             .held = j[2],
                             .sales = j[3],
                             .series = j[4]};
    json_t *out = proj__sales_json(&p);
    for (int i = 0; i < 5; i++)
        json_decref(j[i]);
    return out;
}

static const char tiers[] = "[{'key': 'std', 'name': 'Standard',"
                            "  'price': {'amount': 2500, 'currency': 'EUR'}},"
                            " {'key': 'floor', 'name': 'Floor',"
                            "  'price': {'amount': 1500, 'currency': 'EUR'}}]";

static const char series[] =
    "[{'minute': '2026-09-21T14:14:00Z', 'sold': 4, 'gross': {'amount': 8000, 'currency': 'EUR'},"
    "  'refunds': {'amount': 0, 'currency': 'EUR'}},"
    " {'minute': '2026-09-21T14:15:00Z', 'sold': 3, 'gross': {'amount': 10550, 'currency': 'EUR'},"
    "  'refunds': {'amount': 2500, 'currency': 'EUR'}}]";

/* Per tier in the event's order; two sections of one tier add up; lapsed
 * holds (RULE-HOLD-3) are available again, so capacity = sold + held +
 * available; totals sum the tiers; the series (shaped by PostgreSQL) is
 * passed on as it is. */
static void test_tiers_totals_series(void **state)
{
    (void)state;
    parts_text_t t = {
        .tiers = tiers,
        .sections = "[['floor', 100, 94], ['std', 30, 25], ['std', 20, 17]]",
        .held = "[['std', 3, 2], ['floor', 0, 1]]",
        .sales = "[['std', 2, 10600, 2500, 1], ['floor', 5, 7950, 0, 0]]",
        .series = series,
    };
    json_t *j = sales_json(&t, "published");
    assert_json(json_incref(json_object_get(j, "series")), series);
    json_object_del(j, "series");
    assert_json(j, "{'event_id': 'ev1', 'as_of_seq': 42, 'organizer_id': 'us1',"
                   " 'event_status': 'published', 'currency': 'EUR',"
                   " 'tiers': ["
                   "  {'tier': 'std', 'name': 'Standard', 'capacity': 50, 'sold': 2, 'held': 3,"
                   "   'available': 44, 'gross': {'amount': 10600, 'currency': 'EUR'},"
                   "   'refunds': {'amount': 2500, 'currency': 'EUR'}, 'checked_in': 1},"
                   "  {'tier': 'floor', 'name': 'Floor', 'capacity': 100, 'sold': 5, 'held': 0,"
                   "   'available': 95, 'gross': {'amount': 7950, 'currency': 'EUR'},"
                   "   'refunds': {'amount': 0, 'currency': 'EUR'}, 'checked_in': 0}],"
                   " 'totals': {'capacity': 150, 'sold': 7, 'held': 3, 'available': 139,"
                   "   'gross': {'amount': 18550, 'currency': 'EUR'},"
                   "   'refunds': {'amount': 2500, 'currency': 'EUR'}, 'checked_in': 1}}");
}

/* A draft: its tiers, nothing else yet (no sections, no JSON arrays). */
static void test_draft_is_all_zero(void **state)
{
    (void)state;
    parts_text_t t = {.tiers = tiers};
    json_t *j = sales_json(&t, "draft");
    assert_int_equal(json_array_size(json_object_get(j, "tiers")), 2);
    assert_json(json_incref(json_object_get(j, "totals")),
                "{'capacity': 0, 'sold': 0, 'held': 0, 'available': 0,"
                " 'gross': {'amount': 0, 'currency': 'EUR'},"
                " 'refunds': {'amount': 0, 'currency': 'EUR'}, 'checked_in': 0}");
    assert_json(json_incref(json_object_get(j, "series")), "[]");
    assert_string_equal(json_string_value(json_object_get(j, "event_status")), "draft");
    json_decref(j);
}

/* Sales of a tier key the event does not list (a booking without a tier
 * is '') are shown after the event's tiers, not dropped, so the totals
 * still equal the sum of the series. */
static void test_unknown_tier_kept(void **state)
{
    (void)state;
    parts_text_t t = {.tiers = tiers, .sales = "[['', 1, 100, 0, 0], ['std', 1, 2650, 0, 0]]"};
    json_t *j = sales_json(&t, "published");
    json_t *list = json_object_get(j, "tiers");
    assert_int_equal(json_array_size(list), 3);
    assert_json(json_incref(json_array_get(list, 2)),
                "{'tier': '', 'name': null, 'capacity': 0, 'sold': 1, 'held': 0,"
                " 'available': 0, 'gross': {'amount': 100, 'currency': 'EUR'},"
                " 'refunds': {'amount': 0, 'currency': 'EUR'}, 'checked_in': 0}");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "totals"), "sold")), 2);
    json_decref(j);
}

/* Broken parts (a non-array, rows too short, a tier that is no string)
 * give zeros, never a crash; without tiers there is no currency; a series
 * that is no array is an empty one. */
static void test_broken_parts(void **state)
{
    (void)state;
    parts_text_t t = {.tiers = "{'not': 'an array'}",
                      .sections = "[['std'], [7, 1, 1], 'row']",
                      .held = "[[]]",
                      .sales = "[['std', 'x', 2.0]]",
                      .series = "{'not': 'an array'}"};
    json_t *j = sales_json(&t, NULL);
    assert_true(json_is_null(json_object_get(j, "currency")));
    assert_true(json_is_null(json_object_get(j, "event_status")));
    json_t *list = json_object_get(j, "tiers");
    assert_int_equal(json_array_size(list), 1);
    json_t *std = json_array_get(list, 0);
    assert_int_equal(json_integer_value(json_object_get(std, "sold")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(std, "gross"), "amount")),
                     2);
    assert_json(json_incref(json_object_get(j, "series")), "[]");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiers_totals_series),
        cmocka_unit_test(test_draft_is_all_zero),
        cmocka_unit_test(test_unknown_tier_kept),
        cmocka_unit_test(test_broken_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
