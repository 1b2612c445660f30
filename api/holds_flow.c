/*
 * The hold flow (domain-v2.md, "Hold"), shared by POST /events/{id}/holds
 * and POST /events/{id}/holds/best:
 *
 *   1. promo_code given: PromoUsed on tix.event.<event> (RULE-PROMO-1), which
 *      refuses an unknown, expired or used-up code;
 *   2. QuotaTaken on tix.quota.<event>.<bucket> (RULE-HOLD-4; the user's
 *      bucket, eng_quota_subject), which refuses a user past max_per_user;
 *   3. the hold on its shard tix.inv.<event>.<section>, with the promo's
 *      terms.
 *
 * Each step is one aggregate's decision; JetStream has no transaction across
 * them, so a later step's rejection gives back what the earlier ones took
 * (QuotaReturned, PromoReleased). A crash between steps leaves at worst a
 * quota that lapses at the hold's expiry, or a promo use that
 * eng_booking_settle gives back when it is run for the booking. All three
 * are keyed by the booking id, which an Idempotency-Key fixes, so a retried
 * request repeats each step instead of taking twice.
 *
 * Best available tries the candidate sections in order: each shard is first
 * asked, read-only, what it would decide now (a dry run of the pure
 * decision), and only a shard that would place the hold is sent the flow,
 * so sections without room cost no commits. The real decision is still the
 * lane's: a shard that filled up meanwhile refuses, and the next one is
 * tried.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

/* Held quota outlives its hold by this much, so that it never lapses before
 * the seats it stands for (the hold is decided a few ms after the quota);
 * the bookings saga returns it when the hold ends. */
#define API_QUOTA_MARGIN_MS 5000

int api_parse_promo_code(api_req_t *r, json_t *j, const char **code)
{
    json_t *promo = json_object_get(j, "promo_code");
    *code = NULL;
    if (!promo || json_is_null(promo))
        return 0;
    if (!json_is_string(promo) || json_string_length(promo) == 0 ||
        json_string_length(promo) > PROMO_CODE_MAX)
        return api_problem_validation(r, "promo_code", "a promo code (string, 1..32)"), -1;
    *code = ts_arena_strdup(&r->arena, json_string_value(promo));
    return 0;
}

const char *api__booking_id(api_req_t *r, const char *event_id, const char *section)
{
    /* With an Idempotency-Key the command id is derived from it: so is the
     * booking id, and a retry finds its promo use, quota and hold. */
    const char *rnd = r->command_id && strncmp(r->command_id, "idem-", 5) == 0
                          ? ts_arena_strndup(&r->arena, r->command_id + 5, 16)
                          : eng_new_id(&r->arena, "");
    return ts_arena_printf(&r->arena, "bk-%s-%s-%s", event_id, section, rnd);
}

typedef struct {
    const char *code;
    int found;
    char canonical[PROMO_CODE_MAX + 1];
    uint32_t percent_off;
    int64_t amount_off;
} promo_terms_t;

static void copy_terms(const void *state, void *arg)
{
    promo_terms_t *t = arg;
    const cmd_promo_t *p = promo_find(state, t->code);
    if (!p)
        return;
    t->found = 1;
    snprintf(t->canonical, sizeof(t->canonical), "%s", p->p.code);
    t->percent_off = p->p.percent_off;
    t->amount_off = p->p.amount_off;
}

/* Gives back what steps 1 and 2 took for booking (best effort: a failure
 * here is logged; the quota lapses by itself, the saga settles the rest). */
static void compensate(api_req_t *r, const api_hold_t *hp, const char *booking, int promo,
                       int quota)
{
    eng_outcome_t o;
    if (quota) {
        eng_cmd_t q = {.type = ENG_QUOTA_RETURN};
        q.subject = eng_quota_subject(&r->arena, hp->event_id, r->user_id);
        q.u.quota.q.event_id = hp->event_id;
        q.u.quota.q.booking_id = booking;
        q.u.quota.q.user_id = r->user_id;
        if (api_execute_raw(r, &q, &o) != TS_OK)
            fprintf(stderr, "api: returning the quota of %s failed\n", booking);
    }
    if (promo) {
        eng_cmd_t p = {.type = ENG_PROMO_RELEASE};
        p.subject = ts_arena_printf(&r->arena, "tix.event.%s", hp->event_id);
        p.u.promo_use.booking_id = booking;
        if (api_execute_raw(r, &p, &o) != TS_OK)
            fprintf(stderr, "api: releasing the promo use of %s failed\n", booking);
    }
}

