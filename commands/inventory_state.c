/*
 * The inventory shard's state: apply(). See inventory.c for the decisions
 * and inventory_snapshot.c for snapshots.
 *
 * Every event that changes the state is recorded as a fact (inv_fact_t), in
 * order; s->version is the number of facts. An event apply ignores (a
 * duplicate, a booking it does not know, a transition from the wrong status)
 * is no fact and leaves the state, version included, as it was.
 *
 * Seats: seat_owner[k] is the booking that last took seat k (placed, or
 * reacquired by RULE-PAY-2), reset to -1 when that booking lets it go.
 * ga_taken counts the standing units of bookings whose status holds them
 * (held, confirmed); a held booking past its expiry still counts until
 * HoldExpired is recorded (decide subtracts it: RULE-HOLD-3).
 */
#include "commands/commands_int.h"

#include <stdlib.h>
#include <string.h>

static void *inv_new(void)
{
    inv_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    ts_arena_init(&s->arena, 64 * 1024);
    ts_map_init(&s->by_booking);
    ts_map_init(&s->by_command);
    ts_map_init(&s->by_row);
    ts_map_init(&s->by_ticket);
    ts_map_init(&s->by_payment);
    return s;
}

static void inv_free(void *p)
{
    inv_state_t *s = p;
    if (!s)
        return;
    free(s->seat_owner);
    free(s->bookings);
    free(s->tickets);
    free(s->facts);
    free(s->payments);
    free(s->schedules);
    free(s->odd_holds);
    ts_map_deinit(&s->by_booking);
    ts_map_deinit(&s->by_command);
    ts_map_deinit(&s->by_row);
    ts_map_deinit(&s->by_ticket);
    ts_map_deinit(&s->by_payment);
    ts_arena_deinit(&s->arena);
    free(s);
}

/* Makes room for one more element of an array that grows by doubling. */
static void *grow(void *arr, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 16;
    arr = realloc(arr, (size_t)*cap * elem);
    if (!arr)
        abort();
    return arr;
}

static void fact(inv_state_t *s, evt_type_t type, uint32_t a, uint32_t b, uint32_t c)
{
    s->facts = grow(s->facts, s->n_facts, &s->cap_facts, sizeof(inv_fact_t));
    s->facts[s->n_facts++] = (inv_fact_t){.type = (uint32_t)type, .a = a, .b = b, .c = c};
    s->version = s->n_facts;
}

static const char *dup_opt(ts_arena_t *a, const char *str)
{
    return str ? ts_arena_strdup(a, str) : NULL;
}

static void apply_opened(inv_state_t *s, const evt_inventory_opened_t *o)
{
    ts_arena_t *a = &s->arena;
    if (s->opened)
        return;
    s->opened = 1;
    s->info = *o;
    s->info.event_id = ts_arena_strdup(a, o->event_id);
    s->info.tier_key = ts_arena_strdup(a, o->tier_key);
    s->info.refund =
        o->n_refund ? ts_arena_memdup(a, o->refund, o->n_refund * sizeof(evt_refund_step_t)) : NULL;
    evt_section_copy(a, &s->info.section, &o->section);
    const evt_section_t *sec = &s->info.section;
    s->row_offset = ts_arena_alloc(a, (sec->n_rows + 1) * sizeof(uint32_t));
    uint32_t n = 0;
    for (uint32_t r = 0; r < sec->n_rows; r++) {
        s->row_offset[r] = n;
        n += sec->rows[r].seats;
        ts_map_put(&s->by_row, sec->rows[r].label, (int32_t)r);
    }
    s->n_seat_slots = n;
    s->seat_owner = malloc((n ? n : 1) * sizeof(int32_t));
    if (!s->seat_owner)
        abort();
    for (uint32_t i = 0; i < n; i++)
        s->seat_owner[i] = -1;
    s->schedules = grow(s->schedules, s->n_schedules, &s->cap_schedules, sizeof(inv_schedule_t));
    s->schedules[s->n_schedules++] = (inv_schedule_t){o->starts_at, o->ends_at, o->sale_ends_at};
    fact(s, EVT_INVENTORY_OPENED, 0, 0, 0);
}

