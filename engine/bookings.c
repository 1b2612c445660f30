/*
 * Settling a booking: its quota (RULE-HOLD-4) and promo use (RULE-PROMO-1)
 * follow it. Run by saga_bookings (sagas/bookings.c) and by handlers.
 *
 * A hold takes quota on its user's bucket of the event's quota,
 * tix.quota.<event>.<bucket> (eng_quota_subject), and may reserve a promo use
 * on tix.event.<event> before it is placed on its shard; the shard alone then
 * decides what becomes of the booking (confirmed, released, expired,
 * cancelled, refused payment). Settling brings the other two aggregates in
 * line: a sold booking's quota is confirmed (and its
 * promo use counted, RULE-PAY-2 re-acquisitions included); an unsold one's
 * quota and promo use are given back.
 *
 * It reconciles from the booking's status on the shard at the time it runs,
 * not from an event: every command it sends is a no-op when
 * already done, so redeliveries, and events seen out of order after a
 * restart, converge on the booking's latest status.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <string.h>

const char *eng_quota_subject(ts_arena_t *a, const char *event_id, const char *user_id)
{
    uint8_t h[32];
    eng__sha256(user_id, strlen(user_id), h);
    return ts_arena_printf(a, "tix.quota.%s.%u", event_id, (unsigned)(h[0] % ENG_QUOTA_BUCKETS));
}

typedef struct {
    int found;
    inv_booking_status_t status;
    int64_t expires_at;
    const char *event_id, *user_id, *promo_code;
    uint32_t quantity;
    ts_arena_t *arena;
    const char *booking_id;
} settle_copy_t;

static void copy_booking(const void *state, void *arg)
{
    settle_copy_t *c = arg;
    const inv_booking_t *b = inv_booking_find(state, c->booking_id);
    if (!b)
        return;
    c->found = 1;
    c->status = b->status;
    c->expires_at = b->hold.expires_at;
    c->event_id = ts_arena_strdup(c->arena, b->hold.event_id);
    c->user_id = ts_arena_strdup(c->arena, b->hold.user_id);
    c->promo_code = ts_arena_strdup(c->arena, b->hold.promo_code);
    c->quantity = b->hold.quantity;
}

/* Runs a saga command; a business rejection is logged, not retried (it
 * would be rejected again). */
static ts_status run(eng_t *e, eng_cmd_t *cmd, ts_arena_t *arena)
{
    eng_outcome_t o;
    cmd->actor = "system";
    ts_status st = eng_execute(e, cmd, arena, &o);
    if (st == TS_OK && o.reject)
        fprintf(stderr, "saga bookings: %s on %s refused: %s (%s)\n", eng_cmd_name(cmd->type),
                cmd->subject, o.reject->code, o.reject->detail ? o.reject->detail : "");
    return st;
}

ts_status eng_booking_settle(eng_t *e, const char *shard_subject, const char *booking_id)
{
    ts_arena_t arena;
    ts_arena_init(&arena, 4096);
    settle_copy_t c = {.arena = &arena, .booking_id = booking_id};
    ts_status st = eng_read(e, shard_subject, copy_booking, &c);
    if (st != TS_OK || !c.found || !c.event_id || !c.user_id)
        goto done;
    int sold = c.status == INV_CONFIRMED;
    int unsold = c.status == INV_RELEASED || c.status == INV_EXPIRED || c.status == INV_CANCELLED ||
                 c.status == INV_REFUND_DUE || c.status == INV_REFUNDED;
    if (!sold && !unsold)
        goto done; /* still held: nothing to settle yet */
    const char *cmd_id = ts_arena_printf(&arena, "settle-%s-%d", booking_id, (int)c.status);

    eng_cmd_t q = {.type = sold ? ENG_QUOTA_CONFIRM : ENG_QUOTA_RETURN, .command_id = cmd_id};
    q.subject = eng_quota_subject(&arena, c.event_id, c.user_id);
    q.u.quota.q.event_id = c.event_id;
    q.u.quota.q.booking_id = booking_id;
    q.u.quota.q.user_id = c.user_id;
    q.u.quota.q.quantity = c.quantity;
    if ((st = run(e, &q, &arena)) != TS_OK)
        goto done;

    if (c.promo_code && c.promo_code[0]) {
        eng_cmd_t p = {.type = sold ? ENG_PROMO_USE : ENG_PROMO_RELEASE, .command_id = cmd_id};
        p.subject = ts_arena_printf(&arena, "tix.event.%s", c.event_id);
        p.u.promo_use.code = c.promo_code;
        p.u.promo_use.booking_id = booking_id;
        p.u.promo_use.force = 1; /* a sale counts whatever the window and the uses */
        st = run(e, &p, &arena);
    }
done:
    ts_arena_deinit(&arena);
    return st;
}

/* "bk-<event>-<section>-<random>" → tix.inv.<event>.<section>, or NULL. */
static const char *shard_of_booking(ts_arena_t *a, const char *id)
{
    if (!id || strncmp(id, "bk-", 3) != 0)
        return NULL;
    const char *ev = id + 3, *d1 = strchr(ev, '-');
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    if (!d1 || !d2 || d1 == ev || d2 == d1 + 1 || strchr(d2 + 1, '-'))
        return NULL;
    return ts_arena_printf(a, "tix.inv.%.*s.%.*s", (int)(d1 - ev), ev, (int)(d2 - d1 - 1), d1 + 1);
}

typedef struct {
    const char *booking_id;
    int active;
} use_copy_t;

static void copy_use(const void *state, void *arg)
{
    use_copy_t *u = arg;
    const cmd_event_state_t *s = state;
    int32_t i = ts_map_get(&s->use_by_booking, u->booking_id);
    u->active = i >= 0 && s->uses[i].active;
}

ts_status eng_promo_use_check(eng_t *e, const char *event_id, const char *booking_id,
                              int64_t used_at, int64_t grace_ms, int *pending)
{
    ts_arena_t arena;
    ts_arena_init(&arena, 1024);
    *pending = 0;
    const char *event_subject = ts_arena_printf(&arena, "tix.event.%s", event_id);
    use_copy_t u = {.booking_id = booking_id};
    ts_status st = eng_read(e, event_subject, copy_use, &u);
    const char *shard = shard_of_booking(&arena, booking_id);
    if (st != TS_OK || !u.active)
        goto done; /* given back already (a refused hold), or unreadable */
    if (shard) {
        settle_copy_t c = {.arena = &arena, .booking_id = booking_id};
        if ((st = eng_read(e, shard, copy_booking, &c)) != TS_OK)
            goto done;
        if (c.found) {
            /* The hold was placed: the booking's own ends settle it. */
            st = eng_booking_settle(e, shard, booking_id);
            goto done;
        }
    }
    /* No booking yet: the hold may still be on its way, until grace_ms
     * after the use; past that it never will be (the API died between the
     * steps), and the use goes back. */
    if (eng__now_ms() < used_at + grace_ms) {
        *pending = 1;
        goto done;
    }
    eng_cmd_t p = {.type = ENG_PROMO_RELEASE, .subject = event_subject};
    p.command_id = ts_arena_printf(&arena, "settle-%s-lost", booking_id);
    p.u.promo_use.booking_id = booking_id;
    st = run(e, &p, &arena);
done:
    ts_arena_deinit(&arena);
    return st;
}