ts_status api_hold_place(api_req_t *r, api_hold_t *hp, eng_cmd_t *cmd, eng_outcome_t *o)
{
    inv_hold_cmd_t *h = cmd->type == ENG_INV_HOLD_BEST ? &cmd->u.best.hold : &cmd->u.hold;
    const char *booking = cmd->new_id;
    const char *event_subject = ts_arena_printf(&r->arena, "tix.event.%s", hp->event_id);
    int promo = 0, quota = 0;
    ts_status st;
    memset(o, 0, sizeof(*o));
    hp->refused_by = 1;

    /* RULE-HOLD-2 before anything is taken: an order past max_per_order is
     * refused as the shard would refuse it, whatever the user's quota. */
    const evt_policy_t *pol = &hp->ev->ev.policy;
    if (hp->quantity > pol->max_per_order) {
        cmd_reject_t *rj = ts_arena_alloc(&r->arena, sizeof(*rj));
        memset(rj, 0, sizeof(*rj));
        rj->code = "limit_exceeded";
        rj->field = h->n_seats ? "seats" : "quantity";
        rj->detail = ts_arena_printf(&r->arena, "at most %u per order", pol->max_per_order);
        rj->limit = pol->max_per_order;
        o->reject = rj;
        hp->refused_by = 3;
        /* Counted as the hold command refused that it is. */
        eng_metrics_command(r->srv->cfg.engine, cmd->type, "rejected", 0);
        return TS_OK;
    }

    /* 1. RULE-PROMO-1: reserve a use; then the hold gets the promo's terms
     * (they never change once created). */
    if (hp->promo_code) {
        eng_cmd_t p = {.type = ENG_PROMO_USE, .subject = event_subject};
        p.u.promo_use.code = hp->promo_code;
        p.u.promo_use.booking_id = booking;
        if ((st = api_execute_raw(r, &p, o)) != TS_OK || o->reject)
            return st;
        promo = 1;
        promo_terms_t t = {.code = hp->promo_code};
        st = eng_read(r->srv->cfg.engine, event_subject, copy_terms, &t);
        if (st != TS_OK || !t.found) {
            compensate(r, hp, booking, promo, quota);
            return st != TS_OK ? st : TS_ERR_NOT_FOUND;
        }
        h->promo_code = ts_arena_strdup(&r->arena, t.canonical);
        h->percent_off = t.percent_off;
        h->amount_off = t.amount_off;
    }

    /* 2. RULE-HOLD-4: the user's quota for the event, held as long as the
     * hold (RULE-HOLD-3). */
    uint32_t minutes = h->hold_minutes ? h->hold_minutes : pol->hold_minutes;
    eng_cmd_t q = {.type = ENG_QUOTA_TAKE};
    q.subject = eng_quota_subject(&r->arena, hp->event_id, r->user_id);
    q.u.quota.q.event_id = hp->event_id;
    q.u.quota.q.booking_id = booking;
    q.u.quota.q.user_id = r->user_id;
    q.u.quota.q.quantity = hp->quantity;
    q.u.quota.q.expires_at = api__now_ms() + (int64_t)minutes * 60000 + API_QUOTA_MARGIN_MS;
    q.u.quota.max_per_user = pol->max_per_user;
    hp->refused_by = 2;
    /* 2 and 3 in one call: the hold goes to its shard as soon as the quota
     * is in the log, without waking this thread in between (two context
     * switches less per hold); it is never decided before. */
    eng_outcome_t qo;
    int ran = 0;
    st = api_execute_then(r, &q, cmd, &qo, o, &ran);
    if (!ran) {
        *o = qo;
        compensate(r, hp, booking, promo, 0);
        return st;
    }
    quota = 1;
    hp->refused_by = 3;

    /* 3. The hold, decided above. A shard of a published event that was
     * never opened (a crash right after publish) is opened now, then the
     * hold is retried. */
    if (st == TS_OK && o->reject && strcmp(o->reject->code, "not_on_sale") == 0 &&
        !o->reject->field && api__published_section(hp->ev, h->section) &&
        api__shard_open(r, hp->ev, cmd->subject, h->section) == 0)
        st = api_execute_raw(r, cmd, o);
    /* Refused, or the command had already placed another booking: what
     * this booking id took goes back. */
    if (st != TS_OK || o->reject || (o->ref && strcmp(o->ref, booking) != 0))
        compensate(r, hp, booking, promo, quota);
    return st;
}

