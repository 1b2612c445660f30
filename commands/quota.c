/*
 * The quota aggregate (RULE-HOLD-4): tix.quota.<event>.<bucket>.
 *
 * A user's holds and tickets of one event live on many shards (one per
 * section), so no shard can see them all. This aggregate can: a hold takes
 * quota here before the shard places it (QuotaTaken, with the hold's
 * expiry), a confirm keeps it (QuotaConfirmed), and a booking that ends
 * unsold gives it back (QuotaReturned). Held quota also lapses by itself at
 * its expiry, lazily, as the hold's seats do (RULE-HOLD-3): a crash between
 * QuotaTaken and HoldPlaced, or a lost QuotaReturned, costs the user at most
 * the length of one hold.
 *
 * A waitlist offer is a hold in the waiting user's name and takes quota the
 * same way (RULE-WL-1). A transfer moves a sold unit to the recipient
 * (RULE-TKT-3): the recipient takes quota for the new ticket, checked like
 * a hold's, and the old ticket's unit leaves its holder, so the cap always
 * counts the tickets a user holds, however they came.
 *
 * One aggregate serves a bucket of the event's users rather than one user:
 * a hold's quota take then joins the other users' takes of its bucket in one
 * group commit instead of costing an append of its own. Each decision reads
 * only its own user's bookings (commands.h has the layout).
 *
 * Every decision is keyed by booking id (or, for a moved ticket, ticket id)
 * and repeats are no-ops, so the API's compensation and the bookings saga
 * may both run, in any order, any number of times.
 */
#include "commands/commands_int.h"

#include <stdlib.h>
#include <string.h>

static int entry_in_use(const quota_entry_t *q, int64_t now)
{
    return q->status == QUOTA_CONFIRMED || (q->status == QUOTA_TAKEN && now < q->expires_at);
}

uint32_t quota_entry_units(const quota_entry_t *e)
{
    return e->quantity > e->out ? e->quantity - e->out : 0;
}

uint32_t quota_in_use(const cmd_quota_state_t *s, const char *user_id, int64_t now)
{
    int32_t u = user_id ? ts_map_get(&s->by_user, user_id) : -1;
    if (u < 0)
        return 0;
    const quota_user_t *q = &s->users[u];
    /* Before the first expiry every taken unit counts: the sums answer. */
    uint64_t n = q->confirmed + q->taken;
    if (now >= q->first_expiry) {
        n = 0;
        for (int32_t i = q->last; i >= 0; i = s->entries[i].prev_of_user)
            if (entry_in_use(&s->entries[i], now))
                n += quota_entry_units(&s->entries[i]);
    }
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

const quota_entry_t *quota_entry_find(const cmd_quota_state_t *s, const char *key)
{
    int32_t i = key ? ts_map_get(&s->by_key, key) : -1;
    return i < 0 ? NULL : &s->entries[i];
}

static int has(const char *v)
{
    return v && v[0];
}

/* The key of the entry an event or command is about: a moved ticket's own
 * id (RULE-TKT-3), else its booking's. */
static const char *key_of(const evt_quota_t *q)
{
    return has(q->ticket_id) ? q->ticket_id : q->booking_id;
}

int quota_take_decide(const cmd_quota_state_t *s, const evt_quota_t *t, uint32_t max_per_user,
                      const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!has(t->booking_id) || !has(t->event_id))
        return cmd_reject(out, ctx, "validation_failed", "booking_id", "a booking is required");
    if (!has(t->user_id))
        return cmd_reject(out, ctx, "validation_failed", "user_id", "a user is required");
    if (t->quantity < 1)
        return cmd_reject(out, ctx, "validation_failed", "quantity", "at least one");
    const char *field = has(t->ticket_id) ? "ticket_id" : "booking_id";
    out->ref = key_of(t);
    const quota_entry_t *q = quota_entry_find(s, key_of(t));
    if (q && q->kind == QUOTA_GONE)
        return cmd_reject(out, ctx, "validation_failed", field, "the ticket has left its holder");
    /* A booking (or a ticket) is one user's: another user naming it is
     * refused, never counted against either. */
    if (q && strcmp(q->user_id, t->user_id) != 0)
        return cmd_reject(out, ctx, "validation_failed", field, "the %s is another user's",
                          has(t->ticket_id) ? "ticket" : "booking");
    /* An entry that already holds its quota: the same command again. */
    if (q && q->status != QUOTA_RETURNED)
        return 0;
    /* RULE-HOLD-4: the user's active holds plus confirmed tickets never
     * exceed max_per_user; a hold's quota counts only until its expiry. The
     * other users of the bucket do not count. A waitlist offer (RULE-WL-1)
     * and a ticket received by transfer (RULE-TKT-3) are held to it alike. */
    uint64_t used = quota_in_use(s, t->user_id, ctx->now);
    if (used + t->quantity > max_per_user) {
        cmd_reject(out, ctx, "limit_exceeded", "quantity",
                   "at most %u tickets per user for this event (%llu already held or bought)",
                   max_per_user, (unsigned long long)used);
        ((cmd_reject_t *)out->reject)->limit = max_per_user;
        return 0;
    }
    evt_event_t *e = cmd_emit(out, EVT_QUOTA_TAKEN);
    e->u.quota = *t;
    if (!has(t->ticket_id))
        e->u.quota.ticket_id = NULL;
    return 0;
}

