/* Private to api/: the request, replies, routing, auth and parsing. */
#ifndef TS_API_INT_H
#define TS_API_INT_H

#include "api/api.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>

#define API_MAX_BODY (64 * 1024)

struct api_server {
    api_config_t cfg;
    struct MHD_Daemon *daemon;
    pthread_mutex_t idem_mu;       /* guards idem_busy */
    ts_map_t idem_busy;            /* keys whose first request is in flight */
    ts_arena_t idem_arena;         /* key storage for idem_busy */
    pthread_mutex_t token_mu;      /* guards tokens and users */
    struct api_token_slot *tokens; /* verified access tokens (auth.c) */
    struct api_user_slot *users;   /* roles and blocked flag, fresh (auth.c) */
    int jwt_alg;                   /* jwt_alg_t of cfg.jwt_alg (jwt.c) */
    pthread_mutex_t cache_mu;
    ts_map_t event_cache; /* published event id → slot in cached */
    void **cached;        /* cmd_event_state_t copies (immutable once published) */
    uint32_t n_cached, cap_cached;
};

typedef struct {
    api_server_t *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *path; /* below /api/v1 for API routes */
    ts_buf_t body;
    int too_large;
    ts_arena_t arena;
    const char *params[3]; /* path parameters in order */
    /* The caller, once authenticated. */
    const char *user_id;
    uint32_t roles; /* as the user's aggregate has them, not the token */
    int blocked;    /* RULE-AUTH-2 */
    /* The command id of this request (from Idempotency-Key, or random). */
    const char *command_id;
    /* The answer. */
    int status;
    char *out;            /* malloc'd body */
    const char *out_type; /* content type */
    /* Or, when piece_cls is set, a body sent from these pieces in place
     * (no copy), and piece_free(piece_cls) once MHD is done with them. */
    struct MHD_IoVec *pieces; /* MHD copies the array itself */
    unsigned n_pieces;
    MHD_ContentReaderFreeCallback piece_free;
    void *piece_cls;
    const char *retry_after;
    const char *out_encoding;    /* Content-Encoding of the body, NULL: identity */
    int vary_encoding;           /* the body depends on Accept-Encoding (Vary) */
    const char *accept_encoding; /* the request's, joined (encoding.c) */
    uint64_t min_seq;            /* ?min_seq= once api_wait_min_seq passed (0: none) */
} api_req_t;

/* ---- routing (server.c) ---- */
typedef struct {
    const char *method;
    const char *pattern; /* '*' matches one path segment */
    void (*handler)(api_req_t *r);
    int changes_state; /* honours Idempotency-Key */
} api_route_t;
/* The routes below /api/v1 (patterns without the prefix), first match
 * wins; and the operations endpoints at the root (exact paths). The
 * OpenAPI document (openapi.c) has an entry for each. */
extern const api_route_t api__routes[];
extern const size_t api__n_routes;
extern const api_route_t api__ops_routes[];
extern const size_t api__n_ops_routes;
/* The OpenAPI 3 document of every route (openapi.c). New reference. */
json_t *api__openapi(void);

/* ---- replies (reply.c) ---- */
/* Takes the reference to body. */
void api_reply_json(api_req_t *r, int status, json_t *body);
/* problem+json; extra (may be NULL) is merged and its reference taken. */
void api_problem(api_req_t *r, int status, const char *code, const char *detail, json_t *extra);
void api_problem_validation(api_req_t *r, const char *field, const char *message);
/* An answer without a body (204). */
void api_reply_empty(api_req_t *r, int status);
/* Maps a business rejection to its HTTP status and problem. */
void api_reply_reject(api_req_t *r, const cmd_reject_t *rj);
/* Maps an engine/database status to a 5xx or 404 problem. */
void api_reply_status(api_req_t *r, ts_status st);
const char *api_query(api_req_t *r, const char *name);
/* ?limit= (1..200, default 50); -1 after replying 400. */
int api__limit(api_req_t *r);
/* Parses the body as a JSON object; replies 400 and returns NULL if not. */
json_t *api_body_json(api_req_t *r);
/* The body of a request on the event of the path (params[0]) once auth
 * (api_authenticate, api_require_active_user) lets the caller in; NULL
 * after replying: auth's answer, 404 "no such event" for what cannot be an
 * event id (api_event_id_valid), or api_body_json's 400. */
json_t *api_event_body(api_req_t *r, int (*auth)(api_req_t *r));
/* ?min_seq=N: waits for the catalog projection; replies 400/503 and returns
 * -1 when it must not go on. */
int api_wait_min_seq(api_req_t *r);
/* A user's own list (GET /users/me/bookings, tickets, waitlist): ?min_seq=,
 * ?limit= and ?cursor= read, list run for the caller, 200 with its page or
 * the 400/5xx problem. Authenticates first. */
typedef ts_status (*api_user_list_fn)(proj_db_t *db, const char *user_id, int limit,
                                      const char *cursor, json_t **out);
