/*
 * RULE-PRICE-1 (inv_price): integer minor units, never floating point.
 *   subtotal = unit × quantity
 *   fee      = (subtotal − discount) × fee_bps / 10000, half-up
 *   total    = subtotal − discount + fee
 *   vat      = total × vat_bps / (10000 + vat_bps), half-up (VAT is included)
 * Every expected number below is worked out by hand in its comment.
 */
#include "given.h"

typedef struct {
    const char *name;
    int64_t unit;
    uint32_t quantity;
    int64_t discount;
    uint32_t fee_bps, vat_bps;
    /* then */
    int64_t subtotal, discount_applied, fee, total, vat;
} price_case_t;

static const price_case_t prices[] = {
    /* 2500 × 3 = 7500; 7500 × 600 / 10000 = 450; 7500 + 450 = 7950;
     * 7950 × 500 / 10500 = 378.57… → 379 */
    {"3 × 25.00 with the default policy", 2500, 3, 0, 600, 500, 7500, 0, 450, 7950, 379},
    /* 2500 × 4 = 10000; fee 600; total 10600; 10600 × 500 / 10500 = 504.76… → 505 */
    {"4 × 25.00", 2500, 4, 0, 600, 500, 10000, 0, 600, 10600, 505},
    /* 1999 × 3 = 5997; 5997 × 600 / 10000 = 359.82 → 360; total 6357;
     * 6357 × 500 / 10500 = 302.71… → 303 */
    {"3 × 19.99", 1999, 3, 0, 600, 500, 5997, 0, 360, 6357, 303},
    /* 999; 999 × 600 / 10000 = 59.94 → 60; total 1059; 1059 × 500 / 10500 = 50.43 → 50 */
    {"1 × 9.99", 999, 1, 0, 600, 500, 999, 0, 60, 1059, 50},
    /* 1; 1 × 600 / 10000 = 0.06 → 0; total 1; 1 × 500 / 10500 = 0.048 → 0 */
    {"1 minor unit", 1, 1, 0, 600, 500, 1, 0, 0, 1, 0},
    /* 0 × 2 = 0: nothing to pay, no fee, no VAT */
    {"a free ticket", 0, 2, 0, 600, 500, 0, 0, 0, 0, 0},
    /* 25; 25 × 600 / 10000 = 1.5 exactly → 2 (half-up); total 27;
     * 27 × 500 / 10500 = 1.29 → 1 */
    {"fee of exactly 1.5 rounds up", 25, 1, 0, 600, 500, 25, 0, 2, 27, 1},
    /* 25 × 3 = 75; 75 × 600 / 10000 = 4.5 exactly → 5; total 80;
     * 80 × 500 / 10500 = 3.81 → 4 */
    {"fee of exactly 4.5 rounds up", 25, 3, 0, 600, 500, 75, 0, 5, 80, 4},
    /* 4999 × 1 / 10000 = 0.4999 → 0; total 4999; no VAT */
    {"fee just under a half rounds down", 4999, 1, 0, 1, 0, 4999, 0, 0, 4999, 0},
    /* 5000 × 1 / 10000 = 0.5 exactly → 1; total 5001 */
    {"fee of exactly 0.5 rounds up", 5000, 1, 0, 1, 0, 5000, 0, 1, 5001, 0},
    /* 1 × 5000 / 10000 = 0.5 → 1; total 2; 2 × 500 / 10500 = 0.095 → 0 */
    {"a 50 % fee on 1 minor unit", 1, 1, 0, 5000, 500, 1, 0, 1, 2, 0},
    /* 1 × 3 = 3, no fee; 3 × 2000 / 12000 = 0.5 exactly → 1 */
    {"VAT of exactly 0.5 rounds up", 1, 3, 0, 0, 2000, 3, 0, 0, 3, 1},
    /* 3 × 3 = 9, no fee; 9 × 2000 / 12000 = 1.5 exactly → 2 */
    {"VAT of exactly 1.5 rounds up", 3, 3, 0, 0, 2000, 9, 0, 0, 9, 2},
    /* 1, no fee; 1 × 9999 / 19999 = 0.499975 → 0 */
    {"VAT just under a half rounds down", 1, 1, 0, 0, 9999, 1, 0, 0, 1, 0},
    /* 1, no fee; 1 × 10000 / 20000 = 0.5 exactly → 1 */
    {"VAT of 100 % on 1 minor unit", 1, 1, 0, 0, 10000, 1, 0, 0, 1, 1},
    /* 7950 as in the first row; 7950 × 10000 / 20000 = 3975 exactly */
    {"VAT of 100 %", 2500, 3, 0, 600, 10000, 7500, 0, 450, 7950, 3975},
    /* 333; fee 333 × 10000 / 10000 = 333; total 666; no VAT */
    {"a 100 % fee and no VAT", 333, 1, 0, 10000, 0, 333, 0, 333, 666, 0},
    /* 2500 × 2 = 5000; − 1000 = 4000; 4000 × 600 / 10000 = 240 (on the discounted
     * amount); total 4240; 4240 × 500 / 10500 = 201.90 → 202 */
    {"the fee is on subtotal − discount", 2500, 2, 1000, 600, 500, 5000, 1000, 240, 4240, 202},
    /* 1000, discount 1500 is capped at 1000; base 0, fee 0, total 0 */
    {"a discount over the subtotal is capped", 1000, 1, 1500, 600, 500, 1000, 1000, 0, 0, 0},
    /* 1000 − 1000 = 0 */
    {"a discount of the whole subtotal", 1000, 1, 1000, 600, 500, 1000, 1000, 0, 0, 0},
    /* 100000000 × 50 = 5000000000; fee 300000000; total 5300000000;
     * 5300000000 × 500 / 10500 = 252380952.38 → 252380952 (no overflow) */
    {"the largest order", 100000000, 50, 0, 600, 500, 5000000000LL, 0, 300000000LL, 5300000000LL,
     252380952LL},
};

