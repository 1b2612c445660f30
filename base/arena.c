/* Arena allocator and byte buffers: see base.h for the contract. */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ts_arena_block {
    ts_arena_block *next;
    size_t cap;
    size_t used;
    _Alignas(16) unsigned char data[];
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort(); /* see base.h: out-of-memory is not recoverable here */
    return p;
}

void ts_arena_init(ts_arena_t *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 4096;
    a->used_total = 0;
}

void ts_arena_deinit(ts_arena_t *a)
{
    if (!a)
        return;
    ts_arena_block *b = a->head;
    while (b) {
        ts_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void ts_arena_reset(ts_arena_t *a)
{
    size_t bs = a->block_size;
    ts_arena_deinit(a);
    ts_arena_init(a, bs);
}

void *ts_arena_alloc(ts_arena_t *a, size_t n)
{
    void *p = ts_arena_alloc_uninit(a, n);
    memset(p, 0, (n + 15) & ~(size_t)15);
    return p;
}

void *ts_arena_alloc_uninit(ts_arena_t *a, size_t n)
{
    if (a->block_size == 0)
        ts_arena_init(a, 0);
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    ts_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = a->block_size;
        if (cap < n)
            cap = n;
        b = xmalloc(sizeof(*b) + cap);
        b->cap = cap;
        b->used = 0;
        /* A big one-off block goes behind the head so the head's free
         * space stays usable for small allocations. */
        if (a->head && cap > a->block_size) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

char *ts_arena_strndup(ts_arena_t *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = ts_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ts_arena_strdup(ts_arena_t *a, const char *s)
{
    return s ? ts_arena_strndup(a, s, strlen(s)) : NULL;
}

void *ts_arena_memdup(ts_arena_t *a, const void *p, size_t n)
{
    void *d = ts_arena_alloc(a, n);
    if (n)
        memcpy(d, p, n);
    return d;
}

char *ts_arena_printf(ts_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ts_arena_strdup(a, "");
    char *d = ts_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

/* ---- ts_buf_t ---- */

void ts_buf_init(ts_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void ts_buf_deinit(ts_buf_t *b)
{
    if (!b)
        return;
    free(b->data);
    ts_buf_init(b);
}

void ts_buf_append(ts_buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d)
            abort();
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ts_buf_put_u8(ts_buf_t *b, uint8_t v)
{
    ts_buf_append(b, &v, 1);
}

void ts_buf_put_u32(ts_buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ts_buf_append(b, x, 4);
}

void ts_buf_put_u64(ts_buf_t *b, uint64_t v)
{
    ts_buf_put_u32(b, (uint32_t)v);
    ts_buf_put_u32(b, (uint32_t)(v >> 32));
}

void ts_buf_put_str(ts_buf_t *b, const char *s)
{
    if (!s) {
        ts_buf_put_u32(b, 0xFFFFFFFFu);
        return;
    }
    size_t n = strlen(s);
    ts_buf_put_u32(b, (uint32_t)n);
    ts_buf_append(b, s, n);
}

/* ---- ts_reader_t ---- */

void ts_reader_init(ts_reader_t *r, const void *p, size_t n)
{
    r->p = p;
    r->left = n;
    r->ok = 1;
}

const void *ts_reader_bytes(ts_reader_t *r, size_t n)
{
    if (!r->ok || r->left < n) {
        r->ok = 0;
        return NULL;
    }
    const void *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

uint8_t ts_reader_u8(ts_reader_t *r)
{
    const uint8_t *p = ts_reader_bytes(r, 1);
    return p ? p[0] : 0;
}

uint32_t ts_reader_u32(ts_reader_t *r)
{
    const uint8_t *p = ts_reader_bytes(r, 4);
    if (!p)
        return 0;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t ts_reader_u64(ts_reader_t *r)
{
    uint64_t lo = ts_reader_u32(r);
    uint64_t hi = ts_reader_u32(r);
    return lo | hi << 32;
}

const char *ts_reader_str(ts_reader_t *r, ts_arena_t *a)
{
    uint32_t n = ts_reader_u32(r);
    if (n == 0xFFFFFFFFu)
        return NULL;
    const char *p = ts_reader_bytes(r, n);
    return p ? ts_arena_strndup(a, p, n) : NULL;
}
