/*
 * The inventory shard: one section of one published event.
 *
 * Holds (RULE-HOLD-1..3, -5), releases and expiry. Seats are addressed by an
 * index: row_offset[row] + number - 1. seat_owner[index] is the booking that
 * last took the seat; whether it still holds it is read from that booking's
 * status and expiry, so expiring a hold never has to touch the seat array
 * and "free at the expiry instant" (RULE-HOLD-3) is one comparison.
 *
 * The rest of the shard: inventory_pay.c (payments, refunds, cancellations,
 * schedule), inventory_tickets.c (check-in, transfer), inventory_state.c
 * (apply) and inventory_snapshot.c.
 */
#include "commands/commands_int.h"

#include <stdlib.h>
#include <string.h>

/* At most this many lazy expiries are appended by one hold; the sweeper
 * takes the rest. */
#define INV_LAZY_EXPIRY_MAX 64

int inv__booking_active(const inv_booking_t *b, int64_t now)
{
    if (b->status == INV_CONFIRMED)
        return 1;
    /* RULE-HOLD-3: free at exactly created + hold_minutes. */
    return b->status == INV_HELD && now < b->hold.expires_at;
}

int inv__hold_lapsed(const inv_booking_t *b, int64_t now)
{
    return b->status == INV_HELD && now >= b->hold.expires_at;
}

const inv_booking_t *inv_booking_find(const inv_state_t *s, const char *booking_id)
{
    int32_t i = ts_map_get(&s->by_booking, booking_id);
    return i < 0 ? NULL : &s->bookings[i];
}

const char *inv_booking_status_name(const inv_booking_t *b, int64_t now)
{
    switch (b->status) {
    case INV_HELD:
        return now < b->hold.expires_at ? "held" : "expired";
    case INV_RELEASED:
        return "released";
    case INV_EXPIRED:
        return "expired";
    case INV_CONFIRMED:
        return "confirmed";
    case INV_CANCELLED:
        return "cancelled";
    case INV_REFUND_DUE:
        return "refund_due";
    case INV_REFUNDED:
        return "refunded";
    }
    return "unknown";
}

int64_t inv_next_expiry(const inv_state_t *s)
{
    int64_t next = 0;
    for (uint32_t i = s->expiry_head; i < s->n_bookings; i++) {
        const inv_booking_t *b = &s->bookings[i];
        if (b->status == INV_HELD && !b->odd_hold) {
            next = b->hold.expires_at;
            break;
        }
    }
    for (uint32_t k = 0; k < s->n_odd_holds; k++) {
        int64_t t = s->bookings[s->odd_holds[k]].hold.expires_at;
        if (!next || t < next)
            next = t;
    }
    return next;
}

void inv_price(evt_hold_placed_t *h, uint32_t service_fee_bps, uint32_t vat_bps)
{
    /* RULE-PRICE-1: integer minor units; fee on (subtotal - discount) and VAT
     * included in the total, both half-up. */
    h->subtotal = h->unit_price.amount * (int64_t)h->quantity;
    if (h->discount > h->subtotal)
        h->discount = h->subtotal;
    int64_t base = h->subtotal - h->discount;
    h->service_fee = ts_bps_half_up(base, service_fee_bps);
    h->total = base + h->service_fee;
    int64_t denom = 10000 + (int64_t)vat_bps;
    h->vat_included = (h->total * (int64_t)vat_bps * 2 + denom) / (2 * denom);
}