static void test_rule_price_1_inv_price(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(prices); i++) {
        const price_case_t *c = &prices[i];
        evt_hold_placed_t h = {.quantity = c->quantity, .discount = c->discount};
        h.unit_price.amount = c->unit;
        memcpy(h.unit_price.currency, "EUR", 4);
        inv_price(&h, c->fee_bps, c->vat_bps);
        if (h.subtotal != c->subtotal || h.discount != c->discount_applied ||
            h.service_fee != c->fee || h.total != c->total || h.vat_included != c->vat)
            print_message("case: %s: got subtotal %lld discount %lld fee %lld total %lld vat "
                          "%lld\n",
                          c->name, (long long)h.subtotal, (long long)h.discount,
                          (long long)h.service_fee, (long long)h.total, (long long)h.vat_included);
        assert_int_equal(h.subtotal, c->subtotal);
        assert_int_equal(h.discount, c->discount_applied);
        assert_int_equal(h.service_fee, c->fee);
        assert_int_equal(h.total, c->total);
        assert_int_equal(h.vat_included, c->vat);
        /* The inputs are left alone. */
        assert_int_equal(h.unit_price.amount, c->unit);
        assert_int_equal(h.quantity, c->quantity);
        assert_string_equal(h.unit_price.currency, "EUR");
    }
}

/* RULE-PRICE-1 through a hold: the shard's price and policy price it. */
static void test_rule_price_1_hold_is_priced(void **state)
{
    (void)state;
    static const given_step_t none[] = {{0}};
    inv_state_t *s = given_inventory("GA", none);
    given_t *g = given_new();
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "GA", .quantity = 4};
    given_when(g, GIVEN_T0, "u1");
    inv_hold_decide(s, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:x4)");
    const evt_hold_placed_t *h = &g->out.events[0].u.hold_placed;
    /* 1500 × 4 = 6000; 6000 × 600 / 10000 = 360; total 6360;
     * 6360 × 500 / 10500 = 302.86 → 303 */
    assert_string_equal(h->unit_price.currency, "EUR");
    assert_int_equal(h->unit_price.amount, 1500);
    assert_int_equal(h->subtotal, 6000);
    assert_int_equal(h->discount, 0);
    assert_int_equal(h->service_fee, 360);
    assert_int_equal(h->total, 6360);
    assert_int_equal(h->vat_included, 303);
    given_free(g);
    given_state_free(CMD_AGG_INV, s);
}

/* RULE-PROMO-1 priced by RULE-PRICE-1, through a hold on a GA shard whose
 * unit costs `unit`: percent off the subtotal half-up, or an amount off
 * capped at the subtotal; the fee is on what is left. */
typedef struct {
    const char *name;
    int64_t unit;
    uint32_t quantity;
    uint32_t percent_off;
    int64_t amount_off;
    const char *then;
    /* then, when accepted */
    int64_t discount, fee, total, vat;
} promo_case_t;

