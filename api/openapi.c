/* The contract of API.md, machine readable: GET /api/v1/openapi.json.
 *
 * One entry per route server.c registers (api__routes below /api/v1, the
 * document's server; api__ops_routes at the root, which their path items
 * say with a server of their own). tests/unit/api/test_openapi.c reads both
 * tables and fails when a route has no entry here or an entry names no
 * route, so a new route cannot go undocumented. A path parameter is
 * "{name}" where the route has '*'. */
#include "api/api_int.h"

#include <string.h>

#define JSON "JSON, or an RFC 7807 problem"
#define EMPTY "Empty, or an RFC 7807 problem"

typedef struct {
    const char *method; /* lower case, as OpenAPI names operations */
    const char *path;
    const char *summary;
    const char *answer; /* the default response's description */
} doc_op_t;

static const doc_op_t api_ops[] = {
    {"post", "/auth/login", "Log in: {email, password} -> tokens", JSON},
    {"post", "/auth/register", "Register: {email, password, name} -> 201 {user_id}", JSON},
    {"post", "/auth/refresh", "A new token pair for a refresh token, which is spent (RULE-AUTH-1)",
     JSON},
    {"post", "/auth/logout", "End the session of a refresh token: 204", EMPTY},
    {"get", "/users/me", "The caller: {user_id, email, name, roles}", JSON},
    {"post", "/users/{id}/roles", "Grant a role: {role} (admin; RULE-AUTH-2)", JSON},
    {"post", "/users/{id}/block", "Block a user (admin; RULE-AUTH-2)", JSON},
    {"delete", "/users/{id}/block", "Unblock a user (admin; RULE-AUTH-2)", JSON},
    {"post", "/venues", "Create a venue (organizer, admin)", JSON},
    {"get", "/venues/{id}", "A venue with sections and rows", JSON},
    {"post", "/events", "Create a draft event (organizer, admin)", JSON},
    {"get", "/events", "Published events, soonest first", JSON},
    {"get", "/events/{id}", "An event with tiers and availability", JSON},
    {"patch", "/events/{id}",
     "Change details and times; tiers and policy while draft (owner, admin)", JSON},
    {"post", "/events/{id}/publish", "Publish a draft event (owner, admin)", JSON},
    {"get", "/events/{id}/seats", "The seat map; ?min_seq waits for the read model", JSON},
    {"post", "/events/{id}/holds", "Hold named seats or a standing quantity", JSON},
    {"get", "/bookings/{id}", "A booking (owner, admin)", JSON},
    {"delete", "/bookings/{id}",
     "Release a held booking, cancel a confirmed one (refund by policy)", JSON},
    {"get", "/audit/events", "Commits decoded to JSON (auditor, admin)", JSON},
    {"get", "/audit/verify", "Verify the per-subject hash chains (auditor, admin)", JSON},
    {"get", "/openapi.json", "This document", JSON},
    /* issue 3: selling rules */
    {"post", "/events/{id}/promos", "Create a promo code (owner, admin; RULE-PROMO-1)", JSON},
    {"post", "/events/{id}/holds/best", "Hold the best adjacent seats in one row", JSON},
    /* issue 3: payments, refunds, cancellation */
    {"post", "/bookings/{id}/payments",
     "A payment intent for the booking total (owner; RULE-PAY-1)", JSON},
    {"post", "/payments/{id}/simulate",
     "The simulated provider sends the signed webhook (owner): 202", JSON},
    {"post", "/webhooks/payments", "Provider webhook, Payment-Signature verified (RULE-PAY-1)",
     JSON},
    {"post", "/events/{id}/cancel",
     "Cancel an event: every booking refunded in full (owner, admin)", JSON},
    /* issue 3: waitlists (RULE-WL-1) */
    {"post", "/events/{id}/waitlist",
     "Join the tier's waitlist: {quantity, tier?} -> {entry_id, position}", JSON},
    {"delete", "/events/{id}/waitlist/{entry}", "Leave the waitlist (owner): 204", EMPTY},
    {"get", "/users/me/waitlist", "My waitlist entries with position and any open offer; ?min_seq",
     JSON},
    /* tickets and gates (RULE-TKT-1..3) */
    {"get", "/users/me/tickets", "The caller's tickets, oldest first (?limit, ?cursor, ?min_seq)",
     JSON},
    {"get", "/tickets/{id}", "A ticket with its Ed25519-signed code (holder, admin; RULE-TKT-1)",
     JSON},
    {"get", "/tickets/{id}/qr.svg",
     "The ticket's code as a QR image, image/svg+xml (holder, admin)", JSON},
    {"post", "/tickets/{id}/transfer",
     "Transfer to a registered e-mail: a new ticket, the old code revoked (holder; RULE-TKT-3)",
     JSON},
    {"post", "/checkin",
     "Scan a code at a gate: admitted, already_used, revoked, invalid, wrong_event (box_office, "
     "admin; RULE-TKT-2)",
     JSON},
    {"get", "/events/{id}/keys", "The event's Ed25519 public keys, for gates verifying offline",
     JSON},
    {"get", "/events/{id}/revocations", "Ticket codes revoked after ?since_seq (box_office, admin)",
     JSON},
    /* issue 4: the sales dashboard and a user's bookings */
    {"get", "/events/{id}/sales",
     "Sales per tier (sold, held, available, gross, refunds, checked_in), totals and a per-minute "
     "series (owner, admin); ?from=&to= bound the series, ?min_seq waits for the read model",
     JSON},
    {"get", "/users/me/bookings", "The caller's bookings, newest first; ?limit=&cursor=, ?min_seq",
     JSON},
};

