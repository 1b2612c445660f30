/*
 * Authentication and the auth endpoints: who the caller is (access token,
 * then the user's aggregate), POST /auth/register, /auth/login,
 * /auth/refresh, /auth/logout and GET /users/me. Tokens themselves are
 * made and checked in jwt.c.
 *
 * Roles and the blocked flag are read from the user's aggregate, never
 * trusted from the token: a token carries the roles of its issue for 15
 * minutes, but a role granted or a user blocked must count at once
 * (RULE-AUTH-2). Reading the aggregate is an eng_read, which asks the log
 * whether anything is newer (a round trip to NATS); every request paying
 * it would serialise a busy user's requests on one lane. So the answer is
 * kept per user for API_USER_FRESH_MS, and this server forgets it at once
 * when it changes roles or blocks (api__user_forget): a change made here
 * counts on the next request, a change made by another engine within
 * API_USER_FRESH_MS.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCESS_TTL_S (15 * 60) /* RULE-AUTH-1 */
#define API_USER_SLOTS 1024
#define API_USER_FRESH_MS 1000

/* Verified tokens, direct-mapped by a hash of the token. A client sends the
 * same token for up to 15 minutes, and verifying it (base64, two JSON
 * parses, HMAC) costs more than the rest of a cheap request. An entry holds
 * the whole token, so only an identical token hits; expiry is rechecked on
 * every hit. */
#define API_TOKEN_SLOTS 1024
#define API_TOKEN_MAX 2048

struct api_token_slot {
    char token[API_TOKEN_MAX];
    char user_id[65];
    long exp;
};

struct api_user_slot {
    char user_id[65];
    uint32_t roles;
    int blocked;
    int64_t fetched_ms; /* 0: empty or forgotten */
};

static size_t slot_of(const char *key, size_t n_slots)
{
    uint64_t h = 1469598103934665603ull;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return (size_t)(h % n_slots);
}

static int token_cached(api_req_t *r, const char *tok)
{
    api_server_t *s = r->srv;
    int hit = 0;
    if (!s->tokens || strlen(tok) >= API_TOKEN_MAX)
        return 0;
    pthread_mutex_lock(&s->token_mu);
    struct api_token_slot *e = &s->tokens[slot_of(tok, API_TOKEN_SLOTS)];
    if (e->exp > (long)time(NULL) && strcmp(e->token, tok) == 0) {
        r->user_id = ts_arena_strdup(&r->arena, e->user_id);
        hit = 1;
    }
    pthread_mutex_unlock(&s->token_mu);
    return hit;
}

static void token_remember(api_req_t *r, const char *tok, long exp)
{
    api_server_t *s = r->srv;
    if (!s->tokens || strlen(tok) >= API_TOKEN_MAX || strlen(r->user_id) > 64)
        return;
    pthread_mutex_lock(&s->token_mu);
    struct api_token_slot *e = &s->tokens[slot_of(tok, API_TOKEN_SLOTS)];
    strcpy(e->token, tok);
    strcpy(e->user_id, r->user_id);
    e->exp = exp;
    pthread_mutex_unlock(&s->token_mu);
}

void api__tokens_init(api_server_t *s)
{
    pthread_mutex_init(&s->token_mu, NULL);
    s->tokens = calloc(API_TOKEN_SLOTS, sizeof(*s->tokens));
    s->users = calloc(API_USER_SLOTS, sizeof(*s->users));
}

void api__tokens_deinit(api_server_t *s)
{
    free(s->tokens);
    free(s->users);
    s->tokens = NULL;
    s->users = NULL;
    pthread_mutex_destroy(&s->token_mu);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1; /* never 0 */
}

void api__user_forget(api_server_t *s, const char *user_id)
{
    if (!s->users || strlen(user_id) > 64)
        return;
    pthread_mutex_lock(&s->token_mu);
    struct api_user_slot *u = &s->users[slot_of(user_id, API_USER_SLOTS)];
    if (strcmp(u->user_id, user_id) == 0)
        u->fetched_ms = 0;
    pthread_mutex_unlock(&s->token_mu);
}

/* r->roles and r->blocked from the user's aggregate, through the cache
 * described at the top. Replies and returns -1 when the user is unknown or
 * the engine cannot answer. */
