/*
 * test_zstpiece — projections/zstpiece.c: texts compressed apart, each as
 * one complete zstd frame, and concatenated, decompress (ZSTD_decompressStream
 * and ZSTD_decompress over the whole concatenation, RFC 8878 section 3.1) to
 * exactly the concatenated texts; each frame checks its own content (its
 * checksum), and none needs a window above 8 MB (RFC 9659 section 3). The
 * seat map's zstd answers are made this way (seatmap.c).
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A seat-like JSON text of n seats (compresses well, as the map does). */
static void seats_text(ts_buf_t *b, int n)
{
    char s[128];
    ts_buf_put_u8(b, '[');
    for (int i = 0; i < n; i++) {
        int k = snprintf(s, sizeof s,
                         "%s{\"id\":\"S%02d-%d-%d\",\"row\":\"%d\",\"number\":%d,"
                         "\"accessible\":%s,\"status\":\"%s\"}",
                         i ? "," : "", i % 50, i / 40 % 25 + 1, i % 40 + 1, i / 40 % 25 + 1,
                         i % 40 + 1, i % 40 < 2 ? "true" : "false", i % 7 ? "free" : "held");
        ts_buf_append(b, s, (size_t)k);
    }
    ts_buf_put_u8(b, ']');
}

/* Pseudo-random bytes: zstd cannot shrink them (raw blocks). */
static void noise(ts_buf_t *b, size_t n)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ts_buf_put_u8(b, (uint8_t)x);
    }
}

#define T(s) (const uint8_t *)(s), sizeof(s) - 1

typedef struct {
    const uint8_t *p;
    size_t n;
    int small; /* compressed with proj__zstd_small, as the digits are */
} piece_t;

/* Compresses the pieces as seatmap.c does, concatenates them and checks
 * the concatenation. */
static void check_frames(const piece_t *pieces, size_t count)
{
    proj__zstd_t z;
    ts_buf_t whole, all;
    ts_buf_init(&whole);
    ts_buf_init(&all);
    assert_int_equal(proj__zstd_init(&z), 0);
    for (size_t i = 0; i < count; i++) {
        ts_buf_t one;
        ts_buf_init(&one);
        if (pieces[i].small) {
            unsigned char small[128];
            size_t len = 99;
            assert_true(ZSTD_compressBound(pieces[i].n) <= sizeof small);
            assert_int_equal(proj__zstd_small(pieces[i].p, pieces[i].n, small, sizeof small, &len),
                             TS_OK);
            ts_buf_append(&one, small, len);
        } else {
            assert_int_equal(proj__zstd_frame(&z, pieces[i].p, pieces[i].n, &one), TS_OK);
        }
        if (pieces[i].n == 0) {
            assert_int_equal(one.len, 0); /* an empty text adds nothing */
        } else {
            /* Exactly one whole frame, which says its content size. */
            assert_int_equal(ZSTD_findFrameCompressedSize(one.data, one.len), one.len);
            assert_int_equal(ZSTD_getFrameContentSize(one.data, one.len), pieces[i].n);
        }
        ts_buf_append(&all, one.data, one.len);
        ts_buf_deinit(&one);
        ts_buf_append(&whole, pieces[i].p, pieces[i].n);
    }
    proj__zstd_deinit(&z);

    /* Streaming, frame after frame, with the 8 MB window limit. */
    uint8_t *text = NULL;
    size_t len = 0;
    assert_int_equal(unzstd_stream(all.data, all.len, &text, &len), 0);
    assert_int_equal(len, whole.len);
    if (len)
        assert_memory_equal(text, whole.data, len);
    free(text);
    if (all.len) {
        /* In one call: ZSTD_decompress goes through every frame too. */
        text = malloc(whole.len + 1);
        size_t r = ZSTD_decompress(text, whole.len + 1, all.data, all.len);
        assert_false(ZSTD_isError(r));
        assert_int_equal(r, whole.len);
        assert_memory_equal(text, whole.data, whole.len);
        free(text);
        /* Cut short, the data is refused: no frame end. */
        assert_int_equal(unzstd_stream(all.data, all.len - 1, &text, &len), -1);
        free(text);
        /* Each frame ends with its checksum: a changed byte there is
         * refused (the last frame's last byte). */
        all.data[all.len - 1] ^= 1;
        assert_int_equal(unzstd_stream(all.data, all.len, &text, &len), -1);
        free(text);
        assert_true(ZSTD_isError(
            ZSTD_decompress(text = malloc(whole.len + 1), whole.len + 1, all.data, all.len)));
        free(text);
    }
    ts_buf_deinit(&whole);
    ts_buf_deinit(&all);
}

