/* The user and unique-claim aggregates (RULE-AUTH-1, -2): registration,
 * claims, and the user state (apply and snapshots); the account decisions
 * are in user_auth.c. */
#include "commands/commands_int.h"

#include <ctype.h>
#include <stdio.h>
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

SIMPLE_STATE(claim, cmd_claim_state_t)

/*
 * The user state. Profile strings live in the state's arena (they are
 * written once); the refresh-token families live in heap arrays of fixed-
 * size records, because they come and go for as long as the user logs in
 * and an arena would only grow.
 */

static void *user_new(void)
{
    cmd_user_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    ts_arena_init(&s->arena, 1024);
    return s;
}

static void user_free(void *p)
{
    cmd_user_state_t *s = p;
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n_families; i++)
        free(s->families[i].spent);
    free(s->families);
    ts_arena_deinit(&s->arena);
    free(s);
}

static void token_set(user_token_t *t, const char *hash, int64_t expires_at)
{
    snprintf(t->hash, sizeof(t->hash), "%s", hash ? hash : "");
    t->expires_at = expires_at;
}

static int family_index(const cmd_user_state_t *s, const char *id)
{
    for (uint32_t i = 0; id && i < s->n_families; i++)
        if (strcmp(s->families[i].id, id) == 0)
            return (int)i;
    return -1;
}

static void family_remove(cmd_user_state_t *s, uint32_t i)
{
    free(s->families[i].spent);
    memmove(&s->families[i], &s->families[i + 1], (s->n_families - i - 1) * sizeof(*s->families));
    s->n_families--;
}

/* Drops what can no longer redeem at now: families whose current token has
 * expired and spent tokens past their own expiry. Decisions refuse those
 * without events whether they are kept or not (user_auth.c), so dropping
 * them changes no answer; it only bounds the state. */
static void user_prune(cmd_user_state_t *s, int64_t now)
{
    for (uint32_t i = 0; i < s->n_families;) {
        user_family_t *f = &s->families[i];
        if (f->current.expires_at <= now) {
            family_remove(s, i);
            continue;
        }
        uint32_t kept = 0;
        for (uint32_t k = 0; k < f->n_spent; k++)
            if (f->spent[k].expires_at > now)
                f->spent[kept++] = f->spent[k];
        f->n_spent = kept;
        i++;
    }
}

static void family_add(cmd_user_state_t *s, const evt_refresh_token_t *r)
{
    int i = family_index(s, r->family_id);
    if (i >= 0) {
        /* A family id is fresh randomness; a repeat can only be a replayed
         * event, and the later one wins. */
        token_set(&s->families[i].current, r->token_hash, r->expires_at);
        return;
    }
    if (s->n_families == s->cap_families) {
        s->cap_families = s->cap_families ? s->cap_families * 2 : 4;
        s->families = realloc(s->families, s->cap_families * sizeof(*s->families));
        if (!s->families)
            abort();
    }
    user_family_t *f = &s->families[s->n_families++];
    memset(f, 0, sizeof(*f));
    snprintf(f->id, sizeof(f->id), "%s", r->family_id ? r->family_id : "");
    token_set(&f->current, r->token_hash, r->expires_at);
}

static void family_rotate(cmd_user_state_t *s, const evt_refresh_token_t *r)
{
    int i = family_index(s, r->family_id);
    if (i < 0)
        return;
    user_family_t *f = &s->families[i];
    if (f->n_spent == USER_MAX_SPENT) {
        /* The bound of commands.h: the oldest spent token is forgotten. */
        memmove(&f->spent[0], &f->spent[1], (f->n_spent - 1) * sizeof(*f->spent));
        f->n_spent--;
    }
    if (f->n_spent == f->cap_spent) {
        f->cap_spent = f->cap_spent ? f->cap_spent * 2 : 4;
        f->spent = realloc(f->spent, f->cap_spent * sizeof(*f->spent));
        if (!f->spent)
            abort();
    }
    f->spent[f->n_spent++] = f->current;
    token_set(&f->current, r->token_hash, r->expires_at);
}

