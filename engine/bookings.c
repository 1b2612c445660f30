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
 * A transfer moves one sold unit (RULE-TKT-3): the recipient reserved quota
 * for the new ticket before it (api/handlers_tickets.c); settling the
 * transfer confirms it and takes the old ticket's unit off its holder. A
 * booking cancelled after some of its tickets were transferred gives back
 * its user's units and those of the recipients whose tickets it revoked.
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

/* A ticket a booking issued that reached someone else by transfer and was
 * then revoked with the booking (RULE-TKT-3, RULE-REF-1). */
typedef struct {
    const char *ticket_id, *holder_id;
} settle_ticket_t;

typedef struct {
    int found;
    inv_booking_status_t status;
    int64_t expires_at;
    const char *event_id, *user_id, *promo_code;
    uint32_t quantity;
    settle_ticket_t *revoked; /* received by transfer, cancelled with the booking */
    uint32_t n_revoked;
    ts_arena_t *arena;
    const char *booking_id;
} settle_copy_t;

/* The ends of the chains of transfers from b's tickets (a ticket's
 * successors, version > 1) that b's cancellation revoked: their holders
 * received them, and their quota follows them. Counts them, and copies
 * them into c->revoked when it is allocated. */
static uint32_t revoked_received(const inv_state_t *s, const inv_booking_t *b, settle_copy_t *c)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->n_tickets; i++)
        for (uint32_t ti = b->first_ticket + i; ti < s->n_tickets;
             ti = s->tickets[ti].replaced_by) {
            const inv_ticket_t *t = &s->tickets[ti];
            if (t->t.version <= 1 || t->status != INV_TICKET_CANCELLED || !t->t.holder_id)
                continue;
            if (c->revoked)
                c->revoked[n] =
                    (settle_ticket_t){.ticket_id = ts_arena_strdup(c->arena, t->t.ticket_id),
                                      .holder_id = ts_arena_strdup(c->arena, t->t.holder_id)};
            n++;
        }
    return n;
}

static void copy_booking(const void *state, void *arg)
{
    const inv_state_t *s = state;
    settle_copy_t *c = arg;
    const inv_booking_t *b = inv_booking_find(s, c->booking_id);
    if (!b)
        return;
    c->found = 1;
    c->status = b->status;
    c->expires_at = b->hold.expires_at;
    c->event_id = ts_arena_strdup(c->arena, b->hold.event_id);
    c->user_id = ts_arena_strdup(c->arena, b->hold.user_id);
    c->promo_code = ts_arena_strdup(c->arena, b->hold.promo_code);
    c->quantity = b->hold.quantity;
    uint32_t n = revoked_received(s, b, c);
    if (n) {
        c->revoked = ts_arena_alloc(c->arena, n * sizeof(*c->revoked));
        c->n_revoked = revoked_received(s, b, c);
    }
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

/* RULE-TKT-3 with RULE-HOLD-4: the unit of ticket_id (of booking_id) leaves
 * holder_id, in holder_id's bucket; issued: the booking issued the ticket
 * (version 1), so the unit comes off the booking's own quota. */
static ts_status ticket_return(eng_t *e, ts_arena_t *arena, const char *event_id,
                               const char *booking_id, const char *ticket_id, const char *holder_id,
                               int issued)
{
    eng_cmd_t q = {.type = ENG_QUOTA_RETURN};
    q.command_id = ts_arena_printf(arena, "settle-%s-gone", ticket_id);
    q.subject = eng_quota_subject(arena, event_id, holder_id);
    q.u.quota.q.event_id = event_id;
    q.u.quota.q.booking_id = booking_id;
    q.u.quota.q.ticket_id = ticket_id;
    q.u.quota.q.user_id = holder_id;
    q.u.quota.q.quantity = 1;
    q.u.quota.ticket_issued = issued;
    return run(e, &q, arena);
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
        if ((st = run(e, &p, &arena)) != TS_OK)
            goto done;
    }

    /* RULE-TKT-3: the booking's quota above was what its user still held;
     * the tickets it issued that others received by transfer, revoked with
     * it, give back their holders' units. */
    for (uint32_t i = 0; i < c.n_revoked && st == TS_OK; i++)
        st = ticket_return(e, &arena, c.event_id, booking_id, c.revoked[i].ticket_id,
                           c.revoked[i].holder_id, 0);
done:
    ts_arena_deinit(&arena);
    return st;
}

/* What a transfer of a ticket left on its shard. */
typedef struct {
    ts_arena_t *arena;
    const char *ticket_id;
    int transferred; /* the ticket was transferred (to the new one below) */
    const char *event_id, *booking_id;
    const char *old_holder;
    uint32_t old_version;
    const char *new_ticket, *new_holder;
    inv_ticket_status_t new_status;
} transfer_copy_t;

static void copy_transfer(const void *state, void *arg)
{
    const inv_state_t *s = state;
    transfer_copy_t *c = arg;
    const inv_ticket_t *t = inv_ticket_find(s, c->ticket_id);
    if (!t || t->status != INV_TICKET_TRANSFERRED || t->replaced_by >= s->n_tickets ||
        t->booking < 0 || (uint32_t)t->booking >= s->n_bookings || !t->t.holder_id)
        return;
    const inv_ticket_t *n = &s->tickets[t->replaced_by];
    const inv_booking_t *b = &s->bookings[t->booking];
    if (!n->t.holder_id || !b->hold.event_id)
        return;
    c->transferred = 1;
    c->event_id = ts_arena_strdup(c->arena, b->hold.event_id);
    c->booking_id = ts_arena_strdup(c->arena, b->hold.booking_id);
    c->old_holder = ts_arena_strdup(c->arena, t->t.holder_id);
    c->old_version = t->t.version;
    c->new_ticket = ts_arena_strdup(c->arena, n->t.ticket_id);
    c->new_holder = ts_arena_strdup(c->arena, n->t.holder_id);
    c->new_status = n->status;
}

ts_status eng_transfer_settle(eng_t *e, const char *shard_subject, const char *ticket_id)
{
    ts_arena_t arena;
    ts_arena_init(&arena, 2048);
    transfer_copy_t c = {.arena = &arena, .ticket_id = ticket_id};
    ts_status st = eng_read(e, shard_subject, copy_transfer, &c);
    if (st != TS_OK || !c.transferred)
        goto done;
    /* The booking's own quota first: confirmed before one of its units is
     * taken off it (a confirm settled late would count the unit again). */
    if ((st = eng_booking_settle(e, shard_subject, c.booking_id)) != TS_OK)
        goto done;
    /* The recipient keeps the unit reserved before the transfer, while the
     * new ticket is theirs; one transferred on or revoked since is settled
     * by its own transfer or by its booking. */
    if (c.new_status == INV_TICKET_VALID || c.new_status == INV_TICKET_USED) {
        eng_cmd_t q = {.type = ENG_QUOTA_CONFIRM};
        q.command_id = ts_arena_printf(&arena, "settle-%s-got", c.new_ticket);
        q.subject = eng_quota_subject(&arena, c.event_id, c.new_holder);
        q.u.quota.q.event_id = c.event_id;
        q.u.quota.q.booking_id = c.booking_id;
        q.u.quota.q.ticket_id = c.new_ticket;
        q.u.quota.q.user_id = c.new_holder;
        q.u.quota.q.quantity = 1;
        if ((st = run(e, &q, &arena)) != TS_OK)
            goto done;
    }
    /* The old ticket's unit leaves its holder. */
    st = ticket_return(e, &arena, c.event_id, c.booking_id, ticket_id, c.old_holder,
                       c.old_version <= 1);
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
