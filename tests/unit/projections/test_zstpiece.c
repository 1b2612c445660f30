/*
 * test_zstpiece — projections/zstpiece.c: the pieces of a text made into a
 * zstd answer are exactly one frame (a decoder that stops after the first
 * frame gets everything), which says its content size, decompresses
 * (ZSTD_decompressStream with an 8 MB window limit, RFC 9659 section 3, and
 * ZSTD_decompress) to exactly the concatenated pieces, and checks its
 * content (a changed checksum byte or a cut frame is refused). The seat
 * map's zstd answers are made this way (seatmap.c).
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"
#include "texts.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Decompresses in (n bytes, frames one after the other) with a streaming
 * context limited to a 2^23-byte window, as an RFC 9659 decoder may be;
 * the text into *out (malloc'd). Returns 0 when every frame decoded and
 * checked and the data ended exactly at a frame's end, else -1. */
static int unzstd_stream(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    ZSTD_DCtx *d = ZSTD_createDCtx();
    assert_non_null(d);
    assert_false(ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 23)));
    size_t cap = 1 << 16, len = 0, last = 0;
    uint8_t *buf = malloc(cap);
    ZSTD_inBuffer ib = {in, n, 0};
    int rc = 0;
    /* last: 0 once a frame is complete and flushed (the hint is 0). */
    while (rc == 0 && (ib.pos < ib.size || last != 0)) {
        if (cap - len < ZSTD_DStreamOutSize()) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ZSTD_outBuffer ob = {buf + len, cap - len, 0};
        size_t was = ib.pos;
        last = ZSTD_decompressStream(d, &ob, &ib);
        len += ob.pos;
        if (ZSTD_isError(last) || (ob.pos == 0 && ib.pos == was && ob.size > 0))
            rc = -1; /* an error, or stuck: the data ended inside a frame */
    }
    ZSTD_freeDCtx(d);
    *out = buf;
    *out_len = len;
    return rc;
}

/* The window a decoder needs for the frame at f (RFC 8878 section
 * 3.1.1.1): the content size of a single-segment frame, else what its
 * Window_Descriptor says. */
static uint64_t frame_window(const unsigned char *f, size_t n)
{
    assert_true(n > 6);
    unsigned fhd = f[4];
    if (fhd & 0x20) /* Single_Segment_flag */
        return ZSTD_getFrameContentSize(f, n);
    unsigned exponent = f[5] >> 3, mantissa = f[5] & 7;
    uint64_t base = (uint64_t)1 << (10 + exponent);
    return base + base / 8 * mantissa;
}

/* Makes the answer of the pieces (p[i], n[i]) and checks it; its length. */
static size_t check_answer(const char *const *p, const size_t *n, uint32_t count)
{
    ts_buf_t whole;
    ts_buf_init(&whole);
    for (uint32_t i = 0; i < count; i++)
        ts_buf_append(&whole, p[i], n[i]);
    proj__zanswer_t *z = NULL;
    assert_int_equal(proj__zstd_answer(p, n, count, whole.len, 42, &z), TS_OK);
    assert_non_null(z);
    assert_int_equal(z->as_of, 42);
    /* Exactly one whole frame, which says the text's size. */
    assert_int_equal(ZSTD_findFrameCompressedSize(z->data, z->len), z->len);
    assert_int_equal(ZSTD_getFrameContentSize(z->data, z->len), whole.len);
    /* RFC 9659: a window of at most 8 MB; a checksum of the content. */
    assert_true(frame_window(z->data, z->len) <= (1u << 23));
    assert_true(z->data[4] & 0x04); /* Content_Checksum_flag */

    uint8_t *text = NULL;
    size_t len = 0;
    assert_int_equal(unzstd_stream(z->data, z->len, &text, &len), 0);
    assert_int_equal(len, whole.len);
    if (len)
        assert_memory_equal(text, whole.data, len);
    free(text);
    text = malloc(whole.len + 1);
    size_t r = ZSTD_decompress(text, whole.len + 1, z->data, z->len);
    assert_false(ZSTD_isError(r));
    assert_int_equal(r, whole.len);
    if (r)
        assert_memory_equal(text, whole.data, r);
    free(text);

    /* Cut short, the frame is refused; a changed byte of its checksum (its
     * last 4 bytes) too. */
    unsigned char *copy = malloc(z->len);
    memcpy(copy, z->data, z->len);
    assert_int_equal(unzstd_stream(copy, z->len - 1, &text, &len), -1);
    free(text);
    copy[z->len - 1] ^= 1;
    assert_int_equal(unzstd_stream(copy, z->len, &text, &len), -1);
    free(text);
    free(copy);
    size_t zlen = z->len;
    proj__zanswer_unref(z);
    ts_buf_deinit(&whole);
    return zlen;
}

