/* The user and unique-claim aggregates (RULE-AUTH-1). */
#include "commands/commands_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *user_email_normalize(ts_arena_t *a, const char *email)
{
    if (!email)
        return NULL;
    size_t n = strlen(email);
    const char *at = strchr(email, '@');
    if (n < 3 || n > 254 || !at || at == email || !at[1] || strchr(at + 1, '@'))
        return NULL;
    char *d = ts_arena_strndup(a, email, n);
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)d[i]) || iscntrl((unsigned char)d[i]))
            return NULL;
        d[i] = (char)tolower((unsigned char)d[i]);
    }
    return d;
}

int user_register_decide(const cmd_user_state_t *s, const evt_user_registered_t *u,
                         const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (s->exists)
        return cmd_reject(out, ctx, "conflict", NULL, "user already exists");
    const char *email = user_email_normalize(ctx->arena, u->email);
    if (!email)
        return cmd_reject(out, ctx, "validation_failed", "email", "not an e-mail address");
    if (!u->password_hash || strncmp(u->password_hash, "scrypt$", 7) != 0)
        return cmd_reject(out, ctx, "validation_failed", "password", "password hash missing");
    if (u->roles == 0)
        return cmd_reject(out, ctx, "validation_failed", "roles", "at least one role");
    evt_event_t *e = cmd_emit(out, EVT_USER_REGISTERED);
    e->u.user_registered = *u;
    e->u.user_registered.user_id = u->user_id ? u->user_id : ctx->new_id;
    e->u.user_registered.email = email;
    e->u.user_registered.name = u->name ? u->name : "";
    out->ref = e->u.user_registered.user_id;
    return 0;
}

int claim_decide(const cmd_claim_state_t *s, const char *kind, const char *owner,
                 const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (s->exists) {
        out->ref = s->c.owner;
        if (strcmp(s->c.owner, owner) == 0)
            return 0;
        return cmd_reject(out, ctx, "conflict", NULL, "already taken");
    }
    evt_event_t *e = cmd_emit(out, EVT_CLAIMED);
    e->u.claimed.kind = kind;
    e->u.claimed.owner = owner;
    out->ref = owner;
    return 0;
}

/* ---- states ---- */

#define SIMPLE_STATE(prefix, type)                                                                 \
    static void *prefix##_new(void)                                                                \
    {                                                                                              \
        type *s = calloc(1, sizeof(*s));                                                           \
        if (!s)                                                                                    \
            abort();                                                                               \
        ts_arena_init(&s->arena, 1024);                                                            \
        return s;                                                                                  \
    }                                                                                              \
    static void prefix##_free(void *p)                                                             \
    {                                                                                              \
        type *s = p;                                                                               \
        if (!s)                                                                                    \
            return;                                                                                \
        ts_arena_deinit(&s->arena);                                                                \
        free(s);                                                                                   \
    }

SIMPLE_STATE(user, cmd_user_state_t)
SIMPLE_STATE(claim, cmd_claim_state_t)

static void user_apply(void *p, const evt_event_t *e)
{
    cmd_user_state_t *s = p;
    if (e->type != EVT_USER_REGISTERED)
        return;
    const evt_user_registered_t *u = &e->u.user_registered;
    s->exists = 1;
    s->u.user_id = ts_arena_strdup(&s->arena, u->user_id);
    s->u.email = ts_arena_strdup(&s->arena, u->email);
    s->u.name = ts_arena_strdup(&s->arena, u->name);
    s->u.password_hash = ts_arena_strdup(&s->arena, u->password_hash);
    s->u.roles = u->roles;
}

static ts_status user_encode(const void *p, ts_buf_t *out)
{
    const cmd_user_state_t *s = p;
    evt_event_t e = {.type = EVT_USER_REGISTERED};
    e.u.user_registered = s->u;
    return cmd__snapshot_encode(&e, s->exists ? 1 : 0, out);
}

static void *user_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__user_ops, data, len);
}

static void claim_apply(void *p, const evt_event_t *e)
{
    cmd_claim_state_t *s = p;
    if (e->type != EVT_CLAIMED || s->exists)
        return;
    s->exists = 1;
    s->c.kind = ts_arena_strdup(&s->arena, e->u.claimed.kind);
    s->c.owner = ts_arena_strdup(&s->arena, e->u.claimed.owner);
}

static ts_status claim_encode(const void *p, ts_buf_t *out)
{
    const cmd_claim_state_t *s = p;
    evt_event_t e = {.type = EVT_CLAIMED};
    e.u.claimed = s->c;
    return cmd__snapshot_encode(&e, s->exists ? 1 : 0, out);
}

static void *claim_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__claim_ops, data, len);
}

const cmd_aggregate_ops_t cmd__user_ops = {
    .kind = CMD_AGG_USER,
    .name = "user",
    .format_version = 1,
    .state_new = user_new,
    .state_free = user_free,
    .apply = user_apply,
    .encode = user_encode,
    .decode = user_decode,
};

const cmd_aggregate_ops_t cmd__claim_ops = {
    .kind = CMD_AGG_CLAIM,
    .name = "claim",
    .format_version = 1,
    .state_new = claim_new,
    .state_free = claim_free,
    .apply = claim_apply,
    .encode = claim_encode,
    .decode = claim_decode,
};
