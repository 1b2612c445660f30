/* Routes a command to its pure decision (commands/). */
#include "engine/engine_int.h"

static const char *names[ENG_CMD_COUNT] = {
    "venue_create", "event_create",  "event_publish", "inventory_open", "hold",     "release",
    "expire",       "user_register", "claim",         "checkin",        "transfer",
};

const char *eng_cmd_name(eng_cmd_type_t t)
{
    return t < ENG_CMD_COUNT ? names[t] : "unknown";
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
