/*
 * saga_waitlist (RULE-WL-1, sagas.h), on the commits of inventory shards, in
 * stream order.
 *
 * Seats freed on a shard (HoldReleased, HoldExpired, BookingCancelled; a
 * failed payment frees its seats through its HoldReleased) go to the head
 * of the waitlist of the shard's tier: a hold in the head's name on the
 * freed seats still free (seated: at most the entry's quantity; standing:
 * the entry's quantity when that many units are free), for offer_minutes,
 * then WaitlistOffered on the list; the next head gets what is left. An
 * offer booking confirmed fulfils its entry; expired or released, it lapses
 * and its seats go to the next head by the same rule. Seats freed while
 * nobody waits stay free. Event cancellation frees nothing for the lists.
 *
 * An offer is a hold like any other, made in three steps as the API makes
 * one (api/holds_flow.c): a blocked user gets none (RULE-AUTH-2); the
 * user's quota is taken for it (QuotaTaken, RULE-HOLD-4, lasting the offer
 * plus a margin); then the hold. A head whose user is blocked, or whom the
 * offer would take past max_per_user, is passed over (WaitlistLeft with the
 * reason, wait_pass_decide) and the seats go to the next head. A hold the
 * shard refuses gives its quota back at once; the offer's booking then
 * keeps its quota in line like any booking (saga_bookings: confirmed when
 * paid, returned when it lapses or is released).
 *
 * Redelivery. The hold's command id and its booking id are derived from
 * the commit and the entry, so a commit handled twice takes no quota twice
 * (the take of a booking that holds its quota is a no-op), finds the
 * booking it placed the first time (RULE-HOLD-5) and records the same
 * offer, which the list ignores once recorded; lapses, fulfilments and
 * passes of recorded ends are no-ops too. A crash between the quota and
 * the hold costs the user that quota until it lapses. A hold placed for an
 * entry that left meanwhile is released again, which frees its seats (and,
 * through saga_bookings, its quota) for the next head.
 *
 * The shard and the list are read (eng_read) as they are now, which may be
 * ahead of the commit in hand: every offer is decided by the shard's own
 * hold decision, so a stale view costs a rejected hold, never an oversell.
 */
#include "sagas/sagas.h"

#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Offers made for one commit, at most (a bound, not a business rule). */
#define WL_MAX_OFFERS 64

#define WL_DEFAULT_OFFER_MINUTES 15

/* An offer's quota outlives its hold by this much, so that it never lapses
 * before the seats it stands for (the hold is decided a moment after the
 * quota); saga_bookings returns it when the offer ends (as
 * API_QUOTA_MARGIN_MS does for a hold). */
#define WL_QUOTA_MARGIN_MS 5000

typedef struct {
    eng_t *e;
    uint32_t offer_minutes;
    ts_arena_t scratch; /* one commit's: reset for each */
    /* The tier of each shard seen (InventoryOpened never changes). */
    ts_map_t tiers; /* shard subject → index into tier_of */
    const char **tier_of;
    uint32_t n_tiers, cap_tiers;
    ts_arena_t arena; /* keys and tiers */
} waitlist_t;

