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
#include "payments/payments.h"
#include "projections/projections.h"

typedef struct api_server api_server_t;

typedef struct {
    const char *bind; /* "127.0.0.1" */
    uint16_t port;    /* 8080 */
    /* Access tokens (RULE-AUTH-1): jwt_alg is "HS256" (NULL: the default),
     * "RS256" or "ES256". HS256 signs and verifies with the secret jwt_key;
     * RS256/ES256 sign with the private key jwt_key (PEM) and verify with
     * jwt_public_key (PEM). Borrowed for the server's life. */
    const char *jwt_alg;
    const uint8_t *jwt_key;
    size_t jwt_key_len;
    const uint8_t *jwt_public_key;
    size_t jwt_public_key_len;
    eng_t *engine;       /* borrowed */
    proj_db_t *db;       /* borrowed */
    int min_seq_wait_ms; /* 2000 */
    /* issue 3, payments and refunds */
    pay_provider_t *provider;      /* borrowed; the `simulated` one by default */
    const uint8_t *webhook_secret; /* RULE-PAY-1: verifies POST /webhooks/payments */
    size_t webhook_secret_len;
    uint32_t cancel_batch; /* bookings per commit of an event's cancellation; 0: 200 */
    /* /readyz: a projection is behind past this many seconds of lag (0
     * picks 30) or, when set, this many events; a projection listed in
     * ready_projections (comma-separated; NULL: "catalog") fails it also
     * when it is not running (health.c). */
    int ready_max_lag_s;
    uint64_t ready_max_lag_events;
    const char *ready_projections;
} api_config_t;

/* Starts listening. Errors: TS_ERR_IO (port taken, bad address),
 * TS_ERR_INVALID (bad address; unknown JWT algorithm, or keys that do not
 * sign and verify a token). */
ts_status api_start(const api_config_t *cfg, api_server_t **out);
/* Stops accepting, finishes requests in flight. Accepts NULL. */
void api_stop(api_server_t *s);

#endif