/* ---- POST /events/{id}/holds/best ---- */

typedef struct {
    const inv_hold_cmd_t *hold;
    int accessible;
    int64_t now;
    ts_arena_t *arena;
    const char *command_id;
    /* what the lane would decide now */
    int opened;
    int would_place;
    cmd_reject_t reject;
} dry_run_t;

static void dry_run(const void *state, void *arg)
{
    dry_run_t *d = arg;
    const inv_state_t *s = state;
    d->opened = s->opened;
    cmd_ctx_t ctx = {.now = d->now,
                     .actor = "dry-run",
                     .command_id = d->command_id,
                     .new_id = "dry-run",
                     .arena = d->arena};
    cmd_result_t *out = ts_arena_alloc(d->arena, sizeof(*out));
    memset(out, 0, sizeof(*out));
    inv_best_hold_decide(s, d->hold, d->accessible, &ctx, out);
    d->would_place = !out->reject;
    if (out->reject)
        d->reject = *out->reject; /* strings in the request arena or static */
}

/* The order of preference among the refusals of several sections: a
 * section with enough seats but none together says more than one without
 * enough seats, and either says more than any other refusal. */
static int refusal_rank(const char *code)
{
    return strcmp(code, "seat_unavailable") == 0 ? 2 : strcmp(code, "sold_out") == 0 ? 1 : 0;
}

static int parse_best(api_req_t *r, json_t *j, uint32_t *quantity, const char **tier,
                      const char **section, int *accessible, const char **promo)
{
    json_t *q = json_object_get(j, "quantity"), *t = json_object_get(j, "tier");
    json_t *s = json_object_get(j, "section"), *a = json_object_get(j, "accessible");
    if (!q || !json_is_integer(q) || json_integer_value(q) < 1 || json_integer_value(q) > 50)
        return api_problem_validation(r, "quantity", "an integer 1..50"), -1;
    *quantity = (uint32_t)json_integer_value(q);
    *tier = *section = NULL;
    if (t && !json_is_null(t)) {
        if (!json_is_string(t) || !ts_key_valid(json_string_value(t)))
            return api_problem_validation(r, "tier", "a tier key"), -1;
        *tier = ts_arena_strdup(&r->arena, json_string_value(t));
    }
    if (s && !json_is_null(s)) {
        if (!json_is_string(s) || !ts_key_valid(json_string_value(s)))
            return api_problem_validation(r, "section", "a section key"), -1;
        *section = ts_arena_strdup(&r->arena, json_string_value(s));
    }
    *accessible = 0;
    if (a && !json_is_null(a)) {
        if (json_is_boolean(a))
            *accessible = json_is_true(a);
        else if (json_is_integer(a) && (json_integer_value(a) == 0 || json_integer_value(a) == 1))
            *accessible = (int)json_integer_value(a);
        else
            return api_problem_validation(r, "accessible", "0 or 1"), -1;
    }
    return api_parse_promo_code(r, j, promo);
}

