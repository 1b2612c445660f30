/* The paging every list query shares (the events list, a user's bookings,
 * tickets and waitlist entries): the limit's bounds, a user's list request
 * turned into its statement's parameters, and the answer {items,
 * next_cursor} built from a result that asked for one row more than the
 * page, so that the extra row tells whether there is a next page. The
 * cursor is cursor.c's, over the key of the last item shown. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>

ts_status proj__page_limit(int limit, int *out)
{
    limit = limit ? limit : PROJ_PAGE_DEFAULT;
    if (limit < 1 || limit > PROJ_PAGE_MAX)
        return TS_ERR_INVALID;
    *out = limit;
    return TS_OK;
}

ts_status proj__page_init(proj__page_t *pg, const char *owner, int limit, const char *cursor)
{
    int rank = -1;
    int64_t seq = 0;
    char id[65];

    if (proj__page_limit(limit, &limit) != TS_OK)
        return TS_ERR_INVALID;
    /* A search cursor (with a rank) is not one of these lists'. */
    if (cursor && (proj__cursor_decode(cursor, &rank, &seq, id) != TS_OK || rank != -1))
        return TS_ERR_INVALID;
    pg->limit = limit;
    pg->seq = seq;
    snprintf(pg->seq_text, sizeof pg->seq_text, "%" PRId64, seq);
    snprintf(pg->id, sizeof pg->id, "%s", cursor ? id : "");
    snprintf(pg->lim, sizeof pg->lim, "%d", limit + 1);
    pg->params[0] = owner;
    pg->params[1] = cursor ? pg->seq_text : NULL;
    pg->params[2] = cursor ? pg->id : NULL;
    pg->params[3] = pg->lim;
    return TS_OK;
}

json_t *proj__page_json(const proj__list_t *l, const PGresult *r, int limit)
{
    int n = PQntuples(r), shown = n > limit ? limit : n;
    json_t *items = json_array();
    for (int i = 0; i < shown; i++)
        json_array_append_new(items, l->item(r, i));
    json_t *next = json_null();
    if (n > limit) {
        char cursor[PROJ_CURSOR_MAX];
        int last = shown - 1;
        proj__cursor_encode(l->rank_col >= 0 ? (int)proj__col_i64(r, last, l->rank_col) : -1,
                            proj__col_i64(r, last, l->key_col), PQgetvalue(r, last, 0), cursor);
        next = json_string(cursor);
    }
    return json_pack("{s:o, s:o}", "items", items, "next_cursor", next);
}

ts_status proj__page_run(proj_db_t *db, const proj__list_t *l, int n, const char *const *params,
                         int limit, json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    ts_status rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        goto done;
    if (l->sql) {
        r = PQexecParams(c->pg, l->sql, n, NULL, params, NULL, NULL, 0);
        rc = proj__pg_check(c->pg, r, l->what);
    } else {
        rc = proj__exec(c, l->stmt, n, params, &r);
    }
    if (rc == TS_OK)
        *out = proj__page_json(l, r, limit);
done:
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}
