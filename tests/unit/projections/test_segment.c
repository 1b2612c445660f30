/*
 * test_segment — projections/segment.c: how holds gather into a segment and
 * become the array parameters of the two set statements, in the log's
 * order in effect (RULE-HOLD-1: one booking per seat at a time).
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"

#include <stdio.h>
#include <string.h>

/* Columns of PROJ_F_HOLDS_PLACED (sql.c). */
enum { P_ID = 0, P_QTY = 5, P_CREATED = 14, P_STATUS = 15, P_UPDATED = 16, P_SEAT_EVENT = 17 };

static evt_hold_placed_t hold(const char *id, const char **seats, uint32_t n_seats, uint32_t qty)
{
    evt_hold_placed_t h;
    memset(&h, 0, sizeof h);
    h.booking_id = id;
    h.event_id = "e1";
    h.section = n_seats ? "A" : "GA";
    h.user_id = "u1";
    h.tier_key = n_seats ? "std" : NULL;
    h.n_seats = n_seats;
    h.seats = seats;
    h.quantity = qty;
    h.unit_price = (ts_money_t){2500, "EUR"};
    return h;
}

static void test_ended_then_placed(void **state)
{
    (void)state;
    proj__segment_t g;
    memset(&g, 0, sizeof g);
    const char *seats[] = {"A-1-1", "A-1-2"};
    evt_hold_placed_t b1 = hold("b1", seats, 2, 2), b2 = hold("b2", NULL, 0, 3);
    const char *p[PROJ_PLACED_COLS];
    uint64_t seq = 0;

    assert_int_equal(proj__seg_place(&g, &b1, 10), 1);
    /* b3 was placed before the segment: it ends in the ended statement,
     * which runs first, freeing its seats before any new hold takes them. */
    proj__seg_end(&g, "b3", "expired", 11);
    assert_int_equal(proj__seg_place(&g, &b2, 12), 1);

    assert_int_equal(proj__seg_ended_params(&g, p, &seq), 1);
    assert_string_equal(p[0], "{\"b3\"}");
    assert_string_equal(p[1], "{\"expired\"}");
    assert_string_equal(p[2], "{\"11\"}");
    assert_int_equal(seq, 11);

    assert_int_equal(proj__seg_placed_params(&g, p, &seq), 1);
    assert_string_equal(p[P_ID], "{\"b1\",\"b2\"}");
    assert_string_equal(p[P_QTY], "{\"2\",\"3\"}");
    assert_string_equal(p[4], "{\"std\",NULL}"); /* a GA hold without a tier */
    assert_string_equal(p[P_CREATED], "{\"10\",\"12\"}");
    assert_string_equal(p[P_STATUS], "{\"held\",\"held\"}");
    assert_string_equal(p[P_UPDATED], "{\"10\",\"12\"}");
    assert_string_equal(p[P_SEAT_EVENT], "{\"e1\",\"e1\"}");
    assert_string_equal(p[P_SEAT_EVENT + 1], "{\"A-1-1\",\"A-1-2\"}");
    assert_string_equal(p[P_SEAT_EVENT + 2], "{\"b1\",\"b1\"}");
    assert_non_null(strstr(p[7], "A-1-2")); /* the items carry the seats */
    assert_int_equal(seq, 12);

    proj__seg_reset(&g);
    assert_int_equal(proj__seg_ended_params(&g, p, &seq), 0);
    assert_int_equal(proj__seg_placed_params(&g, p, &seq), 0);
    proj__seg_deinit(&g);
}

static void test_placed_and_ended_in_one_segment(void **state)
{
    (void)state;
    proj__segment_t g;
    memset(&g, 0, sizeof g);
    const char *seats[] = {"A-1-1"};
    evt_hold_placed_t b1 = hold("b1", seats, 1, 1);
    const char *p[PROJ_PLACED_COLS];
    uint64_t seq = 0;

    assert_int_equal(proj__seg_place(&g, &b1, 10), 1);
    proj__seg_end(&g, "b1", "released", 11);
    /* Only a held booking ends: the second end is a no-op, as in the log. */
    proj__seg_end(&g, "b1", "expired", 12);

    assert_int_equal(proj__seg_ended_params(&g, p, &seq), 0);
    assert_int_equal(proj__seg_placed_params(&g, p, &seq), 1);
    assert_string_equal(p[P_STATUS], "{\"released\"}");
    assert_string_equal(p[P_CREATED], "{\"10\"}");
    assert_string_equal(p[P_UPDATED], "{\"11\"}");
    /* Held then freed: the seat ends as it was, so it is not sent. */
    assert_string_equal(p[P_SEAT_EVENT + 1], "{}");
    assert_int_equal(seq, 11);
    proj__seg_deinit(&g);
}

static void test_repeats(void **state)
{
    (void)state;
    proj__segment_t g;
    memset(&g, 0, sizeof g);
    evt_hold_placed_t b1 = hold("b1", NULL, 0, 1), b3 = hold("b3", NULL, 0, 1);
    const char *p[PROJ_PLACED_COLS];
    uint64_t seq = 0;

    assert_int_equal(proj__seg_place(&g, &b1, 10), 1);
    /* The same booking placed again must wait for the segment to be sent. */
    assert_int_equal(proj__seg_place(&g, &b1, 11), 0);
    proj__seg_end(&g, "b3", "released", 12);
    proj__seg_end(&g, "b3", "expired", 13); /* no-op */
    assert_int_equal(proj__seg_place(&g, &b3, 14), 0);

    assert_int_equal(proj__seg_ended_params(&g, p, &seq), 1);
    assert_string_equal(p[0], "{\"b3\"}");
    assert_string_equal(p[1], "{\"released\"}");
    proj__seg_reset(&g);
    assert_int_equal(proj__seg_place(&g, &b3, 14), 1);
    assert_int_equal(proj__seg_placed_params(&g, p, &seq), 1);
    assert_string_equal(p[P_ID], "{\"b3\"}");
    proj__seg_deinit(&g);
}

static void test_many(void **state)
{
    (void)state;
    /* Enough bookings to grow and rehash the index a few times. */
    enum { N = 3000 };
    static char ids[N][16];
    static evt_hold_placed_t h[N];
    proj__segment_t g;
    memset(&g, 0, sizeof g);
    const char *p[PROJ_PLACED_COLS];
    uint64_t seq = 0;

    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "b%d", i);
        h[i] = hold(ids[i], NULL, 0, 1);
        assert_int_equal(proj__seg_place(&g, &h[i], (uint64_t)i + 1), 1);
    }
    for (int i = 0; i < N; i += 2)
        proj__seg_end(&g, ids[i], "expired", (uint64_t)(N + i));
    proj__seg_end(&g, "elsewhere", "released", 2 * N);
    for (int i = 0; i < N; i++)
        assert_int_equal(proj__seg_place(&g, &h[i], 1), 0);

    assert_int_equal(proj__seg_ended_params(&g, p, &seq), 1);
    assert_string_equal(p[0], "{\"elsewhere\"}");
    assert_int_equal(proj__seg_placed_params(&g, p, &seq), 1);
    assert_true(strncmp(p[P_STATUS], "{\"expired\",\"held\",\"expired\",", 28) == 0);
    assert_int_equal(seq, N + N - 2);
    proj__seg_deinit(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ended_then_placed),
        cmocka_unit_test(test_placed_and_ended_in_one_segment),
        cmocka_unit_test(test_repeats),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
