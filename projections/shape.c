/* Pure helpers: PostgreSQL array literals and the JSON shapes stored in (and
 * served from) the read models. No I/O, so tests/unit/projections reaches
 * them without a database. */
#include "projections/proj_int.h"

#include <string.h>

void proj__pg_array_add(ts_buf_t *b, const char *s)
{
    ts_buf_put_u8(b, b->len ? ',' : '{');
    if (!s) {
        ts_buf_append(b, "NULL", 4);
        return;
    }
    /* Always quoted, with " and \ escaped, so any text is one element (an
     * unquoted NULL or a comma would otherwise change the meaning). */
    ts_buf_put_u8(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            ts_buf_put_u8(b, '\\');
        ts_buf_put_u8(b, (uint8_t)*p);
    }
    ts_buf_put_u8(b, '"');
}

const char *proj__pg_array_close(ts_buf_t *b)
{
    if (!b->len)
        ts_buf_put_u8(b, '{');
    ts_buf_put_u8(b, '}');
    ts_buf_put_u8(b, '\0');
    b->len--; /* the NUL is not part of the literal */
    return (const char *)b->data;
}

/* A string, or null when absent or not valid UTF-8 (jansson refuses those;
 * bytes from the log are untrusted). */
static json_t *str(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

json_t *proj__money_json(int64_t amount, const char *currency)
{
    return json_pack("{s:I, s:o}", "amount", (json_int_t)amount, "currency", str(currency));
}

json_t *proj__time_json(int64_t ms)
{
    char buf[32];
    if (!ms)
        return json_null();
    ts_time_format(ms, buf);
    return json_string(buf);
}

json_t *proj__layout_json(const evt_venue_created_t *v, int64_t *capacity)
{
    json_t *sections = json_array();
    int64_t total = 0;

    for (uint32_t i = 0; i < v->n_sections; i++) {
        const evt_section_t *s = &v->sections[i];
        int64_t cap = 0;
        json_t *js = json_pack("{s:o, s:o, s:s}", "key", str(s->key), "name", str(s->name), "kind",
                               s->kind == EVT_STANDING ? "standing" : "seated");
        if (s->kind == EVT_STANDING) {
            cap = s->capacity;
        } else {
            json_t *rows = json_array();
            for (uint32_t r = 0; r < s->n_rows; r++) {
                const evt_row_t *row = &s->rows[r];
                json_t *acc = json_array();
                for (uint32_t k = 0; k < row->n_accessible; k++)
                    json_array_append_new(acc, json_integer(row->accessible[k]));
                json_array_append_new(rows, json_pack("{s:o, s:I, s:o}", "label", str(row->label),
                                                      "seats", (json_int_t)row->seats, "accessible",
                                                      acc));
                cap += row->seats;
            }
            json_object_set_new(js, "rows", rows);
        }
        /* Seated capacity is recomputed from the rows: they are what sells. */
        json_object_set_new(js, "capacity", json_integer(cap));
        json_array_append_new(sections, js);
        total += cap;
    }
    *capacity = total;
    return json_pack("{s:o}", "sections", sections);
}

json_t *proj__tiers_json(const evt_tier_t *tiers, uint32_t n)
{
    json_t *out = json_array();
    for (uint32_t i = 0; i < n; i++) {
        const evt_tier_t *t = &tiers[i];
        json_t *secs = json_array();
        for (uint32_t k = 0; k < t->n_sections; k++)
            json_array_append_new(secs, str(t->sections[k]));
        json_array_append_new(out, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "key", str(t->key),
                                             "name", str(t->name), "price",
                                             proj__money_json(t->price.amount, t->price.currency),
                                             "sections", secs, "sale_starts_at",
                                             proj__time_json(t->sale_starts_at), "sale_ends_at",
                                             proj__time_json(t->sale_ends_at)));
    }
    return out;
}

json_t *proj__policy_json(const evt_policy_t *p)
{
    json_t *refund = json_array();
    for (uint32_t i = 0; i < p->n_refund; i++)
        json_array_append_new(refund, json_pack("{s:I, s:I}", "min_hours_before",
                                                (json_int_t)p->refund[i].min_hours_before,
                                                "percent", (json_int_t)p->refund[i].percent));
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "max_per_order", (json_int_t)p->max_per_order,
        "max_per_user", (json_int_t)p->max_per_user, "hold_minutes", (json_int_t)p->hold_minutes,
        "transfer_cutoff_hours", (json_int_t)p->transfer_cutoff_hours, "service_fee_bps",
        (json_int_t)p->service_fee_bps, "vat_bps", (json_int_t)p->vat_bps, "refund", refund);
}

json_t *proj__items_json(const evt_hold_placed_t *h)
{
    json_t *items = json_array();
    /* API.md: one entry per seat, or per GA unit with "seat": null. */
    uint32_t n = h->n_seats ? h->n_seats : h->quantity;
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(
            items, json_pack("{s:o, s:o, s:o}", "seat", h->n_seats ? str(h->seats[i]) : json_null(),
                             "tier", str(h->tier_key), "price",
                             proj__money_json(h->unit_price.amount, h->unit_price.currency)));
    return items;
}

json_t *proj__price_from(const json_t *tiers)
{
    const json_t *best = NULL;
    size_t i;
    json_t *t;

    json_array_foreach(tiers, i, t)
    {
        const json_t *price = json_object_get(t, "price");
        const json_t *amount = json_object_get(price, "amount");
        if (!json_is_integer(amount))
            continue;
        if (!best ||
            json_integer_value(amount) < json_integer_value(json_object_get(best, "amount")))
            best = price;
    }
    return best ? json_deep_copy(best) : json_null();
}