static int load_user(api_req_t *r)
{
    api_server_t *s = r->srv;
    int64_t now = mono_ms();
    size_t slot = slot_of(r->user_id, API_USER_SLOTS);
    int hit = 0;
    pthread_mutex_lock(&s->token_mu);
    struct api_user_slot *u = &s->users[slot];
    if (u->fetched_ms && now - u->fetched_ms < API_USER_FRESH_MS &&
        strcmp(u->user_id, r->user_id) == 0) {
        r->roles = u->roles;
        r->blocked = u->blocked;
        hit = 1;
    }
    pthread_mutex_unlock(&s->token_mu);
    if (hit)
        return 0;
    eng_user_t user;
    ts_status st = eng_user_get(s->cfg.engine, r->user_id, &r->arena, &user);
    if (st == TS_ERR_NOT_FOUND) {
        api_problem(r, 401, "unauthorized", "the token's user does not exist", NULL);
        return -1;
    }
    if (st != TS_OK) {
        api_reply_status(r, st);
        return -1;
    }
    r->roles = user.roles;
    r->blocked = user.blocked;
    pthread_mutex_lock(&s->token_mu);
    snprintf(u->user_id, sizeof(u->user_id), "%s", r->user_id);
    u->roles = user.roles;
    u->blocked = user.blocked;
    u->fetched_ms = now;
    pthread_mutex_unlock(&s->token_mu);
    return 0;
}

int api_authenticate(api_req_t *r)
{
    if (r->user_id)
        return 0;
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0 || strlen(h) > 8192) {
        api_problem(r, 401, "unauthorized", "a Bearer access token is required", NULL);
        return -1;
    }
    if (!token_cached(r, h + 7)) {
        const char *sub = NULL;
        long exp = 0;
        if (api__token_verify(r->srv, h + 7, &r->arena, &sub, &exp) != 0) {
            api_problem(r, 401, "unauthorized", "the access token is invalid or expired", NULL);
            return -1;
        }
        r->user_id = sub;
        token_remember(r, h + 7, exp);
    }
    if (load_user(r) != 0) {
        r->user_id = NULL;
        return -1;
    }
    return 0;
}

int api_require_role(api_req_t *r, uint32_t roles)
{
    if (api_authenticate(r) != 0)
        return -1;
    if (r->roles & (roles | EVT_ROLE_ADMIN))
        return 0;
    api_problem(r, 403, "forbidden", "your role does not allow this", NULL);
    return -1;
}

int api_owner_or_admin(const api_req_t *r, const char *owner)
{
    return (r->roles & EVT_ROLE_ADMIN) || (owner && r->user_id && strcmp(owner, r->user_id) == 0);
}

int api_require_active_user(api_req_t *r)
{
    if (api_authenticate(r) != 0)
        return -1;
    /* RULE-AUTH-2: a blocked user cannot hold or buy. */
    if (!r->blocked)
        return 0;
    api_problem(r, 403, "forbidden", "this account is blocked", NULL);
    return -1;
}

/* The answer of a login or a refresh: a new access token for the user as
 * the aggregate has them now, and the new refresh token. */
static void reply_session(api_req_t *r, const eng_session_t *ss)
{
    char *access = api__token_issue(r->srv, &ss->user, api__now_ms(), ACCESS_TTL_S);
    if (!access)
        return api_reply_status(r, TS_ERR_NOMEM);
    api_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:s, s:i}", "access_token", access, "refresh_token",
                             ss->refresh_token, "token_type", "Bearer", "expires_in",
                             ACCESS_TTL_S));
    free(access);
}

/* {"refresh_token": "..."} of a refresh or logout body, or NULL after
 * replying 400. */
static const char *body_refresh_token(api_req_t *r)
{
    json_t *j = api_body_json(r);
    if (!j)
        return NULL;
    const char *t = json_string_value(json_object_get(j, "refresh_token"));
    t = t ? ts_arena_strdup(&r->arena, t) : NULL;
    json_decref(j);
    if (!t)
        api_problem_validation(r, "refresh_token", "a string is required");
    return t;
}

