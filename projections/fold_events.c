/* The event aggregate's v2 events in the catalog: EventUpdated (a PATCH)
 * rewrites the event's details, times, tiers and policy. Kept apart from
 * fold.c, which folds the v1 events and the holds. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdlib.h>

static const char *json_text(ts_arena_t *a, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    const char *out = s ? ts_arena_strdup(a, s) : NULL;
    free(s);
    json_decref(j);
    return out;
}

static ts_status fold_event_updated(proj__fold_t *f, const evt_event_created_t *e, uint64_t seq)
{
    if (!e->event_id || !e->title)
        return TS_ERR_INVALID;
    const char *p[9] = {e->event_id,
                        e->title,
                        e->description,
                        e->genre,
                        ts_arena_printf(f->arena, "%" PRId64, e->starts_at),
                        ts_arena_printf(f->arena, "%" PRId64, e->ends_at),
                        json_text(f->arena, proj__tiers_json(e->tiers, e->n_tiers)),
                        json_text(f->arena, proj__policy_json(&e->policy)),
                        ts_arena_printf(f->arena, "%" PRIu64, seq)};
    return proj__fold_send(f, PROJ_F_EVENT_UPDATED, seq, 9, p);
}

ts_status proj__fold_event_v2(proj__fold_t *f, const evt_event_t *e, uint64_t seq)
{
    switch (e->type) {
    case EVT_EVENT_UPDATED:
        return fold_event_updated(f, &e->u.event_created, seq);
    default:
        return TS_OK;
    }
}
