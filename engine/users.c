/*
 * Accounts: the e-mail claim, scrypt password hashes, and lookups.
 *
 * RULE-AUTH-1: the e-mail is unique case-insensitively. It is claimed on
 * tix.claim.email.<sha256(lower-cased e-mail)> by appending with expected
 * subject sequence 0, so two registrations cannot both win; the claim names
 * the user id, which is how login finds the user without a read model.
 */
#include "engine/engine_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRYPT_N 16384
#define SCRYPT_R 8
#define SCRYPT_P 1

static int scrypt(const char *password, const uint8_t *salt, size_t salt_len, uint64_t n,
                  uint64_t r, uint64_t p, uint8_t out[32])
{
    return EVP_PBE_scrypt(password, strlen(password), salt, salt_len, n, r, p, 64 << 20, out, 32) ==
                   1
               ? 0
               : -1;
}

static const char *hash_password(ts_arena_t *a, const char *password)
{
    uint8_t salt[16], key[32];
    char salt_hex[33], key_hex[65];
    if (RAND_bytes(salt, sizeof(salt)) != 1 ||
        scrypt(password, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, key) != 0)
        return NULL;
    ts_hex(salt, sizeof(salt), salt_hex);
    ts_hex(key, sizeof(key), key_hex);
    return ts_arena_printf(a, "scrypt$%d$%d$%d$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P, salt_hex,
                           key_hex);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int verify_password(const char *stored, const char *password)
{
    unsigned long long n, r, p;
    char salt_hex[65], key_hex[129];
    uint8_t salt[32], want[32], got[32];
    if (!stored || sscanf(stored, "scrypt$%llu$%llu$%llu$%64[0-9a-f]$%128[0-9a-f]", &n, &r, &p,
                          salt_hex, key_hex) != 5)
        return 0;
    size_t salt_len = strlen(salt_hex) / 2;
    if (n > (1u << 20) || r > 32 || p > 16 || unhex(salt_hex, salt, salt_len) != 0 ||
        unhex(key_hex, want, 32) != 0)
        return 0;
    if (scrypt(password, salt, salt_len, n, r, p, got) != 0)
        return 0;
    return CRYPTO_memcmp(got, want, 32) == 0;
}

static const char *claim_subject(ts_arena_t *a, const char *email)
{
    uint8_t h[32];
    char hex[65];
    eng__sha256(email, strlen(email), h);
    ts_hex(h, 32, hex);
    return ts_arena_printf(a, "tix.claim.email.%s", hex);
}

typedef struct {
    ts_arena_t *arena;
    int64_t now;
    const char *owner;
    eng_user_t user;
    const char *password_hash;
    int64_t locked_until;
    int found;
} user_copy_t;

static void copy_claim(const void *state, void *arg)
{
    const cmd_claim_state_t *s = state;
    user_copy_t *c = arg;
    if (s->exists)
        c->owner = ts_arena_strdup(c->arena, s->c.owner);
}

static void copy_user(const void *state, void *arg)
{
    const cmd_user_state_t *s = state;
    user_copy_t *c = arg;
    if (!s->exists)
        return;
    c->found = 1;
    c->user.user_id = ts_arena_strdup(c->arena, s->u.user_id);
    c->user.email = ts_arena_strdup(c->arena, s->u.email);
    c->user.name = ts_arena_strdup(c->arena, s->u.name);
    c->user.roles = s->u.roles;
    c->user.blocked = s->blocked;
    c->password_hash = ts_arena_strdup(c->arena, s->u.password_hash);
    c->locked_until = user_locked_until(s, c->now);
}

ts_status eng_user_get(eng_t *e, const char *user_id, ts_arena_t *arena, eng_user_t *out)
{
    if (!ts_id_valid(user_id))
        return TS_ERR_NOT_FOUND;
    user_copy_t c = {.arena = arena};
    ts_status rc = eng_read(e, ts_arena_printf(arena, "tix.user.%s", user_id), copy_user, &c);
    if (rc != TS_OK)
        return rc;
    if (!c.found)
        return TS_ERR_NOT_FOUND;
    *out = c.user;
    return TS_OK;
}

ts_status eng_user_create(eng_t *e, const char *email, const char *password, const char *name,
                          uint32_t roles, ts_arena_t *arena, eng_user_t *out, uint64_t *commit_seq)
{
    const char *norm = user_email_normalize(arena, email);
    if (!norm || !password || strlen(password) < 10 || strlen(password) > 1024)
        return TS_ERR_INVALID;
    const char *hash = hash_password(arena, password);
    if (!hash)
        return TS_ERR_NOMEM;
    const char *claim = claim_subject(arena, norm);
    const char *user_id = eng_new_id(arena, "us");
    eng_cmd_t cc = {.type = ENG_CLAIM, .subject = claim, .actor = "system"};
    cc.u.claim.kind = "email";
    cc.u.claim.owner = user_id;
    eng_outcome_t o;
    ts_status rc = eng_execute(e, &cc, arena, &o);
    if (rc != TS_OK)
        return rc;
    if (o.reject) {
        /* Taken — unless a crash left the claim without its user: then the
         * claim's owner id is registered now. */
        user_copy_t c = {.arena = arena};
        rc = eng_read(e, ts_arena_printf(arena, "tix.user.%s", o.ref), copy_user, &c);
        if (rc != TS_OK)
            return rc;
        if (c.found)
            return TS_ERR_CONFLICT;
        user_id = ts_arena_strdup(arena, o.ref);
    }
    eng_cmd_t uc = {.type = ENG_USER_REGISTER,
                    .subject = ts_arena_printf(arena, "tix.user.%s", user_id),
                    .actor = "system"};
    uc.u.user.user_id = user_id;
    uc.u.user.email = norm;
    uc.u.user.name = name ? name : "";
    uc.u.user.password_hash = hash;
    uc.u.user.roles = roles ? roles : EVT_ROLE_ATTENDEE;
    rc = eng_execute(e, &uc, arena, &o);
    if (rc != TS_OK)
        return rc;
    if (o.reject)
        return TS_ERR_CONFLICT;
    out->user_id = user_id;
    out->email = norm;
    out->name = uc.u.user.name;
    out->roles = uc.u.user.roles;
    if (commit_seq)
        *commit_seq = o.commit_seq;
    return TS_OK;
}

/* ---- sessions ---- */

static const char *sha256_hex(ts_arena_t *a, const char *s)
{
    uint8_t h[32];
    char *hex = ts_arena_alloc(a, 65);
    eng__sha256(s, strlen(s), h);
    ts_hex(h, 32, hex);
    return hex;
}

/* A fresh token of user's family (the secret is 32 random bytes). */
static const char *new_refresh_token(ts_arena_t *a, const char *user_id, const char *family_id)
{
    uint8_t raw[32];
    char hex[65];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort(); /* no randomness: tokens could be guessed; refuse to go on */
    ts_hex(raw, sizeof(raw), hex);
    return ts_arena_printf(a, "%s.%s.%s", user_id, family_id, hex);
}

int eng_refresh_token_parse(ts_arena_t *arena, const char *token, const char **user_id,
                            const char **family_id)
{
    const char *d1 = token ? strchr(token, '.') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.') || strlen(d2 + 1) != 64 || strlen(token) > 256)
        return -1;
    for (const char *p = d2 + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return -1;
    const char *u = ts_arena_strndup(arena, token, (size_t)(d1 - token));
    const char *f = ts_arena_strndup(arena, d1 + 1, (size_t)(d2 - d1 - 1));
    if (!ts_id_valid(u) || !ts_id_valid(f))
        return -1;
    *user_id = u;
    *family_id = f;
    return 0;
}

/* The user as the aggregate has it now, into out->user. */
static ts_status session_user(eng_t *e, const char *user_id, ts_arena_t *arena, eng_session_t *out)
{
    user_copy_t c = {.arena = arena, .now = eng__now_ms()};
    ts_status rc = eng_read(e, ts_arena_printf(arena, "tix.user.%s", user_id), copy_user, &c);
    if (rc != TS_OK)
        return rc;
    out->user = c.user;
    out->locked_until = c.locked_until;
    return TS_OK;
}

static int has_event(const eng_outcome_t *o, evt_type_t t)
{
    for (uint32_t i = 0; i < o->n_events; i++)
        if (o->events[i].type == t)
            return 1;
    return 0;
}

ts_status eng_user_login(eng_t *e, const char *email, const char *password, ts_arena_t *arena,
                         eng_session_t *out)
{
    memset(out, 0, sizeof(*out));
    out->result = ENG_AUTH_REFUSED;
    const char *norm = user_email_normalize(arena, email);
    user_copy_t c = {.arena = arena, .now = eng__now_ms()};
    ts_status rc = TS_OK;
    if (norm && password)
        rc = eng_read(e, claim_subject(arena, norm), copy_claim, &c);
    if (rc != TS_OK)
        return rc;
    if (c.owner)
        rc = eng_read(e, ts_arena_printf(arena, "tix.user.%s", c.owner), copy_user, &c);
    if (rc != TS_OK)
        return rc;
    if (!c.found) {
        /* Spend the same time as a real check so timing does not tell
         * which e-mails exist. */
        verify_password("scrypt$16384$8$1$00000000000000000000000000000000$"
                        "0000000000000000000000000000000000000000000000000000000000000000",
                        password ? password : "");
        return TS_OK;
    }
    /* RULE-AUTH-1: a locked account is answered before scrypt runs, so a
     * guesser learns nothing from it and costs us nothing. */
    if (c.locked_until) {
        out->result = ENG_AUTH_LOCKED;
        out->locked_until = c.locked_until;
        return TS_OK;
    }
    const char *user_id = c.user.user_id;
    const char *family = eng_new_id(arena, "");
    const char *token = new_refresh_token(arena, user_id, family);
    /* The caller is not authenticated until this is decided. */
    eng_cmd_t lc = {.type = ENG_USER_LOGIN,
                    .subject = ts_arena_printf(arena, "tix.user.%s", user_id),
                    .actor = "anonymous"};
    lc.u.login.password_ok = verify_password(c.password_hash, password);
    lc.u.login.family_id = family;
    lc.u.login.token_hash = sha256_hex(arena, token);
    eng_outcome_t o;
    if ((rc = eng_execute(e, &lc, arena, &o)) != TS_OK)
        return rc;
    out->commit_seq = o.commit_seq;
    if (o.reject && strcmp(o.reject->code, "rate_limited") == 0) {
        /* Locked meanwhile by concurrent failures. */
        if ((rc = session_user(e, user_id, arena, out)) != TS_OK)
            return rc;
        out->result = out->locked_until ? ENG_AUTH_LOCKED : ENG_AUTH_REFUSED;
        return TS_OK;
    }
    if (o.reject || !has_event(&o, EVT_REFRESH_ISSUED))
        return TS_OK;
    if ((rc = session_user(e, user_id, arena, out)) != TS_OK)
        return rc;
    out->result = ENG_AUTH_OK;
    out->refresh_token = token;
    return TS_OK;
}

ts_status eng_user_refresh(eng_t *e, const char *token, ts_arena_t *arena, eng_session_t *out)
{
    memset(out, 0, sizeof(*out));
    out->result = ENG_AUTH_REFUSED;
    const char *user_id, *family;
    if (eng_refresh_token_parse(arena, token, &user_id, &family) != 0)
        return TS_OK;
    const char *next = new_refresh_token(arena, user_id, family);
    eng_cmd_t rq = {.type = ENG_USER_REFRESH,
                    .subject = ts_arena_printf(arena, "tix.user.%s", user_id),
                    .actor = user_id};
    rq.u.refresh.family_id = family;
    rq.u.refresh.token_hash = sha256_hex(arena, token);
    rq.u.refresh.new_token_hash = sha256_hex(arena, next);
    eng_outcome_t o;
    ts_status rc = eng_execute(e, &rq, arena, &o);
    if (rc != TS_OK || o.reject)
        return rc;
    out->commit_seq = o.commit_seq;
    if (has_event(&o, EVT_REFRESH_REVOKED)) {
        out->result = ENG_AUTH_REUSED;
        return TS_OK;
    }
    if ((rc = session_user(e, user_id, arena, out)) != TS_OK)
        return rc;
    out->result = ENG_AUTH_OK;
    out->refresh_token = next;
    return TS_OK;
}

ts_status eng_user_logout(eng_t *e, const char *actor, int actor_is_admin, const char *token,
                          ts_arena_t *arena, eng_session_t *out)
{
    memset(out, 0, sizeof(*out));
    out->result = ENG_AUTH_REFUSED;
    const char *user_id, *family;
    if (eng_refresh_token_parse(arena, token, &user_id, &family) != 0)
        return TS_OK;
    eng_cmd_t lc = {.type = ENG_USER_LOGOUT,
                    .subject = ts_arena_printf(arena, "tix.user.%s", user_id),
                    .actor = actor,
                    .actor_is_admin = actor_is_admin};
    lc.u.refresh.family_id = family;
    lc.u.refresh.token_hash = sha256_hex(arena, token);
    eng_outcome_t o;
    ts_status rc = eng_execute(e, &lc, arena, &o);
    if (rc != TS_OK)
        return rc;
    if (o.reject) {
        if (strcmp(o.reject->code, "forbidden") == 0)
            out->result = ENG_AUTH_FORBIDDEN;
        return TS_OK;
    }
    out->result = ENG_AUTH_OK;
    out->commit_seq = o.n_events ? o.commit_seq : 0;
    return TS_OK;
}

ts_status eng_user_find_email(eng_t *e, const char *email, ts_arena_t *arena, eng_user_t *out)
{
    const char *norm = user_email_normalize(arena, email);
    if (!norm)
        return TS_ERR_NOT_FOUND;
    user_copy_t c = {.arena = arena};
    ts_status rc = eng_read(e, claim_subject(arena, norm), copy_claim, &c);
    if (rc != TS_OK)
        return rc;
    if (!c.owner)
        return TS_ERR_NOT_FOUND;
    /* A claim whose user was never registered (a crash in between) names
     * nobody yet. */
    return eng_user_get(e, c.owner, arena, out);
}
