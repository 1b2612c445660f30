/*
 * The waitlist aggregate (RULE-WL-1): tix.wait.<event>.<tier>.
 *
 * Entries are kept in join order, gone ones included, so that the FIFO order
 * is the array order and an entry id always resolves (a late lapse or a
 * redelivered offer finds its entry and is a no-op). head skips the prefix
 * of entries that have left for good, so the list is walked from the first
 * entry that may still be on it.
 */
#include "commands/commands_int.h"

#include <stdlib.h>
#include <string.h>

static void *wait_new(void)
{
    wait_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    ts_arena_init(&s->arena, 8192);
    ts_map_init(&s->by_entry);
    ts_map_init(&s->by_user);
    return s;
}

static void wait_free(void *p)
{
    wait_state_t *s = p;
    if (!s)
        return;
    free(s->entries);
    ts_map_deinit(&s->by_entry);
    ts_map_deinit(&s->by_user);
    ts_arena_deinit(&s->arena);
    free(s);
}

/* ---- queries ---- */

const wait_entry_t *wait_entry_find(const wait_state_t *s, const char *entry_id)
{
    int32_t i = entry_id ? ts_map_get(&s->by_entry, entry_id) : -1;
    return i < 0 ? NULL : &s->entries[i];
}

int wait_entry_active(const wait_entry_t *e, int64_t now)
{
    if (e->status == WAIT_WAITING)
        return 1;
    /* RULE-WL-1: an offer ends at its expiry instant, like the hold it is. */
    return e->status == WAIT_OFFERED && now < e->offer_expires_at;
}

uint32_t wait_position(const wait_state_t *s, const char *entry_id, int64_t now)
{
    int32_t k = entry_id ? ts_map_get(&s->by_entry, entry_id) : -1;
    if (k < 0 || !wait_entry_active(&s->entries[k], now))
        return 0;
    uint32_t pos = 0;
    for (uint32_t i = s->head; i <= (uint32_t)k; i++)
        pos += (uint32_t)wait_entry_active(&s->entries[i], now);
    return pos;
}

const wait_entry_t *wait_head(const wait_state_t *s)
{
    for (uint32_t i = s->head; i < s->n_entries; i++)
        if (s->entries[i].status == WAIT_WAITING)
            return &s->entries[i];
    return NULL;
}

const char *wait_entry_status_name(wait_entry_status_t st)
{
    switch (st) {
    case WAIT_WAITING:
        return "waiting";
    case WAIT_OFFERED:
        return "offered";
    case WAIT_LEFT:
        return "left";
    case WAIT_LAPSED:
        return "lapsed";
    case WAIT_FULFILLED:
        return "fulfilled";
    }
    return "unknown";
}

/* ---- decisions ---- */

/* An event about entry e, every field filled so that each event alone
 * describes the entry (the read model folds them one by one). */
static evt_waitlist_entry_t *emit(const wait_state_t *s, const wait_entry_t *e, evt_type_t t,
                                  const cmd_ctx_t *ctx, cmd_result_t *out)
{
    evt_event_t *ev = cmd_emit(out, t);
    evt_waitlist_entry_t *w = &ev->u.waitlist;
    w->event_id = s->event_id;
    w->tier = s->tier;
    w->entry_id = e->entry_id;
    w->user_id = e->user_id;
    w->quantity = e->quantity;
    w->at = ctx->now;
    w->booking_id = e->booking_id;
    w->expires_at = e->offer_expires_at;
    out->ref = e->entry_id;
    return w;
}

int wait_join_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                     cmd_result_t *out)
{
    /* The same command again names the entry it made. */
    const wait_entry_t *again = wait_entry_find(s, ctx->new_id);
    if (again) {
        out->ref = again->entry_id;
        return 0;
    }
    if (c->quantity == 0)
        return cmd_reject(out, ctx, "validation_failed", "quantity", "at least one");
    if (c->quantity > c->max_per_order) {
        cmd_reject(out, ctx, "limit_exceeded", "quantity", "at most %u per order",
                   c->max_per_order);
        ((cmd_reject_t *)out->reject)->limit = c->max_per_order;
        return 0;
    }
    /* RULE-WL-1: one place on a list per user. */
    int32_t mine = ts_map_get(&s->by_user, ctx->actor);
    if (mine >= 0 && wait_entry_active(&s->entries[mine], ctx->now))
        return cmd_reject(out, ctx, "conflict", NULL, "you are already on this waitlist");
    evt_event_t *ev = cmd_emit(out, EVT_WAITLIST_JOINED);
    evt_waitlist_entry_t *w = &ev->u.waitlist;
    w->event_id = s->event_id ? s->event_id : c->event_id;
    w->tier = s->tier ? s->tier : c->tier;
    w->entry_id = ctx->new_id;
    w->user_id = ctx->actor;
    w->quantity = c->quantity;
    w->at = ctx->now;
    out->ref = w->entry_id;
    return 0;
}

