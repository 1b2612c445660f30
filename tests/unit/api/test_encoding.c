/*
 * test_encoding — api/encoding.c: whether an Accept-Encoding field value
 * takes gzip, and which of zstd, gzip and identity it gets (RFC 9110
 * section 12.5.3, RFC 9659), which decides how the seat map is sent.
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

#define ZSTD API_CODING_ZSTD
#define GZIP API_CODING_GZIP
#define IDENTITY API_CODING_IDENTITY

static void test_zstd_chosen(void **state)
{
    (void)state;
    /* What Chrome 123+ and Firefox 126+ send: all at q=1, zstd the
     * smallest answer. */
    assert_int_equal(api_coding_of("gzip, deflate, br, zstd"), ZSTD);
    assert_int_equal(api_coding_of("zstd"), ZSTD);
    assert_int_equal(api_coding_of("zstd, gzip"), ZSTD);
    assert_int_equal(api_coding_of("gzip;q=0.5, zstd;q=0.5"), ZSTD); /* a tie: zstd */
    assert_int_equal(api_coding_of("gzip;q=0.5, zstd;q=0.501"), ZSTD);
    /* Case-insensitive, white space optional, weights in any spelling. */
    assert_int_equal(api_coding_of("ZSTD"), ZSTD);
    assert_int_equal(api_coding_of("gzip ,  ZStd ; Q=1.000"), ZSTD);
    assert_int_equal(api_coding_of("zstd;q=0.001"), ZSTD);
    /* Named next to "*". */
    assert_int_equal(api_coding_of("zstd, *"), ZSTD);
    /* Above identity and gzip, wherever it is in the field. */
    assert_int_equal(api_coding_of("deflate, zstd;q=0.9, identity;q=0.5, gzip;q=0.8"), ZSTD);
    /* zstd at the weight of identity: the smaller answer. */
    assert_int_equal(api_coding_of("zstd;q=0.5, identity;q=0.5"), ZSTD);
    /* A coding named twice keeps its first weight. */
    assert_int_equal(api_coding_of("zstd, zstd;q=0, gzip"), ZSTD);
}

static void test_zstd_not_chosen(void **state)
{
    (void)state;
    /* No field, an empty one, only codings we do not send: identity. */
    assert_int_equal(api_coding_of(NULL), IDENTITY);
    assert_int_equal(api_coding_of(""), IDENTITY);
    assert_int_equal(api_coding_of("identity"), IDENTITY);
    assert_int_equal(api_coding_of("deflate, br"), IDENTITY);
    /* gzip without zstd, as browsers before zstd and curl --compressed. */
    assert_int_equal(api_coding_of("gzip"), GZIP);
    assert_int_equal(api_coding_of("gzip, deflate, br"), GZIP);
    assert_int_equal(api_coding_of("x-gzip"), GZIP);
    /* zstd refused (q=0 in any spelling), or wanted less than gzip. */
    assert_int_equal(api_coding_of("gzip, zstd;q=0"), GZIP);
    assert_int_equal(api_coding_of("gzip, zstd;q=0.000"), GZIP);
    assert_int_equal(api_coding_of("zstd;q=0, *"), GZIP); /* named zstd outranks "*" */
    /* "*" alone never picks zstd: only a client that names it gets it,
     * gzip being what any client that takes anything decodes. */
    assert_int_equal(api_coding_of("*"), GZIP);
    assert_int_equal(api_coding_of("gzip, *"), GZIP);
    assert_int_equal(api_coding_of("br, *;q=0.1"), GZIP);
    assert_int_equal(api_coding_of("gzip;q=0.5, *;q=0.7"), GZIP);
    assert_int_equal(api_coding_of("gzip;q=0.8, zstd;q=0.7"), GZIP);
    assert_int_equal(api_coding_of("gzip, deflate, zstd;q=0.9, identity;q=0.5"), GZIP);
    assert_int_equal(api_coding_of("br;q=1.0, gzip;q=0.8, *;q=0.1"), GZIP);
    assert_int_equal(api_coding_of("zstd;q=0, gzip;q=0"), IDENTITY);
    assert_int_equal(api_coding_of("zstd;q=0"), IDENTITY);
    assert_int_equal(api_coding_of("*;q=0"), IDENTITY);
    assert_int_equal(api_coding_of("*;q=0, identity"), IDENTITY);
    /* A client that prefers identity to zstd (and gzip) gets identity,
     * or gzip when only gzip is not below it. */
    assert_int_equal(api_coding_of("zstd;q=0.5, identity"), IDENTITY);
    assert_int_equal(api_coding_of("zstd;q=0.4, gzip;q=0.6, identity;q=0.5"), GZIP);
    /* Elements that do not parse name nothing (never zstd by mistake). */
    assert_int_equal(api_coding_of("zstd;q=2"), IDENTITY);
    assert_int_equal(api_coding_of("zstd;q=0.0001, gzip"), GZIP);
    assert_int_equal(api_coding_of("zstd junk, gzip"), GZIP);
    assert_int_equal(api_coding_of("zstdx, xzstd, x-zstd, zst"), IDENTITY);
    assert_int_equal(api_coding_of("gzip, zstd;q="), GZIP);
    /* zstd in the field does not change whether gzip is taken. */
    assert_true(api_gzip_accepted("zstd, gzip"));
    assert_false(api_gzip_accepted("zstd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_taken),
        cmocka_unit_test(test_gzip_refused),
        cmocka_unit_test(test_zstd_chosen),
        cmocka_unit_test(test_zstd_not_chosen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