/* Seats and units of booking bi are taken by it again (RULE-PAY-2), or for
 * the first time. from_held: its units are still counted in ga_taken. */
static void take_seats(inv_state_t *s, int32_t bi, int from_held)
{
    inv_booking_t *b = &s->bookings[bi];
    for (uint32_t i = 0; i < b->hold.n_seats; i++)
        if (b->seat_index[i] != UINT32_MAX)
            s->seat_owner[b->seat_index[i]] = bi;
    if (s->info.section.kind == EVT_STANDING && !from_held)
        s->ga_taken += b->hold.quantity;
}

/* Booking bi lets its seats and units go. */
static void free_seats(inv_state_t *s, int32_t bi)
{
    inv_booking_t *b = &s->bookings[bi];
    for (uint32_t i = 0; i < b->hold.n_seats; i++)
        if (b->seat_index[i] != UINT32_MAX && s->seat_owner[b->seat_index[i]] == bi)
            s->seat_owner[b->seat_index[i]] = -1;
    if (s->info.section.kind == EVT_STANDING)
        s->ga_taken -= b->hold.quantity;
}

/* Booking bi leaves the held status: the expiry bookkeeping follows. */
static void unhold(inv_state_t *s, int32_t bi, inv_booking_status_t to)
{
    inv_booking_t *b = &s->bookings[bi];
    b->status = to;
    if (b->odd_hold) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < s->n_odd_holds; i++)
            if (s->odd_holds[i] != (uint32_t)bi)
                s->odd_holds[j++] = s->odd_holds[i];
        s->n_odd_holds = j;
    }
    while (s->expiry_head < s->n_bookings) {
        const inv_booking_t *h = &s->bookings[s->expiry_head];
        if (h->status == INV_HELD && !h->odd_hold)
            break;
        s->expiry_head++;
    }
}

static void apply_placed(inv_state_t *s, const evt_hold_placed_t *h)
{
    ts_arena_t *a = &s->arena;
    if (ts_map_get(&s->by_booking, h->booking_id) >= 0)
        return;
    s->bookings = grow(s->bookings, s->n_bookings, &s->cap_bookings, sizeof(inv_booking_t));
    int32_t bi = (int32_t)s->n_bookings++;
    inv_booking_t *b = &s->bookings[bi];
    memset(b, 0, sizeof(*b));
    b->status = INV_HELD;
    b->hold = *h;
    b->hold.booking_id = ts_arena_strdup(a, h->booking_id);
    b->hold.event_id = s->info.event_id;
    b->hold.section = s->info.section.key;
    b->hold.user_id = ts_arena_strdup(a, h->user_id);
    b->hold.command_id = dup_opt(a, h->command_id);
    b->hold.tier_key = s->info.tier_key;
    b->hold.promo_code = dup_opt(a, h->promo_code);
    b->hold.offer_entry = dup_opt(a, h->offer_entry);
    b->hold.seats = h->n_seats ? ts_arena_alloc(a, h->n_seats * sizeof(char *)) : NULL;
    b->seat_index = h->n_seats ? ts_arena_alloc(a, h->n_seats * sizeof(uint32_t)) : NULL;
    b->first_ticket = UINT32_MAX;
    for (uint32_t i = 0; i < h->n_seats; i++) {
        b->hold.seats[i] = ts_arena_strdup(a, h->seats[i]);
        const char *sec, *row;
        uint32_t number;
        b->seat_index[i] = UINT32_MAX;
        /* The log is the truth: a seat that does not resolve is kept in the
         * booking but owns no slot. */
        if (evt_seat_id_parse(a, h->seats[i], &sec, &row, &number) != 0)
            continue;
        int32_t r = ts_map_get(&s->by_row, row);
        if (r < 0 || number < 1 || number > s->info.section.rows[r].seats)
            continue;
        b->seat_index[i] = s->row_offset[r] + number - 1;
    }
    take_seats(s, bi, 0);
    /* RULE-HOLD-3: holds of the shard's length expire in index order; any
     * other length (a waitlist offer, RULE-WL-1) is tracked on the side. */
    b->odd_hold = h->expires_at != h->created_at + (int64_t)s->info.hold_minutes * 60000;
    if (b->odd_hold) {
        s->odd_holds = grow(s->odd_holds, s->n_odd_holds, &s->cap_odd_holds, sizeof(uint32_t));
        s->odd_holds[s->n_odd_holds++] = (uint32_t)bi;
    }
    /* A new booking after every earlier one ended: the head moves to it. */
    while (s->expiry_head < s->n_bookings) {
        const inv_booking_t *x = &s->bookings[s->expiry_head];
        if (x->status == INV_HELD && !x->odd_hold)
            break;
        s->expiry_head++;
    }
    ts_map_put(&s->by_booking, b->hold.booking_id, bi);
    if (b->hold.command_id && b->hold.command_id[0])
        ts_map_put(&s->by_command, b->hold.command_id, bi);
    fact(s, EVT_HOLD_PLACED, (uint32_t)bi, 0, 0);
}

