/*
 * test_gzpiece — projections/gzpiece.c: texts compressed apart, each by a
 * fresh raw deflate stream ended with a sync flush, concatenated between a
 * gzip header and an empty final block and trailer, are one gzip member
 * that zlib inflates (checking its CRC-32 and length) to the concatenated
 * texts; and crc32_combine over the pieces equals the CRC-32 of the whole.
 * The seat map's gzip answers are made this way (seatmap.c).
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "projections/proj_int.h"
#include "texts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inflates the gzip member (or raw deflate data when raw) in, which must
 * end exactly with the stream; the text into *out (malloc'd). Returns
 * zlib's last status (Z_STREAM_END when the member was whole and its
 * trailer matched). */
static int inflate_all(const uint8_t *in, size_t n, int raw, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, raw ? -15 : 16 + 15), Z_OK);
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    int rc;
    do {
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        zs.next_out = buf + len;
        zs.avail_out = (uInt)(cap - len);
        rc = inflate(&zs, Z_NO_FLUSH);
        len = cap - zs.avail_out;
    } while (rc == Z_OK && (zs.avail_in > 0 || zs.avail_out == 0));
    if (rc == Z_STREAM_END)
        assert_int_equal(zs.avail_in, 0); /* nothing after the member */
    inflateEnd(&zs);
    *out = buf;
    *out_len = len;
    return rc;
}

/* A string literal as a piece's text and length. */
#define T(s) (const uint8_t *)(s), sizeof(s) - 1

typedef struct {
    const uint8_t *p;
    size_t n;
    int small; /* compressed with the small deflater */
} piece_t;

/* Builds the member of the pieces as seatmap.c does and checks it. */
static void check_member(const piece_t *pieces, size_t count)
{
    proj__deflater_t big, small;
    ts_buf_t whole, member, raw;
    ts_buf_init(&whole);
    ts_buf_init(&member);
    ts_buf_init(&raw);
    assert_int_equal(proj__deflater_init(&big, 0), 0);
    assert_int_equal(proj__deflater_init(&small, 1), 0);
    uint32_t crc = proj__crc(NULL, 0);
    ts_buf_append(&member, proj__gz_header, PROJ_GZ_HEADER_LEN);
    for (size_t i = 0; i < count; i++) {
        ts_buf_t one;
        ts_buf_init(&one);
        assert_int_equal(
            proj__deflate_piece(pieces[i].small ? &small : &big, pieces[i].p, pieces[i].n, &one),
            TS_OK);
        if (pieces[i].n == 0)
            assert_int_equal(one.len, 0); /* an empty text adds nothing */
        else /* byte-aligned and not final: the sync flush's empty stored block */
            assert_memory_equal(one.data + one.len - 4, "\x00\x00\xff\xff", 4);
        ts_buf_append(&member, one.data, one.len);
        ts_buf_append(&raw, one.data, one.len);
        ts_buf_deinit(&one);
        ts_buf_append(&whole, pieces[i].p, pieces[i].n);
        crc = proj__crc_combine(crc, proj__crc(pieces[i].p, pieces[i].n), pieces[i].n);
    }
    proj__deflater_deinit(&big);
    proj__deflater_deinit(&small);
    /* The CRC-32 combined from the pieces is that of the whole text. */
    assert_int_equal(crc, (uint32_t)crc32(0, whole.data, (uInt)whole.len));
    assert_int_equal(crc, proj__crc(whole.data, whole.len));
    ts_buf_append(&member, proj__gz_last_block, PROJ_GZ_LAST_BLOCK_LEN);
    unsigned char trailer[PROJ_GZ_TRAILER_LEN];
    proj__gz_trailer(crc, whole.len, trailer);
    ts_buf_append(&member, trailer, sizeof trailer);

    uint8_t *text = NULL;
    size_t len = 0;
    assert_int_equal(inflate_all(member.data, member.len, 0, &text, &len), Z_STREAM_END);
    assert_int_equal(len, whole.len);
    if (len)
        assert_memory_equal(text, whole.data, len);
    free(text);
    /* Without the final block the pieces are a stream that is not over:
     * every byte of the text is there, but no end. */
    assert_int_equal(inflate_all(raw.data, raw.len, 1, &text, &len), raw.len ? Z_OK : Z_BUF_ERROR);
    assert_int_equal(len, whole.len);
    if (len)
        assert_memory_equal(text, whole.data, len);
    free(text);
    /* A wrong CRC or length in the trailer is refused: zlib checks them. */
    member.data[member.len - 8] ^= 1;
    assert_int_equal(inflate_all(member.data, member.len, 0, &text, &len), Z_DATA_ERROR);
    free(text);
    ts_buf_deinit(&whole);
    ts_buf_deinit(&member);
    ts_buf_deinit(&raw);
}

