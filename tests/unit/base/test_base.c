/* base/: time, money rounding, keys, ids, map, arena and the reader. */
#include "base/base.h"
#include "base/map.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void time_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
        const char *out;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"},
        {"2026-12-20T18:00:00Z", 1797789600000, "2026-12-20T18:00:00Z"},
        {"2024-02-29T23:59:59.5Z", 1709251199500, "2024-02-29T23:59:59.500Z"},
        {"2026-12-20T20:00:00+02:00", 1797789600000, "2026-12-20T18:00:00Z"},
        {"2026-12-20T17:30:00-00:30", 1797789600000, "2026-12-20T18:00:00Z"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        int64_t ms = -1;
        char buf[32];
        assert_int_equal(ts_time_parse(cases[i].in, &ms), TS_OK);
        assert_int_equal(ms, cases[i].ms);
        ts_time_format(ms, buf);
        assert_string_equal(buf, cases[i].out);
    }
}

static void time_rejects_garbage(void **state)
{
    (void)state;
    static const char *bad[] = {"",
                                "2026-12-20",
                                "2026-12-20 18:00:00Z",
                                "2026-13-20T18:00:00Z",
                                "2026-12-20T24:00:00Z",
                                "2026-12-20T18:00:00",
                                "2026-12-20T18:00:00Zjunk",
                                "2026-12-20T18:00:00.Z",
                                "2026-12-20T18:00:00+0200"};
    for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
        int64_t ms = 42;
        assert_int_equal(ts_time_parse(bad[i], &ms), TS_ERR_INVALID);
        assert_int_equal(ms, 42); /* untouched on failure */
    }
}

/* RULE-PRICE-1: half-up rounding in integer minor units. */
static void bps_half_up(void **state)
{
    (void)state;
    assert_int_equal(ts_bps_half_up(5000, 600), 300); /* 5000 * 6% = 300 exactly */
    assert_int_equal(ts_bps_half_up(2525, 600), 152); /* 151.5 rounds up to 152 */
    assert_int_equal(ts_bps_half_up(2524, 600), 151); /* 151.44 rounds down */
    assert_int_equal(ts_bps_half_up(1, 5000), 1);     /* 0.5 rounds up */
    assert_int_equal(ts_bps_half_up(1, 4999), 0);     /* 0.4999 rounds down */
    assert_int_equal(ts_bps_half_up(0, 600), 0);
}

static void keys_and_ids(void **state)
{
    (void)state;
    assert_true(ts_key_valid("A"));
    assert_true(ts_key_valid("North_1"));
    assert_true(ts_key_valid("abcdefghijklmnop")); /* 16 */
    assert_false(ts_key_valid("abcdefghijklmnopq"));
    assert_false(ts_key_valid(""));
    assert_false(ts_key_valid("A-1"));
    assert_false(ts_key_valid("A.B"));
    assert_false(ts_key_valid(NULL));
    assert_true(ts_id_valid("bk-ev12-A-ff"));
    assert_false(ts_id_valid("a.b"));
    assert_false(ts_id_valid("a b"));
    assert_false(ts_id_valid("tix.>"));
}

static void map_put_get_grow(void **state)
{
    (void)state;
    ts_map_t m;
    ts_arena_t a;
    ts_map_init(&m);
    ts_arena_init(&a, 0);
    assert_int_equal(ts_map_get(&m, "x"), -1);
    for (int i = 0; i < 5000; i++)
        ts_map_put(&m, ts_arena_printf(&a, "key-%d", i), i);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(ts_map_get(&m, ts_arena_printf(&a, "key-%d", i)), i);
    ts_map_put(&m, "key-7", 70);
    assert_int_equal(ts_map_get(&m, "key-7"), 70);
    assert_int_equal(m.len, 5000);
    assert_int_equal(ts_map_get(&m, "key-5000"), -1);
    ts_map_deinit(&m);
    ts_arena_deinit(&a);
}

static void arena_big_and_small(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_arena_init(&a, 64);
    char *s = ts_arena_strdup(&a, "hello");
    void *big = ts_arena_alloc(&a, 10000);
    char *t = ts_arena_strdup(&a, "world");
    memset(big, 0xab, 10000);
    assert_string_equal(s, "hello");
    assert_string_equal(t, "world");
    assert_null(ts_arena_strdup(&a, NULL));
    assert_int_equal((uintptr_t)big % 16, 0);
    /* Uninitialised memory is still the arena's: aligned, apart from the
     * rest, and what follows it is zeroed as ever. */
    unsigned char *raw = ts_arena_alloc_uninit(&a, 100);
    memset(raw, 0xcd, 100);
    unsigned char *z = ts_arena_alloc(&a, 40);
    assert_int_equal((uintptr_t)raw % 16, 0);
    for (int i = 0; i < 40; i++)
        assert_int_equal(z[i], 0);
    assert_string_equal(t, "world");
    ts_arena_deinit(&a);
}

static void reader_bounds(void **state)
{
    (void)state;
    ts_buf_t b;
    ts_arena_t a;
    ts_buf_init(&b);
    ts_arena_init(&a, 0);
    ts_buf_put_u32(&b, 7);
    ts_buf_put_u64(&b, 1ull << 40);
    ts_buf_put_str(&b, "seat");
    ts_buf_put_str(&b, NULL);
    ts_reader_t r;
    ts_reader_init(&r, b.data, b.len);
    assert_int_equal(ts_reader_u32(&r), 7);
    assert_int_equal(ts_reader_u64(&r), 1ull << 40);
    assert_string_equal(ts_reader_str(&r, &a), "seat");
    assert_null(ts_reader_str(&r, &a));
    assert_true(r.ok);
    assert_int_equal(ts_reader_u32(&r), 0); /* past the end */
    assert_false(r.ok);
    /* A length prefix that lies is refused, not read past the buffer. */
    ts_reader_init(&r, b.data, 12 + 4 + 2);
    ts_reader_u32(&r);
    ts_reader_u64(&r);
    assert_null(ts_reader_str(&r, &a));
    assert_false(r.ok);
    ts_buf_deinit(&b);
    ts_arena_deinit(&a);
}

static void status_strings(void **state)
{
    (void)state;
    assert_string_equal(ts_status_str(TS_OK), "ok");
    assert_string_equal(ts_status_str(TS_ERR_CONFLICT),
                        "concurrent write (wrong expected sequence)");
    assert_string_equal(ts_status_str((ts_status)-999), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(time_round_trip),  cmocka_unit_test(time_rejects_garbage),
        cmocka_unit_test(bps_half_up),      cmocka_unit_test(keys_and_ids),
        cmocka_unit_test(map_put_get_grow), cmocka_unit_test(arena_big_and_small),
        cmocka_unit_test(reader_bounds),    cmocka_unit_test(status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