static int32_t booking_index(const inv_state_t *s, const char *booking_id)
{
    return booking_id ? ts_map_get(&s->by_booking, booking_id) : -1;
}

static void apply_ended(inv_state_t *s, evt_type_t type, const evt_hold_ended_t *x)
{
    int32_t bi = booking_index(s, x->booking_id);
    if (bi < 0 || s->bookings[bi].status != INV_HELD)
        return;
    inv_booking_t *b = &s->bookings[bi];
    free_seats(s, bi);
    unhold(s, bi, type == EVT_HOLD_RELEASED ? INV_RELEASED : INV_EXPIRED);
    b->end_reason = type == EVT_HOLD_RELEASED ? dup_opt(&s->arena, x->reason) : NULL;
    fact(s, type, (uint32_t)bi, 0, 0);
}

/* Records a provider event id on a booking; its index, UINT32_MAX for none. */
static uint32_t note_provider_event(inv_state_t *s, inv_booking_t *b, const char *id)
{
    if (!id)
        return UINT32_MAX;
    for (uint32_t i = 0; i < b->n_provider_events; i++)
        if (strcmp(b->provider_events[i], id) == 0)
            return i;
    const char **v = ts_arena_alloc(&s->arena, (b->n_provider_events + 1) * sizeof(char *));
    if (b->n_provider_events)
        memcpy(v, b->provider_events, b->n_provider_events * sizeof(char *));
    v[b->n_provider_events] = ts_arena_strdup(&s->arena, id);
    b->provider_events = v;
    return b->n_provider_events++;
}

/* The index of a requested payment of booking bi, UINT32_MAX when none. */
static uint32_t payment_index(const inv_state_t *s, const char *payment_id, int32_t bi)
{
    if (!payment_id)
        return UINT32_MAX;
    for (uint32_t i = s->n_payments; i-- > 0;)
        if (s->payments[i].booking == bi && strcmp(s->payments[i].payment_id, payment_id) == 0)
            return i;
    return UINT32_MAX;
}

static int provider_event_seen(const inv_booking_t *b, const char *id)
{
    for (uint32_t i = 0; id && i < b->n_provider_events; i++)
        if (strcmp(b->provider_events[i], id) == 0)
            return 1;
    return 0;
}

static void apply_payment_requested(inv_state_t *s, const evt_payment_t *p)
{
    int32_t bi = booking_index(s, p->booking_id);
    if (bi < 0 || !p->payment_id || ts_map_get(&s->by_payment, p->payment_id) >= 0)
        return;
    s->payments = grow(s->payments, s->n_payments, &s->cap_payments, sizeof(inv_payment_t));
    uint32_t pi = s->n_payments++;
    inv_payment_t *x = &s->payments[pi];
    x->payment_id = ts_arena_strdup(&s->arena, p->payment_id);
    x->provider = dup_opt(&s->arena, p->provider);
    x->booking = bi;
    x->amount = p->amount;
    x->at = p->at;
    ts_map_put(&s->by_payment, x->payment_id, bi);
    s->bookings[bi].payment_id = x->payment_id;
    fact(s, EVT_PAYMENT_REQUESTED, (uint32_t)bi, UINT32_MAX, pi);
}