static const promo_case_t promos[] = {
    /* 999 × 50 % = 499.5 → 500; base 499; fee 29.94 → 30; total 529;
     * 529 × 500 / 10500 = 25.19 → 25 */
    {"RULE-PROMO-1 50 % of 999 rounds half up", 999, 1, 50, 0, "HoldPlaced(n1:x1)", 500, 30, 529,
     25},
    /* 999 × 33 % = 329.67 → 330; base 669; fee 40.14 → 40; total 709; 33.76 → 34 */
    {"RULE-PROMO-1 33 % of 999", 999, 1, 33, 0, "HoldPlaced(n1:x1)", 330, 40, 709, 34},
    /* 999 × 1 % = 9.99 → 10; base 989; fee 59.34 → 59; total 1048; 49.90 → 50 */
    {"RULE-PROMO-1 1 % of 999", 999, 1, 1, 0, "HoldPlaced(n1:x1)", 10, 59, 1048, 50},
    /* 3 × 999 = 2997 × 15 % = 449.55 → 450; base 2547; fee 152.82 → 153;
     * total 2700; 2700 × 500 / 10500 = 128.57 → 129 */
    {"RULE-PROMO-1 15 % of three units", 999, 3, 15, 0, "HoldPlaced(n1:x3)", 450, 153, 2700, 129},
    /* 1 × 50 % = 0.5 → 1: nothing left to pay */
    {"RULE-PROMO-1 50 % of one minor unit", 1, 1, 50, 0, "HoldPlaced(n1:x1)", 1, 0, 0, 0},
    /* 1 × 49 % = 0.49 → 0 */
    {"RULE-PROMO-1 49 % of one minor unit", 1, 1, 49, 0, "HoldPlaced(n1:x1)", 0, 0, 1, 0},
    {"RULE-PROMO-1 100 %", 999, 2, 100, 0, "HoldPlaced(n1:x2)", 1998, 0, 0, 0},
    /* 999 − 300 = 699; fee 41.94 → 42; total 741; 35.29 → 35 */
    {"RULE-PROMO-1 an amount off", 999, 1, 0, 300, "HoldPlaced(n1:x1)", 300, 42, 741, 35},
    {"RULE-PROMO-1 an amount of exactly the subtotal", 999, 2, 0, 1998, "HoldPlaced(n1:x2)", 1998,
     0, 0, 0},
    {"RULE-PROMO-1 an amount over the subtotal is capped", 999, 2, 0, 5000, "HoldPlaced(n1:x2)",
     1998, 0, 0, 0},
    /* 1998 − 1997 = 1; fee 0.06 → 0 */
    {"RULE-PROMO-1 one minor unit left", 999, 2, 0, 1997, "HoldPlaced(n1:x2)", 1997, 0, 1, 0},
    {"RULE-PROMO-1 over 100 %", 999, 1, 101, 0, "!validation_failed field=promo_code", 0, 0, 0, 0},
    {"RULE-PROMO-1 both kinds of terms", 999, 1, 10, 100, "!validation_failed field=promo_code", 0,
     0, 0, 0},
    {"RULE-PROMO-1 a negative amount", 999, 1, 0, -1, "!validation_failed field=promo_code", 0, 0,
     0, 0},
};

static void test_rule_promo_1_hold_discount(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(promos); i++) {
        const promo_case_t *c = &promos[i];
        ts_arena_t a;
        ts_arena_init(&a, 0);
        evt_event_t opened = given_inventory_opened(&a, "GA");
        opened.u.inventory_opened.price.amount = c->unit;
        inv_state_t *s = given_state(CMD_AGG_INV, &opened, 1);
        ts_arena_deinit(&a);
        given_t *g = given_new();
        inv_hold_cmd_t cmd = {.event_id = "e1",
                              .section = "GA",
                              .quantity = c->quantity,
                              .promo_code = "SPRING",
                              .percent_off = c->percent_off,
                              .amount_off = c->amount_off};
        given_when(g, GIVEN_T0, "u1");
        inv_hold_decide(s, &cmd, &g->ctx, &g->out);
        then_case(g, c->name, c->then);
        if (!g->out.reject) {
            const evt_hold_placed_t *h = &g->out.events[0].u.hold_placed;
            if (h->discount != c->discount || h->service_fee != c->fee || h->total != c->total ||
                h->vat_included != c->vat)
                print_message("case: %s: discount %lld fee %lld total %lld vat %lld\n", c->name,
                              (long long)h->discount, (long long)h->service_fee,
                              (long long)h->total, (long long)h->vat_included);
            assert_int_equal(h->subtotal, c->unit * c->quantity);
            assert_int_equal(h->discount, c->discount);
            assert_int_equal(h->service_fee, c->fee);
            assert_int_equal(h->total, c->total);
            assert_int_equal(h->vat_included, c->vat);
            assert_string_equal(h->promo_code, "SPRING");
            /* The booking keeps the code and the price (apply copies). */
            given_apply_out(CMD_AGG_INV, s, g);
            const inv_booking_t *b = inv_booking_find(s, "n1");
            assert_string_equal(b->hold.promo_code, "SPRING");
            assert_int_equal(b->hold.total, c->total);
        }
        given_free(g);
        given_state_free(CMD_AGG_INV, s);
    }
}

