/* The event aggregate: create (draft) and publish (RULE-EVT-1). */
#include "commands/commands_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const evt_section_t *venue_section(const cmd_venue_state_t *v, const char *key)
{
    for (uint32_t i = 0; i < v->v.n_sections; i++)
        if (strcmp(v->v.sections[i].key, key) == 0)
            return &v->v.sections[i];
    return NULL;
}

static int currency_valid(const char *c)
{
    return c && strlen(c) == 3 && isupper((unsigned char)c[0]) && isupper((unsigned char)c[1]) &&
           isupper((unsigned char)c[2]);
}

int cmd__event_check_policy(const evt_policy_t *p, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (p->max_per_order < 1 || p->max_per_order > 50)
        return cmd_reject(out, ctx, "validation_failed", "policy.max_per_order", "1..50"), -1;
    if (p->max_per_user < p->max_per_order || p->max_per_user > 1000)
        return cmd_reject(out, ctx, "validation_failed", "policy.max_per_user",
                          "max_per_order..1000"),
               -1;
    if (p->hold_minutes < 1 || p->hold_minutes > 24 * 60)
        return cmd_reject(out, ctx, "validation_failed", "policy.hold_minutes", "1..1440"), -1;
    if (p->service_fee_bps > 10000 || p->vat_bps > 10000)
        return cmd_reject(out, ctx, "validation_failed", "policy",
                          "service_fee_bps and vat_bps are 0..10000"),
               -1;
    for (uint32_t i = 0; i < p->n_refund; i++)
        if (p->refund[i].percent > 100)
            return cmd_reject(out, ctx, "validation_failed", "policy.refund",
                              "refund percent is 0..100"),
                   -1;
    return 0;
}

int cmd__event_check_details(const evt_event_created_t *e, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!e->title || !e->title[0] || strlen(e->title) > 200)
        return cmd_reject(out, ctx, "validation_failed", "title", "title is required (1..200)"), -1;
    if (e->starts_at <= 0 || e->ends_at <= e->starts_at)
        return cmd_reject(out, ctx, "validation_failed", "ends_at",
                          "starts_at and ends_at are required and ends_at > starts_at"),
               -1;
    return 0;
}

/* Tiers against the venue: sections exist, one tier per section, one
 * currency. */
int cmd__event_check_sale(const evt_event_created_t *e, const cmd_venue_state_t *venue,
                          const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (e->n_tiers == 0 || e->n_tiers > 50)
        return cmd_reject(out, ctx, "validation_failed", "tiers", "1..50 tiers"), -1;
    for (uint32_t i = 0; i < e->n_tiers; i++) {
        const evt_tier_t *t = &e->tiers[i];
        if (!ts_key_valid(t->key))
            return cmd_reject(out, ctx, "validation_failed", "tiers.key",
                              "tier %u: key must match [A-Za-z0-9_]{1,16}", i),
                   -1;
        if (!t->name || !t->name[0])
            return cmd_reject(out, ctx, "validation_failed", "tiers.name",
                              "tier %s: name is required", t->key),
                   -1;
        if (t->price.amount < 0 || !currency_valid(t->price.currency))
            return cmd_reject(out, ctx, "validation_failed", "tiers.price",
                              "tier %s: price is a non-negative amount in minor units and an "
                              "ISO-4217 currency",
                              t->key),
                   -1;
        if (t->price.amount > 100000000)
            return cmd_reject(out, ctx, "validation_failed", "tiers.price",
                              "tier %s: price too large", t->key),
                   -1;
        if (t->sale_starts_at && t->sale_ends_at && t->sale_ends_at <= t->sale_starts_at)
            return cmd_reject(out, ctx, "validation_failed", "tiers.sale_ends_at",
                              "tier %s: sale_ends_at must be after sale_starts_at", t->key),
                   -1;
        if (t->n_sections == 0)
            return cmd_reject(out, ctx, "validation_failed", "tiers.sections",
                              "tier %s: at least one section", t->key),
                   -1;
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(e->tiers[j].key, t->key) == 0)
                return cmd_reject(out, ctx, "validation_failed", "tiers.key",
                                  "tier key %s is repeated", t->key),
                       -1;
            if (strcmp(e->tiers[j].price.currency, t->price.currency) != 0)
                return cmd_reject(out, ctx, "validation_failed", "tiers.price",
                                  "all tiers use one currency"),
                       -1;
        }
        for (uint32_t k = 0; k < t->n_sections; k++) {
            if (!venue_section(venue, t->sections[k]))
                return cmd_reject(out, ctx, "validation_failed", "tiers.sections",
                                  "tier %s: section %s is not in the venue", t->key,
                                  t->sections[k]),
                       -1;
            /* A section is sold by exactly one tier: its shard has one price. */
            for (uint32_t j = 0; j <= i; j++)
                for (uint32_t m = 0; m < e->tiers[j].n_sections; m++)
                    if ((j < i || m < k) && strcmp(e->tiers[j].sections[m], t->sections[k]) == 0)
                        return cmd_reject(out, ctx, "validation_failed", "tiers.sections",
                                          "section %s is in more than one tier", t->sections[k]),
                               -1;
        }
    }
    return 0;
}

