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
    pthread_mutex_t token_mu;      /* guards tokens */
    struct api_token_slot *tokens; /* verified access tokens (auth.c) */
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
    uint32_t roles;
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
} api_req_t;

/* ---- replies (reply.c) ---- */
/* Takes the reference to body. */
void api_reply_json(api_req_t *r, int status, json_t *body);
/* problem+json; extra (may be NULL) is merged and its reference taken. */
void api_problem(api_req_t *r, int status, const char *code, const char *detail, json_t *extra);
void api_problem_validation(api_req_t *r, const char *field, const char *message);
/* Maps a business rejection to its HTTP status and problem. */
void api_reply_reject(api_req_t *r, const cmd_reject_t *rj);
/* Maps an engine/database status to a 5xx or 404 problem. */
void api_reply_status(api_req_t *r, ts_status st);
const char *api_query(api_req_t *r, const char *name);
/* ?limit= (1..200, default 50); -1 after replying 400. */
int api__limit(api_req_t *r);
/* Parses the body as a JSON object; replies 400 and returns NULL if not. */
json_t *api_body_json(api_req_t *r);
/* ?min_seq=N: waits for the catalog projection; replies 400/503 and returns
 * -1 when it must not go on. */
int api_wait_min_seq(api_req_t *r);

/* ---- auth (auth.c) ---- */
/* Verifies the bearer token; replies 401 and returns -1 when absent/bad. */
int api_authenticate(api_req_t *r);
/* 403 unless the caller has one of the role bits; -1 then. */
int api_require_role(api_req_t *r, uint32_t roles);
char *api__token_issue(api_server_t *s, const eng_user_t *u, int64_t now, int ttl_s);
/* The cache of verified tokens: set up and torn down with the server. */
void api__tokens_init(api_server_t *s);
void api__tokens_deinit(api_server_t *s);

/* ---- handlers ---- */
void api_h_login(api_req_t *r);
void api_h_register(api_req_t *r);
void api_h_me(api_req_t *r);
void api_h_venue_create(api_req_t *r);
void api_h_venue_get(api_req_t *r);
void api_h_event_create(api_req_t *r);
void api_h_event_publish(api_req_t *r);
void api_h_events_list(api_req_t *r);
void api_h_event_get(api_req_t *r);
void api_h_seatmap(api_req_t *r);
void api_h_hold(api_req_t *r);
void api_h_booking_get(api_req_t *r);
void api_h_booking_delete(api_req_t *r);
void api_h_audit_events(api_req_t *r);
void api_h_audit_verify(api_req_t *r);
void api_h_healthz(api_req_t *r);
void api_h_readyz(api_req_t *r);
void api_h_metrics(api_req_t *r);
void api_h_openapi(api_req_t *r);

/* ---- parsing (parse.c): JSON bodies into domain structs ---- */
/* Each returns 0, or replies 400 validation_failed and returns -1. */
int api_parse_venue(api_req_t *r, json_t *j, evt_venue_created_t *out);
int api_parse_event(api_req_t *r, json_t *j, evt_event_created_t *out);

/* ---- shared pieces (commands.c) ---- */
/* Runs a command, records metrics; on a rejection or error it replies and
 * returns -1. */
int api_execute(api_req_t *r, eng_cmd_t *cmd, eng_outcome_t *out);
/* The same without replying: for handlers that react to a rejection. */
ts_status api_execute_raw(api_req_t *r, eng_cmd_t *cmd, eng_outcome_t *out);
int64_t api__now_ms(void);
/* A deep copy of an aggregate's committed state; free with its ops. */
ts_status api_state_copy(api_req_t *r, const char *subject, void **out);
/* The booking JSON of API.md from a placed hold. */
json_t *api_booking_json(const evt_hold_placed_t *h, const char *status, uint64_t commit_seq);

#endif