int inv_open_decide(const inv_state_t *s, const cmd_event_state_t *event, const char *section,
                    const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (s->opened)
        return 0; /* already open: nothing to do */
    /* RULE-EVT-1: only published events sell. */
    if (!event->exists || event->status != CMD_EVENT_PUBLISHED)
        return cmd_reject(out, ctx, "not_on_sale", NULL, "the event is not published");
    const evt_section_t *sec = NULL;
    for (uint32_t i = 0; i < event->published.n_sections; i++)
        if (strcmp(event->published.sections[i].key, section) == 0)
            sec = &event->published.sections[i];
    const evt_tier_t *tier = event_tier_of_section(event, section);
    if (!sec || !tier)
        return cmd_reject(out, ctx, "not_on_sale", "section", "section %s is not sold", section);
    evt_event_t *e = cmd_emit(out, EVT_INVENTORY_OPENED);
    evt_inventory_opened_t *o = &e->u.inventory_opened;
    o->event_id = event->ev.event_id;
    o->section = *sec;
    o->tier_key = tier->key;
    o->price = tier->price;
    o->sale_starts_at = tier->sale_starts_at;
    /* A tier without an end sells until the event starts. */
    o->sale_ends_at = tier->sale_ends_at ? tier->sale_ends_at : event->ev.starts_at;
    o->max_per_order = event->ev.policy.max_per_order;
    o->hold_minutes = event->ev.policy.hold_minutes;
    o->service_fee_bps = event->ev.policy.service_fee_bps;
    o->vat_bps = event->ev.policy.vat_bps;
    /* v2: what the shard needs to decide tickets (RULE-TKT-3) and refunds
     * (RULE-REF-1) alone; the refund policy is the one recorded at purchase. */
    o->starts_at = event->ev.starts_at;
    o->ends_at = event->ev.ends_at;
    o->max_per_user = event->ev.policy.max_per_user;
    o->transfer_cutoff_hours = event->ev.policy.transfer_cutoff_hours;
    o->n_refund = event->ev.policy.n_refund;
    o->refund = event->ev.policy.refund;
    return 0;
}

/* Held bookings of the shard's hold length are appended in time order, so
 * the lapsed ones are a prefix of those still held, from expiry_head; the
 * others (offers) are few and listed in odd_holds. Calls f on each lapsed
 * hold, in booking order, until f returns 0. */
static void each_lapsed(const inv_state_t *s, int64_t now, int (*f)(void *, uint32_t), void *arg)
{
    uint32_t i = s->expiry_head, k = 0;
    int main_done = 0;
    for (;;) {
        /* the next lapsed main hold, if any */
        while (!main_done && i < s->n_bookings) {
            const inv_booking_t *b = &s->bookings[i];
            if (b->status == INV_HELD && !b->odd_hold) {
                if (b->hold.expires_at > now)
                    main_done = 1;
                break;
            }
            i++;
        }
        if (i >= s->n_bookings)
            main_done = 1;
        while (k < s->n_odd_holds && !inv__hold_lapsed(&s->bookings[s->odd_holds[k]], now))
            k++;
        int has_odd = k < s->n_odd_holds;
        if (main_done && !has_odd)
            return;
        uint32_t next;
        if (!main_done && (!has_odd || i < s->odd_holds[k]))
            next = i++;
        else
            next = s->odd_holds[k++];
        if (!f(arg, next))
            return;
    }
}

typedef struct {
    const inv_state_t *s;
    uint64_t units;
} lapsed_units_t;

static int add_units(void *arg, uint32_t bi)
{
    lapsed_units_t *u = arg;
    u->units += u->s->bookings[bi].hold.quantity;
    return 1;
}

uint64_t inv__ga_taken_now(const inv_state_t *s, int64_t now)
{
    /* RULE-HOLD-1 for standing room: units still taken now. */
    lapsed_units_t u = {s, 0};
    each_lapsed(s, now, add_units, &u);
    return s->ga_taken - u.units;
}

typedef struct {
    const inv_state_t *s;
    cmd_result_t *out;
    uint32_t n, max;
} expiries_t;

static int emit_one(void *arg, uint32_t bi)
{
    expiries_t *x = arg;
    if (x->n >= x->max)
        return 0;
    evt_event_t *e = cmd_emit(x->out, EVT_HOLD_EXPIRED);
    if (!e)
        return 0;
    e->u.hold_ended.booking_id = x->s->bookings[bi].hold.booking_id;
    x->n++;
    return 1;
}

uint32_t inv__emit_expiries(const inv_state_t *s, uint32_t max, const cmd_ctx_t *ctx,
                            cmd_result_t *out)
{
    expiries_t x = {s, out, 0, max};
    each_lapsed(s, ctx->now, emit_one, &x);
    return x.n;
}

