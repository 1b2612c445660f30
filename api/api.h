/*
 * api — the REST layer (API.md) over libmicrohttpd.
 *
 * Requests are read into a per-request arena and a body buffer capped at
 * 64 KiB (413 payload_too_large past it). Commands go to the engine and block
 * the connection's thread until the commit is acknowledged; queries read the
 * PostgreSQL read models, waiting for ?min_seq when asked. Every error is an
 * RFC 7807 problem with a stable code from API.md.
 *
 * Threading: libmicrohttpd runs one thread per connection; the engine, the
 * read-model pool and the idempotency guard are thread-safe.
 */
#ifndef TS_API_H
#define TS_API_H

#include "base/base.h"
#include "engine/engine.h"
#include "projections/projections.h"

typedef struct api_server api_server_t;

typedef struct {
    const char *bind;       /* "127.0.0.1" */
    uint16_t port;          /* 8080 */
    const uint8_t *jwt_key; /* HS256 secret */
    size_t jwt_key_len;
    eng_t *engine;       /* borrowed */
    proj_db_t *db;       /* borrowed */
    int min_seq_wait_ms; /* 2000 */
    /* /readyz: a projection is behind past this many seconds of lag (0
     * picks 30) or, when set, this many events; a projection listed in
     * ready_projections (comma-separated; NULL: "catalog") fails it also
     * when it is not running (health.c). */
    int ready_max_lag_s;
    uint64_t ready_max_lag_events;
    const char *ready_projections;
} api_config_t;

/* Starts listening. Errors: TS_ERR_IO (port taken, bad address). */
ts_status api_start(const api_config_t *cfg, api_server_t **out);
/* Stops accepting, finishes requests in flight. Accepts NULL. */
void api_stop(api_server_t *s);

#endif
