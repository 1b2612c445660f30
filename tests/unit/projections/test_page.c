/*
 * test_page — projections/page.c: a list request's limit and cursor become
 * its statement's parameters (or a clean TS_ERR_INVALID), and a result with
 * one row more than the page answers {items, next_cursor} with the key of
 * the last item shown. The results are built in memory with libpq's own
 * PQmakeEmptyPGresult / PQsetvalue: no server is needed.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"

#include <string.h>

static void test_limit(void **state)
{
    (void)state;
    int out = 7;
    assert_int_equal(proj__page_limit(0, &out), TS_OK);
    assert_int_equal(out, PROJ_PAGE_DEFAULT);
    assert_int_equal(proj__page_limit(1, &out), TS_OK);
    assert_int_equal(out, 1);
    assert_int_equal(proj__page_limit(PROJ_PAGE_MAX, &out), TS_OK);
    assert_int_equal(out, PROJ_PAGE_MAX);
    out = 7;
    assert_int_equal(proj__page_limit(PROJ_PAGE_MAX + 1, &out), TS_ERR_INVALID);
    assert_int_equal(proj__page_limit(-1, &out), TS_ERR_INVALID);
    assert_int_equal(out, 7);
}

static void test_init_params(void **state)
{
    (void)state;
    proj__page_t pg;
    assert_int_equal(proj__page_init(&pg, "u1", 0, NULL), TS_OK);
    assert_int_equal(pg.limit, PROJ_PAGE_DEFAULT);
    assert_string_equal(pg.params[0], "u1");
    assert_null(pg.params[1]); /* no cursor: the keyset is off */
    assert_null(pg.params[2]);
    assert_string_equal(pg.params[3], "51"); /* one row more than the page */

    char cursor[PROJ_CURSOR_MAX];
    proj__cursor_encode(-1, 1234, "t9", cursor);
    assert_int_equal(proj__page_init(&pg, "u1", 3, cursor), TS_OK);
    assert_int_equal(pg.limit, 3);
    assert_true(pg.seq == 1234);
    assert_string_equal(pg.params[1], "1234");
    assert_string_equal(pg.params[2], "t9");
    assert_string_equal(pg.params[3], "4");
}

static void test_init_refused(void **state)
{
    (void)state;
    proj__page_t pg;
    char ranked[PROJ_CURSOR_MAX];
    proj__cursor_encode(1, 1234, "t9", ranked);
    /* A search cursor (with a rank) is not a position in a user's list. */
    assert_int_equal(proj__page_init(&pg, "u1", 0, ranked), TS_ERR_INVALID);
    assert_int_equal(proj__page_init(&pg, "u1", 0, "garbage!"), TS_ERR_INVALID);
    assert_int_equal(proj__page_init(&pg, "u1", PROJ_PAGE_MAX + 1, NULL), TS_ERR_INVALID);
}

/* A result of n rows (id, key, rank): ids "i0", "i1", ..., keys 100 + row,
 * ranks row % 2. */
static PGresult *rows(int n)
{
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att[3];
    const char *names[3] = {"id", "key", "rank"};
    memset(att, 0, sizeof att);
    for (int c = 0; c < 3; c++) {
        att[c].name = (char *)names[c];
        att[c].format = 0;
        att[c].typlen = -1;
        att[c].atttypmod = -1;
    }
    assert_true(PQsetResultAttrs(r, 3, att));
    for (int i = 0; i < n; i++) {
        char id[16], key[16], rank[16];
        snprintf(id, sizeof id, "i%d", i);
        snprintf(key, sizeof key, "%d", 100 + i);
        snprintf(rank, sizeof rank, "%d", i % 2);
        assert_true(PQsetvalue(r, i, 0, id, (int)strlen(id)));
        assert_true(PQsetvalue(r, i, 1, key, (int)strlen(key)));
        assert_true(PQsetvalue(r, i, 2, rank, (int)strlen(rank)));
    }
    return r;
}

static json_t *id_item(const PGresult *r, int row)
{
    return proj__col_str(r, row, 0);
}

static void test_answer_last_page(void **state)
{
    (void)state;
    proj__list_t l = {.key_col = 1, .rank_col = -1, .item = id_item};
    PGresult *r = rows(2);
    json_t *a = proj__page_json(&l, r, 2);
    assert_int_equal(json_array_size(json_object_get(a, "items")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "items"), 1)), "i1");
    assert_true(json_is_null(json_object_get(a, "next_cursor")));
    json_decref(a);
    PQclear(r);

    r = rows(0);
    a = proj__page_json(&l, r, 5);
    assert_int_equal(json_array_size(json_object_get(a, "items")), 0);
    assert_true(json_is_null(json_object_get(a, "next_cursor")));
    json_decref(a);
    PQclear(r);
}

static void test_answer_next_cursor(void **state)
{
    (void)state;
    /* Three rows for a page of two: the third says there is more, and the
     * cursor is the key of the second. */
    proj__list_t l = {.key_col = 1, .rank_col = -1, .item = id_item};
    PGresult *r = rows(3);
    json_t *a = proj__page_json(&l, r, 2);
    assert_int_equal(json_array_size(json_object_get(a, "items")), 2);
    const char *next = json_string_value(json_object_get(a, "next_cursor"));
    assert_non_null(next);
    int rank = 7;
    int64_t key = 0;
    char id[65];
    assert_int_equal(proj__cursor_decode(next, &rank, &key, id), TS_OK);
    assert_int_equal(rank, -1);
    assert_true(key == 101);
    assert_string_equal(id, "i1");
    json_decref(a);

    /* With a rank column the cursor carries the last item's rank. */
    l.rank_col = 2;
    a = proj__page_json(&l, r, 2);
    next = json_string_value(json_object_get(a, "next_cursor"));
    assert_int_equal(proj__cursor_decode(next, &rank, &key, id), TS_OK);
    assert_int_equal(rank, 1);
    assert_true(key == 101);
    assert_string_equal(id, "i1");
    json_decref(a);
    PQclear(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_init_params),
        cmocka_unit_test(test_init_refused),
        cmocka_unit_test(test_answer_last_page),
        cmocka_unit_test(test_answer_next_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