int wait_leave_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out)
{
    const wait_entry_t *e = wait_entry_find(s, c->entry_id);
    if (!e || !wait_entry_active(e, ctx->now))
        return cmd_reject(out, ctx, "not_found", NULL, "no such waitlist entry");
    if (!ctx->actor_is_admin && strcmp(ctx->actor, e->user_id) != 0)
        return cmd_reject(out, ctx, "forbidden", NULL, "not your waitlist entry");
    emit(s, e, EVT_WAITLIST_LEFT, ctx, out);
    return 0;
}

int wait_offer_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out)
{
    const wait_entry_t *e = wait_entry_find(s, c->entry_id);
    /* A redelivery: this offer is recorded already, whatever became of it
     * since (the entry may have left with it, or its offer ended). */
    if (e && e->booking_id && c->booking_id && strcmp(e->booking_id, c->booking_id) == 0) {
        out->ref = e->entry_id;
        return 0;
    }
    if (!e || e->status != WAIT_WAITING)
        return cmd_reject(out, ctx, "conflict", NULL, "the entry is not waiting for an offer");
    if (!c->booking_id || !c->booking_id[0] || c->expires_at <= 0)
        return cmd_reject(out, ctx, "validation_failed", "booking_id", "an offer names its hold");
    evt_waitlist_entry_t *w = emit(s, e, EVT_WAITLIST_OFFERED, ctx, out);
    w->booking_id = c->booking_id;
    w->expires_at = c->expires_at;
    return 0;
}

int wait_pass_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                     cmd_result_t *out)
{
    if (!c->reason || !c->reason[0])
        return cmd_reject(out, ctx, "validation_failed", "reason", "a pass names its reason");
    const wait_entry_t *e = wait_entry_find(s, c->entry_id);
    if (e)
        out->ref = e->entry_id;
    /* Only a waiting entry is passed over: one that left (this pass again,
     * or its user left meanwhile) or that holds an offer (another run of the
     * saga made one) stays as it is. */
    if (!e || e->status != WAIT_WAITING)
        return 0;
    /* RULE-WL-1: an offer that cannot be made to the user passes on, as an
     * unclaimed one does: the entry leaves, with why, and the next one is
     * the head. Keeping it waiting would leave a head that every freed seat
     * passes over again, its place on the list a promise no seat keeps. */
    evt_waitlist_entry_t *w = emit(s, e, EVT_WAITLIST_LEFT, ctx, out);
    w->reason = c->reason;
    return 0;
}

/* The entry holding the offer booking c->booking_id, or NULL. */
static const wait_entry_t *offer_holder(const wait_state_t *s, const wait_cmd_t *c)
{
    const wait_entry_t *e = wait_entry_find(s, c->entry_id);
    if (!e || e->status != WAIT_OFFERED || !e->booking_id || !c->booking_id ||
        strcmp(e->booking_id, c->booking_id) != 0)
        return NULL;
    return e;
}

int wait_lapse_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                      cmd_result_t *out)
{
    const wait_entry_t *e = offer_holder(s, c);
    if (e)
        emit(s, e, EVT_WAITLIST_OFFER_LAPSED, ctx, out);
    return 0;
}

int wait_fulfil_decide(const wait_state_t *s, const wait_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out)
{
    /* A confirm is the truth even when it comes after the offer's expiry
     * instant (RULE-PAY-2 may re-acquire): only a recorded end stops it. */
    const wait_entry_t *e = offer_holder(s, c);
    if (e)
        emit(s, e, EVT_WAITLIST_FULFILLED, ctx, out);
    return 0;
}

/* ---- apply ---- */

static void apply_joined(wait_state_t *s, const evt_waitlist_entry_t *w)
{
    if (!w->entry_id || !w->user_id || ts_map_get(&s->by_entry, w->entry_id) >= 0)
        return;
    if (!s->event_id) {
        s->event_id = ts_arena_strdup(&s->arena, w->event_id);
        s->tier = ts_arena_strdup(&s->arena, w->tier);
    }
    if (s->n_entries == s->cap_entries) {
        s->cap_entries = s->cap_entries ? s->cap_entries * 2 : 16;
        s->entries = realloc(s->entries, s->cap_entries * sizeof(*s->entries));
        if (!s->entries)
            abort();
    }
    int32_t i = (int32_t)s->n_entries++;
    wait_entry_t *e = &s->entries[i];
    memset(e, 0, sizeof(*e));
    e->entry_id = ts_arena_strdup(&s->arena, w->entry_id);
    e->user_id = ts_arena_strdup(&s->arena, w->user_id);
    e->quantity = w->quantity;
    e->joined_at = w->at;
    e->status = WAIT_WAITING;
    ts_map_put(&s->by_entry, e->entry_id, i);
    ts_map_put(&s->by_user, e->user_id, i);
}

