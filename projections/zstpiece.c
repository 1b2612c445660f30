/* zstd answers made of frames compressed apart (see proj_int.h, "zstd
 * frames"): the seat map's section blobs each carry their text as one
 * zstd frame, made once with the blob, and an answer is those frames and
 * the document's other small ones sent one after the other.
 *
 * That needs nothing stitched together, unlike gzip (gzpiece.c): RFC 8878
 * section 3.1 defines zstd data as one or more frames, each with its own
 * header, and the decompressed content of concatenated frames as the
 * concatenation of each frame's content; every decoder (zstd -d, the
 * browsers', ZSTD_decompressStream) goes on to the next frame after one
 * ends. Each frame carries its own content size and XXH64-based checksum
 * (ZSTD_c_checksumFlag), so a decoder checks every piece on its own.
 *
 * RFC 9659 section 3 (Content-Encoding: zstd): an encoder must not use a
 * window larger than 8 MB, which decoders are free to refuse. A frame whose
 * content size is known and not larger than its window is "single
 * segment": its window is its content size. ZSTD_c_windowLog caps the
 * window at 2^23 bytes for larger texts, whatever the level would pick (a
 * 76 KB section never comes near). */
#include "projections/proj_int.h"

#include <pthread.h>
#include <stdlib.h>

/* Sets the frame parameters of every piece on c (kept by ZSTD_compress2
 * across frames: it resets only the session). */
static int set_params(ZSTD_CCtx *c)
{
    return ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, PROJ_ZSTD_LEVEL)) ||
                   ZSTD_isError(
                       ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, PROJ_ZSTD_WINDOW_LOG)) ||
                   ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)) ||
                   ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1))
               ? -1
               : 0;
}

int proj__zstd_init(proj__zstd_t *z)
{
    z->cctx = ZSTD_createCCtx();
    if (z->cctx && set_params(z->cctx) != 0) {
        ZSTD_freeCCtx(z->cctx);
        z->cctx = NULL;
    }
    return z->cctx ? 0 : -1;
}

void proj__zstd_deinit(proj__zstd_t *z)
{
    if (z) {
        ZSTD_freeCCtx(z->cctx); /* accepts NULL */
        z->cctx = NULL;
    }
}

/* One frame of the n bytes at in, into out (cap bytes); its length in
 * *len. ZSTD_compress2 starts a fresh frame with the context's parameters
 * and knows the content size, so it goes into the frame header. */
static ts_status frame(ZSTD_CCtx *c, const void *in, size_t n, void *out, size_t cap, size_t *len)
{
    size_t r = ZSTD_compress2(c, out, cap, in, n);
    if (ZSTD_isError(r))
        return TS_ERR_NOMEM; /* out of memory, or cap too small */
    *len = r;
    return TS_OK;
}

ts_status proj__zstd_frame(proj__zstd_t *z, const void *in, size_t n, ts_buf_t *out)
{
    if (!z->cctx)
        return TS_ERR_NOMEM;
    /* An empty text is no frame at all: nothing to send. */
    if (n == 0)
        return TS_OK;
    size_t cap = ZSTD_compressBound(n), len = 0;
    void *tmp = malloc(cap);
    ts_status rc = tmp ? frame(z->cctx, in, n, tmp, cap, &len) : TS_ERR_NOMEM;
    if (rc == TS_OK)
        ts_buf_append(out, tmp, len);
    free(tmp);
    return rc;
}

/* The calling thread's own context for proj__zstd_small, made on first use
 * and freed when the thread ends. A context made and freed per call cost
 * about 22 us on the machine of the benchmark (its allocations), one kept
 * about 1.4 us per frame of a few digits: every zstd answer makes one. */
static pthread_once_t small_once = PTHREAD_ONCE_INIT;
static pthread_key_t small_key;
static int small_key_ok;

static void small_free(void *c)
{
    ZSTD_freeCCtx(c);
}

static void small_key_init(void)
{
    small_key_ok = pthread_key_create(&small_key, small_free) == 0;
}

ts_status proj__zstd_small(const void *in, size_t n, void *out, size_t cap, size_t *len)
{
    *len = 0;
    if (n == 0)
        return TS_OK;
    pthread_once(&small_once, small_key_init);
    if (!small_key_ok)
        return TS_ERR_NOMEM;
    ZSTD_CCtx *c = pthread_getspecific(small_key);
    if (!c) {
        c = ZSTD_createCCtx();
        if (!c || set_params(c) != 0 || pthread_setspecific(small_key, c) != 0) {
            ZSTD_freeCCtx(c);
            return TS_ERR_NOMEM;
        }
    }
    return frame(c, in, n, out, cap, len);
}
