/* The event aggregate: cancellation by its organizer (RULE-REF-1: the
 * organizer cancelling refunds everything and revokes every ticket; the
 * shards do that, driven by the cancellation saga, once EventCancelled is in
 * the log). */
#include "commands/commands_int.h"

#include <string.h>

int event_cancel_decide(const cmd_event_state_t *s, const char *reason, const cmd_ctx_t *ctx,
                        cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such event");
    /* RULE-AUTH-2: organizers act on their own events only. */
    if (!ctx->actor_is_admin && strcmp(ctx->actor, s->ev.organizer_id) != 0)
        return cmd_reject(out, ctx, "forbidden", NULL, "only the organizer may cancel");
    if (s->status == CMD_EVENT_CANCELLED)
        return cmd_reject(out, ctx, "conflict", NULL, "the event is already cancelled");
    if (reason && strlen(reason) > 500)
        return cmd_reject(out, ctx, "validation_failed", "reason", "at most 500 characters");
    evt_event_t *ev = cmd_emit(out, EVT_EVENT_CANCELLED);
    ev->u.event_cancelled.event_id = s->ev.event_id;
    ev->u.event_cancelled.reason = reason && reason[0] ? reason : "organizer";
    out->ref = s->ev.event_id;
    return 0;
}