static void test_frames_concatenate(void **state)
{
    (void)state;
    ts_buf_t seats, big, junk, huge;
    ts_buf_init(&seats);
    ts_buf_init(&big);
    ts_buf_init(&junk);
    ts_buf_init(&huge);
    seats_text(&seats, 1000);  /* a 1,000-seat section, about 75 KB */
    seats_text(&big, 50000);   /* a whole 50,000-seat map, several MB */
    noise(&junk, 300 * 1000);  /* incompressible */
    seats_text(&huge, 120000); /* over 8 MB: the window must stay at 8 MB */
    assert_true(huge.len > (size_t)8 << 20);
    const piece_t pieces[] = {
        {T("{\"event_id\":\"ev_1\",\"as_of_seq\":"), 0},
        {T("4711"), 1},
        {T(""), 1},
        {T(",\"sections\":[{\"key\":\"S00\",\"kind\":\"seated\",\"tier\":\"std\",\"seats\":"), 0},
        {seats.data, seats.len, 0},
        {T(""), 0},
        {T("},{\"key\":\"S01\",\"seats\":"), 0},
        {big.data, big.len, 0},
        {T("}"), 0},
        {junk.data, junk.len, 0},
        {seats.data, seats.len, 0}, /* the same text again, compressed apart */
        {huge.data, huge.len, 0},
        {T("18446744073709551615"), 1}, /* the most digits as_of_seq has */
        {T("]}"), 0},
    };
    check_frames(pieces, sizeof pieces / sizeof pieces[0]);
    /* A section compresses: the point of it all (gzip level 1 makes about
     * a tenth; zstd much less). */
    ts_buf_t one;
    proj__zstd_t z;
    ts_buf_init(&one);
    assert_int_equal(proj__zstd_init(&z), 0);
    assert_int_equal(proj__zstd_frame(&z, seats.data, seats.len, &one), TS_OK);
    assert_true(one.len * 15 < seats.len);
    proj__zstd_deinit(&z);
    ts_buf_deinit(&one);
    ts_buf_deinit(&seats);
    ts_buf_deinit(&big);
    ts_buf_deinit(&junk);
    ts_buf_deinit(&huge);
}

static void test_empty_and_single(void **state)
{
    (void)state;
    check_frames(NULL, 0);
    const piece_t empties[] = {{(const uint8_t *)"", 0, 1}, {(const uint8_t *)"", 0, 0}};
    check_frames(empties, 2);
    const piece_t one[] = {{T("[]"), 0}};
    check_frames(one, 1);
    const piece_t digits[] = {{T("0"), 1}};
    check_frames(digits, 1);
}

static void test_small_room(void **state)
{
    (void)state;
    /* Too little room for the frame: an error, not a cut frame. */
    unsigned char out[8];
    size_t len = 0;
    assert_int_equal(proj__zstd_small("123456789", 9, out, sizeof out, &len), TS_ERR_NOMEM);
    /* An uninitialised context refuses. */
    proj__zstd_t z = {0};
    ts_buf_t b;
    ts_buf_init(&b);
    assert_int_equal(proj__zstd_frame(&z, "x", 1, &b), TS_ERR_NOMEM);
    assert_int_equal(b.len, 0);
    ts_buf_deinit(&b);
    proj__zstd_deinit(&z);
}

/* Each thread has its own context for proj__zstd_small; many at once. */
static void *small_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        char digits[24], back[24];
        unsigned char frame[96];
        size_t len = 0;
        int n = snprintf(digits, sizeof digits, "%d", i * 7919);
        if (proj__zstd_small(digits, (size_t)n, frame, sizeof frame, &len) != TS_OK)
            return "compress";
        size_t r = ZSTD_decompress(back, sizeof back, frame, len);
        if (ZSTD_isError(r) || r != (size_t)n || memcmp(back, digits, r) != 0)
            return "round trip";
    }
    return NULL;
}

static void test_small_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, small_many, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *err = NULL;
        pthread_join(t[i], &err);
        assert_null(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_concatenate),
        cmocka_unit_test(test_empty_and_single),
        cmocka_unit_test(test_small_room),
        cmocka_unit_test(test_small_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
