/* The JSON answers of the read side (API.md shapes): venue, event, booking.
 * Each takes a pooled connection for the duration of the call. The events
 * list is in list.c, the seat map in seatmap.c. */
#include "projections/proj_int.h"

#include <stdlib.h>
#include <string.h>

/* Runs a one-key lookup statement on a pooled connection. */
static ts_status lookup(proj_db_t *db, proj__stmt_t s, const char *key, proj__conn_t **c,
                        PGresult **res)
{
    ts_status rc;
    if (!key)
        return TS_ERR_INVALID;
    rc = proj__db_acquire(db, c);
    if (rc != TS_OK)
        return rc;
    rc = proj__exec(*c, s, 1, &key, res);
    if (rc == TS_OK && PQntuples(*res) == 0)
        rc = TS_ERR_NOT_FOUND;
    return rc;
}

/* ---- venue ---- */

ts_status proj_venue_get(proj_db_t *db, const char *venue_id, json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    json_t *layout = NULL;
    ts_status rc = lookup(db, PROJ_Q_VENUE_GET, venue_id, &c, &r);
    if (rc != TS_OK)
        goto done;
    layout = proj__col_json(r, 0, 5);
    json_t *sections = json_object_get(layout, "sections");
    *out = json_pack("{s:o, s:o, s:o, s:o, s:I, s:O}", "venue_id", proj__col_str(r, 0, 0), "name",
                     proj__col_str(r, 0, 1), "city", proj__col_str(r, 0, 2), "country",
                     proj__col_str(r, 0, 3), "capacity", (json_int_t)proj__col_i64(r, 0, 4),
                     "sections", sections ? sections : json_array());
done:
    json_decref(layout);
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}

/* ---- event ---- */

ts_status proj_event_get(proj_db_t *db, const char *event_id, json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    json_t *avail = NULL, *tiers = NULL, *t;
    size_t i;
    ts_status rc = lookup(db, PROJ_Q_EVENT_GET, event_id, &c, &r);
    if (rc != TS_OK)
        goto done;
    /* {tier: available} over the published sections; null for a draft. */
    avail = proj__col_json(r, 0, 13);
    tiers = proj__col_json(r, 0, 10);
    if (!json_is_array(tiers)) {
        json_decref(tiers);
        tiers = json_array();
    }
    json_array_foreach(tiers, i, t)
    {
        const char *key = json_string_value(json_object_get(t, "key"));
        json_t *a = key ? json_object_get(avail, key) : NULL;
        json_object_set_new(t, "available",
                            json_is_object(avail) ? json_integer(a ? json_integer_value(a) : 0)
                                                  : json_null());
    }
    *out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:O, s:o, s:I}",
                     "event_id", proj__col_str(r, 0, 0), "venue_id", proj__col_str(r, 0, 1),
                     "organizer_id", proj__col_str(r, 0, 2), "title", proj__col_str(r, 0, 3),
                     "description", proj__col_str(r, 0, 4), "genre", proj__col_str(r, 0, 5), "city",
                     proj__col_str(r, 0, 6), "starts_at", proj__time_json(proj__col_i64(r, 0, 7)),
                     "ends_at", proj__time_json(proj__col_i64(r, 0, 8)), "status",
                     proj__col_str(r, 0, 9), "tiers", tiers, "policy", proj__col_json(r, 0, 11),
                     "commit_seq", (json_int_t)proj__col_i64(r, 0, 12));
done:
    json_decref(tiers);
    json_decref(avail);
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}

/* ---- booking ---- */

json_t *proj__booking_json(const PGresult *r, int row)
{
    const char *cur = PQgetvalue(r, row, 11);
    json_t *items = proj__col_json(r, row, 5);
    if (!json_is_array(items)) {
        json_decref(items);
        items = json_array();
    }
    /* issue 3: tickets, what is due back, and the payment. */
    json_t *tickets = proj__col_json(r, row, 15);
    if (!json_is_array(tickets)) {
        json_decref(tickets);
        tickets = json_array();
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o}",
                     "booking_id", proj__col_str(r, row, 0), "event_id", proj__col_str(r, row, 1),
                     "user_id", proj__col_str(r, row, 2), "status", proj__col_str(r, row, 3),
                     "expires_at", proj__time_json(proj__col_i64(r, row, 4)), "items", items,
                     "subtotal", proj__money_json(proj__col_i64(r, row, 6), cur), "discount",
                     proj__money_json(proj__col_i64(r, row, 7), cur), "service_fee",
                     proj__money_json(proj__col_i64(r, row, 8), cur), "total",
                     proj__money_json(proj__col_i64(r, row, 9), cur), "vat_included",
                     proj__money_json(proj__col_i64(r, row, 10), cur), "tickets", tickets,
                     "commit_seq", (json_int_t)proj__col_i64(r, row, 12), "refund",
                     proj__money_json(proj__col_i64(r, row, 14), cur), "payment_id",
                     proj__col_str(r, row, 13));
}

ts_status proj_booking_get(proj_db_t *db, const char *booking_id, json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    ts_status rc = lookup(db, PROJ_Q_BOOKING_GET, booking_id, &c, &r);
    if (rc != TS_OK)
        goto done;
    *out = proj__booking_json(r, 0);
done:
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}
