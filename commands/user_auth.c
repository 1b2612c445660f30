/*
 * Account decisions (RULE-AUTH-1, RULE-AUTH-2): login outcomes and lockout,
 * refresh-token rotation with family revocation on reuse, logout, roles,
 * block and unblock. The state and its apply are in user.c.
 *
 * Times: a lock lasts from the 5th consecutive failure until exactly
 * USER_LOCK_MS later, and a refresh token redeems strictly before its
 * expires_at. At the instant itself the account is open again and the
 * token is dead, like a hold's seats (RULE-HOLD-3).
 */
#include "commands/commands_int.h"

#include <string.h>

int64_t user_locked_until(const cmd_user_state_t *s, int64_t now)
{
    if (s->failures < USER_LOCK_FAILURES)
        return 0;
    int64_t until = s->last_failure_at + USER_LOCK_MS;
    return now < until ? until : 0;
}

const user_family_t *user_family_find(const cmd_user_state_t *s, const char *family_id)
{
    for (uint32_t i = 0; family_id && i < s->n_families; i++)
        if (strcmp(s->families[i].id, family_id) == 0)
            return &s->families[i];
    return NULL;
}

/* A hex SHA-256, as the caller makes them. */
static int hash_valid(const char *h)
{
    if (!h || strlen(h) != 64)
        return 0;
    for (; *h; h++)
        if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
            return 0;
    return 1;
}

/* The token of f with this hash that still redeems or betrays reuse at now:
 * 1 current, 2 spent, 0 none (unknown, or past its own expiry). */
static int token_match(const user_family_t *f, const char *hash, int64_t now)
{
    if (strcmp(f->current.hash, hash) == 0)
        return now < f->current.expires_at ? 1 : 0;
    for (uint32_t k = 0; k < f->n_spent; k++)
        if (strcmp(f->spent[k].hash, hash) == 0)
            return now < f->spent[k].expires_at ? 2 : 0;
    return 0;
}

static evt_refresh_token_t *emit_refresh(cmd_result_t *out, evt_type_t t, const cmd_user_state_t *s,
                                         const char *family_id)
{
    evt_event_t *e = cmd_emit(out, t);
    e->u.refresh_token.user_id = s->u.user_id;
    e->u.refresh_token.family_id = family_id;
    return &e->u.refresh_token;
}

static evt_user_note_t *emit_note(cmd_result_t *out, evt_type_t t, const cmd_user_state_t *s,
                                  const cmd_ctx_t *ctx)
{
    evt_event_t *e = cmd_emit(out, t);
    e->u.user_note.user_id = s->u.user_id;
    e->u.user_note.at = ctx->now;
    return &e->u.user_note;
}

int user_login_decide(const cmd_user_state_t *s, const user_login_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "unauthorized", NULL, "wrong e-mail or password");
    if (!ts_id_valid(c->family_id) || !hash_valid(c->token_hash))
        return cmd_reject(out, ctx, "validation_failed", "refresh_token", "malformed token");
    out->ref = s->u.user_id;
    /* RULE-AUTH-1: while locked even the right password is refused, and
     * nothing is recorded, so hammering a locked account cannot extend
     * the lock past 15 minutes from the 5th failure. */
    int64_t until = user_locked_until(s, ctx->now);
    if (until)
        return cmd_reject(out, ctx, "rate_limited", NULL,
                          "too many failed logins; the account is locked");
    if (!c->password_ok) {
        evt_user_note_t *n = emit_note(out, EVT_LOGIN_FAILED, s, ctx);
        n->reason = s->failures + 1 >= USER_LOCK_FAILURES ? "locked" : "wrong_password";
        return 0;
    }
    if (user_family_find(s, c->family_id))
        return cmd_reject(out, ctx, "conflict", NULL, "this session id is taken");
    /* The bound of commands.h: the oldest session makes room, on the log. */
    if (s->n_families >= USER_MAX_FAMILIES)
        emit_refresh(out, EVT_REFRESH_REVOKED, s, s->families[0].id)->reason = "limit";
    evt_refresh_token_t *r = emit_refresh(out, EVT_REFRESH_ISSUED, s, c->family_id);
    r->token_hash = c->token_hash;
    r->expires_at = ctx->now + USER_REFRESH_TTL_MS;
    return 0;
}

