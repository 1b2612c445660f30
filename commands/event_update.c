/*
 * PATCH /events/{id}: the event's new description (EventUpdated, the shape of
 * EventCreated, whole rather than a diff, so a reader needs no history).
 *
 * What may change when. Title, description, genre and the times, while the
 * event is a draft or published; a published event whose times change has
 * its shards told (InventoryRescheduled, by the caller). Tiers and policy
 * only while draft: a published event's shards were opened with them
 * (RULE-EVT-1), and holds, fees and refunds already rest on them.
 */
#include "commands/commands_int.h"

#include <string.h>

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The current policy with the fields the patch names replaced. */
static void merge_policy(evt_policy_t *dst, const evt_policy_t *cur, const event_patch_t *p)
{
    *dst = *cur;
    uint32_t f = p->policy_fields;
    if (f & EVENT_POLICY_MAX_PER_ORDER)
        dst->max_per_order = p->policy.max_per_order;
    if (f & EVENT_POLICY_MAX_PER_USER)
        dst->max_per_user = p->policy.max_per_user;
    if (f & EVENT_POLICY_HOLD_MINUTES)
        dst->hold_minutes = p->policy.hold_minutes;
    if (f & EVENT_POLICY_TRANSFER_CUTOFF)
        dst->transfer_cutoff_hours = p->policy.transfer_cutoff_hours;
    if (f & EVENT_POLICY_SERVICE_FEE)
        dst->service_fee_bps = p->policy.service_fee_bps;
    if (f & EVENT_POLICY_VAT)
        dst->vat_bps = p->policy.vat_bps;
    if (f & EVENT_POLICY_REFUND) {
        dst->n_refund = p->policy.n_refund;
        dst->refund = p->policy.refund;
    }
}

static int same_policy(const evt_policy_t *a, const evt_policy_t *b)
{
    return a->max_per_order == b->max_per_order && a->max_per_user == b->max_per_user &&
           a->hold_minutes == b->hold_minutes &&
           a->transfer_cutoff_hours == b->transfer_cutoff_hours &&
           a->service_fee_bps == b->service_fee_bps && a->vat_bps == b->vat_bps &&
           a->n_refund == b->n_refund &&
           (a->n_refund == 0 ||
            memcmp(a->refund, b->refund, a->n_refund * sizeof(*a->refund)) == 0);
}

static int same_tiers(const evt_tier_t *a, uint32_t na, const evt_tier_t *b, uint32_t nb)
{
    if (na != nb)
        return 0;
    for (uint32_t i = 0; i < na; i++) {
        if (!same_str(a[i].key, b[i].key) || !same_str(a[i].name, b[i].name) ||
            a[i].price.amount != b[i].price.amount ||
            strcmp(a[i].price.currency, b[i].price.currency) != 0 ||
            a[i].sale_starts_at != b[i].sale_starts_at || a[i].sale_ends_at != b[i].sale_ends_at ||
            a[i].n_sections != b[i].n_sections)
            return 0;
        for (uint32_t k = 0; k < a[i].n_sections; k++)
            if (!same_str(a[i].sections[k], b[i].sections[k]))
                return 0;
    }
    return 1;
}

int event_update_decide(const cmd_event_state_t *s, const cmd_venue_state_t *venue,
                        const event_patch_t *p, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such event");
    /* RULE-AUTH-2: organizers act on their own events only. */
    if (!ctx->actor_is_admin && (!ctx->actor || strcmp(ctx->actor, s->ev.organizer_id) != 0))
        return cmd_reject(out, ctx, "forbidden", NULL, "only the organizer may change the event");
    if (s->status != CMD_EVENT_DRAFT && s->status != CMD_EVENT_PUBLISHED)
        return cmd_reject(out, ctx, "conflict", NULL, "the event can no longer be changed");
    out->ref = s->ev.event_id;
    /* RULE-EVT-1: what the shards were opened with stays as it was. */
    if (s->status == CMD_EVENT_PUBLISHED && (p->fields & EVENT_PATCH_TIERS))
        return cmd_reject(out, ctx, "conflict", "tiers",
                          "tiers can be changed only while the event is a draft");
    if (s->status == CMD_EVENT_PUBLISHED && (p->fields & EVENT_PATCH_POLICY))
        return cmd_reject(out, ctx, "conflict", "policy",
                          "the policy can be changed only while the event is a draft");

    evt_event_created_t e = s->ev;
    if (p->fields & EVENT_PATCH_TITLE)
        e.title = p->title;
    if (p->fields & EVENT_PATCH_DESCRIPTION)
        e.description = p->description;
    if (p->fields & EVENT_PATCH_GENRE)
        e.genre = p->genre;
    if (p->fields & EVENT_PATCH_STARTS_AT)
        e.starts_at = p->starts_at;
    if (p->fields & EVENT_PATCH_ENDS_AT)
        e.ends_at = p->ends_at;
    if (p->fields & EVENT_PATCH_TIERS) {
        e.n_tiers = p->n_tiers;
        e.tiers = p->tiers;
    }
    if (p->fields & EVENT_PATCH_POLICY)
        merge_policy(&e.policy, &s->ev.policy, p);

    if (cmd__event_check_details(&e, ctx, out) != 0)
        return 0;
    if (p->fields & EVENT_PATCH_TIERS) {
        if (!venue || !venue->exists || strcmp(venue->v.venue_id, s->ev.venue_id) != 0)
            return cmd_reject(out, ctx, "conflict", NULL, "the event's venue is not available");
        if (cmd__event_check_sale(&e, venue, ctx, out) != 0)
            return 0;
    }
    if ((p->fields & EVENT_PATCH_POLICY) && cmd__event_check_policy(&e.policy, ctx, out) != 0)
        return 0;

    /* Nothing changed: nothing to record (a PATCH repeated). */
    if (same_str(e.title, s->ev.title) && same_str(e.description, s->ev.description) &&
        same_str(e.genre, s->ev.genre) && e.starts_at == s->ev.starts_at &&
        e.ends_at == s->ev.ends_at && same_tiers(e.tiers, e.n_tiers, s->ev.tiers, s->ev.n_tiers) &&
        same_policy(&e.policy, &s->ev.policy))
        return 0;
    evt_event_t *ev = cmd_emit(out, EVT_EVENT_UPDATED);
    ev->u.event_created = e;
    return 0;
}
