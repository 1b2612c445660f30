/*
 * JSON bodies into domain structs, with field-precise 400s for wrong types.
 * Range and consistency rules live in the pure decide functions; this file
 * only checks shapes and types.
 */
#include "api/api_int.h"

#include <ctype.h>
#include <string.h>

int api_event_id_valid(const char *s)
{
    if (!ts_id_valid(s))
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s))
            return 0;
    return 1;
}

typedef struct {
    api_req_t *r;
    int failed;
} parse_t;

static void fail(parse_t *p, const char *field, const char *msg)
{
    if (!p->failed)
        api_problem_validation(p->r, field, msg);
    p->failed = 1;
}

static const char *str(parse_t *p, json_t *o, const char *key, const char *field, int required)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            fail(p, field, "is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        fail(p, field, "must be a string");
        return NULL;
    }
    return ts_arena_strdup(&p->r->arena, json_string_value(v));
}

/* A non-negative integer up to max; def when absent. */
static int64_t num(parse_t *p, json_t *o, const char *key, const char *field, int64_t def,
                   int64_t max)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
        fail(p, field, ts_arena_printf(&p->r->arena, "must be an integer 0..%lld", (long long)max));
        return def;
    }
    return json_integer_value(v);
}

static int64_t when(parse_t *p, json_t *o, const char *key, const char *field, int required)
{
    const char *s = str(p, o, key, field, required);
    int64_t ms = 0;
    if (s && ts_time_parse(s, &ms) != TS_OK)
        fail(p, field, "must be an RFC 3339 time");
    return ms;
}

static json_t *arr(parse_t *p, json_t *o, const char *key, const char *field, int required)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            fail(p, field, "is required");
        return NULL;
    }
    if (!json_is_array(v)) {
        fail(p, field, "must be an array");
        return NULL;
    }
    return v;
}

static int parse_section(parse_t *p, json_t *s, evt_section_t *out)
{
    ts_arena_t *a = &p->r->arena;
    if (!json_is_object(s))
        return fail(p, "sections", "each section must be an object"), -1;
    out->key = str(p, s, "key", "sections.key", 1);
    out->name = str(p, s, "name", "sections.name", 0);
    if (!out->name)
        out->name = out->key;
    const char *kind = str(p, s, "kind", "sections.kind", 0);
    if (kind && strcmp(kind, "standing") == 0) {
        out->kind = EVT_STANDING;
        out->capacity = (uint32_t)num(p, s, "capacity", "sections.capacity", 0, 1000000);
        if (json_object_get(s, "rows"))
            fail(p, "sections.rows", "a standing section has no rows");
        return p->failed ? -1 : 0;
    }
    if (kind && strcmp(kind, "seated") != 0)
        return fail(p, "sections.kind", "is seated or standing"), -1;
    out->kind = EVT_SEATED;
    json_t *rows = arr(p, s, "rows", "sections.rows", 1);
    if (!rows)
        return -1;
    out->n_rows = (uint32_t)json_array_size(rows);
    out->rows = ts_arena_alloc(a, (out->n_rows + 1) * sizeof(evt_row_t));
    for (uint32_t i = 0; i < out->n_rows && !p->failed; i++) {
        json_t *row = json_array_get(rows, i);
        evt_row_t *rw = &out->rows[i];
        if (!json_is_object(row))
            return fail(p, "sections.rows", "each row must be an object"), -1;
        rw->label = str(p, row, "label", "sections.rows.label", 1);
        rw->seats = (uint32_t)num(p, row, "seats", "sections.rows.seats", 0, 100000);
        json_t *acc = arr(p, row, "accessible", "sections.rows.accessible", 0);
        rw->n_accessible = acc ? (uint32_t)json_array_size(acc) : 0;
        rw->accessible = ts_arena_alloc(a, (rw->n_accessible + 1) * sizeof(uint32_t));
        for (uint32_t k = 0; k < rw->n_accessible; k++) {
            json_t *n = json_array_get(acc, k);
            if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > 100000)
                return fail(p, "sections.rows.accessible", "seat numbers are integers >= 1"), -1;
            rw->accessible[k] = (uint32_t)json_integer_value(n);
        }
    }
    return p->failed ? -1 : 0;
}

