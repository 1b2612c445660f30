/* Routes a command to its pure decision (commands/). */
#include "engine/engine_int.h"

static const char *names[ENG_CMD_COUNT] = {
    "venue_create", "event_create", "event_publish", "inventory_open", "hold",
    "release",      "expire",       "user_register", "claim",
};

/* Issue 3 (payments and refunds): named by a switch, so additions of other
 * issues merge without touching the table above. */
static const char *pay_name(eng_cmd_type_t t)
{
    switch (t) {
    case ENG_INV_PAYMENT_REQUEST:
        return "payment_request";
    case ENG_INV_WEBHOOK:
        return "webhook";
    case ENG_INV_CANCEL_BOOKING:
        return "cancel_booking";
    case ENG_INV_CANCEL_ALL:
        return "cancel_all";
    case ENG_EVENT_CANCEL:
        return "event_cancel";
    /* tickets and gates */
    case ENG_INV_CHECKIN:
        return "checkin";
    case ENG_INV_TRANSFER:
        return "transfer";
    default:
        return NULL;
    }
}

const char *eng_cmd_name(eng_cmd_type_t t)
{
    const char *n = pay_name(t);
    if (n)
        return n;
    return t < ENG_CMD_COUNT && names[t] ? names[t] : "unknown";
}

void eng__decide(const eng_cmd_t *cmd, const void *state, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    switch (cmd->type) {
    case ENG_VENUE_CREATE:
        venue_create_decide(state, &cmd->u.venue, ctx, out);
        break;
    case ENG_EVENT_CREATE:
        event_create_decide(state, cmd->dep, &cmd->u.event, ctx, out);
        break;
    case ENG_EVENT_PUBLISH:
        event_publish_decide(state, cmd->dep, cmd->u.ticket_key, ctx, out);
        break;
    case ENG_INV_OPEN:
        inv_open_decide(state, cmd->dep, cmd->u.hold.section, ctx, out);
        break;
    case ENG_INV_HOLD:
        inv_hold_decide(state, &cmd->u.hold, ctx, out);
        break;
    case ENG_INV_RELEASE:
        inv_release_decide(state, cmd->u.booking_id, ctx, out);
        break;
    case ENG_INV_EXPIRE:
        inv_expire_decide(state, cmd->u.expire_max, ctx, out);
        break;
    case ENG_USER_REGISTER:
        user_register_decide(state, &cmd->u.user, ctx, out);
        break;
    case ENG_CLAIM:
        claim_decide(state, cmd->u.claim.kind, cmd->u.claim.owner, ctx, out);
        break;
    /* issue 3, payments and refunds */
    case ENG_INV_PAYMENT_REQUEST:
        inv_payment_request_decide(state, cmd->u.pay.booking_id, cmd->u.pay.provider, ctx, out);
        break;
    case ENG_INV_WEBHOOK:
        inv_webhook_decide(state, &cmd->u.webhook, ctx, out);
        break;
    case ENG_INV_CANCEL_BOOKING:
        inv_cancel_booking_decide(state, cmd->u.booking_id, ctx, out);
        break;
    case ENG_INV_CANCEL_ALL:
        inv_cancel_all_decide(state, cmd->u.cancel.reason, cmd->u.cancel.max, ctx, out);
        break;
    case ENG_EVENT_CANCEL:
        event_cancel_decide(state, cmd->u.cancel.reason, ctx, out);
        break;
    case ENG_INV_CHECKIN: {
        /* The answer's kind (admitted, already used, revoked) is read back
         * from the committed state by the caller (RULE-TKT-2). */
        inv_checkin_result_t result;
        const inv_ticket_t *first = NULL;
        inv_checkin_decide(state, &cmd->u.checkin, ctx, out, &result, &first);
        break;
    }
    case ENG_INV_TRANSFER:
        inv_transfer_decide(state, cmd->u.transfer.ticket_id, cmd->u.transfer.to_user_id, ctx, out);
        break;
    case ENG_CMD_COUNT:
        break;
    }
}
