/* GET /users/me/waitlist: a user's entries still on a list (RULE-WL-1),
 * with their FIFO place and any open offer, keyset-paginated on
 * (joined_seq, entry_id) behind the opaque cursor of cursor.c (page.c). */
#include "projections/proj_int.h"

#include <string.h>

static json_t *entry_json(const PGresult *r, int i)
{
    json_t *offer = json_null();
    if (strcmp(PQgetvalue(r, i, 4), "offered") == 0 && !PQgetisnull(r, i, 6))
        offer = json_pack("{s:o, s:o}", "booking_id", proj__col_str(r, i, 6), "expires_at",
                          proj__time_json(proj__col_i64(r, i, 7)));
    return json_pack("{s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "entry_id", proj__col_str(r, i, 0),
                     "event_id", proj__col_str(r, i, 1), "tier", proj__col_str(r, i, 2), "quantity",
                     (json_int_t)proj__col_i64(r, i, 3), "position",
                     (json_int_t)proj__col_i64(r, i, 10), "status", proj__col_str(r, i, 4),
                     "joined_at", proj__time_json(proj__col_i64(r, i, 5)), "offer", offer);
}

static const proj__list_t waitlist_list = {
    .stmt = PROJ_Q_WAITLIST_USER, .key_col = 8, .rank_col = -1, .item = entry_json};

ts_status proj_waitlist_list(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                             json_t **out)
{
    proj__page_t pg;
    if (!user_id || proj__page_init(&pg, user_id, limit, cursor) != TS_OK)
        return TS_ERR_INVALID;
    return proj__page_run(db, &waitlist_list, 4, pg.params, pg.limit, out);
}