static void user_apply(void *p, const evt_event_t *e)
{
    cmd_user_state_t *s = p;
    switch (e->type) {
    case EVT_USER_REGISTERED: {
        const evt_user_registered_t *u = &e->u.user_registered;
        s->exists = 1;
        s->u.user_id = ts_arena_strdup(&s->arena, u->user_id);
        s->u.email = ts_arena_strdup(&s->arena, u->email);
        s->u.name = ts_arena_strdup(&s->arena, u->name);
        s->u.password_hash = ts_arena_strdup(&s->arena, u->password_hash);
        s->u.roles = u->roles;
        break;
    }
    case EVT_LOGIN_FAILED:
        /* RULE-AUTH-1: failures are only recorded while not locked, so one
         * after a lock means the lock has lapsed: a new run starts. */
        if (s->failures >= USER_LOCK_FAILURES)
            s->failures = 0;
        s->failures++;
        s->last_failure_at = e->u.user_note.at;
        break;
    case EVT_ROLES_CHANGED:
        s->u.roles = e->u.user_note.roles;
        break;
    case EVT_USER_BLOCKED:
        s->blocked = 1;
        break;
    case EVT_USER_UNBLOCKED:
        s->blocked = 0;
        break;
    case EVT_REFRESH_ISSUED:
        /* A token is issued at expires_at - TTL: that is "now" for
         * pruning, so apply needs no clock. A successful login ends the
         * run of failures. */
        user_prune(s, e->u.refresh_token.expires_at - USER_REFRESH_TTL_MS);
        s->failures = 0;
        s->last_failure_at = 0;
        family_add(s, &e->u.refresh_token);
        break;
    case EVT_REFRESH_ROTATED:
        user_prune(s, e->u.refresh_token.expires_at - USER_REFRESH_TTL_MS);
        family_rotate(s, &e->u.refresh_token);
        break;
    case EVT_REFRESH_REVOKED: {
        int i = family_index(s, e->u.refresh_token.family_id);
        if (i >= 0)
            family_remove(s, (uint32_t)i);
        break;
    }
    default:
        break;
    }
}

static evt_event_t *snap_next(evt_event_t *events, uint32_t *n, evt_type_t t)
{
    evt_event_t *e = &events[(*n)++];
    memset(e, 0, sizeof(*e));
    e->type = t;
    return e;
}

/* The snapshot is the shortest event list that rebuilds the state:
 * UserRegistered with the current roles, UserBlocked when blocked, each
 * live family as RefreshIssued of its oldest remembered token and one
 * RefreshRotated per later token, then the run of failures as that many
 * LoginFailed at the last failure's time (after the families, since
 * RefreshIssued ends a run). Pruning while this list is applied drops
 * nothing: every kept token outlives the newest issue time in the log,
 * and every issue time in the list is one of the log's. */
static ts_status user_encode(const void *p, ts_buf_t *out)
{
    const cmd_user_state_t *s = p;
    if (!s->exists)
        return cmd__snapshot_encode(NULL, 0, out);
    uint32_t cap = 2 + s->failures;
    for (uint32_t i = 0; i < s->n_families; i++)
        cap += 1 + s->families[i].n_spent;
    evt_event_t *events = calloc(cap, sizeof(*events));
    if (!events)
        return TS_ERR_NOMEM;
    uint32_t n = 0;
    snap_next(events, &n, EVT_USER_REGISTERED)->u.user_registered = s->u;
    if (s->blocked)
        snap_next(events, &n, EVT_USER_BLOCKED)->u.user_note.user_id = s->u.user_id;
    for (uint32_t i = 0; i < s->n_families; i++) {
        const user_family_t *f = &s->families[i];
        for (uint32_t k = 0; k <= f->n_spent; k++) {
            const user_token_t *t = k < f->n_spent ? &f->spent[k] : &f->current;
            evt_event_t *e =
                snap_next(events, &n, k == 0 ? EVT_REFRESH_ISSUED : EVT_REFRESH_ROTATED);
            e->u.refresh_token.user_id = s->u.user_id;
            e->u.refresh_token.family_id = f->id;
            e->u.refresh_token.token_hash = t->hash;
            e->u.refresh_token.expires_at = t->expires_at;
        }
    }
    for (uint32_t i = 0; i < s->failures; i++) {
        evt_event_t *e = snap_next(events, &n, EVT_LOGIN_FAILED);
        e->u.user_note.user_id = s->u.user_id;
        e->u.user_note.at = s->last_failure_at;
    }
    ts_status rc = cmd__snapshot_encode(events, n, out);
    free(events);
    return rc;
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
    .format_version = 2, /* 2: lockout, roles, blocked, refresh families */
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
