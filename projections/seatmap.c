/* GET /events/{id}/seats: the seat map, as text (proj_seatmap_text, the fast
 * path) or as a json_t (proj_seatmap_get, the same text parsed).
 *
 * The document is assembled from one REPEATABLE READ snapshot: the
 * checkpoint (as_of_seq), the event's sections in venue order, and for each
 * seated section its seats, taken from db's cache when the section has not
 * changed since (its updated_seq), else read and cached. During a sale only
 * the sections that sold since the last request are read again.
 *
 * A rebuild may swap another schema in (build.c). Two things keep a map
 * whole across that. The transaction locks its four tables before it takes
 * its snapshot (LOCK needs none), so it either finishes on the old tables
 * before the swap can lock them, or waits for the swap and then resolves
 * every name, and takes its snapshot, in the new schema; a snapshot taken
 * before the swap would see the new tables as they were before it (empty,
 * after their switch to LOGGED). And the cache belongs to one build: every
 * entry was made from checkpoints.version, and a map read from another
 * version empties the cache first, since the same seq in two builds only
 * means the same seats while both came from the same code. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static proj__seat_slot_t *way(proj_db_t *db, size_t h, size_t w)
{
    return &db->cache[(h + w) % PROJ_SEAT_CACHE_SLOTS];
}

/* Empties the cache when it was filled from another build than version. */
static void cache_use_version(proj_db_t *db, uint64_t version)
{
    pthread_mutex_lock(&db->cache_mu);
    if (db->cache_version != version) {
        for (size_t i = 0; i < PROJ_SEAT_CACHE_SLOTS; i++) {
            free(db->cache[i].text);
            db->cache[i].text = NULL;
        }
        db->cache_version = version;
    }
    pthread_mutex_unlock(&db->cache_mu);
}

static int slot_is(const proj__seat_slot_t *s, const char *event_id, const char *section)
{
    return s->text && strcmp(s->event_id, event_id) == 0 && strcmp(s->section, section) == 0;
}

/* Appends the cached seats of (event, section) at seq to out; 0 on a miss. */
static int cache_append(proj_db_t *db, uint64_t version, const char *event_id, const char *section,
                        uint64_t seq, ts_buf_t *out)
{
    size_t h = slot_of(event_id, section);
    int hit = 0;
    pthread_mutex_lock(&db->cache_mu);
    /* Another map may have moved the cache to a newer build meanwhile. */
    for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !hit && db->cache_version == version; w++) {
        proj__seat_slot_t *s = way(db, h, w);
        if (slot_is(s, event_id, section) && s->seq == seq) {
            ts_buf_append(out, s->text, s->len);
            hit = 1;
        }
    }
    pthread_mutex_unlock(&db->cache_mu);
    return hit;
}

/* Stores a copy of text as the seats of (event, section) at seq, read from
 * build version. */
static void cache_put(proj_db_t *db, uint64_t version, const char *event_id, const char *section,
                      uint64_t seq, const char *text, size_t len)
{
    size_t h = slot_of(event_id, section);
    proj__seat_slot_t *s = NULL;
    char *copy, *old;

    if (strlen(event_id) >= sizeof s->event_id || strlen(section) >= sizeof s->section)
        return;
    copy = malloc(len);
    if (!copy)
        return; /* a cache: not having it is fine */
    memcpy(copy, text, len);
    pthread_mutex_lock(&db->cache_mu);
    if (db->cache_version != version) {
        /* Read from a build the cache no longer holds. */
        pthread_mutex_unlock(&db->cache_mu);
        free(copy);
        return;
    }
    /* The key's own slot, else an empty one, else the first way. */
    for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !s; w++)
        if (slot_is(way(db, h, w), event_id, section))
            s = way(db, h, w);
    if (s && s->seq > seq) {
        /* Never replace a newer snapshot with an older one. */
        pthread_mutex_unlock(&db->cache_mu);
        free(copy);
        return;
    }
    for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !s; w++)
        if (!way(db, h, w)->text)
            s = way(db, h, w);
    if (!s)
        s = way(db, h, 0);
    old = s->text;
    strcpy(s->event_id, event_id);
    strcpy(s->section, section);
    s->seq = seq;
    s->text = copy;
    s->len = len;
    pthread_mutex_unlock(&db->cache_mu);
    free(old);
}

/* Appends the JSON text of j (consumed), e.g. a quoted, escaped string. */
static void append_json(ts_buf_t *out, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (s)
        ts_buf_append(out, s, strlen(s));
    else
        ts_buf_append(out, "null", 4);
    free(s);
    json_decref(j);
}

static void append_str(ts_buf_t *out, const char *s)
{
    ts_buf_append(out, s, strlen(s));
}