int quota_confirm_decide(const cmd_quota_state_t *s, const evt_quota_t *c, const cmd_ctx_t *ctx,
                         cmd_result_t *out)
{
    if (!has(c->booking_id) || !has(c->event_id))
        return cmd_reject(out, ctx, "validation_failed", "booking_id", "a booking is required");
    const quota_entry_t *q = quota_entry_find(s, key_of(c));
    if (!q && !has(c->user_id))
        return cmd_reject(out, ctx, "validation_failed", "user_id", "a user is required");
    if (q && q->kind == QUOTA_GONE)
        return cmd_reject(out, ctx, "validation_failed", "ticket_id",
                          "the ticket has left its holder");
    out->ref = key_of(c);
    if (q && q->status == QUOTA_CONFIRMED)
        return 0;
    /* RULE-TKT-3: a ticket's unit once returned stays so: the ticket left
     * its holder for good (transferred on, revoked) or its transfer never
     * happened, and ticket ids are never used again. A late confirm (a
     * settle that read the ticket before it moved on) must not count it. */
    if (q && q->kind == QUOTA_TICKET && q->status == QUOTA_RETURNED)
        return 0;
    /* A sale counts even past the limit: the tickets exist (a re-acquired
     * expired hold, RULE-PAY-2, a hold that never took quota, a transfer
     * whose reservation lapsed before it was confirmed). */
    evt_event_t *e = cmd_emit(out, EVT_QUOTA_CONFIRMED);
    e->u.quota = *c;
    if (!has(c->ticket_id))
        e->u.quota.ticket_id = NULL;
    if (q) {
        e->u.quota.user_id = q->user_id;
        if (!e->u.quota.quantity)
            e->u.quota.quantity = q->quantity;
    }
    return 0;
}

int quota_return_decide(const cmd_quota_state_t *s, const char *event_id, const char *booking_id,
                        const cmd_ctx_t *ctx, cmd_result_t *out)
{
    (void)ctx;
    out->ref = booking_id;
    const quota_entry_t *q = quota_entry_find(s, booking_id);
    if (!q || q->kind != QUOTA_BOOKING || q->status == QUOTA_RETURNED)
        return 0; /* nothing in use: a repeated return is a no-op */
    evt_event_t *e = cmd_emit(out, EVT_QUOTA_RETURNED);
    e->u.quota.event_id = event_id ? event_id : s->event_id;
    e->u.quota.booking_id = q->booking_id;
    e->u.quota.user_id = q->user_id;
    e->u.quota.quantity = quota_entry_units(q); /* its tickets gone counted elsewhere */
    return 0;
}

int quota_ticket_return_decide(const cmd_quota_state_t *s, const evt_quota_t *t, int issued,
                               const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!has(t->event_id) || !has(t->booking_id))
        return cmd_reject(out, ctx, "validation_failed", "booking_id", "a booking is required");
    if (!has(t->ticket_id))
        return cmd_reject(out, ctx, "validation_failed", "ticket_id", "a ticket is required");
    out->ref = t->ticket_id;
    const quota_entry_t *q = quota_entry_find(s, t->ticket_id);
    const quota_entry_t *b = NULL;
    if (q) {
        /* A ticket received by transfer: its own entry goes back. Gone
         * already (this return again), or returned: nothing. */
        if (q->kind != QUOTA_TICKET || q->status == QUOTA_RETURNED)
            return 0;
    } else {
        /* A ticket received before transfers moved quota: nothing counts
         * it, and its booking's units are not its holder's. */
        if (!issued)
            return 0;
        /* RULE-TKT-3: a ticket its booking issued leaves the booking's user:
         * one unit of the booking's entry, while the entry holds any (a
         * booking whose quota went back holds none; a taken one, not yet
         * confirmed, keeps the ticket gone when it is). */
        b = quota_entry_find(s, t->booking_id);
        if (!b || b->kind != QUOTA_BOOKING || b->status == QUOTA_RETURNED || b->out >= b->quantity)
            return 0;
    }
    evt_event_t *e = cmd_emit(out, EVT_QUOTA_RETURNED);
    e->u.quota.event_id = t->event_id;
    e->u.quota.booking_id = q ? q->booking_id : b->booking_id;
    e->u.quota.ticket_id = t->ticket_id;
    e->u.quota.user_id = q ? q->user_id : b->user_id;
    e->u.quota.quantity = 1;
    return 0;
}

