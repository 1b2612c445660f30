/*
 * Tickets of an inventory shard: check-in at the gate (RULE-TKT-2) and
 * transfer to another user (RULE-TKT-3). Tickets are issued by the confirm
 * (inventory_pay.c, RULE-TKT-1); their codes are signed by the engine, and a
 * code's signature is checked before these decisions run.
 */
#include "commands/commands_int.h"

#include <string.h>

const inv_ticket_t *inv_ticket_find(const inv_state_t *s, const char *ticket_id)
{
    int32_t i = ticket_id ? ts_map_get(&s->by_ticket, ticket_id) : -1;
    return i < 0 ? NULL : &s->tickets[i];
}

const char *inv_ticket_status_name(const inv_ticket_t *t)
{
    switch (t->status) {
    case INV_TICKET_VALID:
        return "valid";
    case INV_TICKET_USED:
        return "used";
    case INV_TICKET_CANCELLED:
        return "cancelled";
    case INV_TICKET_TRANSFERRED:
        return "transferred";
    }
    return "unknown";
}

int inv_checkin_decide(const inv_state_t *s, const inv_checkin_cmd_t *c, const cmd_ctx_t *ctx,
                       cmd_result_t *out, inv_checkin_result_t *result, const inv_ticket_t **first)
{
    *first = NULL;
    const inv_ticket_t *t = inv_ticket_find(s, c->ticket_id);
    if (!t) {
        *result = INV_CHECKIN_INVALID;
        return 0;
    }
    out->ref = t->t.ticket_id;
    /* RULE-TKT-2: a transferred or cancelled ticket, or a code of another
     * version than the ticket's, is revoked. */
    if (t->status == INV_TICKET_TRANSFERRED || t->status == INV_TICKET_CANCELLED ||
        t->t.version != c->version) {
        *result = INV_CHECKIN_REVOKED;
        return 0;
    }
    /* RULE-REF-1: the event is cancelled; its tickets are being revoked in
     * batches, and none admits in the meantime. */
    if (s->cancelled) {
        *result = INV_CHECKIN_REVOKED;
        return 0;
    }
    if (t->status == INV_TICKET_USED) {
        /* A scanner's retry (the first scan's nonce) gets the first answer;
         * any other scan is told when and where the ticket was used. */
        *first = t;
        int retry = c->nonce && t->nonce && strcmp(c->nonce, t->nonce) == 0;
        *result = retry ? INV_CHECKIN_ADMITTED : INV_CHECKIN_ALREADY_USED;
        return 0;
    }
    evt_event_t *e = cmd_emit(out, EVT_TICKET_CHECKED_IN);
    e->u.ticket_checked_in.ticket_id = t->t.ticket_id;
    e->u.ticket_checked_in.at = ctx->now;
    e->u.ticket_checked_in.gate = c->gate;
    e->u.ticket_checked_in.nonce = c->nonce;
    *result = INV_CHECKIN_ADMITTED;
    return 0;
}

int inv_transfer_decide(const inv_state_t *s, const char *ticket_id, const char *to_user_id,
                        const cmd_ctx_t *ctx, cmd_result_t *out)
{
    const inv_ticket_t *t = inv_ticket_find(s, ticket_id);
    if (!t)
        return cmd_reject(out, ctx, "not_found", NULL, "no such ticket");
    out->ref = t->t.ticket_id;
    int holder = ctx->actor && t->t.holder_id && strcmp(ctx->actor, t->t.holder_id) == 0;
    if (!holder && !ctx->actor_is_admin)
        return cmd_reject(out, ctx, "forbidden", NULL, "not your ticket");
    if (!to_user_id || !to_user_id[0])
        return cmd_reject(out, ctx, "validation_failed", "to_email", "no recipient");
    if (t->t.holder_id && strcmp(to_user_id, t->t.holder_id) == 0)
        return cmd_reject(out, ctx, "validation_failed", "to_email",
                          "the ticket is already the recipient's");
    /* RULE-TKT-3: used, cancelled or already transferred tickets stay. */
    if (t->status != INV_TICKET_VALID)
        return cmd_reject(out, ctx, "conflict", NULL, "the ticket is %s",
                          inv_ticket_status_name(t));
    /* RULE-TKT-3: closed at exactly start − transfer_cutoff_hours, and for
     * good once the event is cancelled. */
    int64_t cutoff = s->info.starts_at - (int64_t)s->info.transfer_cutoff_hours * 3600000;
    if (ctx->now >= cutoff || s->cancelled)
        return cmd_reject(out, ctx, "transfer_closed", NULL,
                          "transfers closed %u hours before the start",
                          s->info.transfer_cutoff_hours);
    evt_event_t *e = cmd_emit(out, EVT_TICKET_TRANSFERRED);
    evt_ticket_transferred_t *x = &e->u.ticket_transferred;
    x->ticket_id = t->t.ticket_id;
    x->new_ticket_id = ctx->new_id;
    x->to_user_id = to_user_id;
    x->version = t->t.version + 1;
    x->at = ctx->now;
    out->ref = ctx->new_id;
    return 0;
}
