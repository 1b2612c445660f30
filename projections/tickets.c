/* GET /users/me/tickets: a holder's tickets from the sales read model
 * (fold_sales.c fills the table), oldest first, with keyset pagination on
 * (created_seq, ticket_id) behind the same opaque cursor as the events list
 * (cursor.c). A transferred ticket stays in its old holder's list with
 * status "transferred"; the new one is in the recipient's. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>

#define TICKETS_DEFAULT 50
#define TICKETS_MAX 200

/* The unnamed query (its optional keyset wants a plan for the actual
 * parameters): $1 holder, $2/$3 the cursor's (created_seq, ticket_id) or
 * NULL, $4 the row limit. */
static const char sql_user_tickets[] =
    "SELECT t.ticket_id, t.event_id, t.booking_id, t.seat, t.tier, t.status, t.version,\n"
    "  ts_tstz_to_ms(t.checked_in_at), t.gate, t.created_seq, e.title, ts_tstz_to_ms(e.starts_at)\n"
    "FROM tickets t LEFT JOIN events e ON e.event_id = t.event_id\n"
    "WHERE t.holder_id = $1::text\n"
    "  AND ($2::bigint IS NULL OR (t.created_seq, t.ticket_id) > ($2::bigint, $3::text))\n"
    "ORDER BY t.created_seq, t.ticket_id LIMIT $4::int";

ts_status proj_user_tickets(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                            json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    json_t *items = NULL;
    char cur_seq[24], lim[16], cur_id[65];
    int64_t seq = 0;
    ts_status rc;

    limit = limit ? limit : TICKETS_DEFAULT;
    if (limit < 1 || limit > TICKETS_MAX)
        return TS_ERR_INVALID;
    /* A search cursor (with a rank) is not one of this list's. */
    int rank = -1;
    if (cursor && (proj__cursor_decode(cursor, &rank, &seq, cur_id) != TS_OK || rank != -1))
        return TS_ERR_INVALID;
    snprintf(cur_seq, sizeof cur_seq, "%" PRId64, seq);
    /* One row more than asked tells whether there is a next page. */
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[4] = {user_id, cursor ? cur_seq : NULL, cursor ? cur_id : NULL, lim};

    rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        goto done;
    r = PQexecParams(c->pg, sql_user_tickets, 4, NULL, p, NULL, NULL, 0);
    rc = proj__pg_check(c->pg, r, "user tickets");
    if (rc != TS_OK)
        goto done;
    int n = PQntuples(r), shown = n > limit ? limit : n;
    items = json_array();
    for (int i = 0; i < shown; i++) {
        json_t *used = json_null();
        if (!PQgetisnull(r, i, 7))
            used = json_pack("{s:o, s:o}", "at", proj__time_json(proj__col_i64(r, i, 7)), "gate",
                             proj__col_str(r, i, 8));
        json_array_append_new(
            items, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:{s:o, s:o}}", "ticket_id",
                             proj__col_str(r, i, 0), "event_id", proj__col_str(r, i, 1),
                             "booking_id", proj__col_str(r, i, 2), "seat", proj__col_str(r, i, 3),
                             "tier", proj__col_str(r, i, 4), "status", proj__col_str(r, i, 5),
                             "version", (json_int_t)proj__col_i64(r, i, 6), "checked_in", used,
                             "event", "title", proj__col_str(r, i, 10), "starts_at",
                             proj__time_json(proj__col_i64(r, i, 11))));
    }
    json_t *next = json_null();
    if (n > limit) {
        char buf[PROJ_CURSOR_MAX];
        proj__cursor_encode(-1, proj__col_i64(r, shown - 1, 9), PQgetvalue(r, shown - 1, 0), buf);
        next = json_string(buf);
    }
    *out = json_pack("{s:O, s:o}", "items", items, "next_cursor", next);
done:
    json_decref(items);
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}
