/*
 * Access tokens: JWTs signed and verified with libjwt.
 *
 * One algorithm per server, chosen by configuration: HS256 (the default,
 * a shared secret), RS256 or ES256 (a private key signs, its public key
 * verifies). Verification accepts a token only when its header names that
 * very algorithm. That check is what refuses "alg": "none" and algorithm
 * confusion: libjwt verifies with whatever algorithm the token's header
 * names, so an HS256 token whose HMAC key is our RSA public key (a PEM
 * anyone may hold) would pass its signature check on an RS256 server. Then
 * iss must be "turnstile", exp must be present and in the future, and sub
 * must be a user id. Claims: sub, roles, iat, exp, iss, jti (API.md).
 */
#include "api/api_int.h"

#include <errno.h>
#include <jwt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The key that verifies: the public key, or the HS256 secret itself. */
static void verify_key(const api_server_t *s, const unsigned char **key, int *len)
{
    if (s->cfg.jwt_public_key) {
        *key = s->cfg.jwt_public_key;
        *len = (int)s->cfg.jwt_public_key_len;
    } else {
        *key = s->cfg.jwt_key;
        *len = (int)s->cfg.jwt_key_len;
    }
}

json_t *api__roles_json(uint32_t roles)
{
    json_t *a = json_array();
    for (uint32_t bit = 1; bit <= EVT_ROLE_ADMIN; bit <<= 1)
        if (roles & bit)
            json_array_append_new(a, json_string(evt_role_name(bit)));
    return a;
}

char *api__token_issue(api_server_t *s, const eng_user_t *u, int64_t now, int ttl_s)
{
    jwt_t *jwt = NULL;
    char *tok = NULL;
    uint8_t raw[12];
    char jti[25];
    json_t *grants = json_pack("{s:o}", "roles", api__roles_json(u->roles));
    char *grants_s = json_dumps(grants, JSON_COMPACT);
    json_decref(grants);
    if (!grants_s || RAND_bytes(raw, sizeof(raw)) != 1)
        goto done;
    ts_hex(raw, sizeof(raw), jti);
    if (jwt_new(&jwt) != 0)
        goto done;
    if (jwt_add_grant(jwt, "sub", u->user_id) || jwt_add_grant(jwt, "iss", "turnstile") ||
        jwt_add_grant(jwt, "jti", jti) || jwt_add_grant_int(jwt, "iat", (long)(now / 1000)) ||
        jwt_add_grant_int(jwt, "exp", (long)(now / 1000 + ttl_s)) ||
        jwt_add_grants_json(jwt, grants_s) ||
        jwt_set_alg(jwt, (jwt_alg_t)s->jwt_alg, s->cfg.jwt_key, (int)s->cfg.jwt_key_len))
        goto done;
    tok = jwt_encode_str(jwt);
done:
    free(grants_s);
    jwt_free(jwt);
    return tok;
}

int api__token_verify(api_server_t *s, const char *token, ts_arena_t *arena, const char **sub,
                      long *exp)
{
    jwt_t *jwt = NULL;
    const unsigned char *key;
    int key_len;
    verify_key(s, &key, &key_len);
    int ok = jwt_decode(&jwt, token, key, key_len) == 0;
    /* Only the configured algorithm: never "none", never another family
     * (see the top of this file). */
    ok = ok && jwt_get_alg(jwt) == (jwt_alg_t)s->jwt_alg;
    const char *iss = ok ? jwt_get_grant(jwt, "iss") : NULL;
    const char *id = ok ? jwt_get_grant(jwt, "sub") : NULL;
    errno = 0;
    long e = ok ? jwt_get_grant_int(jwt, "exp") : 0;
    ok = ok && errno == 0 && iss && strcmp(iss, "turnstile") == 0 && ts_id_valid(id) &&
         e > (long)time(NULL);
    if (ok) {
        *sub = ts_arena_strdup(arena, id);
        *exp = e;
    }
    jwt_free(jwt);
    return ok ? 0 : -1;
}

ts_status api__jwt_init(api_server_t *s)
{
    const char *name = s->cfg.jwt_alg ? s->cfg.jwt_alg : "HS256";
    jwt_alg_t alg = jwt_str_alg(name);
    int asymmetric = alg == JWT_ALG_RS256 || alg == JWT_ALG_ES256;
    if (alg != JWT_ALG_HS256 && !asymmetric) {
        fprintf(stderr, "api: JWT algorithm %s is not one of HS256, RS256, ES256\n", name);
        return TS_ERR_INVALID;
    }
    if (!s->cfg.jwt_key || !s->cfg.jwt_key_len || (asymmetric && !s->cfg.jwt_public_key)) {
        fprintf(stderr, "api: JWT %s needs %s\n", name,
                asymmetric ? "a private and a public key" : "a secret");
        return TS_ERR_INVALID;
    }
    if (!asymmetric)
        s->cfg.jwt_public_key = NULL; /* HS256 verifies with the secret */
    s->jwt_alg = (int)alg;
    /* A key that cannot sign, or a public key that is not the private
     * key's, would fail every login: refuse to start instead. */
    ts_arena_t a;
    ts_arena_init(&a, 1024);
    eng_user_t probe = {.user_id = "probe", .roles = EVT_ROLE_ATTENDEE};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char *tok = api__token_issue(s, &probe, (int64_t)ts.tv_sec * 1000, 60);
    const char *sub = NULL;
    long exp = 0;
    int ok = tok && api__token_verify(s, tok, &a, &sub, &exp) == 0 && strcmp(sub, "probe") == 0;
    free(tok);
    ts_arena_deinit(&a);
    if (!ok) {
        fprintf(stderr, "api: the %s keys do not sign and verify a token\n", name);
        return TS_ERR_INVALID;
    }
    return TS_OK;
}
