/* The opaque list cursor of proj_events_list: the key of the last item,
 * "<starts_at ms>.<event_id>", or "r<rank>.<starts_at ms>.<event_id>" for a
 * text search (whose order starts with the rank), in URL-safe base64
 * without padding. Opaque to clients, so the key may change later; strict
 * on decode, so a forged cursor is a clean TS_ERR_INVALID and never reaches
 * SQL as anything but values. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The raw key is at most "r1." + 20 digits + '.' + 64 id bytes. */
#define RAW_MAX 92

void proj__cursor_encode(int rank, int64_t starts_ms, const char *event_id,
                         char out[PROJ_CURSOR_MAX])
{
    char raw[RAW_MAX];
    int n = rank >= 0
                ? snprintf(raw, sizeof raw, "r%d.%" PRId64 ".%s", rank % 10, starts_ms, event_id)
                : snprintf(raw, sizeof raw, "%" PRId64 ".%s", starts_ms, event_id);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof raw ? sizeof raw - 1 : (size_t)n;
    size_t o = 0;

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)(unsigned char)raw[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)raw[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = b64[v & 63];
    }
    out[o] = '\0';
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

ts_status proj__cursor_decode(const char *cursor, int *rank, int64_t *starts_ms, char id[65])
{
    char raw[RAW_MAX + 1];
    size_t n = cursor ? strlen(cursor) : 0, len = 0;
    int64_t ms = 0;
    const char *p;
    int neg = 0, digits = 0, r = -1;

    /* A length of 1 mod 4 cannot come out of the encoder. */
    if (n == 0 || n % 4 == 1 || n > (RAW_MAX / 3) * 4 + 3)
        return TS_ERR_INVALID;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        size_t k, m = n - i < 4 ? n - i : 4;
        for (k = 0; k < m; k++) {
            int d = b64_value(cursor[i + k]);
            if (d < 0)
                return TS_ERR_INVALID;
            v |= (uint32_t)d << (18 - 6 * k);
        }
        raw[len++] = (char)(v >> 16);
        if (m > 2)
            raw[len++] = (char)(v >> 8);
        if (m > 3)
            raw[len++] = (char)v;
    }
    raw[len] = '\0';
    if (strlen(raw) != len)
        return TS_ERR_INVALID;

    p = raw;
    if (p[0] == 'r') {
        if (p[1] < '0' || p[1] > '9' || p[2] != '.')
            return TS_ERR_INVALID;
        r = p[1] - '0';
        p += 3;
    }
    if (*p == '-') {
        neg = 1;
        p++;
    }
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits >= 18)
            return TS_ERR_INVALID;
        ms = ms * 10 + (*p - '0');
    }
    if (!digits || *p != '.' || !ts_id_valid(p + 1))
        return TS_ERR_INVALID;
    ms = neg ? -ms : ms;
    /* Only the encoder's own output is accepted: no leading zeros, no stray
     * low bits in the last base64 digit. */
    char again[PROJ_CURSOR_MAX];
    proj__cursor_encode(r, ms, p + 1, again);
    if (strcmp(again, cursor) != 0)
        return TS_ERR_INVALID;
    *rank = r;
    *starts_ms = ms;
    memcpy(id, p + 1, strlen(p + 1) + 1);
    return TS_OK;
}