/* At the root, outside /api/v1. */
static const doc_op_t root_ops[] = {
    {"get", "/healthz", "The process is alive", "JSON"},
    {"get", "/readyz",
     "JetStream, LMDB and PostgreSQL reachable, the required projections not behind: 200, else "
     "503",
     "JSON"},
    {"get", "/metrics",
     "Prometheus text: command counts and latencies, commit batch sizes, projection lag",
     "Prometheus text exposition"},
};

/* The {name} segments of path as OpenAPI path parameters, or NULL. */
static json_t *path_params(const char *path)
{
    json_t *params = NULL;
    for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        if (!end)
            break;
        if (!params)
            params = json_array();
        json_array_append_new(params, json_pack("{s:s%, s:s, s:b, s:{s:s}}", "name", p + 1,
                                                (size_t)(end - p - 1), "in", "path", "required", 1,
                                                "schema", "type", "string"));
    }
    return params;
}

static void add_ops(json_t *paths, const doc_op_t *ops, size_t n, int at_root)
{
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_object_get(paths, ops[i].path);
        if (!item) {
            item = json_object();
            json_t *params = path_params(ops[i].path);
            if (params)
                json_object_set_new(item, "parameters", params);
            if (at_root)
                json_object_set_new(item, "servers", json_pack("[{s:s}]", "url", "/"));
            json_object_set_new(paths, ops[i].path, item);
        }
        json_object_set_new(item, ops[i].method,
                            json_pack("{s:s, s:{s:{s:s}}}", "summary", ops[i].summary, "responses",
                                      "default", "description", ops[i].answer));
    }
}

json_t *api__openapi(void)
{
    json_t *paths = json_object();
    add_ops(paths, api_ops, TS_ARRAY_LEN(api_ops), 0);
    add_ops(paths, root_ops, TS_ARRAY_LEN(root_ops), 1);
    return json_pack("{s:s, s:{s:s, s:s}, s:[{s:s}], s:o}", "openapi", "3.0.3", "info", "title",
                     "Turnstile REST API", "version", "1", "servers", "url", "/api/v1", "paths",
                     paths);
}