void api_reply_user_list(api_req_t *r, api_user_list_fn list);

/* ---- auth (auth.c, jwt.c) ---- */
/* Verifies the bearer token and loads the caller's roles and blocked flag
 * from the user's aggregate (not from the token: a role change or a block
 * counts at once); replies 401 and returns -1 when absent/bad, or when the
 * user does not exist. */
int api_authenticate(api_req_t *r);
/* 403 unless the caller has one of the role bits (admin always does); -1 then. */
int api_require_role(api_req_t *r, uint32_t roles);
/* RULE-AUTH-2: authenticates, then 403 forbidden when the caller is
 * blocked; -1 then. Every handler that holds or buys calls it. */
int api_require_active_user(api_req_t *r);
/* 1 when the authenticated caller is owner (a user id; NULL is nobody's)
 * or an admin, else 0. Replies nothing. */
int api_owner_or_admin(const api_req_t *r, const char *owner);
/* Forgets what the server knows of a user's roles and block, after a
 * change, so the next request reads them afresh. */
void api__user_forget(api_server_t *s, const char *user_id);
/* A signed access token (malloc'd), or NULL. */
char *api__token_issue(api_server_t *s, const eng_user_t *u, int64_t now, int ttl_s);
/* Verifies an access token (see jwt.c); sub lives in arena. 0 or -1. */
int api__token_verify(api_server_t *s, const char *token, ts_arena_t *arena, const char **sub,
                      long *exp);
/* Checks the JWT configuration by signing and verifying a token. */
ts_status api__jwt_init(api_server_t *s);
/* ["attendee", ...] of a role bit set. */
json_t *api__roles_json(uint32_t roles);
/* The caches of verified tokens and users: set up and torn down with the
 * server. */
void api__tokens_init(api_server_t *s);
void api__tokens_deinit(api_server_t *s);

/* ---- handlers ---- */
void api_h_login(api_req_t *r);
void api_h_register(api_req_t *r);
void api_h_me(api_req_t *r);
void api_h_refresh(api_req_t *r);
void api_h_logout(api_req_t *r);
void api_h_user_roles(api_req_t *r);
void api_h_user_block(api_req_t *r);
void api_h_venue_create(api_req_t *r);
void api_h_venue_get(api_req_t *r);
void api_h_event_create(api_req_t *r);
void api_h_event_publish(api_req_t *r);
void api_h_events_list(api_req_t *r);
void api_h_event_get(api_req_t *r);
void api_h_seatmap(api_req_t *r);
void api_h_hold(api_req_t *r);
void api_h_hold_best(api_req_t *r);
void api_h_event_patch(api_req_t *r);
void api_h_promo_create(api_req_t *r);
void api_h_booking_get(api_req_t *r);
void api_h_booking_delete(api_req_t *r);
void api_h_audit_events(api_req_t *r);
void api_h_audit_verify(api_req_t *r);
void api_h_healthz(api_req_t *r);
void api_h_readyz(api_req_t *r);
void api_h_metrics(api_req_t *r);
void api_h_openapi(api_req_t *r);
/* issue 3, payments and refunds (handlers_pay.c) */
void api_h_payment_create(api_req_t *r);
void api_h_payment_simulate(api_req_t *r);
void api_h_webhook(api_req_t *r);
void api_h_event_cancel(api_req_t *r);
void api_h_waitlist_join(api_req_t *r);
void api_h_waitlist_leave(api_req_t *r);
void api_h_waitlist_mine(api_req_t *r);
/* tickets and gates (handlers_tickets.c) */
void api_h_ticket_get(api_req_t *r);
void api_h_ticket_qr(api_req_t *r);
void api_h_ticket_transfer(api_req_t *r);
void api_h_checkin(api_req_t *r);
void api_h_event_keys(api_req_t *r);
void api_h_event_revocations(api_req_t *r);
void api_h_my_tickets(api_req_t *r);
/* issue 4, the sales dashboard and a user's bookings (handlers_sales.c) */
void api_h_event_sales(api_req_t *r);
void api_h_my_bookings(api_req_t *r);

/* ---- content codings (encoding.c) ---- */
typedef enum {
    API_CODING_IDENTITY, /* the body as it is */
    API_CODING_GZIP,     /* Content-Encoding: gzip (RFC 9110 section 8.4.1.3) */
    API_CODING_ZSTD,     /* Content-Encoding: zstd (RFC 9659) */
} api_coding_t;
/* 1 when an Accept-Encoding field value takes gzip (RFC 9110 section
 * 12.5.3: gzip or x-gzip or "*" with a weight above 0, and not below
 * identity's); 0 for NULL (no field). */
int api_gzip_accepted(const char *accept_encoding);
/* The coding of the seat map for an Accept-Encoding field value: zstd when
 * it is named with a weight above 0, not below identity's and at least
 * gzip's ("*" never stands for zstd), else gzip when api_gzip_accepted,
 * else identity (also for NULL). At equal weights the smaller answer wins:
 * zstd, gzip, identity. */