static void waitlist_free(void *arg)
{
    waitlist_t *w = arg;
    if (!w)
        return;
    ts_map_deinit(&w->tiers);
    free(w->tier_of);
    ts_arena_deinit(&w->arena);
    ts_arena_deinit(&w->scratch);
    free(w);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- reading the shard ---- */

typedef struct {
    ts_arena_t *a;
    int64_t now;
    const char *const *freed; /* booking ids whose seats were freed */
    uint32_t n_freed;
    /* out */
    int opened;
    const char *tier;
    int seated;
    const char **pool; /* seated: the freed seats that are free now, in order */
    uint32_t n_pool;
    int64_t available; /* standing: units free now */
} shard_view_t;

/* A booking that holds its seats at now: confirmed, or held and not past
 * its expiry (RULE-HOLD-1, RULE-HOLD-3, as inventory.c decides). */
static int holds_seats(const inv_booking_t *b, int64_t now)
{
    return b->status == INV_CONFIRMED || (b->status == INV_HELD && now < b->hold.expires_at);
}

static void read_shard(const void *state, void *arg)
{
    const inv_state_t *s = state;
    shard_view_t *v = arg;
    v->opened = s->opened;
    if (!s->opened)
        return;
    v->tier = ts_arena_strdup(v->a, s->info.tier_key);
    v->seated = s->info.section.kind == EVT_SEATED;
    if (!v->seated) {
        int64_t taken = 0;
        for (uint32_t i = 0; i < s->n_bookings; i++)
            if (holds_seats(&s->bookings[i], v->now))
                taken += s->bookings[i].hold.quantity;
        v->available = (int64_t)s->info.section.capacity - taken;
        return;
    }
    uint32_t cap = 0;
    for (uint32_t k = 0; k < v->n_freed; k++) {
        const inv_booking_t *b = inv_booking_find(s, v->freed[k]);
        cap += b ? b->hold.n_seats : 0;
    }
    v->pool = ts_arena_alloc(v->a, (cap + 1) * sizeof(char *));
    for (uint32_t k = 0; k < v->n_freed; k++) {
        const inv_booking_t *b = inv_booking_find(s, v->freed[k]);
        for (uint32_t i = 0; b && i < b->hold.n_seats; i++) {
            uint32_t slot = b->seat_index ? b->seat_index[i] : UINT32_MAX;
            if (slot == UINT32_MAX || slot >= s->n_seat_slots)
                continue;
            int32_t owner = s->seat_owner[slot];
            if (owner >= 0 && holds_seats(&s->bookings[owner], v->now))
                continue; /* taken again already */
            v->pool[v->n_pool++] = ts_arena_strdup(v->a, b->hold.seats[i]);
        }
    }
}

typedef struct {
    ts_arena_t *a;
    const char *booking_id;
    int found;
    int64_t expires_at;
} booking_view_t;

static void read_booking(const void *state, void *arg)
{
    booking_view_t *v = arg;
    const inv_booking_t *b = inv_booking_find(state, v->booking_id);
    v->found = b != NULL;
    if (b)
        v->expires_at = b->hold.expires_at;
}

/* ---- reading the list ---- */

/* RULE-HOLD-4: the event's max_per_user (frozen at publish). */
typedef struct {
    int found;
    uint32_t max_per_user;
} policy_view_t;

static void read_policy(const void *state, void *arg)
{
    const cmd_event_state_t *s = state;
    policy_view_t *v = arg;
    v->found = s->exists;
    v->max_per_user = s->ev.policy.max_per_user;
}

typedef struct {
    ts_arena_t *a;
    /* out: the entries holding an offer, and the head */
    uint32_t n_offered;
    const char **offer_entry, **offer_booking;
    int has_head;
    const char *head_entry, *head_user;
    uint32_t head_quantity;
} list_view_t;

static void read_list(const void *state, void *arg)
{
    const wait_state_t *s = state;
    list_view_t *v = arg;
    v->n_offered = 0;
    v->offer_entry = ts_arena_alloc(v->a, (s->n_entries + 1) * sizeof(char *));
    v->offer_booking = ts_arena_alloc(v->a, (s->n_entries + 1) * sizeof(char *));
    for (uint32_t i = s->head; i < s->n_entries; i++) {
        const wait_entry_t *e = &s->entries[i];
        if (e->status != WAIT_OFFERED || !e->booking_id)
            continue;
        v->offer_entry[v->n_offered] = ts_arena_strdup(v->a, e->entry_id);
        v->offer_booking[v->n_offered++] = ts_arena_strdup(v->a, e->booking_id);
    }
    const wait_entry_t *h = wait_head(s);
    v->has_head = h != NULL;
    if (h) {
        v->head_entry = ts_arena_strdup(v->a, h->entry_id);
        v->head_user = ts_arena_strdup(v->a, h->user_id);
        v->head_quantity = h->quantity;
    }
}

/* The entry holding booking as its offer, or NULL. */
static const char *offer_entry_of(const list_view_t *v, const char *booking)
{
    for (uint32_t i = 0; i < v->n_offered; i++)
        if (strcmp(v->offer_booking[i], booking) == 0)
            return v->offer_entry[i];
    return NULL;
}

/* ---- one commit ---- */

typedef struct {
    waitlist_t *w;
    const evt_commit_t *commit;
    uint64_t seq;
    ts_arena_t *arena;
    const char *event_id, *section, *tier;
    const char *shard, *list; /* subjects */
    uint32_t max_per_user;    /* RULE-HOLD-4: the event's */
} job_t;

static ts_status run(job_t *j, eng_cmd_t *cmd, eng_outcome_t *o)
{
    cmd->actor = "system";
    cmd->correlation_id = j->commit->correlation_id;
    if (!cmd->command_id)
        cmd->command_id = eng_new_id(j->arena, "saga-wl-");
    return eng_execute(j->w->e, cmd, j->arena, o);
}

/* Records the end of an offer on the list (no-op unless it is open). */
static ts_status offer_ends(job_t *j, eng_cmd_type_t type, const char *entry, const char *booking)
{
    eng_cmd_t cmd = {.type = type, .subject = j->list};
    cmd.u.wait = (wait_cmd_t){
        .event_id = j->event_id, .tier = j->tier, .entry_id = entry, .booking_id = booking};
    eng_outcome_t o;
    return run(j, &cmd, &o);
}

/* Takes the seats offered out of the pool. */
static void pool_remove(shard_view_t *v, const char *const *seats, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < v->n_pool; i++) {
        int gone = 0;
        for (uint32_t x = 0; x < n && !gone; x++)
            gone = strcmp(v->pool[i], seats[x]) == 0;
        if (!gone)
            v->pool[k++] = v->pool[i];
    }
    v->n_pool = k;
}

