/* Texts for the compression tests (test_gzpiece.c, test_zstpiece.c): one
 * shaped like the seat map, which compresses well, and noise, which does
 * not compress at all. */
#ifndef TS_TESTS_PROJECTIONS_TEXTS_H
#define TS_TESTS_PROJECTIONS_TEXTS_H

#include "base/base.h"

#include <stdint.h>
#include <stdio.h>

/* A seat-like JSON array of n seats, as the map's sections are. */
static inline void seats_text(ts_buf_t *b, int n)
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

/* n pseudo-random bytes (xorshift32): neither deflate nor zstd can shrink
 * them, so they are stored and come out larger than they went in. */
static inline void noise(ts_buf_t *b, size_t n)
{
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ts_buf_put_u8(b, (uint8_t)x);
    }
}

#endif
