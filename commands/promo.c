/*
 * Promo codes of an event (RULE-PROMO-1): created by the organizer, used by
 * holds, given back when a booking ends unsold.
 *
 * A use is reserved on the event aggregate before the hold is placed
 * (PromoUsed, by booking id), so max_uses holds even when many holds race
 * for the last use: the event's lane decides them one at a time. A hold that
 * is then refused, and a booking that is released, expires, is cancelled or
 * whose payment fails, gives its use back (PromoReleased). Both are keyed by
 * booking id and idempotent: a use repeated or a release repeated emits
 * nothing, so a saga may redeliver freely.
 */
#include "commands/commands_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The longest amount off: the largest tier price times the largest order. */
#define PROMO_AMOUNT_MAX 5000000000LL
#define PROMO_USES_MAX 1000000u

/* The code upper-cased into a, or NULL when it is not [A-Za-z0-9_-]{1,32}. */
static const char *code_norm(ts_arena_t *a, const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n < 1 || n > PROMO_CODE_MAX)
        return NULL;
    char *c = ts_arena_strdup(a, code);
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)c[i]) && c[i] != '_' && c[i] != '-')
            return NULL;
        c[i] = (char)toupper((unsigned char)c[i]);
    }
    return c;
}

const cmd_promo_t *promo_find(const cmd_event_state_t *s, const char *code)
{
    char buf[PROMO_CODE_MAX + 1];
    size_t n = code ? strlen(code) : 0;
    if (n < 1 || n > PROMO_CODE_MAX)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)toupper((unsigned char)code[i]);
    int32_t i = ts_map_get(&s->promo_by_code, buf);
    return i < 0 ? NULL : &s->promos[i];
}

int64_t promo_discount(int64_t subtotal, uint32_t percent_off, int64_t amount_off)
{
    /* RULE-PRICE-1: integer minor units; a percentage is basis points of
     * the subtotal, half-up, like the fee. */
    int64_t d = percent_off ? ts_bps_half_up(subtotal, percent_off * 100u) : amount_off;
    if (d < 0)
        d = 0;
    return d > subtotal ? subtotal : d;
}

static int may_manage(const cmd_event_state_t *s, const cmd_ctx_t *ctx)
{
    /* RULE-AUTH-2: organizers act on their own events only. */
    return ctx->actor_is_admin || (ctx->actor && strcmp(ctx->actor, s->ev.organizer_id) == 0);
}

int promo_create_decide(const cmd_event_state_t *s, const evt_promo_t *p, const cmd_ctx_t *ctx,
                        cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such event");
    if (!may_manage(s, ctx))
        return cmd_reject(out, ctx, "forbidden", NULL, "only the organizer may create promo codes");
    if (s->status != CMD_EVENT_DRAFT && s->status != CMD_EVENT_PUBLISHED)
        return cmd_reject(out, ctx, "conflict", NULL, "the event no longer sells");
    const char *code = code_norm(ctx->arena, p->code);
    if (!code)
        return cmd_reject(out, ctx, "validation_failed", "code", "a code is [A-Za-z0-9_-]{1,%d}",
                          PROMO_CODE_MAX);
    /* RULE-PROMO-1: percent or fixed amount off, never both. */
    if ((p->percent_off == 0) == (p->amount_off == 0))
        return cmd_reject(out, ctx, "validation_failed",
                          p->percent_off ? "amount_off" : "percent_off",
                          "give exactly one of percent_off and amount_off");
    if (p->percent_off > 100)
        return cmd_reject(out, ctx, "validation_failed", "percent_off", "percent_off is 1..100");
    if (p->amount_off < 0 || p->amount_off > PROMO_AMOUNT_MAX)
        return cmd_reject(out, ctx, "validation_failed", "amount_off",
                          "amount_off is a positive amount in minor units");
    if (p->max_uses < 1 || p->max_uses > PROMO_USES_MAX)
        return cmd_reject(out, ctx, "validation_failed", "max_uses", "max_uses is 1..%u",
                          PROMO_USES_MAX);
    if (p->valid_until <= 0)
        return cmd_reject(out, ctx, "validation_failed", "valid_until", "valid_until is required");
    if (p->valid_from < 0 || (p->valid_from && p->valid_until <= p->valid_from))
        return cmd_reject(out, ctx, "validation_failed", "valid_until",
                          "valid_until must be after valid_from");
    if (p->valid_until <= ctx->now)
        return cmd_reject(out, ctx, "validation_failed", "valid_until",
                          "valid_until must be in the future");
    if (ts_map_get(&s->promo_by_code, code) >= 0)
        return cmd_reject(out, ctx, "conflict", "code", "promo code %s exists", code);
    evt_event_t *e = cmd_emit(out, EVT_PROMO_CREATED);
    e->u.promo = *p;
    e->u.promo.event_id = s->ev.event_id;
    e->u.promo.code = code;
    out->ref = code;
    return 0;
}

