/* GET /users/me/tickets: a holder's tickets from the sales read model
 * (fold_sales.c fills the table), oldest first, with keyset pagination on
 * (created_seq, ticket_id) behind the same opaque cursor as the events list
 * (cursor.c). A transferred ticket stays in its old holder's list with
 * status "transferred"; the new one is in the recipient's. */
#include "projections/proj_int.h"

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

static json_t *ticket_json(const PGresult *r, int i)
{
    json_t *used = json_null();
    if (!PQgetisnull(r, i, 7))
        used = json_pack("{s:o, s:o}", "at", proj__time_json(proj__col_i64(r, i, 7)), "gate",
                         proj__col_str(r, i, 8));
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:{s:o, s:o}}", "ticket_id",
                     proj__col_str(r, i, 0), "event_id", proj__col_str(r, i, 1), "booking_id",
                     proj__col_str(r, i, 2), "seat", proj__col_str(r, i, 3), "tier",
                     proj__col_str(r, i, 4), "status", proj__col_str(r, i, 5), "version",
                     (json_int_t)proj__col_i64(r, i, 6), "checked_in", used, "event", "title",
                     proj__col_str(r, i, 10), "starts_at",
                     proj__time_json(proj__col_i64(r, i, 11)));
}

static const proj__list_t tickets_list = {.sql = sql_user_tickets,
                                          .what = "user tickets",
                                          .key_col = 9,
                                          .rank_col = -1,
                                          .item = ticket_json};

ts_status proj_user_tickets(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                            json_t **out)
{
    proj__page_t pg;
    if (proj__page_init(&pg, user_id, limit, cursor) != TS_OK)
        return TS_ERR_INVALID;
    return proj__page_run(db, &tickets_list, 4, pg.params, pg.limit, out);
}
