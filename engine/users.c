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
    const char *owner;
    eng_user_t user;
    const char *password_hash;
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
    c->password_hash = ts_arena_strdup(c->arena, s->u.password_hash);
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

ts_status eng_user_authenticate(eng_t *e, const char *email, const char *password,
                                ts_arena_t *arena, eng_user_t *out)
{
    const char *norm = user_email_normalize(arena, email);
    user_copy_t c = {.arena = arena};
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
        return TS_ERR_AUTH;
    }
    if (!verify_password(c.password_hash, password))
        return TS_ERR_AUTH;
    *out = c.user;
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