int promo_use_decide(const cmd_event_state_t *s, const char *code, const char *booking_id,
                     int force, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such event");
    if (!booking_id || !booking_id[0])
        return cmd_reject(out, ctx, "validation_failed", "booking_id", "a booking is required");
    const cmd_promo_t *p = promo_find(s, code);
    if (!p)
        return cmd_reject(out, ctx, "validation_failed", "promo_code", "unknown promo code");
    out->ref = booking_id;
    int32_t u = ts_map_get(&s->use_by_booking, booking_id);
    if (u >= 0 && s->uses[u].active) {
        if (&s->promos[s->uses[u].promo] != p)
            return cmd_reject(out, ctx, "conflict", "promo_code",
                              "the booking uses another promo code");
        return 0; /* already in force: a repeat */
    }
    if (!force) {
        /* RULE-EVT-1: only published events sell. */
        if (s->status != CMD_EVENT_PUBLISHED)
            return cmd_reject(out, ctx, "not_on_sale", NULL, "the event is not on sale");
        /* RULE-PROMO-1: the validity window is [valid_from, valid_until). */
        if ((p->p.valid_from && ctx->now < p->p.valid_from) || ctx->now >= p->p.valid_until)
            return cmd_reject(out, ctx, "not_on_sale", "promo_code",
                              "promo code %s is not valid now", p->p.code);
        /* RULE-PROMO-1: max uses, counted from the hold on. */
        if (p->uses >= p->p.max_uses) {
            cmd_reject(out, ctx, "limit_exceeded", "promo_code", "promo code %s is used up",
                       p->p.code);
            ((cmd_reject_t *)out->reject)->limit = p->p.max_uses;
            return 0;
        }
    }
    evt_event_t *e = cmd_emit(out, EVT_PROMO_USED);
    e->u.promo_use.event_id = s->ev.event_id;
    e->u.promo_use.code = p->p.code;
    e->u.promo_use.booking_id = booking_id;
    return 0;
}

int promo_release_decide(const cmd_event_state_t *s, const char *booking_id, const cmd_ctx_t *ctx,
                         cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such event");
    out->ref = booking_id;
    int32_t u = booking_id ? ts_map_get(&s->use_by_booking, booking_id) : -1;
    if (u < 0 || !s->uses[u].active)
        return 0; /* nothing in force: a repeated release is a no-op */
    evt_event_t *e = cmd_emit(out, EVT_PROMO_RELEASED);
    e->u.promo_use.event_id = s->ev.event_id;
    e->u.promo_use.code = s->promos[s->uses[u].promo].p.code;
    e->u.promo_use.booking_id = s->uses[u].booking_id;
    return 0;
}

/* ---- state ---- */