void api_h_hold_best(api_req_t *r)
{
    /* RULE-AUTH-2: a blocked user cannot hold. */
    const char *event_id = r->params[0];
    json_t *j = api_event_body(r, api_require_active_user);
    if (!j)
        return;
    uint32_t quantity = 0;
    const char *tier = NULL, *section = NULL, *promo = NULL;
    int accessible = 0;
    int bad = parse_best(r, j, &quantity, &tier, &section, &accessible, &promo);
    json_decref(j);
    if (bad)
        return;
    const cmd_event_state_t *ev = api__published_event(r, event_id);
    if (!ev) {
        cmd_event_state_t *copy = NULL;
        if (api_event_copy(r, event_id, &copy) != 0)
            return;
        cmd_aggregate_ops(CMD_AGG_EVENT)->state_free(copy);
        return api_problem(r, 422, "not_on_sale", "the event is not on sale", NULL);
    }

    /* The candidate sections, in order: the one named; else the tier's;
     * else every section the event sells (standing ones only when
     * accessible seats are not asked for: standing room has no seats to
     * mark). */
    const char **cand = ts_arena_alloc(&r->arena, (ev->published.n_sections + 1) * sizeof(char *));
    uint32_t n_cand = 0;
    const evt_tier_t *t = NULL;
    if (tier) {
        for (uint32_t i = 0; i < ev->ev.n_tiers && !t; i++)
            if (strcmp(ev->ev.tiers[i].key, tier) == 0)
                t = &ev->ev.tiers[i];
        if (!t)
            return api_problem_validation(r, "tier", "no tier with this key");
    }
    if (section) {
        const evt_section_t *s = api__published_section(ev, section);
        const evt_tier_t *st = s ? event_tier_of_section(ev, section) : NULL;
        if (!s || !st)
            return api_problem_validation(r, "section", "no section with this key is sold");
        if (t && st != t)
            return api_problem_validation(r, "tier", "the section is not in this tier");
        cand[n_cand++] = s->key;
    } else if (t) {
        for (uint32_t k = 0; k < t->n_sections; k++) {
            const evt_section_t *s = api__published_section(ev, t->sections[k]);
            if (s && !(accessible && s->kind == EVT_STANDING))
                cand[n_cand++] = s->key;
        }
    } else {
        for (uint32_t i = 0; i < ev->published.n_sections; i++) {
            const evt_section_t *s = &ev->published.sections[i];
            if (!(accessible && s->kind == EVT_STANDING))
                cand[n_cand++] = s->key;
        }
    }

    const cmd_reject_t *best_rj = NULL;
    for (uint32_t i = 0; i < n_cand; i++) {
        eng_cmd_t cmd = {.type = ENG_INV_HOLD_BEST};
        inv_hold_cmd_t *h = &cmd.u.best.hold;
        h->event_id = event_id;
        h->section = cand[i];
        h->quantity = quantity;
        cmd.u.best.accessible = accessible;
        cmd.subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event_id, cand[i]);
        cmd.new_id = api__booking_id(r, event_id, cand[i]);

        /* What would the lane decide now? A shard never opened is tried
         * for real (the flow opens it). */
        dry_run_t d = {.hold = h,
                       .accessible = accessible,
                       .now = api__now_ms(),
                       .arena = &r->arena,
                       .command_id = r->command_id};
        ts_status st = eng_read(r->srv->cfg.engine, cmd.subject, dry_run, &d);
        if (st != TS_OK)
            return api_reply_status(r, st);
        eng_outcome_t o;
        const cmd_reject_t *rj = NULL;
        if (d.opened && !d.would_place) {
            cmd_reject_t *copy = ts_arena_alloc(&r->arena, sizeof(*copy));
            *copy = d.reject;
            rj = copy;
        } else {
            api_hold_t hp = {
                .event_id = event_id, .ev = ev, .promo_code = promo, .quantity = quantity};
            if ((st = api_hold_place(r, &hp, &cmd, &o)) != TS_OK)
                return api_reply_status(r, st);
            if (!o.reject)
                return api_reply_hold(r, cmd.subject, &o);
            rj = o.reject;
            /* Refusals of the promo or the quota are the buyer's, not the
             * section's: no other section would do better. */
            if (hp.refused_by != 3)
                return api_reply_reject(r, rj);
        }
        if (!best_rj || refusal_rank(rj->code) > refusal_rank(best_rj->code))
            best_rj = rj;
    }
    if (!best_rj)
        return api_problem(r, 409, "sold_out", "no section offers these seats", NULL);
    api_reply_reject(r, best_rj);
}