void api_h_login(api_req_t *r)
{
    json_t *j = api_body_json(r);
    if (!j)
        return;
    const char *email = json_string_value(json_object_get(j, "email"));
    const char *password = json_string_value(json_object_get(j, "password"));
    if (!email || !password) {
        json_decref(j);
        return api_problem_validation(r, email ? "password" : "email", "a string is required");
    }
    email = ts_arena_strdup(&r->arena, email);
    password = ts_arena_strdup(&r->arena, password);
    json_decref(j);
    eng_session_t ss;
    ts_status st = eng_user_login(r->srv->cfg.engine, email, password, &r->arena, &ss);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (ss.result == ENG_AUTH_LOCKED) {
        /* RULE-AUTH-1: a locked account answers 429 rate_limited with
         * Retry-After (seconds until it unlocks), not 401: the client
         * learns that retrying now is pointless and when it is not, and a
         * person learns why the right password fails. It tells a guesser
         * that the account exists, which registration (409 for a taken
         * e-mail) tells anyway; and no password is checked while locked,
         * so the answer says nothing about the guess. */
        int64_t wait_ms = ss.locked_until - api__now_ms();
        long secs = wait_ms > 0 ? (long)((wait_ms + 999) / 1000) : 1;
        r->retry_after = ts_arena_printf(&r->arena, "%ld", secs);
        return api_problem(r, 429, "rate_limited",
                           "too many failed logins: the account is locked for 15 minutes",
                           json_pack("{s:i}", "retry_after", (int)secs));
    }
    if (ss.result != ENG_AUTH_OK)
        return api_problem(r, 401, "unauthorized", "wrong e-mail or password", NULL);
    reply_session(r, &ss);
}

void api_h_refresh(api_req_t *r)
{
    const char *token = body_refresh_token(r);
    if (!token)
        return;
    eng_session_t ss;
    ts_status st = eng_user_refresh(r->srv->cfg.engine, token, &r->arena, &ss);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (ss.result == ENG_AUTH_REUSED)
        return api_problem(r, 401, "unauthorized",
                           "this refresh token was already used: its session is revoked, "
                           "log in again",
                           NULL);
    if (ss.result != ENG_AUTH_OK)
        return api_problem(r, 401, "unauthorized",
                           "the refresh token is unknown, expired or revoked", NULL);
    reply_session(r, &ss);
}

void api_h_logout(api_req_t *r)
{
    if (api_authenticate(r) != 0)
        return;
    const char *token = body_refresh_token(r);
    if (!token)
        return;
    eng_session_t ss;
    ts_status st = eng_user_logout(r->srv->cfg.engine, r->user_id, (r->roles & EVT_ROLE_ADMIN) != 0,
                                   token, &r->arena, &ss);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (ss.result == ENG_AUTH_FORBIDDEN)
        return api_problem(r, 403, "forbidden", "this refresh token is not yours", NULL);
    if (ss.result != ENG_AUTH_OK)
        return api_problem(r, 401, "unauthorized", "not a refresh token of a session", NULL);
    api_reply_empty(r, 204);
}
void api_h_register(api_req_t *r)
{
    json_t *j = api_body_json(r);
    if (!j)
        return;
    const char *email = json_string_value(json_object_get(j, "email"));
    const char *password = json_string_value(json_object_get(j, "password"));
    const char *name = json_string_value(json_object_get(j, "name"));
    json_t *name_v = json_object_get(j, "name");
    const char *bad = !email ? "email" : !password ? "password" : name_v && !name ? "name" : NULL;
    if (bad) {
        json_decref(j);
        return api_problem_validation(r, bad, "a string is required");
    }
    email = ts_arena_strdup(&r->arena, email);
    password = ts_arena_strdup(&r->arena, password);
    name = ts_arena_strdup(&r->arena, name ? name : "");
    json_decref(j);
    /* RULE-AUTH-1: passwords have at least 10 characters. */
    if (strlen(password) < 10)
        return api_problem_validation(r, "password", "at least 10 characters");
    if (strlen(name) > 200)
        return api_problem_validation(r, "name", "at most 200 characters");
    eng_user_t u;
    uint64_t seq = 0;
    ts_status st = eng_user_create(r->srv->cfg.engine, email, password, name, EVT_ROLE_ATTENDEE,
                                   &r->arena, &u, &seq);
    if (st == TS_ERR_INVALID)
        return api_problem_validation(r, "email", "not an e-mail address");
    if (st == TS_ERR_CONFLICT)
        return api_problem(r, 409, "conflict", "this e-mail is already registered", NULL);
    if (st != TS_OK)
        return api_reply_status(r, st);
    api_reply_json(r, 201,
                   json_pack("{s:s, s:I}", "user_id", u.user_id, "commit_seq", (json_int_t)seq));
}

void api_h_me(api_req_t *r)
{
    if (api_authenticate(r) != 0)
        return;
    eng_user_t u;
    ts_status st = eng_user_get(r->srv->cfg.engine, r->user_id, &r->arena, &u);
    if (st != TS_OK)
        return api_reply_status(r, st);
    api_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:s, s:o}", "user_id", u.user_id, "email", u.email, "name",
                             u.name ? u.name : "", "roles", api__roles_json(u.roles)));
}
