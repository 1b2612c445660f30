/* The read models of issue 4 that are lists and sums rather than one row:
 * an organizer's sales dashboard (GET /events/{id}/sales) and a user's
 * bookings (GET /users/me/bookings).
 *
 * The dashboard is one statement (PROJ_Q_SALES), so every number and
 * as_of_seq come from one snapshot. Sold, gross, refunds and checked_in are
 * the rows the fold keeps (fold_dashboard.c); held is read from the held
 * bookings at the time of the request, since a hold lapses with the clock
 * (RULE-HOLD-3), and available is the sections' count plus what lapsed
 * holds still occupy there, so capacity = sold + held + available.
 * proj__sales_json, pure, assembles the answer from the statement's parts,
 * but for the series: that may have tens of thousands of entries, so
 * PostgreSQL writes it in the answer's shape and it is spliced into the
 * text unparsed (jansson would spend most of a request on it), as the seat
 * map is served as text. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the dashboard's answer (pure) ---- */

typedef struct {
    const char *key;
    const char *name;
    int64_t capacity, available, held, lapsed, sold, gross, refunds, checked_in;
} tier_sums_t;

static int64_t int_at(const json_t *row, size_t i)
{
    const json_t *v = json_array_get(row, i);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    /* sum() answers numeric, which has no bound; a whole one still parses
     * as an integer, anything else is a broken row. */
    return json_is_real(v) ? (int64_t)json_real_value(v) : 0;
}

/* The entry of tier key, appended (zeroed) when new; NULL when full. */
static tier_sums_t *tier_of(tier_sums_t *t, size_t *n, size_t cap, const char *key)
{
    if (!key)
        return NULL;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(t[i].key, key) == 0)
            return &t[i];
    if (*n == cap)
        return NULL;
    t[*n] = (tier_sums_t){.key = key};
    return &t[(*n)++];
}

static json_t *tier_json(const tier_sums_t *t, const char *currency, int totals)
{
    json_t *j = json_pack(
        "{s:I, s:I, s:I, s:I, s:o, s:o, s:I}", "capacity", (json_int_t)t->capacity, "sold",
        (json_int_t)t->sold, "held", (json_int_t)t->held, "available",
        (json_int_t)(t->available + t->lapsed), "gross", proj__money_json(t->gross, currency),
        "refunds", proj__money_json(t->refunds, currency), "checked_in", (json_int_t)t->checked_in);
    if (!totals) {
        json_object_set_new(j, "tier", json_string(t->key));
        json_object_set_new(j, "name", t->name ? json_string(t->name) : json_null());
    }
    return j;
}

json_t *proj__sales_json(const proj__sales_parts_t *p)
{
    size_t n_def = json_array_size(p->tiers);
    size_t cap = n_def + json_array_size(p->sections) + json_array_size(p->held) +
                 json_array_size(p->sales) + 1;
    tier_sums_t *t = calloc(cap, sizeof *t);
    size_t n = 0, i;
    const json_t *row;
    const char *currency = NULL;
    if (!t)
        abort(); /* as base.h: no recovery from out-of-memory */

    /* The event's tiers first, in its order; then any tier only the sales
     * name (a booking without a tier is ''). */
    for (i = 0; i < n_def; i++) {
        const json_t *d = json_array_get(p->tiers, i);
        tier_sums_t *s = tier_of(t, &n, cap, json_string_value(json_object_get(d, "key")));
        if (s)
            s->name = json_string_value(json_object_get(d, "name"));
        if (!currency)
            currency = json_string_value(json_object_get(json_object_get(d, "price"), "currency"));
    }
    json_array_foreach(p->sections, i, row)
    {
        tier_sums_t *s = tier_of(t, &n, cap, json_string_value(json_array_get(row, 0)));
        if (s) {
            s->capacity += int_at(row, 1);
            s->available += int_at(row, 2);
        }
    }
    json_array_foreach(p->held, i, row)
    {
        tier_sums_t *s = tier_of(t, &n, cap, json_string_value(json_array_get(row, 0)));
        if (s) {
            s->held += int_at(row, 1);
            s->lapsed += int_at(row, 2);
        }
    }
    json_array_foreach(p->sales, i, row)
    {
        tier_sums_t *s = tier_of(t, &n, cap, json_string_value(json_array_get(row, 0)));
        if (s) {
            s->sold += int_at(row, 1);
            s->gross += int_at(row, 2);
            s->refunds += int_at(row, 3);
            s->checked_in += int_at(row, 4);
        }
    }

    tier_sums_t all = {0};
    json_t *tiers = json_array();
    for (i = 0; i < n; i++) {
        all.capacity += t[i].capacity;
        all.available += t[i].available;
        all.held += t[i].held;
        all.lapsed += t[i].lapsed;
        all.sold += t[i].sold;
        all.gross += t[i].gross;
        all.refunds += t[i].refunds;
        all.checked_in += t[i].checked_in;
        json_array_append_new(tiers, tier_json(&t[i], currency, 0));
    }
    /* The series comes in its API shape (sql.c): only an absent one is
     * made here. */
    json_t *series = json_is_array(p->series) ? json_incref((json_t *)p->series) : json_array();
    json_t *out = json_pack("{s:s?, s:I, s:s?, s:s?, s:s?, s:o, s:o, s:o}", "event_id", p->event_id,
                            "as_of_seq", (json_int_t)p->as_of_seq, "organizer_id", p->organizer_id,
                            "event_status", p->event_status, "currency", currency, "tiers", tiers,
                            "totals", tier_json(&all, currency, 1), "series", series);
    free(t);
    return out;
}