/* PaymentFailed records the provider's event (RULE-PAY-1: a duplicate is a
 * no-op); the hold ends by the HoldReleased that follows it. */
static void apply_payment_failed(inv_state_t *s, const evt_payment_t *p)
{
    int32_t bi = booking_index(s, p->booking_id);
    if (bi < 0 || provider_event_seen(&s->bookings[bi], p->provider_event_id))
        return;
    uint32_t pe = note_provider_event(s, &s->bookings[bi], p->provider_event_id);
    fact(s, EVT_PAYMENT_FAILED, (uint32_t)bi, pe, payment_index(s, p->payment_id, bi));
}

static uint32_t add_ticket(inv_state_t *s, const evt_ticket_t *t, int32_t bi)
{
    s->tickets = grow(s->tickets, s->n_tickets, &s->cap_tickets, sizeof(inv_ticket_t));
    uint32_t ti = s->n_tickets++;
    inv_ticket_t *x = &s->tickets[ti];
    memset(x, 0, sizeof(*x));
    x->t.ticket_id = ts_arena_strdup(&s->arena, t->ticket_id);
    x->t.seat = dup_opt(&s->arena, t->seat);
    x->t.holder_id = dup_opt(&s->arena, t->holder_id);
    x->t.version = t->version;
    x->booking = bi;
    x->status = INV_TICKET_VALID;
    x->replaced_by = UINT32_MAX;
    ts_map_put(&s->by_ticket, x->t.ticket_id, (int32_t)ti);
    return ti;
}

/* RULE-TKT-1, RULE-PAY-2: a held booking is confirmed; one whose hold ended
 * (expired, released) takes its seats again. */
static void apply_confirmed(inv_state_t *s, const evt_booking_confirmed_t *c)
{
    int32_t bi = booking_index(s, c->booking_id);
    if (bi < 0)
        return;
    inv_booking_t *b = &s->bookings[bi];
    if (b->status != INV_HELD && b->status != INV_RELEASED && b->status != INV_EXPIRED)
        return;
    int from_held = b->status == INV_HELD;
    take_seats(s, bi, from_held);
    if (from_held)
        unhold(s, bi, INV_CONFIRMED);
    b = &s->bookings[bi];
    b->status = INV_CONFIRMED;
    b->reacquired = c->reacquired != 0;
    b->confirmed_at = c->at;
    b->paid_amount = b->hold.total; /* RULE-PAY-1: the webhook matched the total */
    if (c->payment_id)
        b->payment_id = ts_arena_strdup(&s->arena, c->payment_id);
    uint32_t pe = note_provider_event(s, b, c->provider_event_id);
    uint32_t first = s->n_tickets, n = 0;
    for (uint32_t i = 0; i < c->n_tickets; i++) {
        if (!c->tickets[i].ticket_id || ts_map_get(&s->by_ticket, c->tickets[i].ticket_id) >= 0)
            continue;
        add_ticket(s, &c->tickets[i], bi);
        n++;
    }
    b = &s->bookings[bi];
    b->first_ticket = n ? first : UINT32_MAX;
    b->n_tickets = n;
    fact(s, EVT_BOOKING_CONFIRMED, (uint32_t)bi, pe, payment_index(s, c->payment_id, bi));
}

