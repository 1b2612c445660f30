/* The waitlist read model (RULE-WL-1): Waitlist* events into the waitlist
 * table, one upsert per event. Every such event carries its whole entry
 * (commands/waitlist.c fills each one in full), so one statement serves
 * them all: the row takes the status the event says, and the offer's
 * booking and expiry once there is one. The FIFO order of a list is the
 * log's order of WaitlistJoined, (joined_seq, joined_idx): a group commit
 * may hold several joins of one list. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>

static const char *status_of(evt_type_t t)
{
    switch (t) {
    case EVT_WAITLIST_JOINED:
        return "waiting";
    case EVT_WAITLIST_OFFERED:
        return "offered";
    case EVT_WAITLIST_LEFT:
        return "left";
    case EVT_WAITLIST_OFFER_LAPSED:
        return "lapsed";
    case EVT_WAITLIST_FULFILLED:
        return "fulfilled";
    default:
        return NULL;
    }
}

ts_status proj__fold_waitlist(proj__fold_t *f, const evt_event_t *e, uint32_t index, uint64_t seq)
{
    const char *status = status_of(e->type);
    if (!status)
        return TS_OK; /* not a waitlist event */
    const evt_waitlist_entry_t *w = &e->u.waitlist;
    if (!w->entry_id || !w->event_id || !w->tier || !w->user_id)
        return TS_ERR_INVALID;
    /* Only an offer changes the booking: other events leave it as it is. */
    int offer = e->type == EVT_WAITLIST_OFFERED && w->booking_id;
    const char *p[11] = {w->entry_id,
                         w->event_id,
                         w->tier,
                         w->user_id,
                         ts_arena_printf(f->arena, "%" PRIu32, w->quantity),
                         status,
                         ts_arena_printf(f->arena, "%" PRId64, w->at),
                         offer ? w->booking_id : NULL,
                         offer ? ts_arena_printf(f->arena, "%" PRId64, w->expires_at) : NULL,
                         ts_arena_printf(f->arena, "%" PRIu64, seq),
                         ts_arena_printf(f->arena, "%" PRIu32, index)};
    return proj__fold_send(f, PROJ_F_WAITLIST, seq, 11, p);
}
