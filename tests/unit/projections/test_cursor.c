/*
 * test_cursor — projections/cursor.c: the opaque cursor of proj_events_list
 * round-trips its key and refuses anything its encoder cannot produce.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"

#include <string.h>

static void test_round_trip(void **state)
{
    (void)state;
    static const struct {
        int rank; /* -1: a list without a text search */
        int64_t ms;
        const char *id;
    } keys[] = {
        {-1, 1797789600000, "e1"},
        {-1, 0, "a"},
        {-1, -1000, "before-the-epoch"},
        {-1, 999999999999999999, "x"},
        {-1, 1797789600123, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        {-1, 42, "with_underscore-and-dash"},
        {0, 1797789600000, "e1"},
        {1, -1000, "before-the-epoch"},
        {1, 999999999999999999, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(keys); i++) {
        char cursor[PROJ_CURSOR_MAX], id[65] = "";
        int64_t ms = 7;
        int rank = 7;
        proj__cursor_encode(keys[i].rank, keys[i].ms, keys[i].id, cursor);
        /* URL-safe: no '+', '/', '=' or anything needing escapes. */
        for (const char *p = cursor; *p; p++)
            assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_",
                                   *p));
        assert_int_equal(proj__cursor_decode(cursor, &rank, &ms, id), TS_OK);
        assert_int_equal(rank, keys[i].rank);
        assert_true(ms == keys[i].ms);
        assert_string_equal(id, keys[i].id);
    }
}

static void test_refused(void **state)
{
    (void)state;
    char good[PROJ_CURSOR_MAX], tweaked[PROJ_CURSOR_MAX];
    proj__cursor_encode(-1, 1797789600000, "e1", good);
    strcpy(tweaked, good);
    tweaked[strlen(tweaked) - 1] ^= 1; /* other low bits in the last digit */

    char long_id[PROJ_CURSOR_MAX];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    char too_long[PROJ_CURSOR_MAX];
    proj__cursor_encode(-1, 1, long_id, too_long); /* the id is not a valid id */

    const char *bad[] = {
        "",
        "A",                            /* length 1 mod 4 */
        "garbage!",                     /* not base64url */
        "MTIz",                         /* "123": no '.' */
        "LmUx",                         /* ".e1": no number */
        "MDEuZTE",                      /* "01.e1": leading zero, not the encoder's */
        "MS5lIDE",                      /* "1.e 1": space in the id */
        "MS4",                          /* "1.": empty id */
        "MS5lMQ==",                     /* padding */
        "MS5lMS4y",                     /* "1.e1.2": '.' in the id */
        "OTk5OTk5OTk5OTk5OTk5OTk5OS5l", /* 19 digits: out of range */
        "cjEuMS5lMQ==",                 /* "r1.1.e1" padded */
        "cjEx",                         /* "r11": no '.' after the rank */
        "ckEuMS5lMQ",                   /* "rA.1.e1": the rank is not a digit */
        "cjEuZTE",                      /* "r1.e1": no number after the rank */
        tweaked,
        too_long,
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
        int64_t ms = 7;
        int rank = 7;
        char id[65] = "untouched";
        assert_int_equal(proj__cursor_decode(bad[i], &rank, &ms, id), TS_ERR_INVALID);
        /* Outputs are written only on success. */
        assert_true(ms == 7);
        assert_int_equal(rank, 7);
        assert_string_equal(id, "untouched");
    }
    int64_t ms;
    int rank;
    char id[65];
    assert_int_equal(proj__cursor_decode(NULL, &rank, &ms, id), TS_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
