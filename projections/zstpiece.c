/* zstd answers (see proj_int.h, "zstd answers"): the seat map's text,
 * given as the pieces of a document with its as_of_seq filled in, made
 * into one zstd frame (RFC 8878 section 3.1.1) with the text's size in its
 * header and a checksum of it at its end (ZSTD_c_checksumFlag), so a
 * decoder knows how much to expect and checks what it got.
 *
 * The pieces go through one streaming context (ZSTD_compressStream2): the
 * text is never copied into one buffer, and the size pledged up front
 * goes into the frame header as the text's size. */
#include "projections/proj_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <zstd.h>

/* The frame's parameters (proj_int.h) and the text's size, which goes
 * into the frame header. */
static int set_params(ZSTD_CCtx *c, size_t total)
{
    return ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, PROJ_ZSTD_LEVEL)) ||
                   ZSTD_isError(
                       ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, PROJ_ZSTD_WINDOW_LOG)) ||
                   ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)) ||
                   ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1)) ||
                   ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(c, total))
               ? -1
               : 0;
}

/* The context of a thread that keeps one (proj__zstd_keep_context), made
 * on first use and freed when the thread ends. */
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static int ctx_key_ok;
static _Thread_local int keep_context;

static void ctx_free(void *c)
{
    ZSTD_freeCCtx(c);
}

static void ctx_key_init(void)
{
    ctx_key_ok = pthread_key_create(&ctx_key, ctx_free) == 0;
}

void proj__zstd_keep_context(void)
{
    keep_context = 1;
}

/* The thread's kept context, reset, or NULL. */
static ZSTD_CCtx *thread_ctx(void)
{
    pthread_once(&ctx_once, ctx_key_init);
    if (!ctx_key_ok)
        return NULL;
    ZSTD_CCtx *c = pthread_getspecific(ctx_key);
    if (!c) {
        c = ZSTD_createCCtx();
        if (c && pthread_setspecific(ctx_key, c) != 0) {
            ZSTD_freeCCtx(c);
            c = NULL;
        }
    }
    /* A fresh frame with fresh parameters, whatever the last call left. */
    if (c && ZSTD_isError(ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters)))
        c = NULL;
    return c;
}

void proj__zanswer_unref(proj__zanswer_t *z)
{
    if (z && atomic_fetch_sub(&z->refs, 1) == 1)
        free(z);
}

ts_status proj__zstd_answer(const char *const *piece, const size_t *len, uint32_t n, size_t total,
                            uint64_t as_of, proj__zanswer_t **out)
{
    *out = NULL;
    /* ZSTD_compressBound holds for one frame of total bytes, whatever
     * pieces they come in; the loop below still stops short of it. */
    size_t cap = ZSTD_compressBound(total);
    proj__zanswer_t *z = malloc(sizeof *z + cap);
    ZSTD_CCtx *c = keep_context ? thread_ctx() : ZSTD_createCCtx();
    ts_status rc = z && c && set_params(c, total) == 0 ? TS_OK : TS_ERR_NOMEM;
    ZSTD_outBuffer o = {z ? z->data : NULL, cap, 0};
    size_t fed = 0;
    for (uint32_t i = 0; i < n && rc == TS_OK; i++) {
        ZSTD_inBuffer in = {piece[i], len[i], 0};
        fed += len[i];
        while (rc == TS_OK && in.pos < in.size) {
            size_t r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue);
            if (ZSTD_isError(r) || (o.pos == o.size && in.pos < in.size))
                rc = TS_ERR_NOMEM;
        }
    }
    if (rc == TS_OK && fed != total)
        rc = TS_ERR_NOMEM; /* the pledged size would be wrong: zstd refuses it anyway */
    /* ZSTD_e_end: returns 0 once the frame is complete, else what is left
     * to flush. */
    for (size_t left = 1; rc == TS_OK && left;) {
        ZSTD_inBuffer none = {NULL, 0, 0};
        left = ZSTD_compressStream2(c, &o, &none, ZSTD_e_end);
        if (ZSTD_isError(left) || (left && o.pos == o.size))
            rc = TS_ERR_NOMEM;
    }
    if (!keep_context)
        ZSTD_freeCCtx(c); /* accepts NULL */
    else if (c && rc != TS_OK)
        ZSTD_CCtx_reset(c, ZSTD_reset_session_only); /* drop the half-made frame */
    if (rc != TS_OK) {
        free(z);
        return rc;
    }
    atomic_init(&z->refs, 1);
    z->as_of = as_of;
    z->len = o.pos;
    /* Keep only what the frame took. */
    proj__zanswer_t *fit = realloc(z, sizeof *z + o.pos);
    *out = fit ? fit : z;
    return TS_OK;
}
