/*
 * RULE-PAY-1: webhook signatures. HMAC-SHA256(secret, "<t>.<raw body>") in
 * hex, header "t=<unix>,v1=<hex>", accepted within 300 s either way of now
 * (exactly 300 s is still accepted, 301 s is stale), compared in constant
 * time; forged, altered or malformed headers are refused for what they are.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "payments/payments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t SECRET[] = "whsec_test";
#define SECRET_LEN (sizeof(SECRET) - 1)
static const char BODY[] = "{\"id\":\"evt_1\"}";
#define T0 1700000000LL
/* python3: hmac.new(b"whsec_test", b'1700000000.{"id":"evt_1"}', sha256) */
#define KNOWN_HEX "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"

static pay_sig_result_t verify(const char *header, const char *body, int64_t now)
{
    return pay_signature_verify(SECRET, SECRET_LEN, header, body, strlen(body), now,
                                PAY_SIG_TOLERANCE_S);
}

static void test_header_is_the_documented_hmac(void **state)
{
    (void)state;
    char h[PAY_SIG_HEADER_MAX];
    pay_signature_header(SECRET, SECRET_LEN, T0, BODY, strlen(BODY), h);
    assert_string_equal(h, "t=1700000000,v1=" KNOWN_HEX);
    assert_int_equal(verify(h, BODY, T0), PAY_SIG_OK);
}

static void test_tolerance_is_300_seconds_either_way(void **state)
{
    (void)state;
    char h[PAY_SIG_HEADER_MAX];
    pay_signature_header(SECRET, SECRET_LEN, T0, BODY, strlen(BODY), h);
    assert_int_equal(verify(h, BODY, T0 + 299), PAY_SIG_OK);
    assert_int_equal(verify(h, BODY, T0 + 300), PAY_SIG_OK); /* exactly 300 s: accepted */
    assert_int_equal(verify(h, BODY, T0 + 301), PAY_SIG_STALE);
    assert_int_equal(verify(h, BODY, T0 + 86400), PAY_SIG_STALE);
    /* A clock ahead of ours is bounded the same way. */
    assert_int_equal(verify(h, BODY, T0 - 300), PAY_SIG_OK);
    assert_int_equal(verify(h, BODY, T0 - 301), PAY_SIG_STALE);
}

static void test_forged_or_altered_is_a_mismatch(void **state)
{
    (void)state;
    char h[PAY_SIG_HEADER_MAX];
    /* Signed with another secret. */
    static const uint8_t other[] = "whsec_other";
    pay_signature_header(other, sizeof(other) - 1, T0, BODY, strlen(BODY), h);
    assert_int_equal(verify(h, BODY, T0), PAY_SIG_MISMATCH);
    /* The right signature over another body. */
    pay_signature_header(SECRET, SECRET_LEN, T0, BODY, strlen(BODY), h);
    assert_int_equal(verify(h, "{\"id\":\"evt_2\"}", T0), PAY_SIG_MISMATCH);
    /* The timestamp moved forward to dodge the tolerance: the MAC covers it. */
    assert_int_equal(verify("t=1700000400,v1=" KNOWN_HEX, BODY, T0 + 400), PAY_SIG_MISMATCH);
    /* One hex digit off. */
    char bad[] = "t=1700000000,v1=" KNOWN_HEX;
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '5' ? '6' : '5';
    assert_int_equal(verify(bad, BODY, T0), PAY_SIG_MISMATCH);
    /* Forged and stale: the forgery is what is reported. */
    assert_int_equal(verify(bad, BODY, T0 + 1000), PAY_SIG_MISMATCH);
}

static void test_malformed_headers(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",
        "garbage",
        "t=1700000000",                            /* no v1 */
        "v1=" KNOWN_HEX,                           /* no t */
        "t=,v1=" KNOWN_HEX,                        /* empty t */
        "t=17e8,v1=" KNOWN_HEX,                    /* t not a number */
        "t=-1700000000,v1=" KNOWN_HEX,             /* t negative */
        "t=1700000000,v1=" KNOWN_HEX "0",          /* 65 hex digits */
        "t=1700000000,v1=zz" KNOWN_HEX,            /* not hex */
        "t=1700000000,v0=" KNOWN_HEX,              /* only an unknown scheme */
        "t=99999999999999999999999,v1=" KNOWN_HEX, /* t out of range */
    };
    assert_int_equal(
        pay_signature_verify(SECRET, SECRET_LEN, NULL, BODY, strlen(BODY), T0, PAY_SIG_TOLERANCE_S),
        PAY_SIG_MALFORMED);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pay_sig_result_t r = verify(cases[i], BODY, T0);
        if (r != PAY_SIG_MALFORMED)
            print_message("header \"%s\": %s\n", cases[i], pay_sig_result_str(r));
        assert_int_equal(r, PAY_SIG_MALFORMED);
    }
}

static void test_rotation_and_unknown_keys(void **state)
{
    (void)state;
    /* Two v1 values (a secret being rotated): one matching is enough;
     * unknown keys and spaces after commas are ignored. */
    const char *h = "t=1700000000, v0=abc, v1=" KNOWN_HEX
                    ",v1=0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(verify(h, BODY, T0), PAY_SIG_OK);
    h = "v1=0000000000000000000000000000000000000000000000000000000000000000,t=1700000000,"
        "v1=" KNOWN_HEX;
    assert_int_equal(verify(h, BODY, T0), PAY_SIG_OK);
}

static void test_webhook_body_shape(void **state)
{
    (void)state;
    char *b = pay_webhook_body("evt_1", PAY_EVT_SUCCEEDED, "pay-e-A-1", 5300, "EUR");
    assert_non_null(b);
    assert_string_equal(b, "{\"id\":\"evt_1\",\"type\":\"payment.succeeded\",\"data\":{"
                           "\"payment_id\":\"pay-e-A-1\",\"amount\":5300,\"currency\":\"EUR\"}}");
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_is_the_documented_hmac),
        cmocka_unit_test(test_tolerance_is_300_seconds_either_way),
        cmocka_unit_test(test_forged_or_altered_is_a_mismatch),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_rotation_and_unknown_keys),
        cmocka_unit_test(test_webhook_body_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