/* ts_bps_half_up, which the fee uses. */
static void test_rule_price_1_bps_half_up(void **state)
{
    (void)state;
    static const struct {
        int64_t a;
        uint32_t bps;
        int64_t then;
    } cases[] = {
        {0, 600, 0},      /* 0 */
        {10000, 1, 1},    /* 1 */
        {4999, 1, 0},     /* 0.4999 */
        {5000, 1, 1},     /* 0.5 */
        {14999, 1, 1},    /* 1.4999 */
        {15000, 1, 2},    /* 1.5 */
        {7500, 600, 450}, /* 450 */
        {7501, 600, 450}, /* 450.06 */
        {7509, 600, 451}, /* 450.54 */
        {12345, 10000, 12345}, {5000000000LL, 600, 300000000LL},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++)
        assert_int_equal(ts_bps_half_up(cases[i].a, cases[i].bps), cases[i].then);
}

/* RULE-PRICE-1 with RULE-PROMO-1: promo_discount, then the price on the
 * discounted amount. A percentage is half-up on the subtotal; an amount off
 * never takes the subtotal below zero. */
typedef struct {
    const char *name;
    int64_t unit;
    uint32_t quantity;
    uint32_t percent_off;
    int64_t amount_off;
    uint32_t fee_bps, vat_bps;
    /* then */
    int64_t subtotal, discount, fee, total, vat;
} promo_price_case_t;

static const promo_price_case_t promo_prices[] = {
    /* 2500 × 3 = 7500; 10 % = 750; 6750 × 600 / 10000 = 405; total 7155;
     * 7155 × 500 / 10500 = 340.71… → 341 */
    {"10 % of 3 × 25.00", 2500, 3, 10, 0, 600, 500, 7500, 750, 405, 7155, 341},
    /* 2510; 15 % = 376.5 exactly → 377 (half-up); 2133 × 600 / 10000 =
     * 127.98 → 128; total 2261; 2261 × 500 / 10500 = 107.67 → 108 */
    {"15 % of 25.10 is 376.5: rounds up", 2510, 1, 15, 0, 600, 500, 2510, 377, 128, 2261, 108},
    /* 2490; 15 % = 373.5 exactly → 374; 2116 × 0.06 = 126.96 → 127; total
     * 2243; 2243 / 21 = 106.81 → 107 */
    {"15 % of 24.90 is 373.5: rounds up", 2490, 1, 15, 0, 600, 500, 2490, 374, 127, 2243, 107},
    /* 2505; 10 % = 250.5 exactly → 251; 2254 × 0.06 = 135.24 → 135; total
     * 2389; 2389 / 21 = 113.76 → 114 */
    {"10 % of 25.05 is 250.5: rounds up", 2505, 1, 10, 0, 600, 500, 2505, 251, 135, 2389, 114},
    /* 1999 × 3 = 5997; 10 % = 599.7 → 600; 5397 × 0.06 = 323.82 → 324;
     * total 5721; 5721 / 21 = 272.43 → 272 */
    {"10 % of 3 × 19.99 (odd cents)", 1999, 3, 10, 0, 600, 500, 5997, 600, 324, 5721, 272},
    /* 1001; 33 % = 330.33 → 330; 671 × 0.06 = 40.26 → 40; total 711;
     * 711 / 21 = 33.86 → 34 */
    {"33 % of 10.01", 1001, 1, 33, 0, 600, 500, 1001, 330, 40, 711, 34},
    /* 50; 1 % = 0.5 exactly → 1; 49 × 0.06 = 2.94 → 3; total 52;
     * 52 / 21 = 2.48 → 2 */
    {"1 % of 0.50 is 0.5: rounds up", 50, 1, 1, 0, 600, 500, 50, 1, 3, 52, 2},
    /* 49; 1 % = 0.49 → 0; 49 × 0.06 = 2.94 → 3; total 52; 2 */
    {"1 % of 0.49 is 0.49: rounds down", 49, 1, 1, 0, 600, 500, 49, 0, 3, 52, 2},
    /* 1; 50 % = 0.5 → 1: the whole subtotal; nothing to pay */
    {"50 % of 1 minor unit", 1, 1, 50, 0, 600, 500, 1, 1, 0, 0, 0},
    /* 7500; 100 % = 7500; nothing to pay, no fee, no VAT */
    {"100 % off", 2500, 3, 100, 0, 600, 500, 7500, 7500, 0, 0, 0},
    /* 7500 − 500 = 7000; 7000 × 0.06 = 420; total 7420; 7420 / 21 = 353.33 → 353 */
    {"5.00 off 3 × 25.00", 2500, 3, 0, 500, 600, 500, 7500, 500, 420, 7420, 353},
    /* 7500, 90.00 off is capped at 75.00 */
    {"an amount over the subtotal is capped", 2500, 3, 0, 9000, 600, 500, 7500, 7500, 0, 0, 0},
    /* 10 − 1 = 9, no fee; 9 × 2000 / 12000 = 1.5 exactly → 2 */
    {"VAT of exactly 1.5 after a discount", 10, 1, 0, 1, 0, 2000, 10, 1, 0, 9, 2},
    /* 25 × 3 = 75 − 0.50 … 75 − 50 = 25; 25 × 0.06 = 1.5 exactly → 2; total 27;
     * 27 / 21 = 1.29 → 1 */
    {"fee of exactly 1.5 after a discount", 25, 3, 0, 50, 600, 500, 75, 50, 2, 27, 1},
    /* 100000000 × 50 = 5000000000; 7 % = 350000000; 4650000000 × 0.06 =
     * 279000000; total 4929000000; / 21 = 234714285.71 → 234714286 */
    {"the largest order, 7 % off", 100000000, 50, 7, 0, 600, 500, 5000000000LL, 350000000LL,
     279000000LL, 4929000000LL, 234714286LL},
};