/* ---- state ---- */

static void *quota_new(void)
{
    cmd_quota_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    ts_arena_init(&s->arena, 4096);
    ts_map_init(&s->by_key);
    ts_map_init(&s->by_user);
    return s;
}

static void quota_free(void *p)
{
    cmd_quota_state_t *s = p;
    if (!s)
        return;
    free(s->entries);
    free(s->users);
    ts_map_deinit(&s->by_key);
    ts_map_deinit(&s->by_user);
    ts_arena_deinit(&s->arena);
    free(s);
}

static void *grow(void *items, uint32_t n, uint32_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    *cap = *cap ? 2 * *cap : 8;
    items = realloc(items, *cap * size);
    if (!items)
        abort();
    return items;
}

static int32_t user_add(cmd_quota_state_t *s, const char *user_id)
{
    int32_t u = ts_map_get(&s->by_user, user_id);
    if (u >= 0)
        return u;
    s->users = grow(s->users, s->n_users, &s->cap_users, sizeof(*s->users));
    u = (int32_t)s->n_users++;
    quota_user_t *q = &s->users[u];
    memset(q, 0, sizeof(*q));
    q->user_id = ts_arena_strdup(&s->arena, user_id);
    q->last = -1;
    q->first_expiry = INT64_MAX;
    ts_map_put(&s->by_user, q->user_id, u);
    return u;
}

/* A new entry of kind for q (status returned, linked as its user's
 * latest); the caller knows its key is not taken. */
static quota_entry_t *entry_add(cmd_quota_state_t *s, const evt_quota_t *q, quota_kind_t kind,
                                const char *user_id)
{
    s->entries = grow(s->entries, s->n_entries, &s->cap_entries, sizeof(*s->entries));
    int32_t n = (int32_t)s->n_entries++;
    quota_entry_t *e = &s->entries[n];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->booking_id = ts_arena_strdup(&s->arena, q->booking_id);
    e->ticket_id = kind == QUOTA_BOOKING ? NULL : ts_arena_strdup(&s->arena, q->ticket_id);
    e->key = kind == QUOTA_BOOKING ? e->booking_id : e->ticket_id;
    e->user = user_add(s, user_id);
    quota_user_t *u = &s->users[e->user];
    e->user_id = u->user_id;
    e->prev_of_user = u->last;
    u->last = n;
    e->status = QUOTA_RETURNED;
    ts_map_put(&s->by_key, e->key, n);
    return e;
}

/* Adds (sign 1) or removes (-1) e's units to its user's sums. */
static void sums_add(cmd_quota_state_t *s, const quota_entry_t *e, int sign)
{
    quota_user_t *u = &s->users[e->user];
    uint64_t units = quota_entry_units(e);
    uint64_t *sum = e->status == QUOTA_TAKEN       ? &u->taken
                    : e->status == QUOTA_CONFIRMED ? &u->confirmed
                                                   : NULL;
    if (sum)
        *sum = sign > 0 ? *sum + units : *sum - units;
}

/* Moves e to status (with quantity and expiry), keeping its user's sums. */
static void entry_set(cmd_quota_state_t *s, quota_entry_t *e, quota_status_t status,
                      uint32_t quantity, int64_t expires_at)
{
    quota_user_t *u = &s->users[e->user];
    int was_taken = e->status == QUOTA_TAKEN;
    sums_add(s, e, -1);
    e->status = status;
    e->quantity = quantity;
    e->expires_at = expires_at;
    sums_add(s, e, 1);
    if (was_taken) {
        /* A taken entry left (or changed): the earliest expiry is found
         * again among the user's entries. */
        u->first_expiry = INT64_MAX;
        for (int32_t i = u->last; i >= 0; i = s->entries[i].prev_of_user)
            if (s->entries[i].status == QUOTA_TAKEN && s->entries[i].expires_at < u->first_expiry)
                u->first_expiry = s->entries[i].expires_at;
    } else if (status == QUOTA_TAKEN && expires_at < u->first_expiry) {
        u->first_expiry = expires_at;
    }
}