api_coding_t api_coding_of(const char *accept_encoding);
/* The same for the request's Accept-Encoding lines. */
api_coding_t api_pick_coding(api_req_t *r);

/* ---- parsing (parse.c): path ids, JSON bodies into domain structs ---- */
/* 1 when s can be an event id: alphanumeric (eng_new_id), 1..64 bytes. An
 * id with '-' or '_' names no event, and a shard id may split at '-'. */
int api_event_id_valid(const char *s);
/* Each returns 0, or replies 400 validation_failed and returns -1. */
int api_parse_venue(api_req_t *r, json_t *j, evt_venue_created_t *out);
int api_parse_event(api_req_t *r, json_t *j, evt_event_created_t *out);
/* PATCH /events/{id}: the fields present (unknown ones refused). */
int api_parse_event_patch(api_req_t *r, json_t *j, event_patch_t *out);
/* POST /events/{id}/promos. */
int api_parse_promo(api_req_t *r, json_t *j, evt_promo_t *out);
/* The optional "promo_code" of a hold body into *code (NULL when absent). */
int api_parse_promo_code(api_req_t *r, json_t *j, const char **code);

/* ---- shared pieces (commands.c) ---- */
/* Runs a command, records metrics; on a rejection or error it replies and
 * returns -1. */
int api_execute(api_req_t *r, eng_cmd_t *cmd, eng_outcome_t *out);
/* The same without replying: for handlers that react to a rejection. */
ts_status api_execute_raw(api_req_t *r, eng_cmd_t *cmd, eng_outcome_t *out);
/* first, then (only when first succeeded unrejected) through
 * eng_execute_then, the caller sleeping once; metrics for each command run.
 * *ran_then as there. */
ts_status api_execute_then(api_req_t *r, eng_cmd_t *first, eng_cmd_t *then,
                           eng_outcome_t *first_out, eng_outcome_t *then_out, int *ran_then);
int64_t api__now_ms(void);
/* A deep copy of an aggregate's committed state; free with its ops. */
ts_status api_state_copy(api_req_t *r, const char *subject, void **out);
/* The event's committed state (api_state_copy of tix.event.<event_id>)
 * into *out, 0; or -1 after replying the engine's error, or 404 "no such
 * event" when it does not exist (nothing to free then). Free *out with the
 * event ops' state_free. */
int api_event_copy(api_req_t *r, const char *event_id, cmd_event_state_t **out);
/* Ids that name their shard, "<prefix><event>-<section>-<random>" (prefix
 * "bk-", "pay-" or "tk-"; a waitlist entry "wl-" names its list's tier in
 * place of a section): the event and section into the request's arena.
 * 0, or -1 when id is not such an id. */
int api_shard_of_id(api_req_t *r, const char *id, const char *prefix, const char **event,
                    const char **section);
/* ---- holds (handlers_holds.c, holds_flow.c) ---- */
/* The published event (cached copy; tiers, policy and layout are frozen at
 * publish), or NULL when missing or not published. */
const cmd_event_state_t *api__published_event(api_req_t *r, const char *event_id);
const evt_section_t *api__published_section(const cmd_event_state_t *ev, const char *key);
/* Opens the shard of section (subject); 0 when open. */
int api__shard_open(api_req_t *r, const cmd_event_state_t *ev, const char *subject,
                    const char *section);
/* A new booking id "bk-<event>-<section>-<random>", derived from the
 * Idempotency-Key when there is one. */
const char *api__booking_id(api_req_t *r, const char *event_id, const char *section);

typedef struct {
    const char *event_id;
    const cmd_event_state_t *ev; /* published */
    const char *promo_code;      /* as given; NULL: none */
    uint32_t quantity;           /* units the hold takes (RULE-HOLD-4) */
    int refused_by;              /* out: 1 promo, 2 quota, 3 the shard */
} api_hold_t;

/* The hold flow: PromoUsed → QuotaTaken → cmd (ENG_INV_HOLD or
 * ENG_INV_HOLD_BEST with subject, section and new_id = the booking id),
 * giving back the earlier steps when a later one refuses. TS_OK with
 * o->reject set when a step refused (hp->refused_by says which); errors
 * are the engine's. */
ts_status api_hold_place(api_req_t *r, api_hold_t *hp, eng_cmd_t *cmd, eng_outcome_t *o);
/* 201 with the booking a hold outcome placed (or, repeated, found). */
void api_reply_hold(api_req_t *r, const char *subject, const eng_outcome_t *o);

/* The booking JSON of API.md from a placed hold. */
json_t *api_booking_json(const evt_hold_placed_t *h, const char *status, uint64_t commit_seq);
/* *to = *from with its strings copied into a (a shard's state lives in its
 * own arena, valid only under the lane); command_id and offer_entry, which
 * no answer shows, become NULL. */
void api_hold_copy(ts_arena_t *a, const evt_hold_placed_t *from, evt_hold_placed_t *to);

#endif
