/*
 * test_encoding — api/encoding.c: whether an Accept-Encoding field value
 * takes gzip (RFC 9110 section 12.5.3), which decides whether the seat map
 * is sent as gzip.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "api/api_int.h"

static void test_gzip_taken(void **state)
{
    (void)state;
    /* What browsers and curl --compressed send. */
    assert_true(api_gzip_accepted("gzip"));
    assert_true(api_gzip_accepted("gzip, deflate, br"));
    assert_true(api_gzip_accepted("gzip, deflate, br, zstd"));
    assert_true(api_gzip_accepted("deflate, gzip;q=1.0, *;q=0.5"));
    assert_true(api_gzip_accepted("br;q=1.0, gzip;q=0.8, *;q=0.1"));
    /* Names are case-insensitive, x-gzip is gzip, white space is optional. */
    assert_true(api_gzip_accepted("GZip"));
    assert_true(api_gzip_accepted("x-gzip"));
    assert_true(api_gzip_accepted("  gzip ; q=0.5 ,identity;q=0.2"));
    assert_true(api_gzip_accepted("gzip;Q=0.001"));
    /* "*" takes every coding the field does not name. */
    assert_true(api_gzip_accepted("*"));
    assert_true(api_gzip_accepted("br, *;q=0.1"));
    /* At an equal weight gzip (the smaller answer) wins over identity. */
    assert_true(api_gzip_accepted("identity, gzip"));
    assert_true(api_gzip_accepted("gzip, identity;q=0"));
}

static void test_gzip_refused(void **state)
{
    (void)state;
    /* No field, an empty one, or codings without gzip. */
    assert_false(api_gzip_accepted(NULL));
    assert_false(api_gzip_accepted(""));
    assert_false(api_gzip_accepted("identity"));
    assert_false(api_gzip_accepted("deflate, br"));
    /* q=0 is "not acceptable", in every spelling. */
    assert_false(api_gzip_accepted("gzip;q=0"));
    assert_false(api_gzip_accepted("gzip;q=0.0"));
    assert_false(api_gzip_accepted("gzip;q=0.000"));
    assert_false(api_gzip_accepted("gzip; q=0, deflate"));
    assert_false(api_gzip_accepted("x-gzip;q=0"));
    assert_false(api_gzip_accepted("*;q=0"));
    /* A named gzip outranks "*" either way. */
    assert_false(api_gzip_accepted("gzip;q=0, *"));
    assert_true(api_gzip_accepted("gzip, *;q=0"));
    /* A client that prefers identity gets it. */
    assert_false(api_gzip_accepted("gzip;q=0.5, identity"));
    /* Elements that do not parse name nothing (so never gzip by mistake). */
    assert_false(api_gzip_accepted("gzip;q=2"));
    assert_false(api_gzip_accepted("gzip;q=1.5"));
    assert_false(api_gzip_accepted("gzip;q=0.0001"));
    assert_false(api_gzip_accepted("gzip;q="));
    assert_false(api_gzip_accepted("gzip;q=abc"));
    assert_false(api_gzip_accepted("gzip junk"));
    assert_false(api_gzip_accepted("gzipx, xgzip"));
    assert_false(api_gzip_accepted(",,;q=1,"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_taken),
        cmocka_unit_test(test_gzip_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
