/* Routes a command to its pure decision (commands/). */
#include "engine/engine_int.h"

/* Designated, so that types appended by different branches cannot shift
 * each other's names. */
static const char *names[ENG_CMD_COUNT] = {
    [ENG_VENUE_CREATE] = "venue_create",
    [ENG_EVENT_CREATE] = "event_create",
    [ENG_EVENT_PUBLISH] = "event_publish",
    [ENG_INV_OPEN] = "inventory_open",
    [ENG_INV_HOLD] = "hold",
    [ENG_INV_RELEASE] = "release",
    [ENG_INV_EXPIRE] = "expire",
    [ENG_USER_REGISTER] = "user_register",
    [ENG_CLAIM] = "claim",
    [ENG_USER_LOGIN] = "user_login",
    [ENG_USER_REFRESH] = "user_refresh",
    [ENG_USER_LOGOUT] = "user_logout",
    [ENG_USER_GRANT_ROLE] = "user_grant_role",
    [ENG_USER_BLOCK] = "user_block",
    [ENG_EVENT_UPDATE] = "event_update",
    [ENG_PROMO_CREATE] = "promo_create",
    [ENG_PROMO_USE] = "promo_use",
    [ENG_PROMO_RELEASE] = "promo_release",
    [ENG_QUOTA_TAKE] = "quota_take",
    [ENG_QUOTA_CONFIRM] = "quota_confirm",
    [ENG_QUOTA_RETURN] = "quota_return",
    [ENG_INV_RESCHEDULE] = "inventory_reschedule",
    [ENG_INV_HOLD_BEST] = "hold_best",
    [ENG_WAIT_JOIN] = "waitlist_join",
    [ENG_WAIT_LEAVE] = "waitlist_leave",
    [ENG_WAIT_OFFER] = "waitlist_offer",
    [ENG_WAIT_LAPSE] = "waitlist_lapse",
    [ENG_WAIT_FULFIL] = "waitlist_fulfil",
    [ENG_WAIT_PASS] = "waitlist_pass",
};
// clang-format on

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
    case ENG_EVENT_UPDATE:
        event_update_decide(state, cmd->dep, &cmd->u.patch, ctx, out);
        break;
    case ENG_PROMO_CREATE:
        promo_create_decide(state, &cmd->u.promo, ctx, out);
        break;
    case ENG_PROMO_USE:
        promo_use_decide(state, cmd->u.promo_use.code, cmd->u.promo_use.booking_id,
                         cmd->u.promo_use.force, ctx, out);
        break;
    case ENG_PROMO_RELEASE:
        promo_release_decide(state, cmd->u.promo_use.booking_id, ctx, out);
        break;
    case ENG_QUOTA_TAKE:
        quota_take_decide(state, &cmd->u.quota.q, cmd->u.quota.max_per_user, ctx, out);
        break;
    case ENG_QUOTA_CONFIRM:
        quota_confirm_decide(state, &cmd->u.quota.q, ctx, out);
        break;
    case ENG_QUOTA_RETURN:
        /* RULE-TKT-3: a ticket's unit, or the whole booking's quota. */
        if (cmd->u.quota.q.ticket_id)
            quota_ticket_return_decide(state, &cmd->u.quota.q, cmd->u.quota.ticket_issued, ctx,
                                       out);
        else
            quota_return_decide(state, cmd->u.quota.q.event_id, cmd->u.quota.q.booking_id, ctx,
                                out);
        break;
    case ENG_INV_RESCHEDULE:
        inv_reschedule_decide(state, cmd->u.reschedule.starts_at, cmd->u.reschedule.ends_at, ctx,
                              out);
        break;
    case ENG_INV_HOLD_BEST:
        inv_best_hold_decide(state, &cmd->u.best.hold, cmd->u.best.accessible, ctx, out);
        break;
    case ENG_USER_LOGIN:
        user_login_decide(state, &cmd->u.login, ctx, out);
        break;
    case ENG_USER_REFRESH:
        user_refresh_decide(state, &cmd->u.refresh, ctx, out);
        break;
    case ENG_USER_LOGOUT:
        user_logout_decide(state, &cmd->u.refresh, ctx, out);
        break;
    case ENG_USER_GRANT_ROLE:
        user_grant_role_decide(state, cmd->u.role, ctx, out);
        break;
    case ENG_USER_BLOCK:
        user_block_decide(state, cmd->u.block.blocked, cmd->u.block.reason, ctx, out);
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
    /* issue 3, waitlists (RULE-WL-1) */
    case ENG_WAIT_JOIN:
        wait_join_decide(state, &cmd->u.wait, ctx, out);
        break;
    case ENG_WAIT_LEAVE:
        wait_leave_decide(state, &cmd->u.wait, ctx, out);
        break;
    case ENG_WAIT_OFFER:
        wait_offer_decide(state, &cmd->u.wait, ctx, out);
        break;
    case ENG_WAIT_LAPSE:
        wait_lapse_decide(state, &cmd->u.wait, ctx, out);
        break;
    case ENG_WAIT_FULFIL:
        wait_fulfil_decide(state, &cmd->u.wait, ctx, out);
        break;
    case ENG_WAIT_PASS:
        wait_pass_decide(state, &cmd->u.wait, ctx, out);
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