int api_parse_venue(api_req_t *r, json_t *j, evt_venue_created_t *out)
{
    parse_t p = {.r = r};
    memset(out, 0, sizeof(*out));
    out->name = str(&p, j, "name", "name", 1);
    out->city = str(&p, j, "city", "city", 1);
    out->country = str(&p, j, "country", "country", 1);
    json_t *secs = arr(&p, j, "sections", "sections", 1);
    if (p.failed)
        return -1;
    out->n_sections = (uint32_t)json_array_size(secs);
    if (out->n_sections > 500)
        return fail(&p, "sections", "at most 500 sections"), -1;
    out->sections = ts_arena_alloc(&r->arena, (out->n_sections + 1) * sizeof(evt_section_t));
    for (uint32_t i = 0; i < out->n_sections; i++)
        if (parse_section(&p, json_array_get(secs, i), &out->sections[i]) != 0)
            return -1;
    return 0;
}

static int parse_policy(parse_t *p, json_t *j, evt_policy_t *pol)
{
    ts_arena_t *a = &p->r->arena;
    evt_policy_defaults(pol);
    json_t *o = json_object_get(j, "policy");
    if (!o || json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return fail(p, "policy", "must be an object"), -1;
    pol->max_per_order =
        (uint32_t)num(p, o, "max_per_order", "policy.max_per_order", pol->max_per_order, 1000);
    pol->max_per_user =
        (uint32_t)num(p, o, "max_per_user", "policy.max_per_user", pol->max_per_user, 100000);
    pol->hold_minutes =
        (uint32_t)num(p, o, "hold_minutes", "policy.hold_minutes", pol->hold_minutes, 100000);
    pol->transfer_cutoff_hours =
        (uint32_t)num(p, o, "transfer_cutoff_hours", "policy.transfer_cutoff_hours",
                      pol->transfer_cutoff_hours, 100000);
    pol->service_fee_bps = (uint32_t)num(p, o, "service_fee_bps", "policy.service_fee_bps",
                                         pol->service_fee_bps, 100000);
    pol->vat_bps = (uint32_t)num(p, o, "vat_bps", "policy.vat_bps", pol->vat_bps, 100000);
    json_t *ref = arr(p, o, "refund", "policy.refund", 0);
    if (ref) {
        pol->n_refund = (uint32_t)json_array_size(ref);
        pol->refund = ts_arena_alloc(a, (pol->n_refund + 1) * sizeof(evt_refund_step_t));
        for (uint32_t i = 0; i < pol->n_refund; i++) {
            json_t *st = json_array_get(ref, i);
            if (!json_is_object(st))
                return fail(p, "policy.refund", "each step must be an object"), -1;
            pol->refund[i].min_hours_before = (uint32_t)num(
                p, st, "min_hours_before", "policy.refund.min_hours_before", 0, 100000);
            pol->refund[i].percent =
                (uint32_t)num(p, st, "percent", "policy.refund.percent", 0, 100000);
        }
    }
    return p->failed ? -1 : 0;
}

/* The tiers array of an event (create, PATCH). */
static int parse_tiers(parse_t *pp, json_t *tiers, uint32_t *n_out, evt_tier_t **out)
{
    ts_arena_t *a = &pp->r->arena;
    uint32_t n = (uint32_t)json_array_size(tiers);
    if (n > 50)
        return fail(pp, "tiers", "at most 50 tiers"), -1;
    evt_tier_t *ts = ts_arena_alloc(a, (n + 1) * sizeof(evt_tier_t));
    for (uint32_t i = 0; i < n && !pp->failed; i++) {
        json_t *t = json_array_get(tiers, i);
        evt_tier_t *tier = &ts[i];
        if (!json_is_object(t))
            return fail(pp, "tiers", "each tier must be an object"), -1;
        tier->key = str(pp, t, "key", "tiers.key", 1);
        tier->name = str(pp, t, "name", "tiers.name", 0);
        if (!tier->name)
            tier->name = tier->key;
        json_t *price = json_object_get(t, "price");
        if (!json_is_object(price))
            return fail(pp, "tiers.price", "is {amount, currency}"), -1;
        tier->price.amount = num(pp, price, "amount", "tiers.price.amount", -1, 100000000);
        const char *cur = str(pp, price, "currency", "tiers.price.currency", 1);
        if (tier->price.amount < 0 && !pp->failed)
            return fail(pp, "tiers.price.amount", "is required"), -1;
        if (cur && strlen(cur) == 3)
            memcpy(tier->price.currency, cur, 4);
        else if (!pp->failed)
            return fail(pp, "tiers.price.currency", "an ISO-4217 code"), -1;
        tier->sale_starts_at = when(pp, t, "sale_starts_at", "tiers.sale_starts_at", 0);
        tier->sale_ends_at = when(pp, t, "sale_ends_at", "tiers.sale_ends_at", 0);
        json_t *secs = arr(pp, t, "sections", "tiers.sections", 1);
        if (!secs)
            return -1;
        tier->n_sections = (uint32_t)json_array_size(secs);
        tier->sections = ts_arena_alloc(a, (tier->n_sections + 1) * sizeof(char *));
        for (uint32_t k = 0; k < tier->n_sections; k++) {
            json_t *s = json_array_get(secs, k);
            if (!json_is_string(s))
                return fail(pp, "tiers.sections", "section keys are strings"), -1;
            tier->sections[k] = ts_arena_strdup(a, json_string_value(s));
        }
    }
    if (pp->failed)
        return -1;
    *n_out = n;
    *out = ts;
    return 0;
}

int api_parse_event(api_req_t *r, json_t *j, evt_event_created_t *out)
{
    parse_t p = {.r = r};
    memset(out, 0, sizeof(*out));
    out->venue_id = str(&p, j, "venue_id", "venue_id", 1);
    out->title = str(&p, j, "title", "title", 1);
    out->description = str(&p, j, "description", "description", 0);
    out->genre = str(&p, j, "genre", "genre", 0);
    out->starts_at = when(&p, j, "starts_at", "starts_at", 1);
    out->ends_at = when(&p, j, "ends_at", "ends_at", 1);
    json_t *tiers = arr(&p, j, "tiers", "tiers", 1);
    if (p.failed)
        return -1;
    if (!ts_id_valid(out->venue_id))
        return fail(&p, "venue_id", "not a venue id"), -1;
    if (parse_tiers(&p, tiers, &out->n_tiers, &out->tiers) != 0)
        return -1;
    return parse_policy(&p, j, &out->policy);
}

/* ---- PATCH /events/{id} ---- */

/* A policy patch: the fields present, with their bits. */
static int parse_policy_patch(parse_t *p, json_t *o, event_patch_t *out)
{
    static const struct {
        const char *key;
        uint32_t bit;
    } fields[] = {
        {"max_per_order", EVENT_POLICY_MAX_PER_ORDER},
        {"max_per_user", EVENT_POLICY_MAX_PER_USER},
        {"hold_minutes", EVENT_POLICY_HOLD_MINUTES},
        {"transfer_cutoff_hours", EVENT_POLICY_TRANSFER_CUTOFF},
        {"service_fee_bps", EVENT_POLICY_SERVICE_FEE},
        {"vat_bps", EVENT_POLICY_VAT},
        {"refund", EVENT_POLICY_REFUND},
    };
    if (!json_is_object(o))
        return fail(p, "policy", "must be an object"), -1;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        size_t i = 0;
        while (i < TS_ARRAY_LEN(fields) && strcmp(fields[i].key, key) != 0)
            i++;
        if (i == TS_ARRAY_LEN(fields))
            return fail(p, ts_arena_printf(&p->r->arena, "policy.%s", key), "unknown field"), -1;
        if (json_is_null(v))
            return fail(p, ts_arena_printf(&p->r->arena, "policy.%s", key), "may not be null"), -1;
        out->policy_fields |= fields[i].bit;
    }
    /* parse_policy reads the same fields with the same checks. */
    json_t *wrap = json_pack("{s:O}", "policy", o);
    int rc = parse_policy(p, wrap, &out->policy);
    json_decref(wrap);
    return rc;
}

