/*
 * Best available: POST /events/{id}/holds/best picks the seats itself.
 *
 * The pick is made inside the shard's lane, in the same decision that holds
 * the seats, so two buyers asking at once can never be given the same seats
 * (RULE-HOLD-1): the second decision sees the first one's hold. The hold
 * itself is inv_hold_decide's, with every rule of an ordinary hold.
 *
 * What "best" means here, in order:
 *  1. quantity adjacent free seats in one row (never split a party);
 *  2. no single free seat left stranded beside them (an orphan nobody can
 *     sit next to) when any placement avoids it;
 *  3. asked for accessible seats: only accessible seats; not asked: the
 *     fewest accessible seats, which stay for those who need them;
 *  4. the front row first (the venue's row order), then the leftmost.
 */
#include "commands/commands_int.h"

#include <stdlib.h>
#include <string.h>

/* A seat is free at now unless a confirmed booking or a hold not yet
 * expired owns it (RULE-HOLD-1, RULE-HOLD-3: free at the expiry instant). */
static int seat_free(const inv_state_t *s, uint32_t k, int64_t now)
{
    int32_t o = s->seat_owner[k];
    return o < 0 || !inv__booking_active(&s->bookings[o], now);
}

static int row_accessible(const evt_row_t *row, uint32_t number)
{
    for (uint32_t i = 0; i < row->n_accessible; i++)
        if (row->accessible[i] == number)
            return 1;
    return 0;
}

/* Seat i (0-based) of a row, or "taken" past either end. */
static int free_at(const uint8_t *vacant, uint32_t n, int64_t i)
{
    return i >= 0 && i < (int64_t)n && vacant[i];
}

int inv_best_pick(const inv_state_t *s, uint32_t quantity, int accessible, int64_t now,
                  inv_best_pick_t *pick)
{
    memset(pick, 0, sizeof(*pick));
    pick->row = -1;
    const evt_section_t *sec = &s->info.section;
    if (!s->opened || sec->kind != EVT_SEATED || quantity == 0)
        return -1;
    uint32_t longest = 0;
    for (uint32_t r = 0; r < sec->n_rows; r++)
        if (sec->rows[r].seats > longest)
            longest = sec->rows[r].seats;
    /* Per seat of a row: vacant (free at now); ok: free and eligible; acc: accessible.
     * A row may hold 100,000 seats: on the heap, not the stack. */
    uint8_t *flags = malloc(3 * (size_t)(longest ? longest : 1));
    if (!flags)
        abort();
    uint8_t *vacant = flags, *ok = flags + longest, *acc = flags + 2 * (size_t)longest;
    uint32_t best_orphans = UINT32_MAX, best_acc = UINT32_MAX;
    for (uint32_t r = 0; r < sec->n_rows; r++) {
        const evt_row_t *row = &sec->rows[r];
        uint32_t n = row->seats;
        if (n == 0)
            continue;
        for (uint32_t i = 0; i < n; i++) {
            vacant[i] = (uint8_t)seat_free(s, s->row_offset[r] + i, now);
            acc[i] = (uint8_t)row_accessible(row, i + 1);
            ok[i] = vacant[i] && (!accessible || acc[i]);
            pick->n_free += ok[i];
        }
        if (n < quantity)
            continue;
        /* run = eligible seats in a row ending at i; a placement ends at
         * every i where run >= quantity. */
        uint32_t run = 0;
        for (uint32_t i = 0; i < n; i++) {
            run = ok[i] ? run + 1 : 0;
            if (run < quantity)
                continue;
            int64_t first = (int64_t)i + 1 - quantity, last = i;
            /* An orphan: a free seat beside the placement whose other
             * neighbour is taken (or the row's end). */
            uint32_t orphans =
                (uint32_t)(free_at(vacant, n, first - 1) && !free_at(vacant, n, first - 2)) +
                (uint32_t)(free_at(vacant, n, last + 1) && !free_at(vacant, n, last + 2));
            uint32_t acc_used = 0;
            if (!accessible)
                for (int64_t k = first; k <= last; k++)
                    acc_used += acc[k];
            if (orphans < best_orphans || (orphans == best_orphans && acc_used < best_acc)) {
                best_orphans = orphans;
                best_acc = acc_used;
                pick->row = (int32_t)r;
                pick->first = (uint32_t)first + 1;
                pick->orphans = orphans;
            }
        }
    }
    free(flags);
    return pick->row >= 0 ? 0 : -1;
}

int inv_best_hold_decide(const inv_state_t *s, const inv_hold_cmd_t *c, int accessible,
                         const cmd_ctx_t *ctx, cmd_result_t *out)
{
    /* The checks that must answer before "no seats": a shard that does not
     * sell, a repeated command (RULE-HOLD-5), the sale window (RULE-HOLD-2)
     * and the order size. inv_hold_decide makes them again, harmlessly. */
    if (!s->opened)
        return inv_hold_decide(s, c, ctx, out);
    if (ctx->command_id && ts_map_get(&s->by_command, ctx->command_id) >= 0)
        return inv_hold_decide(s, c, ctx, out);
    inv_hold_cmd_t h = *c;
    h.seats = NULL;
    h.n_seats = 0;
    if (s->info.section.kind == EVT_STANDING) {
        h.tier = NULL;
        return inv_hold_decide(s, &h, ctx, out);
    }
    const evt_inventory_opened_t *info = &s->info;
    if ((info->sale_starts_at && ctx->now < info->sale_starts_at) ||
        (info->sale_ends_at && ctx->now >= info->sale_ends_at))
        return inv_hold_decide(s, c, ctx, out);
    if (c->quantity == 0)
        return cmd_reject(out, ctx, "validation_failed", "quantity", "at least one");
    if (c->quantity > info->max_per_order) {
        cmd_reject(out, ctx, "limit_exceeded", "quantity", "at most %u per order",
                   info->max_per_order);
        ((cmd_reject_t *)out->reject)->limit = info->max_per_order;
        return 0;
    }
    inv_best_pick_t pick;
    if (inv_best_pick(s, c->quantity, accessible, ctx->now, &pick) != 0) {
        if (pick.n_free < c->quantity)
            return cmd_reject(out, ctx, "sold_out", "quantity",
                              "only %u %sseats left in section %s", pick.n_free,
                              accessible ? "accessible " : "", info->section.key);
        return cmd_reject(out, ctx, "seat_unavailable", "quantity",
                          "no %u adjacent %sseats in one row of section %s", c->quantity,
                          accessible ? "accessible " : "", info->section.key);
    }
    const evt_row_t *row = &info->section.rows[pick.row];
    h.n_seats = c->quantity;
    h.seats = ts_arena_alloc(ctx->arena, h.n_seats * sizeof(char *));
    for (uint32_t i = 0; i < h.n_seats; i++)
        h.seats[i] =
            ts_arena_printf(ctx->arena, "%s-%s-%u", info->section.key, row->label, pick.first + i);
    return inv_hold_decide(s, &h, ctx, out);
}
