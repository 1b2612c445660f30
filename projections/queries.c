/* The JSON answers of the read side (API.md shapes): venue, event, seat map,
 * booking. Each takes a pooled connection for the duration of the call. The
 * events list is in list.c. */
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

/* ---- seat map ---- */

static size_t slot_of(const char *event_id, const char *section)
{
    /* FNV-1a over both keys. */
    uint32_t h = 2166136261u;
    for (const char *p = event_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0x1f) * 16777619u;
    for (const char *p = section; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % PROJ_SEAT_CACHE_SLOTS;
}

/* Each key may live in any of PROJ_SEAT_CACHE_WAYS slots from its hash, so
 * two sections of one big event rarely evict each other. */
#define PROJ_SEAT_CACHE_WAYS 4

static int slot_is(const proj__seat_slot_t *s, const char *event_id, const char *section)
{
    return s->seats && strcmp(s->event_id, event_id) == 0 && strcmp(s->section, section) == 0;
}

static json_t *cache_get(proj_db_t *db, const char *event_id, const char *section, uint64_t seq)
{
    size_t h = slot_of(event_id, section);
    json_t *seats = NULL;
    pthread_mutex_lock(&db->cache_mu);
    for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !seats; w++) {
        proj__seat_slot_t *s = &db->cache[(h + w) % PROJ_SEAT_CACHE_SLOTS];
        if (slot_is(s, event_id, section) && s->seq == seq)
            seats = json_incref(s->seats);
    }
    pthread_mutex_unlock(&db->cache_mu);
    return seats;
}

static void cache_put(proj_db_t *db, const char *event_id, const char *section, uint64_t seq,
                      json_t *seats)
{
    size_t h = slot_of(event_id, section);
    proj__seat_slot_t *s = NULL;
    json_t *old;
    if (strlen(event_id) >= sizeof s->event_id || strlen(section) >= sizeof s->section)
        return;
    pthread_mutex_lock(&db->cache_mu);
    /* The key's own slot, else an empty one, else the first way. */
    for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !s; w++)
        if (slot_is(&db->cache[(h + w) % PROJ_SEAT_CACHE_SLOTS], event_id, section))
            s = &db->cache[(h + w) % PROJ_SEAT_CACHE_SLOTS];
    /* Never replace a newer entry with an older snapshot. */
    if (s && s->seq > seq) {
        pthread_mutex_unlock(&db->cache_mu);
        return;
    }
    for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !s; w++)
        if (!db->cache[(h + w) % PROJ_SEAT_CACHE_SLOTS].seats)
            s = &db->cache[(h + w) % PROJ_SEAT_CACHE_SLOTS];
    if (!s)
        s = &db->cache[h];
    old = s->seats;
    strcpy(s->event_id, event_id);
    strcpy(s->section, section);
    s->seq = seq;
    s->seats = json_incref(seats);
    pthread_mutex_unlock(&db->cache_mu);
    json_decref(old);
}

static ts_status section_seats(proj_db_t *db, proj__conn_t *c, const char *event_id,
                               const char *section, uint64_t seq, json_t **out)
{
    const char *p[2] = {event_id, section};
    PGresult *r = NULL;
    json_t *seats = cache_get(db, event_id, section, seq);
    ts_status rc;

    if (seats) {
        *out = seats;
        return TS_OK;
    }
    rc = proj__exec(c, PROJ_Q_SEATMAP_SEATS, 2, p, &r);
    if (rc != TS_OK)
        return rc;
    int n = PQntuples(r);
    seats = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            seats, json_pack("{s:o, s:o, s:I, s:b, s:o}", "id", proj__col_str(r, i, 0), "row",
                             proj__col_str(r, i, 1), "number", (json_int_t)proj__col_i64(r, i, 2),
                             "accessible", PQgetvalue(r, i, 3)[0] == 't', "status",
                             proj__col_str(r, i, 4)));
    PQclear(r);
    cache_put(db, event_id, section, seq, seats);
    *out = seats;
    return TS_OK;
}

static ts_status exec_simple(proj__conn_t *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    ts_status rc = proj__pg_check(c->pg, r, sql);
    PQclear(r);
    return rc;
}

ts_status proj_seatmap_get(proj_db_t *db, const char *event_id, json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    json_t *sections = NULL;
    int in_tx = 0;
    ts_status rc;

    if (!event_id)
        return TS_ERR_INVALID;
    rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        goto done;
    /* One snapshot for the checkpoint, the sections and every seat, so
     * as_of_seq tells exactly which commits the answer reflects. */
    rc = exec_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    if (rc != TS_OK)
        goto done;
    in_tx = 1;
    rc = proj__exec(c, PROJ_Q_SEATMAP_SECTIONS, 1, &event_id, &r);
    if (rc != TS_OK)
        goto done;
    if (PQntuples(r) == 0) {
        rc = TS_ERR_NOT_FOUND;
        goto done;
    }
    sections = json_array();
    for (int i = 0; i < PQntuples(r) && !PQgetisnull(r, i, 1); i++) {
        const char *key = PQgetvalue(r, i, 1);
        const char *kind = PQgetvalue(r, i, 2);
        json_t *s = json_pack("{s:o, s:o, s:o}", "key", proj__col_str(r, i, 1), "kind",
                              proj__col_str(r, i, 2), "tier", proj__col_str(r, i, 3));
        json_array_append_new(sections, s);
        if (strcmp(kind, "standing") == 0) {
            json_object_set_new(s, "capacity", json_integer(proj__col_i64(r, i, 4)));
            json_object_set_new(s, "available", json_integer(proj__col_i64(r, i, 5)));
        } else {
            json_t *seats = NULL;
            rc = section_seats(db, c, event_id, key, (uint64_t)proj__col_i64(r, i, 6), &seats);
            if (rc != TS_OK)
                goto done;
            json_object_set_new(s, "seats", seats);
        }
    }
    rc = exec_simple(c, "COMMIT");
    in_tx = 0;
    if (rc != TS_OK)
        goto done;
    *out = json_pack("{s:s, s:I, s:O}", "event_id", event_id, "as_of_seq",
                     (json_int_t)proj__col_i64(r, 0, 0), "sections", sections);
done:
    if (in_tx)
        exec_simple(c, "ROLLBACK");
    json_decref(sections);
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}

/* ---- booking ---- */

ts_status proj_booking_get(proj_db_t *db, const char *booking_id, json_t **out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    ts_status rc = lookup(db, PROJ_Q_BOOKING_GET, booking_id, &c, &r);
    if (rc != TS_OK)
        goto done;
    const char *cur = PQgetvalue(r, 0, 11);
    json_t *items = proj__col_json(r, 0, 5);
    if (!json_is_array(items)) {
        json_decref(items);
        items = json_array();
    }
    *out = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:[], s:I}",
                     "booking_id", proj__col_str(r, 0, 0), "event_id", proj__col_str(r, 0, 1),
                     "user_id", proj__col_str(r, 0, 2), "status", proj__col_str(r, 0, 3),
                     "expires_at", proj__time_json(proj__col_i64(r, 0, 4)), "items", items,
                     "subtotal", proj__money_json(proj__col_i64(r, 0, 6), cur), "discount",
                     proj__money_json(proj__col_i64(r, 0, 7), cur), "service_fee",
                     proj__money_json(proj__col_i64(r, 0, 8), cur), "total",
                     proj__money_json(proj__col_i64(r, 0, 9), cur), "vat_included",
                     proj__money_json(proj__col_i64(r, 0, 10), cur), "tickets", "commit_seq",
                     (json_int_t)proj__col_i64(r, 0, 12));
done:
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}
