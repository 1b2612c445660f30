/* Open addressing with linear probing; see map.h. */
#include "base/map.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void ts_map_init(ts_map_t *m)
{
    memset(m, 0, sizeof(*m));
}

void ts_map_deinit(ts_map_t *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    ts_map_init(m);
}

static void put_raw(ts_map_t *m, const char *key, int32_t val)
{
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i])
        m->len++;
    m->keys[i] = key;
    m->vals[i] = val;
}

void ts_map_put(ts_map_t *m, const char *key, int32_t val)
{
    if ((m->len + 1) * 4 > m->cap * 3) {
        ts_map_t old = *m;
        m->cap = old.cap ? old.cap * 2 : 16;
        m->len = 0;
        m->keys = calloc(m->cap, sizeof(*m->keys));
        m->vals = calloc(m->cap, sizeof(*m->vals));
        if (!m->keys || !m->vals)
            abort();
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i])
                put_raw(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    put_raw(m, key, val);
}

int32_t ts_map_get(const ts_map_t *m, const char *key)
{
    if (!m->cap || !key)
        return -1;
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i]) {
        if (strcmp(m->keys[i], key) == 0)
            return m->vals[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}