static void apply_created(cmd_event_state_t *s, const evt_promo_t *p)
{
    ts_arena_t *a = &s->arena;
    const char *code = code_norm(a, p->code);
    if (!code || ts_map_get(&s->promo_by_code, code) >= 0)
        return;
    if (s->n_promos == s->cap_promos) {
        s->cap_promos = s->cap_promos ? 2 * s->cap_promos : 8;
        s->promos = realloc(s->promos, s->cap_promos * sizeof(*s->promos));
        if (!s->promos)
            abort();
    }
    cmd_promo_t *c = &s->promos[s->n_promos];
    memset(c, 0, sizeof(*c));
    c->p = *p;
    c->p.event_id = s->ev.event_id;
    c->p.code = code;
    ts_map_put(&s->promo_by_code, code, (int32_t)s->n_promos);
    s->n_promos++;
}

static void apply_used(cmd_event_state_t *s, const evt_promo_use_t *u)
{
    const cmd_promo_t *p = u->booking_id ? promo_find(s, u->code) : NULL;
    if (!p)
        return;
    uint32_t pi = (uint32_t)(p - s->promos);
    int32_t i = ts_map_get(&s->use_by_booking, u->booking_id);
    if (i >= 0) {
        if (s->uses[i].active)
            return;
        s->uses[i].active = 1;
        s->uses[i].promo = pi;
        s->promos[pi].uses++;
        return;
    }
    if (s->n_uses == s->cap_uses) {
        s->cap_uses = s->cap_uses ? 2 * s->cap_uses : 16;
        s->uses = realloc(s->uses, s->cap_uses * sizeof(*s->uses));
        if (!s->uses)
            abort();
    }
    cmd_promo_use_t *use = &s->uses[s->n_uses];
    use->booking_id = ts_arena_strdup(&s->arena, u->booking_id);
    use->promo = pi;
    use->active = 1;
    ts_map_put(&s->use_by_booking, use->booking_id, (int32_t)s->n_uses);
    s->n_uses++;
    s->promos[pi].uses++;
}

static void apply_released(cmd_event_state_t *s, const evt_promo_use_t *u)
{
    int32_t i = u->booking_id ? ts_map_get(&s->use_by_booking, u->booking_id) : -1;
    if (i < 0 || !s->uses[i].active)
        return;
    s->uses[i].active = 0;
    s->promos[s->uses[i].promo].uses--;
}

void cmd__promo_apply(cmd_event_state_t *s, const evt_event_t *e)
{
    switch (e->type) {
    case EVT_PROMO_CREATED:
        apply_created(s, &e->u.promo);
        break;
    case EVT_PROMO_USED:
        apply_used(s, &e->u.promo_use);
        break;
    case EVT_PROMO_RELEASED:
        apply_released(s, &e->u.promo_use);
        break;
    default:
        break;
    }
}

/* A released use is kept in the snapshot (used, then released) so that a
 * state rebuilt from it decides exactly as one folded from the log. */
uint32_t cmd__promo_snapshot_count(const cmd_event_state_t *s)
{
    return s->n_promos + 2 * s->n_uses;
}

void cmd__promo_snapshot(const cmd_event_state_t *s, evt_event_t *events, uint32_t *n)
{
    for (uint32_t i = 0; i < s->n_promos; i++) {
        evt_event_t *e = &events[(*n)++];
        memset(e, 0, sizeof(*e));
        e->type = EVT_PROMO_CREATED;
        e->u.promo = s->promos[i].p;
    }
    for (uint32_t i = 0; i < s->n_uses; i++) {
        const cmd_promo_use_t *u = &s->uses[i];
        evt_promo_use_t use = {.event_id = s->ev.event_id,
                               .code = s->promos[u->promo].p.code,
                               .booking_id = u->booking_id};
        evt_event_t *e = &events[(*n)++];
        memset(e, 0, sizeof(*e));
        e->type = EVT_PROMO_USED;
        e->u.promo_use = use;
        if (!u->active) {
            e = &events[(*n)++];
            memset(e, 0, sizeof(*e));
            e->type = EVT_PROMO_RELEASED;
            e->u.promo_use = use;
        }
    }
}

void cmd__promo_deinit(cmd_event_state_t *s)
{
    free(s->promos);
    free(s->uses);
    s->promos = NULL;
    s->uses = NULL;
    ts_map_deinit(&s->promo_by_code);
    ts_map_deinit(&s->use_by_booking);
}