int api_parse_event_patch(api_req_t *r, json_t *j, event_patch_t *out)
{
    static const struct {
        const char *key;
        uint32_t bit;
    } fields[] = {
        {"title", EVENT_PATCH_TITLE},     {"description", EVENT_PATCH_DESCRIPTION},
        {"genre", EVENT_PATCH_GENRE},     {"starts_at", EVENT_PATCH_STARTS_AT},
        {"ends_at", EVENT_PATCH_ENDS_AT}, {"tiers", EVENT_PATCH_TIERS},
        {"policy", EVENT_PATCH_POLICY},
    };
    parse_t p = {.r = r};
    memset(out, 0, sizeof(*out));
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        size_t i = 0;
        while (i < TS_ARRAY_LEN(fields) && strcmp(fields[i].key, key) != 0)
            i++;
        if (i == TS_ARRAY_LEN(fields))
            return fail(&p, key,
                        strcmp(key, "venue_id") == 0 ? "the venue cannot be changed"
                                                     : "unknown field"),
                   -1;
        out->fields |= fields[i].bit;
    }
    if (!out->fields)
        return fail(&p, "body", "name at least one field to change"), -1;
    /* Title, times, tiers and policy cannot be null; description and genre
     * are cleared by null. */
    if (out->fields & EVENT_PATCH_TITLE)
        out->title = str(&p, j, "title", "title", 1);
    if (out->fields & EVENT_PATCH_DESCRIPTION)
        out->description = str(&p, j, "description", "description", 0);
    if (out->fields & EVENT_PATCH_GENRE)
        out->genre = str(&p, j, "genre", "genre", 0);
    if (out->fields & EVENT_PATCH_STARTS_AT)
        out->starts_at = when(&p, j, "starts_at", "starts_at", 1);
    if (out->fields & EVENT_PATCH_ENDS_AT)
        out->ends_at = when(&p, j, "ends_at", "ends_at", 1);
    if (p.failed)
        return -1;
    if (out->fields & EVENT_PATCH_TIERS) {
        json_t *tiers = arr(&p, j, "tiers", "tiers", 1);
        if (!tiers || parse_tiers(&p, tiers, &out->n_tiers, &out->tiers) != 0)
            return -1;
    }
    if ((out->fields & EVENT_PATCH_POLICY) &&
        parse_policy_patch(&p, json_object_get(j, "policy"), out) != 0)
        return -1;
    return p.failed ? -1 : 0;
}

