/* The inventory shard's state: apply() and snapshots. See inventory.c. */
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
    return s;
}

static void inv_free(void *p)
{
    inv_state_t *s = p;
    if (!s)
        return;
    free(s->seat_owner);
    free(s->bookings);
    ts_map_deinit(&s->by_booking);
    ts_map_deinit(&s->by_command);
    ts_map_deinit(&s->by_row);
    ts_arena_deinit(&s->arena);
    free(s);
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
}

static void apply_placed(inv_state_t *s, const evt_hold_placed_t *h)
{
    ts_arena_t *a = &s->arena;
    if (ts_map_get(&s->by_booking, h->booking_id) >= 0)
        return;
    if (s->n_bookings == s->cap_bookings) {
        s->cap_bookings = s->cap_bookings ? s->cap_bookings * 2 : 64;
        s->bookings = realloc(s->bookings, s->cap_bookings * sizeof(inv_booking_t));
        if (!s->bookings)
            abort();
    }
    int32_t bi = (int32_t)s->n_bookings++;
    inv_booking_t *b = &s->bookings[bi];
    memset(b, 0, sizeof(*b));
    b->status = INV_HELD;
    b->hold = *h;
    b->hold.booking_id = ts_arena_strdup(a, h->booking_id);
    b->hold.event_id = s->info.event_id;
    b->hold.section = s->info.section.key;
    b->hold.user_id = ts_arena_strdup(a, h->user_id);
    b->hold.command_id = ts_arena_strdup(a, h->command_id);
    b->hold.tier_key = s->info.tier_key;
    b->hold.seats = h->n_seats ? ts_arena_alloc(a, h->n_seats * sizeof(char *)) : NULL;
    b->seat_index = h->n_seats ? ts_arena_alloc(a, h->n_seats * sizeof(uint32_t)) : NULL;
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
        s->seat_owner[b->seat_index[i]] = bi;
    }
    if (s->info.section.kind == EVT_STANDING)
        s->ga_taken += h->quantity;
    ts_map_put(&s->by_booking, b->hold.booking_id, bi);
    if (b->hold.command_id && b->hold.command_id[0])
        ts_map_put(&s->by_command, b->hold.command_id, bi);
}

static void apply_ended(inv_state_t *s, const char *booking_id, inv_booking_status_t to)
{
    int32_t bi = ts_map_get(&s->by_booking, booking_id);
    if (bi < 0)
        return;
    inv_booking_t *b = &s->bookings[bi];
    if (b->status != INV_HELD)
        return;
    b->status = to;
    for (uint32_t i = 0; i < b->hold.n_seats; i++)
        if (b->seat_index[i] != UINT32_MAX && s->seat_owner[b->seat_index[i]] == bi)
            s->seat_owner[b->seat_index[i]] = -1;
    if (s->info.section.kind == EVT_STANDING)
        s->ga_taken -= b->hold.quantity;
    while (s->expiry_head < s->n_bookings && s->bookings[s->expiry_head].status != INV_HELD)
        s->expiry_head++;
}

static void inv_apply(void *p, const evt_event_t *e)
{
    inv_state_t *s = p;
    switch (e->type) {
    case EVT_INVENTORY_OPENED:
        apply_opened(s, &e->u.inventory_opened);
        break;
    case EVT_HOLD_PLACED:
        if (s->opened)
            apply_placed(s, &e->u.hold_placed);
        break;
    case EVT_HOLD_RELEASED:
        apply_ended(s, e->u.hold_ended.booking_id, INV_RELEASED);
        break;
    case EVT_HOLD_EXPIRED:
        apply_ended(s, e->u.hold_ended.booking_id, INV_EXPIRED);
        break;
    default:
        break;
    }
}

/* The snapshot replays: opened, then every booking as placed, followed by
 * its end when it ended. */
static ts_status inv_encode(const void *p, ts_buf_t *out)
{
    const inv_state_t *s = p;
    if (!s->opened)
        return TS_OK;
    uint32_t cap = 1 + 2 * s->n_bookings, n = 0;
    evt_event_t *ev = calloc(cap, sizeof(*ev));
    if (!ev)
        abort();
    ev[n].type = EVT_INVENTORY_OPENED;
    ev[n++].u.inventory_opened = s->info;
    for (uint32_t i = 0; i < s->n_bookings; i++) {
        const inv_booking_t *b = &s->bookings[i];
        ev[n].type = EVT_HOLD_PLACED;
        ev[n++].u.hold_placed = b->hold;
        if (b->status == INV_RELEASED || b->status == INV_EXPIRED) {
            ev[n].type = b->status == INV_RELEASED ? EVT_HOLD_RELEASED : EVT_HOLD_EXPIRED;
            ev[n++].u.hold_ended.booking_id = b->hold.booking_id;
        }
    }
    ts_status st = cmd__snapshot_encode(ev, n, out);
    free(ev);
    return st;
}

static void *inv_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__inv_ops, data, len);
}

const cmd_aggregate_ops_t cmd__inv_ops = {
    .kind = CMD_AGG_INV,
    .name = "inv",
    .format_version = 1,
    .state_new = inv_new,
    .state_free = inv_free,
    .apply = inv_apply,
    .encode = inv_encode,
    .decode = inv_decode,
};