/* ---- GET /events/{id}/sales ---- */

/* head (a JSON object's text, without its series) with ,"series":series
 * spliced in before its closing brace, into a malloc'd buffer. */
static char *splice(const char *head, const char *series, size_t *len)
{
    static const char key[] = ",\"series\":";
    size_t h = strlen(head), n = strlen(series);
    if (h < 2 || head[h - 1] != '}')
        return NULL;
    char *out = malloc(h - 1 + sizeof key - 1 + n + 2);
    if (!out)
        return NULL;
    memcpy(out, head, h - 1);
    memcpy(out + h - 1, key, sizeof key - 1);
    memcpy(out + h - 1 + sizeof key - 1, series, n);
    memcpy(out + h - 1 + sizeof key - 1 + n, "}", 2);
    *len = h - 1 + sizeof key - 1 + n + 1;
    return out;
}

ts_status proj_event_sales_text(proj_db_t *db, const char *event_id, int64_t from_ms, int64_t to_ms,
                                proj_event_who_t *who, char **out, size_t *len)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    json_t *parts[4] = {NULL}, *head = NULL;
    char from[24], to[24], *text = NULL;
    ts_status rc;

    if (!event_id)
        return TS_ERR_INVALID;
    snprintf(from, sizeof from, "%" PRId64, from_ms);
    snprintf(to, sizeof to, "%" PRId64, to_ms);
    const char *p[3] = {event_id, from, to};
    rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        goto done;
    rc = proj__exec(c, PROJ_Q_SALES, 3, p, &r);
    if (rc != TS_OK)
        goto done;
    if (PQntuples(r) == 0) {
        rc = TS_ERR_NOT_FOUND;
        goto done;
    }
    /* Columns 2, 4..6: the event's tiers, then three small JSON arrays;
     * the series (7) is spliced in as PostgreSQL wrote it. */
    parts[0] = proj__col_json(r, 0, 2);
    for (int k = 1; k < 4; k++)
        parts[k] = proj__col_json(r, 0, 3 + k);
    proj__sales_parts_t sp = {.event_id = event_id,
                              .organizer_id = PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0),
                              .event_status = PQgetvalue(r, 0, 1),
                              .as_of_seq = (uint64_t)proj__col_i64(r, 0, 3),
                              .tiers = parts[0],
                              .sections = parts[1],
                              .held = parts[2],
                              .sales = parts[3]};
    head = proj__sales_json(&sp);
    json_object_del(head, "series");
    text = json_dumps(head, JSON_COMPACT);
    *out = text ? splice(text, PQgetisnull(r, 0, 7) ? "[]" : PQgetvalue(r, 0, 7), len) : NULL;
    if (!*out) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    snprintf(who->organizer_id, sizeof who->organizer_id, "%s",
             sp.organizer_id ? sp.organizer_id : "");
    snprintf(who->event_status, sizeof who->event_status, "%s", sp.event_status);
done:
    free(text);
    json_decref(head);
    for (int k = 0; k < 4; k++)
        json_decref(parts[k]);
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}

/* ---- GET /users/me/bookings ---- */

static const proj__list_t bookings_list = {.sql = proj__sql_user_bookings,
                                           .what = "user bookings",
                                           .key_col = PROJ_BOOKING_NCOLS,
                                           .rank_col = -1,
                                           .item = proj__booking_json};

ts_status proj_user_bookings(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                             json_t **out)
{
    proj__page_t pg;
    /* The events list's cursor (cursor.c), over (created_seq, booking_id):
     * anything it did not make is refused before it reaches SQL. */
    if (!user_id || proj__page_init(&pg, user_id, limit, cursor) != TS_OK || pg.seq < 0)
        return TS_ERR_INVALID;
    return proj__page_run(db, &bookings_list, 4, pg.params, pg.limit, out);
}