/* Records the hold booking (open until expires_at) as entry's offer. When
 * the list refuses it (the entry left before any offer), nobody will be
 * told of the hold: it is released, and its seats pass on when its
 * HoldReleased comes by. */
static ts_status offer_record(job_t *j, const char *entry, const char *booking, int64_t expires_at)
{
    eng_cmd_t offer = {.type = ENG_WAIT_OFFER, .subject = j->list};
    offer.u.wait = (wait_cmd_t){.event_id = j->event_id,
                                .tier = j->tier,
                                .entry_id = entry,
                                .booking_id = booking,
                                .expires_at = expires_at};
    eng_outcome_t o;
    ts_status rc = run(j, &offer, &o);
    if (rc != TS_OK || !o.reject)
        return rc;
    eng_cmd_t rel = {.type = ENG_INV_RELEASE, .subject = j->shard, .actor_is_admin = 1};
    rel.u.booking_id = booking;
    rel.command_id = ts_arena_printf(j->arena, "wl-void-%s", booking);
    return run(j, &rel, &o);
}

/* RULE-WL-1: no offer can be made to the head h's user (WAIT_PASS_*): the
 * entry leaves the list, and the next head is offered the seats. */
static ts_status pass_head(job_t *j, const list_view_t *h, const char *reason)
{
    eng_cmd_t cmd = {.type = ENG_WAIT_PASS, .subject = j->list};
    cmd.u.wait = (wait_cmd_t){
        .event_id = j->event_id, .tier = j->tier, .entry_id = h->head_entry, .reason = reason};
    cmd.command_id = ts_arena_printf(j->arena, "wl-pass-%s", h->head_entry);
    eng_outcome_t o;
    fprintf(stderr, "saga waitlist: %s passed over (%s)\n", h->head_entry, reason);
    return run(j, &cmd, &o);
}

/* The booking id of the offer to entry for the commit in hand: the same
 * on every delivery of the commit, so its quota is taken once. */
static const char *offer_booking_id(job_t *j, const char *entry)
{
    const char *seed = ts_arena_printf(j->arena, "wl-offer-%" PRIu64 "-%s", j->seq, entry);
    uint8_t h[SHA256_DIGEST_LENGTH];
    char hex[17];
    SHA256((const unsigned char *)seed, strlen(seed), h);
    ts_hex(h, 8, hex);
    return ts_arena_printf(j->arena, "bk-%s-%s-%s", j->event_id, j->section, hex);
}

/* RULE-HOLD-4: the quota of the offer booking (take, or return when the
 * hold did not come). */
static ts_status offer_quota(job_t *j, eng_cmd_type_t type, const list_view_t *h,
                             const char *booking, uint32_t quantity, eng_outcome_t *o)
{
    eng_cmd_t q = {.type = type};
    q.subject = eng_quota_subject(j->arena, j->event_id, h->head_user);
    q.u.quota.q.event_id = j->event_id;
    q.u.quota.q.booking_id = booking;
    q.u.quota.q.user_id = h->head_user;
    q.u.quota.q.quantity = quantity;
    q.u.quota.q.expires_at = now_ms() + (int64_t)j->w->offer_minutes * 60000 + WL_QUOTA_MARGIN_MS;
    q.u.quota.max_per_user = j->max_per_user;
    q.command_id = ts_arena_printf(j->arena, "wl-%s-%s",
                                   type == ENG_QUOTA_TAKE ? "quota" : "unquota", booking);
    return run(j, &q, o);
}