int event_create_decide(const cmd_event_state_t *s, const cmd_venue_state_t *venue,
                        const evt_event_created_t *e, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (s->exists)
        return cmd_reject(out, ctx, "conflict", NULL, "event already exists");
    if (!venue || !venue->exists || !e->venue_id || strcmp(venue->v.venue_id, e->venue_id) != 0)
        return cmd_reject(out, ctx, "validation_failed", "venue_id", "unknown venue");
    if (cmd__event_check_details(e, ctx, out) != 0 ||
        cmd__event_check_sale(e, venue, ctx, out) != 0 ||
        cmd__event_check_policy(&e->policy, ctx, out) != 0)
        return 0;

    evt_event_t *ev = cmd_emit(out, EVT_EVENT_CREATED);
    ev->u.event_created = *e;
    ev->u.event_created.event_id = ctx->new_id;
    ev->u.event_created.organizer_id = ctx->actor;
    ev->u.event_created.city = venue->v.city;
    out->ref = ctx->new_id;
    return 0;
}

const evt_tier_t *event_tier_of_section(const cmd_event_state_t *s, const char *section)
{
    for (uint32_t i = 0; i < s->ev.n_tiers; i++)
        for (uint32_t k = 0; k < s->ev.tiers[i].n_sections; k++)
            if (strcmp(s->ev.tiers[i].sections[k], section) == 0)
                return &s->ev.tiers[i];
    return NULL;
}

/* RULE-TKT-1: the standard base64 of a 32-byte Ed25519 public key. */
static int ticket_key_valid(const char *k)
{
    if (!k || strlen(k) != 44 || k[43] != '=')
        return 0;
    for (int i = 0; i < 43; i++)
        if (!isalnum((unsigned char)k[i]) && k[i] != '+' && k[i] != '/')
            return 0;
    return 1;
}

int event_publish_decide(const cmd_event_state_t *s, const cmd_venue_state_t *venue,
                         const char *ticket_key, const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (!s->exists)
        return cmd_reject(out, ctx, "not_found", NULL, "no such event");
    /* RULE-AUTH-2: organizers act on their own events only. */
    if (!ctx->actor_is_admin && strcmp(ctx->actor, s->ev.organizer_id) != 0)
        return cmd_reject(out, ctx, "forbidden", NULL, "only the organizer may publish");
    if (s->status != CMD_EVENT_DRAFT)
        return cmd_reject(out, ctx, "conflict", NULL, "event is already published");
    if (!venue || !venue->exists || strcmp(venue->v.venue_id, s->ev.venue_id) != 0)
        return cmd_reject(out, ctx, "conflict", NULL, "the event's venue is not available");
    if (!ticket_key_valid(ticket_key))
        return cmd_reject(out, ctx, "validation_failed", "ticket_key",
                          "the event's ticket key must be a base64 Ed25519 public key");

    /* RULE-EVT-1: freeze, in venue order, every section a tier sells. */
    evt_section_t *secs = ts_arena_alloc(ctx->arena, venue->v.n_sections * sizeof(*secs));
    uint32_t n = 0;
    for (uint32_t i = 0; i < venue->v.n_sections; i++)
        if (event_tier_of_section(s, venue->v.sections[i].key))
            secs[n++] = venue->v.sections[i];
    evt_event_t *ev = cmd_emit(out, EVT_EVENT_PUBLISHED);
    ev->u.event_published.event_id = s->ev.event_id;
    ev->u.event_published.n_sections = n;
    ev->u.event_published.sections = secs;
    ev->u.event_published.ticket_key = ticket_key;
    out->ref = s->ev.event_id;
    return 0;
}

/* ---- state ---- */

void cmd__copy_tiers(ts_arena_t *a, evt_tier_t **dst, const evt_tier_t *src, uint32_t n)
{
    evt_tier_t *t = ts_arena_alloc(a, n * sizeof(*t));
    for (uint32_t i = 0; i < n; i++) {
        t[i] = src[i];
        t[i].key = ts_arena_strdup(a, src[i].key);
        t[i].name = ts_arena_strdup(a, src[i].name);
        t[i].sections = ts_arena_alloc(a, src[i].n_sections * sizeof(char *));
        for (uint32_t k = 0; k < src[i].n_sections; k++)
            t[i].sections[k] = ts_arena_strdup(a, src[i].sections[k]);
    }
    *dst = t;
}

