/*
 * map — a string-keyed open-addressing hash map to int32 values.
 *
 * Used by aggregate states for O(1) lookups (booking id → index, command id
 * → booking, row label → row). Keys are borrowed: the caller guarantees they
 * outlive the map (they live in the state's arena). Not thread-safe.
 */
#ifndef TS_MAP_H
#define TS_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char **keys;
    int32_t *vals;
    size_t cap; /* power of two, 0 when empty */
    size_t len;
} ts_map_t;

void ts_map_init(ts_map_t *m);
void ts_map_deinit(ts_map_t *m);
/* Inserts or replaces. */
void ts_map_put(ts_map_t *m, const char *key, int32_t val);
/* Returns the value, or -1 when absent. */
int32_t ts_map_get(const ts_map_t *m, const char *key);

#endif
