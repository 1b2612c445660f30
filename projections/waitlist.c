/* GET /users/me/waitlist: a user's entries still on a list (RULE-WL-1),
 * with their FIFO place and any open offer, keyset-paginated on
 * (joined_seq, entry_id) behind the opaque cursor of cursor.c. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PROJ_WAITLIST_DEFAULT 50
#define PROJ_WAITLIST_MAX 200

ts_status proj_waitlist_list(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                             json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    char cur_seq[24], lim[16], cur_id[65];
    int64_t seq = 0;
    ts_status rc;

    if (!limit)
        limit = PROJ_WAITLIST_DEFAULT;
    if (!user_id || limit < 1 || limit > PROJ_WAITLIST_MAX)
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
    if (rc == TS_OK)
        rc = proj__exec(c, PROJ_Q_WAITLIST_USER, 4, p, &r);
    if (rc != TS_OK)
        goto done;
    json_t *items = json_array();
    int n = PQntuples(r), shown = n > limit ? limit : n;
    for (int i = 0; i < shown; i++) {
        json_t *offer = json_null();
        if (strcmp(PQgetvalue(r, i, 4), "offered") == 0 && !PQgetisnull(r, i, 6))
            offer = json_pack("{s:o, s:o}", "booking_id", proj__col_str(r, i, 6), "expires_at",
                              proj__time_json(proj__col_i64(r, i, 7)));
        json_array_append_new(
            items, json_pack("{s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o}", "entry_id",
                             proj__col_str(r, i, 0), "event_id", proj__col_str(r, i, 1), "tier",
                             proj__col_str(r, i, 2), "quantity", (json_int_t)proj__col_i64(r, i, 3),
                             "position", (json_int_t)proj__col_i64(r, i, 10), "status",
                             proj__col_str(r, i, 4), "joined_at",
                             proj__time_json(proj__col_i64(r, i, 5)), "offer", offer));
    }
    json_t *next = json_null();
    if (n > limit) {
        char buf[PROJ_CURSOR_MAX];
        proj__cursor_encode(-1, proj__col_i64(r, shown - 1, 8), PQgetvalue(r, shown - 1, 0), buf);
        next = json_string(buf);
    }
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor", next);
done:
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}