/* One offer to the head h: the user may hold (RULE-AUTH-2), its quota
 * (RULE-HOLD-4), the hold, then WaitlistOffered; or the head is passed
 * over. *stop is set when no further offer can be made from what is
 * left. */
static ts_status offer_one(job_t *j, shard_view_t *v, const list_view_t *h, int *stop)
{
    ts_arena_t *a = j->arena;
    /* RULE-AUTH-2: a blocked user cannot hold, so gets no offer. */
    eng_user_t user;
    ts_status rc = eng_user_get(j->w->e, h->head_user, a, &user);
    if (rc == TS_OK && user.blocked)
        return pass_head(j, h, WAIT_PASS_BLOCKED);
    if (rc != TS_OK && rc != TS_ERR_NOT_FOUND)
        return rc;
    eng_cmd_t hold = {.type = ENG_INV_HOLD, .subject = j->shard};
    inv_hold_cmd_t *c = &hold.u.hold;
    c->event_id = j->event_id;
    c->section = j->section;
    c->user_id = h->head_user;
    c->offer_entry = h->head_entry;
    c->hold_minutes = j->w->offer_minutes;
    if (v->seated) {
        c->n_seats = h->head_quantity < v->n_pool ? h->head_quantity : v->n_pool;
        c->seats = ts_arena_alloc(a, (c->n_seats + 1) * sizeof(char *));
        memcpy(c->seats, v->pool, c->n_seats * sizeof(char *));
    } else {
        /* Standing room: FIFO is strict; a head that does not fit waits
         * for more units rather than be passed over. */
        if ((int64_t)h->head_quantity > v->available) {
            *stop = 1;
            return TS_OK;
        }
        c->tier = j->tier;
        c->quantity = h->head_quantity;
    }
    /* Derived from the commit and the entry: a redelivered commit finds the
     * quota it took and the hold it placed (RULE-HOLD-5). */
    hold.command_id = ts_arena_printf(a, "wl-offer-%" PRIu64 "-%s", j->seq, h->head_entry);
    hold.new_id = offer_booking_id(j, h->head_entry);
    uint32_t quantity = v->seated ? c->n_seats : c->quantity;

    /* RULE-HOLD-4: the quota first, as for any hold; an offer that would
     * take the user past max_per_user is not made. */
    eng_outcome_t o;
    if ((rc = offer_quota(j, ENG_QUOTA_TAKE, h, hold.new_id, quantity, &o)) != TS_OK)
        return rc;
    if (o.reject && strcmp(o.reject->code, "limit_exceeded") == 0)
        return pass_head(j, h, WAIT_PASS_LIMIT_EXCEEDED);
    if (o.reject) {
        fprintf(stderr, "saga waitlist: the quota of %s refused: %s (%s)\n", hold.new_id,
                o.reject->code, o.reject->detail ? o.reject->detail : "");
        *stop = 1;
        return TS_OK;
    }

    if ((rc = run(j, &hold, &o)) != TS_OK)
        return rc;
    /* Refused, or the hold was placed before under another booking id: the
     * quota this booking id took goes back. */
    if (o.reject || (o.ref && strcmp(o.ref, hold.new_id) != 0)) {
        eng_outcome_t qo;
        if ((rc = offer_quota(j, ENG_QUOTA_RETURN, h, hold.new_id, quantity, &qo)) != TS_OK)
            return rc;
    }
    if (o.reject) {
        if (v->seated && strcmp(o.reject->code, "seat_unavailable") == 0 && o.reject->n_seats) {
            pool_remove(v, o.reject->seats, o.reject->n_seats); /* try the others */
            return TS_OK;
        }
        *stop = 1; /* sold out, not on sale, cancelled: nothing to offer */
        return TS_OK;
    }
    booking_view_t b = {.a = a, .booking_id = o.ref};
    for (uint32_t i = 0; i < o.n_events; i++)
        if (o.events[i].type == EVT_HOLD_PLACED) {
            b.found = 1;
            b.expires_at = o.events[i].u.hold_placed.expires_at;
        }
    if (!b.found && (rc = eng_read(j->w->e, j->shard, read_booking, &b)) != TS_OK)
        return rc;
    if (!b.found)
        return TS_ERR_LOG; /* the hold answered with a booking the shard lacks */
    if (v->seated)
        pool_remove(v, c->seats, c->n_seats);
    else
        v->available -= h->head_quantity;
    return offer_record(j, h->head_entry, o.ref, b.expires_at);
}