static void test_pieces_concatenate(void **state)
{
    (void)state;
    ts_buf_t seats, big, junk;
    ts_buf_init(&seats);
    ts_buf_init(&big);
    ts_buf_init(&junk);
    seats_text(&seats, 1000); /* a 1,000-seat section, about 75 KB */
    seats_text(&big, 50000);  /* a whole 50,000-seat map, several MB */
    noise(&junk, 300 * 1000); /* incompressible */
    const piece_t pieces[] = {
        {T("{\"event_id\":\"ev_1\",\"as_of_seq\":"), 1},
        {T("4711"), 1},
        {T(""), 1},
        {T(",\"sections\":[{\"key\":\"S00\",\"kind\":\"seated\",\"tier\":\"std\",\"seats\":"), 1},
        {seats.data, seats.len, 0},
        {T(""), 0},
        {T("},{\"key\":\"S01\",\"seats\":"), 1},
        {big.data, big.len, 0},
        {T("}"), 1},
        {junk.data, junk.len, 0},
        {seats.data, seats.len, 0}, /* the same text again, compressed apart */
        {T("]}"), 1},
    };
    check_member(pieces, sizeof pieces / sizeof pieces[0]);
    /* A big piece compresses: the point of it all. */
    ts_buf_t one;
    proj__deflater_t z;
    ts_buf_init(&one);
    assert_int_equal(proj__deflater_init(&z, 0), 0);
    assert_int_equal(proj__deflate_piece(&z, big.data, big.len, &one), TS_OK);
    assert_true(one.len * 5 < big.len);
    proj__deflater_deinit(&z);
    ts_buf_deinit(&one);
    ts_buf_deinit(&seats);
    ts_buf_deinit(&big);
    ts_buf_deinit(&junk);
}

static void test_empty_and_single(void **state)
{
    (void)state;
    /* No piece at all, only empty ones, and a single one: each a member
     * of its own. */
    check_member(NULL, 0);
    const piece_t empties[] = {{(const uint8_t *)"", 0, 1}, {(const uint8_t *)"", 0, 0}};
    check_member(empties, 2);
    const piece_t one[] = {{T("[]"), 0}};
    check_member(one, 1);
}

static void test_last_block_is_zlibs(void **state)
{
    (void)state;
    /* RFC 1951 section 3.2.3: the 2-byte empty final fixed block is what
     * zlib writes for Z_FINISH on nothing from a fresh raw stream. */
    z_stream zs;
    unsigned char out[16];
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, PROJ_GZ_LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY),
                     Z_OK);
    zs.next_out = out;
    zs.avail_out = sizeof out;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(sizeof out - zs.avail_out, PROJ_GZ_LAST_BLOCK_LEN);
    assert_memory_equal(out, proj__gz_last_block, PROJ_GZ_LAST_BLOCK_LEN);
    deflateEnd(&zs);
    /* The trailer is little-endian CRC then length modulo 2^32. */
    unsigned char t[PROJ_GZ_TRAILER_LEN];
    proj__gz_trailer(0x11223344u, 0x100000005ull, t);
    assert_memory_equal(t, "\x44\x33\x22\x11\x05\x00\x00\x00", 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_concatenate),
        cmocka_unit_test(test_empty_and_single),
        cmocka_unit_test(test_last_block_is_zlibs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