void cmd__copy_policy(ts_arena_t *a, evt_policy_t *dst, const evt_policy_t *src)
{
    *dst = *src;
    dst->refund = src->n_refund
                      ? ts_arena_memdup(a, src->refund, src->n_refund * sizeof(evt_refund_step_t))
                      : NULL;
}

static void *event_new(void)
{
    cmd_event_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    ts_arena_init(&s->arena, 4096);
    ts_map_init(&s->promo_by_code);
    ts_map_init(&s->use_by_booking);
    return s;
}

static void event_free(void *p)
{
    cmd_event_state_t *s = p;
    if (!s)
        return;
    cmd__promo_deinit(s);
    ts_arena_deinit(&s->arena);
    free(s);
}

/* The description of EventCreated or EventUpdated, copied into the state. A
 * PATCH keeps the event's identity: id, venue, organizer and city. */
static void copy_description(cmd_event_state_t *s, const evt_event_created_t *c)
{
    ts_arena_t *a = &s->arena;
    s->ev = *c;
    s->ev.event_id = ts_arena_strdup(a, c->event_id);
    s->ev.venue_id = ts_arena_strdup(a, c->venue_id);
    s->ev.organizer_id = ts_arena_strdup(a, c->organizer_id);
    s->ev.title = ts_arena_strdup(a, c->title);
    s->ev.description = ts_arena_strdup(a, c->description);
    s->ev.genre = ts_arena_strdup(a, c->genre);
    s->ev.city = ts_arena_strdup(a, c->city);
    cmd__copy_tiers(a, &s->ev.tiers, c->tiers, c->n_tiers);
    cmd__copy_policy(a, &s->ev.policy, &c->policy);
}

static void event_apply(void *p, const evt_event_t *e)
{
    cmd_event_state_t *s = p;
    ts_arena_t *a = &s->arena;
    if (e->type == EVT_EVENT_CREATED) {
        s->exists = 1;
        s->status = CMD_EVENT_DRAFT;
        copy_description(s, &e->u.event_created);
    } else if (e->type == EVT_EVENT_UPDATED && s->exists) {
        evt_event_created_t keep = s->ev;
        copy_description(s, &e->u.event_created);
        s->ev.event_id = keep.event_id;
        s->ev.venue_id = keep.venue_id;
        s->ev.organizer_id = keep.organizer_id;
        s->ev.city = keep.city;
    } else if (e->type == EVT_EVENT_PUBLISHED) {
        const evt_event_published_t *pub = &e->u.event_published;
        s->status = CMD_EVENT_PUBLISHED;
        s->published.event_id = s->ev.event_id;
        s->published.n_sections = pub->n_sections;
        s->published.sections = ts_arena_alloc(a, pub->n_sections * sizeof(evt_section_t));
        for (uint32_t i = 0; i < pub->n_sections; i++)
            evt_section_copy(a, &s->published.sections[i], &pub->sections[i]);
        s->published.ticket_key = ts_arena_strdup(a, pub->ticket_key);
    } else if (e->type == EVT_EVENT_CANCELLED) {
        /* The frozen layout stays: the cancellation saga walks its shards. */
        s->status = CMD_EVENT_CANCELLED;
    } else if (s->exists) {
        cmd__promo_apply(s, e);
    }
}

/* The snapshot: EventCreated with the current description (an update is
 * folded into it), EventPublished, the promos and their uses, then
 * EventCancelled. */
static ts_status event_encode(const void *p, ts_buf_t *out)
{
    const cmd_event_state_t *s = p;
    if (!s->exists)
        return cmd__snapshot_encode(NULL, 0, out);
    uint32_t n = 0;
    evt_event_t *e = calloc(3 + cmd__promo_snapshot_count(s), sizeof(*e));
    if (!e)
        abort();
    e[n].type = EVT_EVENT_CREATED;
    e[n++].u.event_created = s->ev;
    /* A cancelled event keeps the layout it was published with, if any. */
    if (s->published.event_id) {
        e[n].type = EVT_EVENT_PUBLISHED;
        e[n++].u.event_published = s->published;
    }
    cmd__promo_snapshot(s, e, &n);
    if (s->status == CMD_EVENT_CANCELLED) {
        e[n].type = EVT_EVENT_CANCELLED;
        e[n++].u.event_cancelled.event_id = s->ev.event_id;
    }
    ts_status st = cmd__snapshot_encode(e, n, out);
    free(e);
    return st;
}

static void *event_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__event_ops, data, len);
}

const cmd_aggregate_ops_t cmd__event_ops = {
    .kind = CMD_AGG_EVENT,
    .name = "event",
    .format_version = 2, /* 2: updates, cancellation, promos and their uses */
    .state_new = event_new,
    .state_free = event_free,
    .apply = event_apply,
    .encode = event_encode,
    .decode = event_decode,
};