/* The tier of the shard, from the cache or the shard itself. NULL when the
 * shard is not open (nothing to do). */
static ts_status shard_tier(job_t *j, const char **tier)
{
    waitlist_t *w = j->w;
    int32_t i = ts_map_get(&w->tiers, j->shard);
    if (i >= 0) {
        *tier = w->tier_of[i];
        return TS_OK;
    }
    shard_view_t v = {.a = j->arena, .now = now_ms()};
    ts_status rc = eng_read(w->e, j->shard, read_shard, &v);
    if (rc != TS_OK || !v.opened) {
        *tier = NULL;
        return rc;
    }
    if (w->n_tiers == w->cap_tiers) {
        w->cap_tiers = w->cap_tiers ? 2 * w->cap_tiers : 64;
        w->tier_of = realloc(w->tier_of, w->cap_tiers * sizeof(char *));
        if (!w->tier_of)
            abort();
    }
    w->tier_of[w->n_tiers] = ts_arena_strdup(&w->arena, v.tier);
    ts_map_put(&w->tiers, ts_arena_strdup(&w->arena, j->shard), (int32_t)w->n_tiers);
    *tier = w->tier_of[w->n_tiers++];
    return TS_OK;
}

/* The booking an event of interest is about, or NULL. */
static const char *event_booking(const evt_event_t *e)
{
    switch (e->type) {
    case EVT_HOLD_RELEASED:
    case EVT_HOLD_EXPIRED:
        return e->u.hold_ended.booking_id;
    case EVT_BOOKING_CANCELLED:
        return e->u.booking_cancelled.booking_id;
    case EVT_BOOKING_CONFIRMED:
        return e->u.booking_confirmed.booking_id;
    case EVT_HOLD_PLACED:
        return e->u.hold_placed.booking_id;
    default:
        return NULL;
    }
}

/* "tix.inv.<event>.<section>" → event, section; -1 when not a shard. */
static int parse_shard(ts_arena_t *a, const char *subject, const char **event, const char **section)
{
    const char *p = subject + strlen("tix.inv.");
    const char *dot = strchr(p, '.');
    if (strncmp(subject, "tix.inv.", 8) != 0 || !dot || dot == p || !dot[1] || strchr(dot + 1, '.'))
        return -1;
    *event = ts_arena_strndup(a, p, (size_t)(dot - p));
    *section = ts_arena_strdup(a, dot + 1);
    return 0;
}