/* RULE-PAY-2: paid after the hold ended and the seats are gone. */
static void apply_refund_due(inv_state_t *s, const evt_payment_t *p)
{
    int32_t bi = booking_index(s, p->booking_id);
    if (bi < 0)
        return;
    inv_booking_t *b = &s->bookings[bi];
    if (b->status != INV_HELD && b->status != INV_RELEASED && b->status != INV_EXPIRED)
        return;
    if (b->status == INV_HELD) {
        free_seats(s, bi);
        unhold(s, bi, INV_REFUND_DUE);
    }
    b->status = INV_REFUND_DUE;
    b->paid_amount = p->amount;
    b->refund = p->amount;
    if (p->payment_id)
        b->payment_id = ts_arena_strdup(&s->arena, p->payment_id);
    if (p->reason)
        b->end_reason = ts_arena_strdup(&s->arena, p->reason);
    uint32_t pe = note_provider_event(s, b, p->provider_event_id);
    fact(s, EVT_BOOKING_REFUND_DUE, (uint32_t)bi, pe, payment_index(s, p->payment_id, bi));
}

/* Cancels every ticket of a booking still valid or used: those issued at
 * confirm and the ends of the chains of transfers from them. */
static void revoke_tickets(inv_state_t *s, int32_t bi)
{
    const inv_booking_t *b = &s->bookings[bi];
    for (uint32_t i = 0; i < b->n_tickets; i++) {
        for (uint32_t ti = b->first_ticket + i; ti != UINT32_MAX; ti = s->tickets[ti].replaced_by) {
            inv_ticket_t *t = &s->tickets[ti];
            if (t->status == INV_TICKET_VALID || t->status == INV_TICKET_USED) {
                t->status = INV_TICKET_CANCELLED;
                t->revoked_version = s->version;
            }
        }
    }
}

/* RULE-REF-1: a confirmed booking is cancelled; its tickets are revoked. */
static void apply_cancelled(inv_state_t *s, const evt_booking_cancelled_t *c)
{
    int32_t bi = booking_index(s, c->booking_id);
    if (bi < 0 || s->bookings[bi].status != INV_CONFIRMED)
        return;
    inv_booking_t *b = &s->bookings[bi];
    free_seats(s, bi);
    b->status = c->refund > 0 ? INV_REFUND_DUE : INV_CANCELLED;
    b->refund = c->refund;
    b->end_reason = dup_opt(&s->arena, c->reason);
    fact(s, EVT_BOOKING_CANCELLED, (uint32_t)bi, 0, 0);
    revoke_tickets(s, bi); /* at the version of this fact */
}

static void apply_refund_completed(inv_state_t *s, const evt_payment_t *p)
{
    int32_t bi = booking_index(s, p->booking_id);
    if (bi < 0 || s->bookings[bi].status != INV_REFUND_DUE)
        return;
    inv_booking_t *b = &s->bookings[bi];
    b->status = INV_REFUNDED;
    uint32_t pe = note_provider_event(s, b, p->provider_event_id);
    fact(s, EVT_REFUND_COMPLETED, (uint32_t)bi, pe, payment_index(s, p->payment_id, bi));
}

static void apply_checked_in(inv_state_t *s, const evt_ticket_checked_in_t *c)
{
    int32_t ti = c->ticket_id ? ts_map_get(&s->by_ticket, c->ticket_id) : -1;
    if (ti < 0 || s->tickets[ti].status != INV_TICKET_VALID)
        return;
    inv_ticket_t *t = &s->tickets[ti];
    t->status = INV_TICKET_USED;
    t->checked_in_at = c->at;
    t->gate = dup_opt(&s->arena, c->gate);
    t->nonce = dup_opt(&s->arena, c->nonce);
    fact(s, EVT_TICKET_CHECKED_IN, (uint32_t)ti, 0, 0);
}

