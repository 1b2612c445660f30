/* GET /events: published events, soonest first (title matches of a text
 * search before description-only ones), with keyset pagination on (rank,
 * starts_at, event_id) behind an opaque cursor (cursor.c, page.c). */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>

/* NULL for an absent or empty filter, so the SQL switches it off. */
static const char *opt(const char *s)
{
    return s && *s ? s : NULL;
}

static json_t *event_json(const PGresult *r, int i)
{
    json_t *tiers = PQgetisnull(r, i, 8) ? NULL : json_loads(PQgetvalue(r, i, 8), 0, NULL);
    json_t *item = json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "event_id", proj__col_str(r, i, 0),
        "venue_id", proj__col_str(r, i, 1), "title", proj__col_str(r, i, 2), "genre",
        proj__col_str(r, i, 3), "city", proj__col_str(r, i, 4), "starts_at",
        proj__time_json(proj__col_i64(r, i, 5)), "ends_at", proj__time_json(proj__col_i64(r, i, 6)),
        "status", proj__col_str(r, i, 7), "price_from", proj__price_from(tiers));
    json_decref(tiers);
    return item;
}

ts_status proj_events_list(proj_db_t *db, const proj_events_query_t *q, json_t **out)
{
    char from[24], to[24], cur_ms[24], lim[16], cur_id[65], cur_rank[16];
    const char *p[9];
    int64_t ms = 0;
    int limit, rank = -1;
    int search = opt(q->text) != NULL;

    if (proj__page_limit(q->limit, &limit) != TS_OK)
        return TS_ERR_INVALID;
    if (q->cursor && proj__cursor_decode(q->cursor, &rank, &ms, cur_id) != TS_OK)
        return TS_ERR_INVALID;
    /* A search's cursor carries the rank of its last item, a plain list's
     * does not: one from the other kind of list is not a position here. */
    if (q->cursor && (search ? rank < 0 || rank > 1 : rank != -1))
        return TS_ERR_INVALID;
    snprintf(from, sizeof from, "%" PRId64, q->from_ms);
    snprintf(to, sizeof to, "%" PRId64, q->to_ms);
    snprintf(cur_ms, sizeof cur_ms, "%" PRId64, ms);
    /* One row more than asked tells whether there is a next page. */
    snprintf(lim, sizeof lim, "%d", limit + 1);
    snprintf(cur_rank, sizeof cur_rank, "%d", rank < 0 ? 0 : rank);
    p[0] = opt(q->text);
    p[1] = opt(q->genre);
    p[2] = opt(q->city);
    p[3] = q->from_ms ? from : NULL;
    p[4] = q->to_ms ? to : NULL;
    p[5] = q->cursor ? cur_ms : NULL;
    p[6] = q->cursor ? cur_id : NULL;
    p[7] = lim;
    p[8] = q->cursor ? cur_rank : NULL;

    /* A search's key starts with the rank (column 10). */
    proj__list_t l = {.sql = proj__sql_events_list,
                      .what = "events list",
                      .key_col = 5,
                      .rank_col = search ? 10 : -1,
                      .item = event_json};
    return proj__page_run(db, &l, 9, p, limit, out);
}
