/*
 * The HTTP server: reading requests, routing, the Idempotency-Key guard,
 * and sending answers.
 */
#include "api/api_int.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The operations endpoints, at the root: answered before anything else
 * (also to a body too large), and never below /api/v1. */
const api_route_t api__ops_routes[] = {
    {"GET", "/healthz", api_h_healthz, 0},
    {"GET", "/readyz", api_h_readyz, 0},
    {"GET", "/metrics", api_h_metrics, 0},
};
const size_t api__n_ops_routes = TS_ARRAY_LEN(api__ops_routes);

const api_route_t api__routes[] = {
    {"POST", "/auth/login", api_h_login, 0},
    {"POST", "/auth/register", api_h_register, 0},
    {"GET", "/users/me", api_h_me, 0},
    {"POST", "/venues", api_h_venue_create, 1},
    {"GET", "/venues/*", api_h_venue_get, 0},
    {"POST", "/events", api_h_event_create, 1},
    {"GET", "/events", api_h_events_list, 0},
    {"POST", "/events/*/publish", api_h_event_publish, 1},
    {"GET", "/events/*", api_h_event_get, 0},
    {"GET", "/events/*/seats", api_h_seatmap, 0},
    {"POST", "/events/*/holds", api_h_hold, 1},
    {"GET", "/bookings/*", api_h_booking_get, 0},
    {"DELETE", "/bookings/*", api_h_booking_delete, 1},
    {"GET", "/audit/events", api_h_audit_events, 0},
    {"GET", "/audit/verify", api_h_audit_verify, 0},
    {"GET", "/openapi.json", api_h_openapi, 0},
    /* Refresh has no Bearer token (the refresh token is the credential),
     * and the Idempotency-Key guard is scoped to an authenticated caller:
     * a repeated refresh is reuse, by design (RULE-AUTH-1). */
    {"POST", "/auth/refresh", api_h_refresh, 0},
    {"POST", "/auth/logout", api_h_logout, 1},
    {"POST", "/users/*/roles", api_h_user_roles, 1},
    {"POST", "/users/*/block", api_h_user_block, 1},
    {"DELETE", "/users/*/block", api_h_user_block, 1},
    /* issue 3, selling rules (append new routes here) */
    {"PATCH", "/events/*", api_h_event_patch, 1},
    {"POST", "/events/*/promos", api_h_promo_create, 1},
    {"POST", "/events/*/holds/best", api_h_hold_best, 1},
    /* issue 3, payments and refunds */
    {"POST", "/bookings/*/payments", api_h_payment_create, 1},
    {"POST", "/payments/*/simulate", api_h_payment_simulate, 1},
    {"POST", "/webhooks/payments", api_h_webhook, 0},
    {"POST", "/events/*/cancel", api_h_event_cancel, 1},
    {"POST", "/events/*/waitlist", api_h_waitlist_join, 1},
    {"DELETE", "/events/*/waitlist/*", api_h_waitlist_leave, 1},
    {"GET", "/users/me/waitlist", api_h_waitlist_mine, 0},
    /* tickets and gates (RULE-TKT-1..3) */
    {"GET", "/tickets/*", api_h_ticket_get, 0},
    {"GET", "/tickets/*/qr.svg", api_h_ticket_qr, 0},
    {"POST", "/tickets/*/transfer", api_h_ticket_transfer, 1},
    {"POST", "/checkin", api_h_checkin, 1},
    {"GET", "/events/*/keys", api_h_event_keys, 0},
    {"GET", "/events/*/revocations", api_h_event_revocations, 0},
    {"GET", "/users/me/tickets", api_h_my_tickets, 0},
    /* issue 4, the sales dashboard and a user's bookings */
    {"GET", "/events/*/sales", api_h_event_sales, 0},
    {"GET", "/users/me/bookings", api_h_my_bookings, 0},
};
const size_t api__n_routes = TS_ARRAY_LEN(api__routes);

/* Matches path against pattern, capturing '*' segments into r->params.
 * Returns 1 on a match. */