static void apply_change(wait_state_t *s, evt_type_t t, const evt_waitlist_entry_t *w)
{
    int32_t i = w->entry_id ? ts_map_get(&s->by_entry, w->entry_id) : -1;
    if (i < 0)
        return;
    wait_entry_t *e = &s->entries[i];
    switch (t) {
    case EVT_WAITLIST_OFFERED:
        if (e->status != WAIT_WAITING)
            return;
        e->status = WAIT_OFFERED;
        e->booking_id = ts_arena_strdup(&s->arena, w->booking_id);
        e->offer_expires_at = w->expires_at;
        break;
    case EVT_WAITLIST_LEFT:
        if (e->status == WAIT_WAITING || e->status == WAIT_OFFERED) {
            e->status = WAIT_LEFT;
            e->end_reason = w->reason ? ts_arena_strdup(&s->arena, w->reason) : NULL;
        }
        break;
    case EVT_WAITLIST_OFFER_LAPSED:
    case EVT_WAITLIST_FULFILLED:
        if (e->status == WAIT_OFFERED)
            e->status = t == EVT_WAITLIST_FULFILLED ? WAIT_FULFILLED : WAIT_LAPSED;
        break;
    default:
        return;
    }
    while (s->head < s->n_entries && s->entries[s->head].status >= WAIT_LEFT)
        s->head++;
}

static void wait_apply(void *p, const evt_event_t *e)
{
    wait_state_t *s = p;
    switch (e->type) {
    case EVT_WAITLIST_JOINED:
        apply_joined(s, &e->u.waitlist);
        break;
    case EVT_WAITLIST_OFFERED:
    case EVT_WAITLIST_LEFT:
    case EVT_WAITLIST_OFFER_LAPSED:
    case EVT_WAITLIST_FULFILLED:
        apply_change(s, e->type, &e->u.waitlist);
        break;
    default:
        break;
    }
}

/* ---- snapshots ---- */

/* The snapshot replays every entry in join order: joined, offered when it
 * had an offer, then how it left. Entries are independent of each other,
 * so replaying one entry's history at a time rebuilds the same state. */
static ts_status wait_encode(const void *p, ts_buf_t *out)
{
    const wait_state_t *s = p;
    if (s->n_entries == 0)
        return TS_OK;
    evt_event_t *ev = calloc((size_t)s->n_entries * 3, sizeof(*ev));
    if (!ev)
        abort();
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_entries; i++) {
        const wait_entry_t *e = &s->entries[i];
        evt_waitlist_entry_t w = {.event_id = s->event_id,
                                  .tier = s->tier,
                                  .entry_id = e->entry_id,
                                  .user_id = e->user_id,
                                  .quantity = e->quantity,
                                  .at = e->joined_at};
        ev[n].type = EVT_WAITLIST_JOINED;
        ev[n++].u.waitlist = w;
        w.booking_id = e->booking_id;
        w.expires_at = e->offer_expires_at;
        if (e->booking_id) {
            ev[n].type = EVT_WAITLIST_OFFERED;
            ev[n++].u.waitlist = w;
        }
        static const evt_type_t ends[] = {[WAIT_LEFT] = EVT_WAITLIST_LEFT,
                                          [WAIT_LAPSED] = EVT_WAITLIST_OFFER_LAPSED,
                                          [WAIT_FULFILLED] = EVT_WAITLIST_FULFILLED};
        if (e->status >= WAIT_LEFT) {
            w.reason = e->end_reason;
            ev[n].type = ends[e->status];
            ev[n++].u.waitlist = w;
        }
    }
    ts_status st = cmd__snapshot_encode(ev, n, out);
    free(ev);
    return st;
}

static void *wait_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__wait_ops, data, len);
}

const cmd_aggregate_ops_t cmd__wait_ops = {
    .kind = CMD_AGG_WAIT,
    .name = "wait",
    .format_version = 2, /* 2: why an entry left (end_reason) */
    .state_new = wait_new,
    .state_free = wait_free,
    .apply = wait_apply,
    .encode = wait_encode,
    .decode = wait_decode,
};
