/* The organizer's sales dashboard of issue 4 → SQL: the sales_tiers and
 * sales_minutes rows (schema.c) moved by each confirmation, cancellation
 * and check-in, in the batch's transaction, so GET /events/{id}/sales reads
 * one row per tier and one per minute instead of the event's bookings.
 *
 * Each statement is sent right after the one fold_sales.c sent for the
 * same event, and counts what that one changed (sql.c says how it tells).
 * The projector and a rebuild (build.c) both come here through
 * proj__fold_commit, so a rebuild makes the same rows. Holds need nothing
 * here: what is held depends on the clock (RULE-HOLD-3), so the query
 * reads the few held bookings through a partial index instead. */
#include "projections/proj_int.h"

#include <inttypes.h>

ts_status proj__fold_dashboard(proj__fold_t *f, const evt_event_t *e, uint64_t seq)
{
    const char *key;
    proj__stmt_t s;
    switch (e->type) {
    case EVT_BOOKING_CONFIRMED:
        key = e->u.booking_confirmed.booking_id;
        s = PROJ_F_DASH_CONFIRMED;
        break;
    case EVT_BOOKING_CANCELLED:
        key = e->u.booking_cancelled.booking_id;
        s = PROJ_F_DASH_CANCELLED;
        break;
    case EVT_TICKET_CHECKED_IN:
        key = e->u.ticket_checked_in.ticket_id;
        s = PROJ_F_DASH_CHECKED_IN;
        break;
    default:
        /* A refund completed or a ticket transferred changes no count: the
         * refund was counted when it became due, a transfer keeps the
         * booking's items sold. */
        return TS_OK;
    }
    if (!key)
        return TS_ERR_INVALID;
    const char *p[2] = {key, ts_arena_printf(f->arena, "%" PRIu64, seq)};
    return proj__fold_send(f, s, seq, 2, p);
}