/* A seat map's shape: the frame text, the as_of digits, sections. */
static void test_map_pieces(void **state)
{
    (void)state;
    ts_buf_t a, b;
    ts_buf_init(&a);
    ts_buf_init(&b);
    seats_text(&a, 1000);
    seats_text(&b, 50000);
    const char *p[] = {"{\"event_id\":\"ev1\",\"as_of_seq\":",
                       "1234",
                       ",\"sections\":[{\"key\":\"A\",\"seats\":",
                       (const char *)a.data,
                       "},{\"key\":\"B\",\"seats\":",
                       (const char *)b.data,
                       "}]}"};
    size_t n[] = {strlen(p[0]), 4, strlen(p[2]), a.len, strlen(p[4]), b.len, 3};
    /* A 50,000-seat text of this shape is 3.8 MB: far smaller as zstd. */
    assert_true(check_answer(p, n, 7) * 20 < b.len);
    ts_buf_deinit(&a);
    ts_buf_deinit(&b);
}

/* Incompressible bytes, empty pieces among them, and a text above the
 * 8 MB window (decoded under the 8 MB limit: the window is capped). */
static void test_noise_and_big(void **state)
{
    (void)state;
    ts_buf_t r, big;
    ts_buf_init(&r);
    ts_buf_init(&big);
    noise(&r, 100000);
    seats_text(&big, 150000); /* about 11 MB */
    assert_true(big.len > (size_t)1 << 23);
    const char *p[] = {"", (const char *)r.data, "", (const char *)big.data, "x"};
    size_t n[] = {0, r.len, 0, big.len, 1};
    check_answer(p, n, 5);
    ts_buf_deinit(&r);
    ts_buf_deinit(&big);
}

/* The total pledged must be the pieces' sum: otherwise no answer. */
static void wrong_totals(void)
{
    const char *p[] = {"abc", "def"};
    size_t n[] = {3, 3};
    proj__zanswer_t *z = (proj__zanswer_t *)1;
    assert_int_equal(proj__zstd_answer(p, n, 2, 7, 1, &z), TS_ERR_NOMEM); /* fed less */
    assert_null(z);
    z = (proj__zanswer_t *)1;
    assert_int_equal(proj__zstd_answer(p, n, 2, 5, 1, &z), TS_ERR_NOMEM); /* fed more */
    assert_null(z);
}

static void test_wrong_total(void **state)
{
    (void)state;
    wrong_totals();
}

/* A thread that keeps its context (the refresher) makes answer after
 * answer with it, also after a failed one; the context is freed when the
 * thread ends (ASan's leak check would see it otherwise). */
static void *keeper(void *arg)
{
    (void)arg;
    proj__zstd_keep_context();
    ts_buf_t a;
    ts_buf_init(&a);
    seats_text(&a, 3000);
    const char *p[] = {"{\"seats\":", (const char *)a.data, "}"};
    size_t n[] = {strlen(p[0]), a.len, 1};
    for (int i = 0; i < 3; i++) {
        check_answer(p, n, 3);
        wrong_totals();
    }
    check_answer(p, n, 3);
    ts_buf_deinit(&a);
    return NULL;
}

static void test_kept_context(void **state)
{
    (void)state;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, keeper, NULL), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_pieces),
        cmocka_unit_test(test_noise_and_big),
        cmocka_unit_test(test_wrong_total),
        cmocka_unit_test(test_kept_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
