/*
 * test_carry — what a build (projections/build.c) adds to the segments of
 * segment.c: a segment that outlives the memory of the commits it was made
 * from (proj__seg_own), its COPY rows for the staging tables, and the
 * names an analyst's copy may take.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static evt_hold_placed_t *hold(ts_arena_t *a, const char *id, const char *seat, uint32_t qty)
{
    evt_hold_placed_t *h = ts_arena_alloc(a, sizeof *h);
    h->booking_id = ts_arena_strdup(a, id);
    h->event_id = ts_arena_strdup(a, "e1");
    h->section = ts_arena_strdup(a, seat ? "A" : "GA");
    h->user_id = ts_arena_strdup(a, "u1");
    h->tier_key = ts_arena_strdup(a, seat ? "std" : "floor");
    if (seat) {
        const char **seats = ts_arena_alloc(a, sizeof *seats);
        seats[0] = ts_arena_strdup(a, seat);
        h->seats = seats;
        h->n_seats = 1;
    }
    h->quantity = qty;
    h->unit_price = (ts_money_t){2500, "EUR"};
    h->subtotal = 2500 * (int64_t)qty;
    h->total = h->subtotal;
    return h;
}

/* A segment carried across two batches: the first batch's commits are gone
 * (their arena reset and overwritten) when the second ends a booking of the
 * first; the booking is still sent once, already ended, and its seat never. */
static void test_own_outlives_the_batch(void **state)
{
    (void)state;
    proj__segment_t g;
    ts_arena_t batch;
    ts_buf_t placed, seats, ended;
    uint64_t seq = 0;
    memset(&g, 0, sizeof g);
    ts_arena_init(&batch, 256);
    ts_buf_init(&placed);
    ts_buf_init(&seats);
    ts_buf_init(&ended);

    assert_int_equal(proj__seg_place(&g, hold(&batch, "b1", "A-1-1", 1), 10), 1);
    proj__seg_end(&g, "b0", "released", 11); /* placed before the segment */
    proj__seg_own(&g);
    ts_arena_reset(&batch);
    for (int i = 0; i < 64; i++) /* whatever the next batch puts there */
        memset(ts_arena_alloc(&batch, 64), 'x', 64);

    assert_int_equal(proj__seg_place(&g, hold(&batch, "b2", NULL, 3), 12), 1);
    proj__seg_end(&g, "b1", "expired", 13);
    proj__seg_own(&g);
    ts_arena_reset(&batch);
    assert_int_equal(proj__seg_size(&g), 3);

    proj__seg_copy_ended(&g, &ended, &seq);
    ts_buf_put_u8(&ended, '\0');
    assert_string_equal((char *)ended.data, "b0\treleased\t11\n");
    assert_int_equal(seq, 11);
    seq = 0;
    proj__seg_copy_placed(&g, 0, 10, &placed, &seats, &seq);
    ts_buf_put_u8(&placed, '\0');
    ts_buf_put_u8(&seats, '\0');
    const char *b1 = strstr((char *)placed.data, "b1\te1\tA\tu1\tstd\t1\t");
    const char *b2 = strstr((char *)placed.data, "b2\te1\tGA\tu1\tfloor\t3\t");
    assert_non_null(b1);
    assert_non_null(b2);
    /* b1: created at 10, expired at 13; b2: still held. */
    assert_non_null(strstr(b1, "\tEUR\t10\texpired\t13\n"));
    assert_non_null(strstr(b2, "\tEUR\t12\theld\t12\n"));
    assert_non_null(strstr(b1, "[{\"seat\":\"A-1-1\""));
    assert_string_equal((char *)seats.data, ""); /* b1's seat: held then freed */
    assert_int_equal(seq, 13);

    proj__seg_reset(&g);
    assert_int_equal(proj__seg_size(&g), 0);
    proj__seg_deinit(&g);
    ts_arena_deinit(&batch);
    ts_buf_deinit(&placed);
    ts_buf_deinit(&seats);
    ts_buf_deinit(&ended);
}

/* Text from the log is untrusted: COPY's separators and escapes in it are
 * escaped, and a NULL is \N (not the string "\N"). */
static void test_copy_escapes(void **state)
{
    (void)state;
    proj__segment_t g;
    ts_arena_t a;
    ts_buf_t placed, seats;
    uint64_t seq = 0;
    memset(&g, 0, sizeof g);
    ts_arena_init(&a, 256);
    ts_buf_init(&placed);
    ts_buf_init(&seats);
    evt_hold_placed_t *h = hold(&a, "b\t1", "A-1-1", 1);
    h->user_id = "u\\1\nx\r";
    h->tier_key = NULL;
    assert_int_equal(proj__seg_place(&g, h, 5), 1);
    proj__seg_copy_placed(&g, 0, 1, &placed, &seats, &seq);
    ts_buf_put_u8(&placed, '\0');
    ts_buf_put_u8(&seats, '\0');
    assert_non_null(strstr((char *)placed.data, "b\\t1\te1\tA\tu\\\\1\\nx\\r\t\\N\t1\t"));
    assert_string_equal((char *)seats.data, "e1\tA-1-1\tb\\t1\n");
    /* Exactly one row: 17 fields, one newline. */
    int tabs = 0, newlines = 0;
    for (const char *p = (char *)placed.data; *p; p++) {
        tabs += *p == '\t';
        newlines += *p == '\n';
    }
    assert_int_equal(tabs, 16);
    assert_int_equal(newlines, 1);
    proj__seg_deinit(&g);
    ts_arena_deinit(&a);
    ts_buf_deinit(&placed);
    ts_buf_deinit(&seats);
}

/* The items a build writes directly are the value proj__items_json makes
 * (the projector's), for seats, GA units and awkward strings alike. */
static void test_items_text(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_buf_t b;
    ts_arena_init(&a, 256);
    ts_buf_init(&b);
    evt_hold_placed_t *holds[] = {hold(&a, "b1", "A-1-1", 1), hold(&a, "b2", NULL, 3),
                                  hold(&a, "b3", "A-\"1\\-\t2", 1), hold(&a, "b4", NULL, 0)};
    holds[1]->tier_key = NULL;
    holds[1]->unit_price = (ts_money_t){-7, ""};
    for (size_t i = 0; i < sizeof holds / sizeof *holds; i++) {
        b.len = 0;
        proj__items_text(&b, holds[i]);
        json_error_t err;
        json_t *got = json_loads((const char *)b.data, 0, &err);
        json_t *want = proj__items_json(holds[i]);
        assert_non_null(got);
        if (!json_equal(got, want)) {
            char *w = json_dumps(want, JSON_COMPACT);
            fail_msg("hold %zu: got %s, want %s", i, (const char *)b.data, w);
            free(w);
        }
        json_decref(got);
        json_decref(want);
    }
    ts_arena_deinit(&a);
    ts_buf_deinit(&b);
}

static void test_schema_names(void **state)
{
    (void)state;
    const char *good[] = {"asof", "as_of_2026", "_x", "a", "snapshot_9"};
    const char *bad[] = {NULL,
                         "",
                         "Asof",
                         "9lives",
                         "as-of",
                         "as of",
                         "public",
                         "pg_x",
                         "catalog",
                         "catalog_v7",
                         "information_schema",
                         "x\"; DROP",
                         "\xc3\xa9t\xc3\xa9",
                         "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(proj_schema_name_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(proj_schema_name_valid(bad[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_outlives_the_batch),
        cmocka_unit_test(test_copy_escapes),
        cmocka_unit_test(test_items_text),
        cmocka_unit_test(test_schema_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