static int match(api_req_t *r, const char *pattern, const char *path)
{
    int n = 0;
    while (*pattern && *path) {
        if (*pattern == '*') {
            const char *end = strchr(path, '/');
            size_t len = end ? (size_t)(end - path) : strlen(path);
            if (len == 0 || n >= 3)
                return 0;
            r->params[n++] = ts_arena_strndup(&r->arena, path, len);
            path += len;
            pattern++;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    return !*pattern && !*path;
}

/* ---- Idempotency-Key (RULE-HOLD-5) ---- */

static int idem_key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return 0;
    return 1;
}

/* Returns 1 when the answer was given from the table (or refused). */
static int idem_begin(api_req_t *r, const char *key, const char **slot, uint8_t hash[32])
{
    api_server_t *s = r->srv;
    /* The request hash covers method, path and body (RULE-HOLD-5). */
    const char *head = ts_arena_printf(&r->arena, "%s %s\n", r->method, r->path);
    size_t hl = strlen(head);
    uint8_t *all = ts_arena_alloc(&r->arena, hl + r->body.len + 1);
    memcpy(all, head, hl);
    if (r->body.len)
        memcpy(all + hl, r->body.data, r->body.len);
    SHA256(all, hl + r->body.len, hash);
    const char *k = ts_arena_printf(&r->arena, "%s\n%s", r->user_id ? r->user_id : "-", key);
    uint8_t kh[32];
    char khex[65];
    SHA256((const unsigned char *)k, strlen(k), kh);
    ts_hex(kh, 32, khex);
    /* The command id is derived from the key, so a repeat after a lost
     * answer is recognised by the aggregate itself. */
    r->command_id = ts_arena_printf(&r->arena, "idem-%.32s", khex);
    /* Claim the key first, then look for a stored answer: a request that
     * arrives just as the first one stores its answer cannot run twice. */
    pthread_mutex_lock(&s->idem_mu);
    int busy = ts_map_get(&s->idem_busy, k) == 1;
    if (!busy) {
        *slot = ts_arena_strdup(&s->idem_arena, k);
        ts_map_put(&s->idem_busy, *slot, 1);
    }
    pthread_mutex_unlock(&s->idem_mu);
    if (busy) {
        api_problem(r, 409, "conflict", "a request with this Idempotency-Key is in progress", NULL);
        return 1;
    }
    eng_idem_t stored;
    if (eng_idem_get(s->cfg.engine, k, &r->arena, &stored) != TS_OK)
        return 0;
    pthread_mutex_lock(&s->idem_mu);
    ts_map_put(&s->idem_busy, *slot, 0);
    pthread_mutex_unlock(&s->idem_mu);
    if (memcmp(stored.request_hash, hash, 32) != 0) {
        api_problem(r, 422, "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request", NULL);
        return 1;
    }
    r->status = stored.status;
    r->out = strdup(stored.body);
    r->out_type = stored.status >= 400 ? "application/problem+json" : "application/json";
    return 1;
}

static void idem_end(api_req_t *r, const char *slot, const uint8_t hash[32])
{
    api_server_t *s = r->srv;
    /* Server errors are not stored: the client should be able to retry. */
    if (r->status < 500 && r->out) {
        eng_idem_t v = {.status = r->status, .body = r->out};
        memcpy(v.request_hash, hash, 32);
        eng_idem_put(s->cfg.engine, slot, &v);
    }
    pthread_mutex_lock(&s->idem_mu);
    ts_map_put(&s->idem_busy, slot, 0);
    pthread_mutex_unlock(&s->idem_mu);
}

static void dispatch(api_req_t *r, const char *url)
{
    for (size_t i = 0; i < api__n_ops_routes; i++)
        if (strcmp(url, api__ops_routes[i].pattern) == 0 &&
            strcmp(r->method, api__ops_routes[i].method) == 0)
            return api__ops_routes[i].handler(r);
    if (r->too_large)
        return api_problem(r, 413, "payload_too_large", "bodies are limited to 64 KiB", NULL);
    if (strncmp(url, "/api/v1/", 8) != 0)
        return api_problem(r, 404, "not_found", "no such resource", NULL);
    r->path = url + 7;
    const api_route_t *found = NULL;
    int path_known = 0;
    for (size_t i = 0; i < api__n_routes; i++) {
        if (!match(r, api__routes[i].pattern, r->path))
            continue;
        path_known = 1;
        if (strcmp(api__routes[i].method, r->method) == 0) {
            found = &api__routes[i];
            break;
        }
    }
    if (!found)
        return path_known ? api_problem(r, 405, "method_not_allowed",
                                        "method not allowed on this resource", NULL)
                          : api_problem(r, 404, "not_found", "no such resource", NULL);
    const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (!found->changes_state || !key) {
        found->handler(r);
        return;
    }
    if (!idem_key_valid(key))
        return api_problem_validation(r, "Idempotency-Key", "1..128 printable characters");
    /* The key is scoped to the caller: authenticate first (the handler
     * checks again, cheaply, from the same header). */
    if (api_authenticate(r) != 0)
        return;
    const char *slot = NULL;
    uint8_t hash[32];
    if (idem_begin(r, key, &slot, hash))
        return;
    found->handler(r);
    idem_end(r, slot, hash);
}

static enum MHD_Result send_answer(api_req_t *r)
{
    struct MHD_Response *resp;
    if (r->piece_cls && !r->out) {
        /* The response owns the pieces from here on, also on failure. */
        resp = MHD_create_response_from_iovec(r->pieces, r->n_pieces, r->piece_free, r->piece_cls);
        if (!resp)
            r->piece_free(r->piece_cls);
        r->piece_cls = NULL;
        if (!resp)
            return MHD_NO;
    } else {
        if (!r->out) {
            r->out = strdup("");
            if (!r->status)
                r->status = 500;
        }
        resp = MHD_create_response_from_buffer(strlen(r->out), r->out, MHD_RESPMEM_MUST_FREE);
        r->out = NULL;
    }
    if (r->status != 204) /* no body, no type */
        MHD_add_response_header(resp, "Content-Type",
                                r->out_type ? r->out_type : "application/json");
    if (r->retry_after)
        MHD_add_response_header(resp, "Retry-After", r->retry_after);
    if (r->out_encoding)
        MHD_add_response_header(resp, "Content-Encoding", r->out_encoding);
    if (r->vary_encoding)
        MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    api_req_t *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->srv = cls;
        r->conn = conn;
        r->method = method;
        ts_arena_init(&r->arena, 8192);
        ts_buf_init(&r->body);
        *con_cls = r;
        /* Refuse an announced oversized body before reading it. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY) {
            api_problem(r, 413, "payload_too_large", "bodies are limited to 64 KiB", NULL);
            return send_answer(r);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (r->body.len + *upload_data_size > API_MAX_BODY)
            r->too_large = 1;
        else
            ts_buf_append(&r->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->status) /* already answered (413 above) */
        return MHD_YES;
    ts_buf_append(&r->body, "", 1); /* NUL-terminate; len excludes it */
    r->body.len--;
    dispatch(r, url);
    return send_answer(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    api_req_t *r = *con_cls;
    if (!r)
        return;
    if (r->piece_cls)
        r->piece_free(r->piece_cls);
    free(r->pieces);
    free(r->out);
    ts_buf_deinit(&r->body);
    ts_arena_deinit(&r->arena);
    free(r);
    *con_cls = NULL;
}

ts_status api_start(const api_config_t *cfg, api_server_t **out)
{
    api_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return TS_ERR_NOMEM;
    s->cfg = *cfg;
    if (s->cfg.min_seq_wait_ms <= 0)
        s->cfg.min_seq_wait_ms = 2000;
    if (s->cfg.ready_max_lag_s <= 0)
        s->cfg.ready_max_lag_s = 30;
    if (!s->cfg.ready_projections)
        s->cfg.ready_projections = PROJ_CATALOG;
    pthread_mutex_init(&s->idem_mu, NULL);
    pthread_mutex_init(&s->cache_mu, NULL);
    api__tokens_init(s);
    ts_map_init(&s->idem_busy);
    ts_map_init(&s->event_cache);
    ts_arena_init(&s->idem_arena, 4096);
    ts_status st = api__jwt_init(s);
    if (st != TS_OK) {
        api_stop(s);
        return st;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
    if (inet_pton(AF_INET, cfg->bind ? cfg->bind : "127.0.0.1", &addr.sin_addr) != 1) {
        fprintf(stderr, "api: bad bind address %s\n", cfg->bind);
        api_stop(s);
        return TS_ERR_INVALID;
    }
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, "api: cannot listen on %s:%u\n", cfg->bind, cfg->port);
        api_stop(s);
        return TS_ERR_IO;
    }
    *out = s;
    return TS_OK;
}

void api_stop(api_server_t *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_EVENT);
    for (uint32_t i = 0; i < s->n_cached; i++)
        ops->state_free(s->cached[i]);
    free(s->cached);
    ts_map_deinit(&s->idem_busy);
    ts_map_deinit(&s->event_cache);
    ts_arena_deinit(&s->idem_arena);
    pthread_mutex_destroy(&s->idem_mu);
    pthread_mutex_destroy(&s->cache_mu);
    api__tokens_deinit(s);
    free(s);
}