/* Resolves a seat id to its index; -1 when the seat does not exist. */
static int64_t seat_index(const inv_state_t *s, ts_arena_t *a, const char *id)
{
    const char *sec, *row;
    uint32_t number;
    if (evt_seat_id_parse(a, id, &sec, &row, &number) != 0)
        return -1;
    if (strcmp(sec, s->info.section.key) != 0)
        return -1;
    int32_t r = ts_map_get(&s->by_row, row);
    if (r < 0 || number < 1 || number > s->info.section.rows[r].seats)
        return -1;
    return (int64_t)s->row_offset[r] + number - 1;
}

int inv_hold_decide(const inv_state_t *s, const inv_hold_cmd_t *c, const cmd_ctx_t *ctx,
                    cmd_result_t *out)
{
    /* RULE-EVT-1: a shard exists only for a published event. */
    if (!s->opened)
        return cmd_reject(out, ctx, "not_on_sale", NULL, "the event is not on sale");
    /* RULE-HOLD-5: the same command (Idempotency-Key) names the same booking. */
    if (ctx->command_id) {
        int32_t prev = ts_map_get(&s->by_command, ctx->command_id);
        if (prev >= 0) {
            out->ref = s->bookings[prev].hold.booking_id;
            return 0;
        }
    }
    const evt_inventory_opened_t *info = &s->info;
    /* The event was cancelled: nothing sells any more. */
    if (s->cancelled)
        return cmd_reject(out, ctx, "not_on_sale", NULL, "the event is cancelled");
    /* RULE-PROMO-1: the promo's terms are one of percent or amount off. */
    if (c->percent_off > 100 || c->amount_off < 0 || (c->percent_off && c->amount_off))
        return cmd_reject(out, ctx, "validation_failed", "promo_code", "invalid promo terms");
    /* RULE-HOLD-2: the tier must be on sale now. */
    if ((info->sale_starts_at && ctx->now < info->sale_starts_at) ||
        (info->sale_ends_at && ctx->now >= info->sale_ends_at))
        return cmd_reject(out, ctx, "not_on_sale", NULL, "tier %s is not on sale now",
                          info->tier_key);
    int seated = info->section.kind == EVT_SEATED;
    uint32_t count = seated ? c->n_seats : c->quantity;
    if (seated && c->n_seats == 0)
        return cmd_reject(out, ctx, "validation_failed", "seats",
                          "section %s is seated: name the seats", info->section.key);
    if (seated && c->quantity && c->quantity != c->n_seats)
        return cmd_reject(out, ctx, "validation_failed", "quantity",
                          "quantity %u does not match the %u seats named", c->quantity, c->n_seats);
    if (!seated && c->n_seats)
        return cmd_reject(out, ctx, "validation_failed", "seats",
                          "section %s is standing: ask for a quantity", info->section.key);
    if (!seated && c->tier && strcmp(c->tier, info->tier_key) != 0)
        return cmd_reject(out, ctx, "validation_failed", "tier", "tier mismatch");
    if (count == 0)
        return cmd_reject(out, ctx, "validation_failed", "quantity", "at least one");
    /* RULE-HOLD-2: 1..max_per_order seats. */
    if (count > info->max_per_order) {
        cmd_reject(out, ctx, "limit_exceeded", seated ? "seats" : "quantity",
                   "at most %u per order", info->max_per_order);
        ((cmd_reject_t *)out->reject)->limit = info->max_per_order;
        return 0;
    }

    uint32_t *idx = NULL;
    if (seated) {
        idx = ts_arena_alloc(ctx->arena, count * sizeof(uint32_t));
        const char **bad = ts_arena_alloc(ctx->arena, count * sizeof(char *));
        uint32_t n_bad = 0;
        for (uint32_t i = 0; i < count; i++) {
            int64_t k = seat_index(s, ctx->arena, c->seats[i]);
            for (uint32_t j = 0; k >= 0 && j < i; j++)
                if (idx[j] == (uint32_t)k)
                    return cmd_reject(out, ctx, "validation_failed", "seats",
                                      "seat %s is named twice", c->seats[i]);
            /* RULE-HOLD-1/-2: unknown, held or sold seats reject the hold. */
            int32_t owner = k >= 0 ? s->seat_owner[k] : -1;
            if (k < 0 || (owner >= 0 && inv__booking_active(&s->bookings[owner], ctx->now)))
                bad[n_bad++] = c->seats[i];
            idx[i] = k < 0 ? UINT32_MAX : (uint32_t)k;
        }
        if (n_bad) {
            cmd_reject(out, ctx, "seat_unavailable", "seats",
                       "%u of the seats asked for cannot be held", n_bad);
            cmd_reject_t *rj = (cmd_reject_t *)out->reject;
            rj->n_seats = n_bad;
            rj->seats = bad;
            return 0;
        }
    } else {
        uint64_t taken = inv__ga_taken_now(s, ctx->now);
        if (taken + count > info->section.capacity)
            return cmd_reject(out, ctx, "sold_out", "quantity", "only %llu left",
                              (unsigned long long)(info->section.capacity - taken));
    }

    inv__emit_expiries(s, INV_LAZY_EXPIRY_MAX, ctx, out);
    evt_event_t *e = cmd_emit(out, EVT_HOLD_PLACED);
    evt_hold_placed_t *h = &e->u.hold_placed;
    h->booking_id = ctx->new_id;
    h->event_id = info->event_id;
    h->section = info->section.key;
    /* A waitlist offer is held in its user's name (RULE-WL-1). */
    h->user_id = c->user_id ? c->user_id : ctx->actor;
    h->command_id = ctx->command_id;
    h->tier_key = info->tier_key;
    h->created_at = ctx->now;
    /* RULE-HOLD-3; an offer lasts offer_minutes instead. */
    uint32_t minutes = c->hold_minutes ? c->hold_minutes : info->hold_minutes;
    h->expires_at = ctx->now + (int64_t)minutes * 60000;
    h->n_seats = seated ? count : 0;
    h->seats = seated ? c->seats : NULL;
    h->quantity = count;
    h->unit_price = info->price;
    h->promo_code = c->promo_code;
    h->offer_entry = c->offer_entry;
    /* RULE-PROMO-1 priced by RULE-PRICE-1: percent off the subtotal
     * half-up, or an amount off capped at the subtotal (inv_price caps). */
    int64_t subtotal = h->unit_price.amount * (int64_t)count;
    h->discount = c->percent_off ? ts_bps_half_up(subtotal, c->percent_off * 100) : c->amount_off;
    inv_price(h, info->service_fee_bps, info->vat_bps);
    out->ref = h->booking_id;
    return 0;
}