/* Appends the seats array of one seated section. */
static ts_status section_seats(proj_db_t *db, proj__conn_t *c, uint64_t version,
                               const char *event_id, const char *section, uint64_t seq,
                               ts_buf_t *out)
{
    const char *p[2] = {event_id, section};
    PGresult *r = NULL;
    json_t *seats;
    ts_status rc;

    if (cache_append(db, version, event_id, section, seq, out))
        return TS_OK;
    rc = proj__exec(c, PROJ_Q_SEATMAP_SEATS, 2, p, &r);
    if (rc != TS_OK)
        return rc;
    seats = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(
            seats, json_pack("{s:o, s:o, s:I, s:b, s:o}", "id", proj__col_str(r, i, 0), "row",
                             proj__col_str(r, i, 1), "number", (json_int_t)proj__col_i64(r, i, 2),
                             "accessible", PQgetvalue(r, i, 3)[0] == 't', "status",
                             proj__col_str(r, i, 4)));
    PQclear(r);
    char *text = json_dumps(seats, JSON_COMPACT);
    json_decref(seats);
    if (!text)
        return TS_ERR_NOMEM;
    size_t len = strlen(text);
    cache_put(db, version, event_id, section, seq, text, len);
    ts_buf_append(out, text, len);
    free(text);
    return TS_OK;
}

static ts_status exec_simple(proj__conn_t *c, const char *sql)
{
    PGresult *r = PQexec(c->pg, sql);
    ts_status rc = proj__pg_check(c->pg, r, sql);
    PQclear(r);
    return rc;
}

/* Writes the whole document into out (NUL-terminated, the NUL not counted
 * in out->len). */
static ts_status seatmap_build(proj_db_t *db, const char *event_id, ts_buf_t *out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    int in_tx = 0;
    char num[48];
    ts_status rc;

    rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        goto done;
    /* One snapshot for the checkpoint, the sections and every seat, so
     * as_of_seq tells exactly which commits the answer reflects; the tables
     * locked before it is taken (see the top of this file), in the order
     * the swap locks them. */
    rc = exec_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
                        " LOCK TABLE checkpoints, events, sections, seats IN ACCESS SHARE MODE");
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
    uint64_t version = (uint64_t)proj__col_i64(r, 0, 7);
    cache_use_version(db, version);
    append_str(out, "{\"event_id\":");
    append_json(out, json_string(event_id));
    snprintf(num, sizeof num, ",\"as_of_seq\":%" PRId64 ",\"sections\":[", proj__col_i64(r, 0, 0));
    append_str(out, num);
    /* A draft event has one row with no section (a LEFT JOIN). */
    for (int i = 0; i < PQntuples(r) && !PQgetisnull(r, i, 1); i++) {
        const char *key = PQgetvalue(r, i, 1);
        append_str(out, i ? ",{\"key\":" : "{\"key\":");
        append_json(out, proj__col_str(r, i, 1));
        append_str(out, ",\"kind\":");
        append_json(out, proj__col_str(r, i, 2));
        append_str(out, ",\"tier\":");
        append_json(out, proj__col_str(r, i, 3));
        if (strcmp(PQgetvalue(r, i, 2), "standing") == 0) {
            snprintf(num, sizeof num, ",\"capacity\":%" PRId64 ",\"available\":%" PRId64 "}",
                     proj__col_i64(r, i, 4), proj__col_i64(r, i, 5));
            append_str(out, num);
            continue;
        }
        append_str(out, ",\"seats\":");
        rc = section_seats(db, c, version, event_id, key, (uint64_t)proj__col_i64(r, i, 6), out);
        if (rc != TS_OK)
            goto done;
        append_str(out, "}");
    }
    append_str(out, "]}");
    ts_buf_put_u8(out, '\0');
    out->len--;
    rc = exec_simple(c, "COMMIT");
    in_tx = 0;
done:
    if (in_tx)
        exec_simple(c, "ROLLBACK");
    PQclear(r);
    proj__db_release(db, c);
    return rc;
}

ts_status proj_seatmap_text(proj_db_t *db, const char *event_id, char **out, size_t *len)
{
    ts_buf_t b;
    ts_status rc;

    if (!event_id)
        return TS_ERR_INVALID;
    ts_buf_init(&b);
    rc = seatmap_build(db, event_id, &b);
    if (rc != TS_OK) {
        ts_buf_deinit(&b);
        return rc;
    }
    *out = (char *)b.data;
    if (len)
        *len = b.len;
    return TS_OK;
}

ts_status proj_seatmap_get(proj_db_t *db, const char *event_id, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    ts_status rc = proj_seatmap_text(db, event_id, &text, &len);
    if (rc != TS_OK)
        return rc;
    json_t *j = json_loadb(text, len, 0, NULL);
    free(text);
    if (!j)
        return TS_ERR_NOMEM; /* our own text always parses */
    *out = j;
    return TS_OK;
}
