/* gzip answers made of pieces compressed apart (see proj_int.h, "gzip
 * pieces"): the seat map's section blobs are compressed once when they are
 * made and a request only sends them, so one gzip member is put together
 * from deflate data that was written at different times by different
 * streams.
 *
 * That works because of how deflate data ends. A fresh raw stream (no
 * zlib or gzip wrapper, so windowBits < 0) refers back only to its own
 * input, and Z_SYNC_FLUSH ends it with an empty stored block, aligned on a
 * byte boundary, without setting BFINAL (zlib.h, deflate()). Such pieces
 * concatenated are one valid deflate stream of the concatenated texts; a
 * last empty block with BFINAL set closes it, and the gzip trailer (RFC
 * 1952 section 2.3.1) carries the CRC-32 of the whole text, which
 * crc32_combine makes from the pieces' CRCs without reading them again. */
#include "projections/proj_int.h"

#include <stdlib.h>
#include <string.h>

/* RFC 1952 section 2.3.1: ID1 ID2, CM = 8 (deflate), FLG = 0 (no name, no
 * comment, no extra field), MTIME = 0 (none), XFL = 0, OS = 255
 * (unknown). */
const unsigned char proj__gz_header[PROJ_GZ_HEADER_LEN] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};

/* RFC 1951 section 3.2.3: BFINAL = 1, BTYPE = 01 (fixed Huffman codes),
 * then the end-of-block code 256, which section 3.2.6 makes the seven
 * zero bits 0000000. Packed from the least significant bit: 1, 1, 0, then
 * seven zeros, so 0x03 0x00. zlib writes exactly these two bytes for
 * Z_FINISH on empty input from a fresh raw stream (the unit test checks). */
const unsigned char proj__gz_last_block[PROJ_GZ_LAST_BLOCK_LEN] = {0x03, 0x00};

int proj__deflater_init(proj__deflater_t *d, int small)
{
    memset(d, 0, sizeof *d);
    /* Small pieces (a few dozen bytes) need no 32 KiB window: a 512-byte
     * one (-9, the least zlib takes for raw deflate) and memLevel 1 keep
     * the stream's memory to a few KiB. Any inflater reads both. */
    int rc = deflateInit2(&d->zs, PROJ_GZ_LEVEL, Z_DEFLATED, small ? -9 : -15, small ? 1 : 8,
                          Z_DEFAULT_STRATEGY);
    d->ready = rc == Z_OK;
    return d->ready ? 0 : -1;
}

void proj__deflater_deinit(proj__deflater_t *d)
{
    if (d && d->ready)
        deflateEnd(&d->zs);
    if (d)
        d->ready = 0;
}

ts_status proj__deflate_piece(proj__deflater_t *d, const void *in, size_t n, ts_buf_t *out)
{
    if (!d->ready)
        return TS_ERR_NOMEM;
    /* An empty text is no deflate data at all: nothing to send. */
    if (n == 0)
        return TS_OK;
    /* A fresh stream for every piece (deflateReset is deflateEnd and
     * deflateInit without the allocations), so no piece refers back into
     * another. */
    if (deflateReset(&d->zs) != Z_OK || n > UINT32_MAX)
        return TS_ERR_NOMEM;
    d->zs.next_in = (Bytef *)(uintptr_t)in;
    d->zs.avail_in = (uInt)n;
    /* deflateBound holds for Z_FINISH; the sync flush adds at most a few
     * bytes of block end and the 5-byte empty stored block, and the loop
     * goes on with more room when that was not enough. */
    size_t room = deflateBound(&d->zs, (uLong)n) + 16;
    unsigned char *tmp = malloc(room);
    ts_status rc = tmp ? TS_OK : TS_ERR_NOMEM;
    while (rc == TS_OK) {
        d->zs.next_out = tmp;
        d->zs.avail_out = (uInt)room;
        int z = deflate(&d->zs, Z_SYNC_FLUSH);
        ts_buf_append(out, tmp, room - d->zs.avail_out);
        if (z != Z_OK && z != Z_BUF_ERROR)
            rc = TS_ERR_NOMEM;
        /* Done once the input is used up and zlib had room to spare (a
         * full output buffer may hide pending bytes). */
        else if (d->zs.avail_in == 0 && d->zs.avail_out > 0)
            break;
    }
    free(tmp);
    return rc;
}

void proj__gz_trailer(uint32_t crc, uint64_t len, unsigned char out[PROJ_GZ_TRAILER_LEN])
{
    /* RFC 1952 section 2.3.1: CRC32 then ISIZE (the length modulo 2^32),
     * both least significant byte first. */
    uint32_t isize = (uint32_t)len;
    for (int i = 0; i < 4; i++) {
        out[i] = (unsigned char)(crc >> (8 * i));
        out[4 + i] = (unsigned char)(isize >> (8 * i));
    }
}

uint32_t proj__crc_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
    return (uint32_t)crc32_combine(crc1, crc2, (z_off_t)len2);
}

uint32_t proj__crc(const void *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const Bytef *b = p;
    /* crc32 takes a uInt length. */
    while (n > 0) {
        uInt k = n > 1u << 30 ? 1u << 30 : (uInt)n;
        c = crc32(c, b, k);
        b += k;
        n -= k;
    }
    return (uint32_t)c;
}
