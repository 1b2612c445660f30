/*
 * Access tokens: HS256 JWTs via libjwt, and POST /auth/login.
 *
 * Verification refuses any token whose header algorithm is not HS256 —
 * "alg": "none" and algorithm confusion included — then checks iss, exp
 * and sub. Claims: sub, roles, iat, exp, iss = "turnstile", jti (API.md).
 */
#include "api/api_int.h"

#include <jwt.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCESS_TTL_S (15 * 60) /* RULE-AUTH-1 */

char *api__token_issue(api_server_t *s, const eng_user_t *u, int64_t now, int ttl_s)
{
    jwt_t *jwt = NULL;
    char *tok = NULL;
    uint8_t raw[12];
    char jti[25];
    json_t *roles = json_array();
    for (uint32_t bit = 1; bit <= EVT_ROLE_ADMIN; bit <<= 1)
        if (u->roles & bit)
            json_array_append_new(roles, json_string(evt_role_name(bit)));
    json_t *grants = json_pack("{s:o}", "roles", roles);
    char *grants_s = json_dumps(grants, JSON_COMPACT);
    json_decref(grants);
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        goto done;
    ts_hex(raw, sizeof(raw), jti);
    if (jwt_new(&jwt) != 0)
        goto done;
    if (jwt_add_grant(jwt, "sub", u->user_id) || jwt_add_grant(jwt, "iss", "turnstile") ||
        jwt_add_grant(jwt, "jti", jti) || jwt_add_grant_int(jwt, "iat", (long)(now / 1000)) ||
        jwt_add_grant_int(jwt, "exp", (long)(now / 1000 + ttl_s)) ||
        jwt_add_grants_json(jwt, grants_s) ||
        jwt_set_alg(jwt, JWT_ALG_HS256, s->cfg.jwt_key, (int)s->cfg.jwt_key_len))
        goto done;
    tok = jwt_encode_str(jwt);
done:
    free(grants_s);
    jwt_free(jwt);
    return tok;
}

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
    uint32_t roles;
    long exp;
};

static size_t token_slot(const char *tok)
{
    uint64_t h = 1469598103934665603ull;
    for (; *tok; tok++)
        h = (h ^ (unsigned char)*tok) * 1099511628211ull;
    return (size_t)(h % API_TOKEN_SLOTS);
}

static int token_cached(api_req_t *r, const char *tok)
{
    api_server_t *s = r->srv;
    int hit = 0;
    if (!s->tokens || strlen(tok) >= API_TOKEN_MAX)
        return 0;
    pthread_mutex_lock(&s->token_mu);
    struct api_token_slot *e = &s->tokens[token_slot(tok)];
    if (e->exp > (long)time(NULL) && strcmp(e->token, tok) == 0) {
        r->user_id = ts_arena_strdup(&r->arena, e->user_id);
        r->roles = e->roles;
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
    struct api_token_slot *e = &s->tokens[token_slot(tok)];
    strcpy(e->token, tok);
    strcpy(e->user_id, r->user_id);
    e->roles = r->roles;
    e->exp = exp;
    pthread_mutex_unlock(&s->token_mu);
}

void api__tokens_init(api_server_t *s)
{
    pthread_mutex_init(&s->token_mu, NULL);
    s->tokens = calloc(API_TOKEN_SLOTS, sizeof(*s->tokens));
}

void api__tokens_deinit(api_server_t *s)
{
    free(s->tokens);
    s->tokens = NULL;
    pthread_mutex_destroy(&s->token_mu);
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
    if (token_cached(r, h + 7))
        return 0;
    jwt_t *jwt = NULL;
    const api_config_t *cfg = &r->srv->cfg;
    int ok = jwt_decode(&jwt, h + 7, cfg->jwt_key, (int)cfg->jwt_key_len) == 0;
    /* Only our algorithm: never "none", never another family. */
    ok = ok && jwt_get_alg(jwt) == JWT_ALG_HS256;
    const char *iss = ok ? jwt_get_grant(jwt, "iss") : NULL;
    const char *sub = ok ? jwt_get_grant(jwt, "sub") : NULL;
    long exp = ok ? jwt_get_grant_int(jwt, "exp") : 0;
    ok = ok && iss && strcmp(iss, "turnstile") == 0 && sub && ts_id_valid(sub) &&
         exp > (long)time(NULL);
    if (ok) {
        r->user_id = ts_arena_strdup(&r->arena, sub);
        char *roles_s = jwt_get_grants_json(jwt, "roles");
        json_t *roles = roles_s ? json_loads(roles_s, 0, NULL) : NULL;
        size_t i;
        json_t *v;
        json_array_foreach(roles, i, v) r->roles |= evt_role_parse(json_string_value(v));
        json_decref(roles);
        free(roles_s);
        token_remember(r, h + 7, exp);
    }
    jwt_free(jwt);
    if (!ok) {
        r->user_id = NULL;
        api_problem(r, 401, "unauthorized", "the access token is invalid or expired", NULL);
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
    eng_user_t u;
    ts_status st = eng_user_authenticate(r->srv->cfg.engine, email, password, &r->arena, &u);
    json_decref(j);
    if (st == TS_ERR_AUTH)
        return api_problem(r, 401, "unauthorized", "wrong e-mail or password", NULL);
    if (st != TS_OK)
        return api_reply_status(r, st);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000;
    char *access = api__token_issue(r->srv, &u, now, ACCESS_TTL_S);
    uint8_t raw[32];
    char refresh[65];
    if (!access || RAND_bytes(raw, sizeof(raw)) != 1) {
        free(access);
        return api_reply_status(r, TS_ERR_NOMEM);
    }
    /* The refresh token's rotation and family revocation arrive with the
     * accounts work (RULE-AUTH-1); today it is issued but not redeemable. */
    ts_hex(raw, sizeof(raw), refresh);
    api_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:s, s:i}", "access_token", access, "refresh_token",
                             refresh, "token_type", "Bearer", "expires_in", ACCESS_TTL_S));
    free(access);
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
    json_t *roles = json_array();
    for (uint32_t bit = 1; bit <= EVT_ROLE_ADMIN; bit <<= 1)
        if (u.roles & bit)
            json_array_append_new(roles, json_string(evt_role_name(bit)));
    api_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:s, s:o}", "user_id", u.user_id, "email", u.email, "name",
                             u.name ? u.name : "", "roles", roles));
}