/* RULE-TKT-3: a ticket its booking issued left the booking's user: one unit
 * less on the booking's entry, and the ticket recorded as gone (so that the
 * same return again finds it). Nothing when the booking is unknown. */
static void ticket_gone(cmd_quota_state_t *s, const evt_quota_t *q)
{
    int32_t bi = ts_map_get(&s->by_key, q->booking_id);
    if (bi < 0 || s->entries[bi].kind != QUOTA_BOOKING)
        return;
    quota_entry_t *b = &s->entries[bi];
    sums_add(s, b, -1);
    b->out++;
    sums_add(s, b, 1);
    /* entry_add may move the entries: b is not used after it. */
    entry_add(s, q, QUOTA_GONE, b->user_id)->quantity = 1;
}

static void quota_apply(void *p, const evt_event_t *ev)
{
    cmd_quota_state_t *s = p;
    const evt_quota_t *q = &ev->u.quota;
    if (ev->type != EVT_QUOTA_TAKEN && ev->type != EVT_QUOTA_CONFIRMED &&
        ev->type != EVT_QUOTA_RETURNED)
        return;
    if (!q->booking_id)
        return;
    if (!s->exists && q->event_id) {
        s->exists = 1;
        s->event_id = ts_arena_strdup(&s->arena, q->event_id);
    }
    int32_t i = ts_map_get(&s->by_key, key_of(q));
    if (ev->type == EVT_QUOTA_RETURNED) {
        if (i >= 0 && s->entries[i].kind != QUOTA_GONE)
            entry_set(s, &s->entries[i], QUOTA_RETURNED, s->entries[i].quantity,
                      s->entries[i].expires_at);
        else if (i < 0 && has(q->ticket_id))
            ticket_gone(s, q);
        return;
    }
    /* Without its user a new entry cannot be counted for anyone: such
     * events predate Quota.user_id and are not in any production log. */
    if (i < 0 && !q->user_id)
        return;
    quota_entry_t *e =
        i >= 0 ? &s->entries[i]
               : entry_add(s, q, has(q->ticket_id) ? QUOTA_TICKET : QUOTA_BOOKING, q->user_id);
    if (e->kind == QUOTA_GONE)
        return; /* a ticket gone takes no quota again */
    if (ev->type == EVT_QUOTA_TAKEN)
        entry_set(s, e, QUOTA_TAKEN, q->quantity, q->expires_at);
    else
        /* Sold quota never lapses; expiry 0 keeps snapshots canonical. */
        entry_set(s, e, QUOTA_CONFIRMED, q->quantity ? q->quantity : e->quantity, 0);
}

/* The snapshot: per entry, in the order first seen (which rebuilds the
 * users' lists as they were), the events that leave it as it is: a
 * booking's or a ticket's status (taken or confirmed, then returned when it
 * is), a ticket gone as its return, which takes its unit off its booking
 * again (a booking is always seen before its tickets). */
static ts_status quota_encode(const void *p, ts_buf_t *out)
{
    const cmd_quota_state_t *s = p;
    if (!s->exists)
        return TS_OK;
    evt_event_t *ev = calloc(2 * s->n_entries + 1, sizeof(*ev));
    if (!ev)
        abort();
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_entries; i++) {
        const quota_entry_t *q = &s->entries[i];
        evt_quota_t body = {.event_id = s->event_id,
                            .booking_id = q->booking_id,
                            .user_id = q->user_id,
                            .quantity = q->quantity,
                            .expires_at = q->expires_at,
                            .ticket_id = q->ticket_id};
        if (q->kind != QUOTA_GONE) {
            ev[n].type = q->status == QUOTA_CONFIRMED ? EVT_QUOTA_CONFIRMED : EVT_QUOTA_TAKEN;
            ev[n++].u.quota = body;
        }
        if (q->status == QUOTA_RETURNED) {
            ev[n].type = EVT_QUOTA_RETURNED;
            ev[n++].u.quota = body;
        }
    }
    ts_status st = cmd__snapshot_encode(ev, n, out);
    free(ev);
    return st;
}

static void *quota_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__quota_ops, data, len);
}

const cmd_aggregate_ops_t cmd__quota_ops = {
    .kind = CMD_AGG_QUOTA,
    .name = "quota",
    .format_version = 4, /* 4: tickets moved by transfers (RULE-TKT-3) */
    .state_new = quota_new,
    .state_free = quota_free,
    .apply = quota_apply,
    .encode = quota_encode,
    .decode = quota_decode,
};