static ts_status on_commit(saga_t *saga, const evt_commit_t *c, uint64_t seq, void *arg)
{
    (void)saga;
    waitlist_t *w = arg;
    ts_arena_t *a = &w->scratch;
    ts_arena_reset(a);
    job_t j = {.w = w, .commit = c, .seq = seq, .arena = a};
    const char **freed = ts_arena_alloc(a, (c->n_events + 1) * sizeof(char *));
    const char **ending = ts_arena_alloc(a, (c->n_events + 1) * sizeof(char *));
    const char **confirmed = ts_arena_alloc(a, (c->n_events + 1) * sizeof(char *));
    const evt_hold_placed_t **offered = ts_arena_alloc(a, (c->n_events + 1) * sizeof(void *));
    uint32_t n_freed = 0, n_ending = 0, n_confirmed = 0, n_offered = 0;
    for (uint32_t i = 0; i < c->n_events; i++) {
        const evt_event_t *e = &c->events[i];
        if (!event_booking(e))
            continue; /* not about a booking, or lacking its id */
        switch (e->type) {
        case EVT_HOLD_RELEASED:
        case EVT_HOLD_EXPIRED:
            /* An offer's hold ending ends the offer; an event cancelled frees
             * nothing anyone could be offered. */
            ending[n_ending++] = e->u.hold_ended.booking_id;
            if (!e->u.hold_ended.reason || strcmp(e->u.hold_ended.reason, "event_cancelled") != 0)
                freed[n_freed++] = e->u.hold_ended.booking_id;
            break;
        case EVT_BOOKING_CANCELLED:
            if (e->u.booking_cancelled.reason &&
                strcmp(e->u.booking_cancelled.reason, "event_cancelled") == 0)
                break;
            freed[n_freed++] = e->u.booking_cancelled.booking_id;
            break;
        case EVT_BOOKING_CONFIRMED:
            confirmed[n_confirmed++] = e->u.booking_confirmed.booking_id;
            break;
        case EVT_HOLD_PLACED:
            /* An offer's hold: recorded on the list right after it was
             * placed, unless that step was cut short (a crash); then it is
             * recorded now. */
            if (e->u.hold_placed.offer_entry && e->u.hold_placed.offer_entry[0])
                offered[n_offered++] = &e->u.hold_placed;
            break;
        default:
            break;
        }
    }
    if (n_ending + n_freed + n_confirmed + n_offered == 0 ||
        parse_shard(a, c->subject, &j.event_id, &j.section) != 0)
        return TS_OK; /* the common case: holds placed */
    j.shard = c->subject;
    ts_status rc = shard_tier(&j, &j.tier);
    if (rc != TS_OK || !j.tier)
        return rc;
    j.list = ts_arena_printf(a, "tix.wait.%s.%s", j.event_id, j.tier);
    for (uint32_t i = 0; i < n_offered && rc == TS_OK; i++)
        rc = offer_record(&j, offered[i]->offer_entry, offered[i]->booking_id,
                          offered[i]->expires_at);
    list_view_t lv = {.a = a};
    if (rc != TS_OK || (rc = eng_read(j.w->e, j.list, read_list, &lv)) != TS_OK)
        return rc;
    /* Offers that ended: fulfilled, or lapsed (their seats pass on below). */
    for (uint32_t i = 0; i < n_confirmed && rc == TS_OK; i++) {
        const char *entry = offer_entry_of(&lv, confirmed[i]);
        if (entry)
            rc = offer_ends(&j, ENG_WAIT_FULFIL, entry, confirmed[i]);
    }
    for (uint32_t i = 0; i < n_ending && rc == TS_OK; i++) {
        const char *entry = offer_entry_of(&lv, ending[i]);
        if (entry)
            rc = offer_ends(&j, ENG_WAIT_LAPSE, entry, ending[i]);
    }
    if (rc != TS_OK || n_freed == 0 || !lv.has_head)
        return rc; /* seats freed while nobody waits stay free */
    shard_view_t v = {.a = a, .now = now_ms(), .freed = freed, .n_freed = n_freed};
    if ((rc = eng_read(j.w->e, j.shard, read_shard, &v)) != TS_OK || !v.opened)
        return rc;
    policy_view_t pol = {0};
    rc = eng_read(j.w->e, ts_arena_printf(a, "tix.event.%s", j.event_id), read_policy, &pol);
    if (rc != TS_OK || !pol.found)
        return rc;
    j.max_per_user = pol.max_per_user;
    int stop = 0;
    for (int k = 0; k < WL_MAX_OFFERS && !stop && rc == TS_OK; k++) {
        if (v.seated && v.n_pool == 0)
            break;
        if (k > 0 && (rc = eng_read(j.w->e, j.list, read_list, &lv)) != TS_OK)
            break;
        if (!lv.has_head)
            break;
        rc = offer_one(&j, &v, &lv, &stop);
    }
    return rc;
}

ts_status saga_waitlist_start(const saga_waitlist_config_t *cfg, saga_t **out)
{
    if (!cfg || !cfg->engine || !cfg->nats_url)
        return TS_ERR_INVALID;
    waitlist_t *w = calloc(1, sizeof(*w));
    if (!w)
        return TS_ERR_NOMEM;
    w->e = cfg->engine;
    w->offer_minutes = cfg->offer_minutes ? cfg->offer_minutes : WL_DEFAULT_OFFER_MINUTES;
    ts_map_init(&w->tiers);
    ts_arena_init(&w->arena, 4096);
    ts_arena_init(&w->scratch, 16384);
    /* In order: an offer's lapse must pass its seats on after, never
     * before, the release that made the offer. From the end: the offers of
     * a list begin with the list. */
    saga_config_t sc = {.nats_url = cfg->nats_url,
                        .stream = cfg->stream,
                        .name = "saga_waitlist",
                        .filter = "tix.inv.>",
                        .handler = on_commit,
                        .arg = w,
                        .arg_free = waitlist_free,
                        .ordered = 1,
                        .from_end = 1};
    ts_status st = saga_start(&sc, out);
    if (st != TS_OK)
        waitlist_free(w);
    return st;
}