int inv_release_decide(const inv_state_t *s, const char *booking_id, const cmd_ctx_t *ctx,
                       cmd_result_t *out)
{
    const inv_booking_t *b = inv_booking_find(s, booking_id);
    if (!b)
        return cmd_reject(out, ctx, "not_found", NULL, "no such booking");
    out->ref = b->hold.booking_id;
    if (!ctx->actor_is_admin && strcmp(ctx->actor, b->hold.user_id) != 0)
        return cmd_reject(out, ctx, "forbidden", NULL, "not your booking");
    /* RULE-HOLD-3: expired at the instant, whether or not the sweeper has
     * recorded HoldExpired yet, so the answer does not depend on its timing. */
    if (b->status == INV_EXPIRED || (b->status == INV_HELD && ctx->now >= b->hold.expires_at))
        return cmd_reject(out, ctx, "hold_expired", NULL, "the hold expired");
    if (b->status != INV_HELD)
        return cmd_reject(out, ctx, "conflict", NULL, "the booking is %s",
                          inv_booking_status_name(b, ctx->now));
    evt_event_t *e = cmd_emit(out, EVT_HOLD_RELEASED);
    e->u.hold_ended.booking_id = b->hold.booking_id;
    e->u.hold_ended.reason = strcmp(ctx->actor, b->hold.user_id) == 0 ? "holder" : "admin";
    return 0;
}

int inv_expire_decide(const inv_state_t *s, uint32_t max, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    /* RULE-HOLD-3: the sweeper records what decide already treats as free. */
    if (max > CMD_MAX_EVENTS)
        max = CMD_MAX_EVENTS;
    inv__emit_expiries(s, max, ctx, out);
    return 0;
}