/* RULE-TKT-3: the old ticket is revoked, the recipient gets a new one. */
static void apply_transferred(inv_state_t *s, const evt_ticket_transferred_t *x)
{
    int32_t ti = x->ticket_id ? ts_map_get(&s->by_ticket, x->ticket_id) : -1;
    if (ti < 0 || s->tickets[ti].status != INV_TICKET_VALID || !x->new_ticket_id ||
        ts_map_get(&s->by_ticket, x->new_ticket_id) >= 0)
        return;
    evt_ticket_t nt = {.ticket_id = x->new_ticket_id,
                       .seat = s->tickets[ti].t.seat,
                       .holder_id = x->to_user_id,
                       .version = x->version};
    uint32_t ni = add_ticket(s, &nt, s->tickets[ti].booking);
    fact(s, EVT_TICKET_TRANSFERRED, (uint32_t)ti, ni, 0);
    inv_ticket_t *old = &s->tickets[ti];
    old->status = INV_TICKET_TRANSFERRED;
    old->revoked_version = s->version;
    old->replaced_by = ni;
}

static void apply_inventory_cancelled(inv_state_t *s, const evt_inventory_change_t *x)
{
    if (!s->opened || s->cancelled)
        return;
    s->cancelled = 1;
    s->cancel_reason = dup_opt(&s->arena, x->reason);
    fact(s, EVT_INVENTORY_CANCELLED, 0, 0, 0);
}

static void apply_rescheduled(inv_state_t *s, const evt_inventory_change_t *x)
{
    if (!s->opened)
        return;
    /* A tier without an end of sale sells until the event starts
     * (inv_open_decide): that end moves with the start. */
    if (s->info.sale_ends_at == s->info.starts_at)
        s->info.sale_ends_at = x->starts_at;
    s->info.starts_at = x->starts_at;
    s->info.ends_at = x->ends_at;
    s->schedules = grow(s->schedules, s->n_schedules, &s->cap_schedules, sizeof(inv_schedule_t));
    uint32_t k = s->n_schedules++;
    s->schedules[k] = (inv_schedule_t){x->starts_at, x->ends_at, s->info.sale_ends_at};
    fact(s, EVT_INVENTORY_RESCHEDULED, k, 0, 0);
}

static void inv_apply(void *p, const evt_event_t *e)
{
    inv_state_t *s = p;
    if (e->type != EVT_INVENTORY_OPENED && !s->opened)
        return; /* nothing happens to a shard before it opens */
    switch (e->type) {
    case EVT_INVENTORY_OPENED:
        apply_opened(s, &e->u.inventory_opened);
        break;
    case EVT_HOLD_PLACED:
        apply_placed(s, &e->u.hold_placed);
        break;
    case EVT_HOLD_RELEASED:
    case EVT_HOLD_EXPIRED:
        apply_ended(s, e->type, &e->u.hold_ended);
        break;
    case EVT_PAYMENT_REQUESTED:
        apply_payment_requested(s, &e->u.payment);
        break;
    case EVT_PAYMENT_FAILED:
        apply_payment_failed(s, &e->u.payment);
        break;
    case EVT_BOOKING_CONFIRMED:
        apply_confirmed(s, &e->u.booking_confirmed);
        break;
    case EVT_BOOKING_REFUND_DUE:
        apply_refund_due(s, &e->u.payment);
        break;
    case EVT_BOOKING_CANCELLED:
        apply_cancelled(s, &e->u.booking_cancelled);
        break;
    case EVT_REFUND_COMPLETED:
        apply_refund_completed(s, &e->u.payment);
        break;
    case EVT_TICKET_CHECKED_IN:
        apply_checked_in(s, &e->u.ticket_checked_in);
        break;
    case EVT_TICKET_TRANSFERRED:
        apply_transferred(s, &e->u.ticket_transferred);
        break;
    case EVT_INVENTORY_CANCELLED:
        apply_inventory_cancelled(s, &e->u.inventory_change);
        break;
    case EVT_INVENTORY_RESCHEDULED:
        apply_rescheduled(s, &e->u.inventory_change);
        break;
    default:
        break;
    }
}

void *cmd__inv_state_new(void)
{
    return inv_new();
}

void cmd__inv_state_free(void *state)
{
    inv_free(state);
}

void cmd__inv_apply(void *state, const evt_event_t *e)
{
    inv_apply(state, e);
}