/* ---- POST /events/{id}/promos ---- */

int api_parse_promo(api_req_t *r, json_t *j, evt_promo_t *out)
{
    parse_t p = {.r = r};
    memset(out, 0, sizeof(*out));
    out->code = str(&p, j, "code", "code", 1);
    json_t *pct = json_object_get(j, "percent_off"), *amt = json_object_get(j, "amount_off");
    if (pct && !json_is_null(pct) && amt && !json_is_null(amt))
        return fail(&p, "amount_off", "give exactly one of percent_off and amount_off"), -1;
    /* Range checks are the domain's (promo_create_decide); a value past
     * these caps is refused here only because it does not fit the field. */
    out->percent_off = (uint32_t)num(&p, j, "percent_off", "percent_off", 0, 1000000);
    out->amount_off = num(&p, j, "amount_off", "amount_off", 0, 1000000000000LL);
    if (!p.failed && (!pct || json_is_null(pct)) && (!amt || json_is_null(amt)))
        return fail(&p, "percent_off", "give exactly one of percent_off and amount_off"), -1;
    json_t *uses = json_object_get(j, "max_uses");
    if (!p.failed && (!uses || json_is_null(uses)))
        return fail(&p, "max_uses", "is required"), -1;
    out->max_uses = (uint32_t)num(&p, j, "max_uses", "max_uses", 0, 100000000);
    out->valid_from = when(&p, j, "valid_from", "valid_from", 0);
    out->valid_until = when(&p, j, "valid_until", "valid_until", 1);
    return p.failed ? -1 : 0;
}