int user_refresh_decide(const cmd_user_state_t *s, const user_refresh_cmd_t *c,
                        const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "unauthorized", NULL, "unknown refresh token");
    if (!hash_valid(c->token_hash) || !hash_valid(c->new_token_hash))
        return cmd_reject(out, ctx, "validation_failed", "refresh_token", "malformed token");
    const user_family_t *f = user_family_find(s, c->family_id);
    int m = f ? token_match(f, c->token_hash, ctx->now) : 0;
    if (m == 0)
        return cmd_reject(out, ctx, "unauthorized", NULL,
                          "the refresh token is unknown, expired or revoked");
    out->ref = s->u.user_id;
    if (m == 2) {
        /* RULE-AUTH-1: a spent token came back. Either its owner or a
         * thief holds the current one; which is unknowable, so the whole
         * family goes and both must log in again. */
        evt_refresh_token_t *r = emit_refresh(out, EVT_REFRESH_REVOKED, s, f->id);
        r->token_hash = c->token_hash;
        r->reason = "reuse";
        return 0;
    }
    evt_refresh_token_t *r = emit_refresh(out, EVT_REFRESH_ROTATED, s, f->id);
    r->token_hash = c->new_token_hash;
    r->expires_at = ctx->now + USER_REFRESH_TTL_MS;
    return 0;
}

int user_logout_decide(const cmd_user_state_t *s, const user_refresh_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "unauthorized", NULL, "unknown refresh token");
    if (!ctx->actor_is_admin && strcmp(ctx->actor, s->u.user_id) != 0)
        return cmd_reject(out, ctx, "forbidden", NULL, "not your session");
    if (!hash_valid(c->token_hash))
        return cmd_reject(out, ctx, "validation_failed", "refresh_token", "malformed token");
    out->ref = s->u.user_id;
    /* A session already over (revoked, expired, dropped) has nothing left
     * to end: logging out twice is not an error. */
    const user_family_t *f = user_family_find(s, c->family_id);
    if (!f)
        return 0;
    if (token_match(f, c->token_hash, ctx->now) == 0) {
        if (strcmp(f->current.hash, c->token_hash) == 0 || ctx->now >= f->current.expires_at)
            return 0;
        for (uint32_t k = 0; k < f->n_spent; k++)
            if (strcmp(f->spent[k].hash, c->token_hash) == 0)
                return 0;
        return cmd_reject(out, ctx, "unauthorized", NULL, "not a token of this session");
    }
    /* A spent token ends its session too: whoever presents it wants it
     * over, and revoking is what reuse would do anyway. */
    evt_refresh_token_t *r = emit_refresh(out, EVT_REFRESH_REVOKED, s, f->id);
    r->token_hash = c->token_hash;
    r->reason = "logout";
    return 0;
}

int user_grant_role_decide(const cmd_user_state_t *s, uint32_t role, const cmd_ctx_t *ctx,
                           cmd_result_t *out)
{
    /* RULE-AUTH-2: roles are an admin's to give. */
    if (!ctx->actor_is_admin)
        return cmd_reject(out, ctx, "forbidden", NULL, "only an admin grants roles");
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such user");
    if (!evt_role_name(role))
        return cmd_reject(out, ctx, "validation_failed", "role",
                          "one of attendee, organizer, box_office, auditor, admin");
    out->ref = s->u.user_id;
    uint32_t roles = s->u.roles | role | EVT_ROLE_ATTENDEE;
    if (roles == s->u.roles)
        return 0;
    emit_note(out, EVT_ROLES_CHANGED, s, ctx)->roles = roles;
    return 0;
}

int user_block_decide(const cmd_user_state_t *s, int blocked, const char *reason,
                      const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!ctx->actor_is_admin)
        return cmd_reject(out, ctx, "forbidden", NULL, "only an admin blocks users");
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such user");
    out->ref = s->u.user_id;
    if (!blocked == !s->blocked)
        return 0;
    evt_user_note_t *n = emit_note(out, blocked ? EVT_USER_BLOCKED : EVT_USER_UNBLOCKED, s, ctx);
    n->reason = reason;
    return 0;
}