static void test_rule_price_1_with_promo(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(promo_prices); i++) {
        const promo_price_case_t *c = &promo_prices[i];
        evt_hold_placed_t h = {.quantity = c->quantity};
        h.unit_price.amount = c->unit;
        memcpy(h.unit_price.currency, "EUR", 4);
        h.discount = promo_discount(c->unit * (int64_t)c->quantity, c->percent_off, c->amount_off);
        inv_price(&h, c->fee_bps, c->vat_bps);
        if (h.subtotal != c->subtotal || h.discount != c->discount || h.service_fee != c->fee ||
            h.total != c->total || h.vat_included != c->vat)
            print_message("case: %s: got subtotal %lld discount %lld fee %lld total %lld vat "
                          "%lld\n",
                          c->name, (long long)h.subtotal, (long long)h.discount,
                          (long long)h.service_fee, (long long)h.total, (long long)h.vat_included);
        assert_int_equal(h.subtotal, c->subtotal);
        assert_int_equal(h.discount, c->discount);
        assert_int_equal(h.service_fee, c->fee);
        assert_int_equal(h.total, c->total);
        assert_int_equal(h.vat_included, c->vat);
        /* Integer arithmetic throughout: the parts add up exactly. */
        assert_int_equal(h.total, h.subtotal - h.discount + h.service_fee);
    }
}

/* promo_discount alone, at its edges. */
static void test_rule_promo_1_discount(void **state)
{
    (void)state;
    assert_int_equal(promo_discount(0, 10, 0), 0);
    assert_int_equal(promo_discount(1000, 0, 0), 0);
    assert_int_equal(promo_discount(1000, 100, 0), 1000);
    assert_int_equal(promo_discount(1000, 0, 1000), 1000);
    assert_int_equal(promo_discount(1000, 0, 1001), 1000);
    assert_int_equal(promo_discount(1000, 0, -1), 0);
    assert_int_equal(promo_discount(5, 10, 0), 1);  /* 0.5 → 1 */
    assert_int_equal(promo_discount(15, 10, 0), 2); /* 1.5 → 2 */
    assert_int_equal(promo_discount(14, 10, 0), 1); /* 1.4 → 1 */
    assert_int_equal(promo_discount(4, 10, 0), 0);  /* 0.4 → 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_price_1_with_promo),
        cmocka_unit_test(test_rule_promo_1_discount),
        cmocka_unit_test(test_rule_price_1_inv_price),
        cmocka_unit_test(test_rule_price_1_hold_is_priced),
        cmocka_unit_test(test_rule_promo_1_hold_discount),
        cmocka_unit_test(test_rule_price_1_bps_half_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
