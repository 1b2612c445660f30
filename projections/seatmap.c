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

/* ---- the document cache ---- */

static size_t doc_slot_of(const char *event_id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = event_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % PROJ_DOC_CACHE_SLOTS;
}

static void doc_free(struct proj__doc *d)
{
    free(d->keys);
    free(d->seqs);
    free(d->text);
    free(d);
}

void proj__doc_unref(proj_db_t *db, struct proj__doc *doc)
{
    if (!doc)
        return;
    pthread_mutex_lock(&db->doc_mu);
    int last = --doc->refs == 0;
    pthread_mutex_unlock(&db->doc_mu);
    if (last)
        doc_free(doc);
}

/* 1 when d was made from the sections r lists (the rows of
 * PROJ_Q_SEATMAP_SECTIONS): the same keys with the same updated_seq, so
 * the same seats and counts. */
static int doc_current(const struct proj__doc *d, const PGresult *r)
{
    uint32_t n = 0;
    for (int i = 0; i < PQntuples(r) && !PQgetisnull(r, i, 1); i++, n++)
        if (n >= d->n_sections || strcmp(d->keys[n], PQgetvalue(r, i, 1)) != 0 ||
            d->seqs[n] != (uint64_t)proj__col_i64(r, i, 6))
            return 0;
    return n == d->n_sections;
}

/* Assembles the document of the snapshot r belongs to (c's transaction):
 * sections in venue order, each seated one's seats from the section cache
 * or read now. *out has one reference. */
static ts_status doc_build(proj_db_t *db, proj__conn_t *c, const char *event_id, const PGresult *r,
                           uint64_t version, struct proj__doc **out)
{
    struct proj__doc *d = calloc(1, sizeof *d);
    int n = PQntuples(r);
    ts_buf_t b;
    char num[48];
    ts_status rc = TS_OK;

    ts_buf_init(&b);
    if (!d || strlen(event_id) >= sizeof d->event_id) {
        free(d);
        return d ? TS_ERR_INVALID : TS_ERR_NOMEM;
    }
    d->refs = 1;
    d->version = version;
    strcpy(d->event_id, event_id);
    d->keys = calloc((size_t)n + 1, sizeof *d->keys);
    d->seqs = calloc((size_t)n + 1, sizeof *d->seqs);
    if (!d->keys || !d->seqs) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    append_str(&b, "{\"event_id\":");
    append_json(&b, json_string(event_id));
    append_str(&b, ",\"as_of_seq\":");
    d->prefix_len = b.len;
    append_str(&b, ",\"sections\":[");
    /* A draft event has one row with no section (a LEFT JOIN). */
    for (int i = 0; i < n && !PQgetisnull(r, i, 1); i++) {
        const char *key = PQgetvalue(r, i, 1);
        uint64_t seq = (uint64_t)proj__col_i64(r, i, 6);
        if (strlen(key) >= sizeof d->keys[0]) {
            rc = TS_ERR_INVALID; /* section keys are at most 16 characters */
            goto done;
        }
        strcpy(d->keys[d->n_sections], key);
        d->seqs[d->n_sections++] = seq;
        append_str(&b, i ? ",{\"key\":" : "{\"key\":");
        append_json(&b, proj__col_str(r, i, 1));
        append_str(&b, ",\"kind\":");
        append_json(&b, proj__col_str(r, i, 2));
        append_str(&b, ",\"tier\":");
        append_json(&b, proj__col_str(r, i, 3));
        if (strcmp(PQgetvalue(r, i, 2), "standing") == 0) {
            snprintf(num, sizeof num, ",\"capacity\":%" PRId64 ",\"available\":%" PRId64 "}",
                     proj__col_i64(r, i, 4), proj__col_i64(r, i, 5));
            append_str(&b, num);
            continue;
        }
        append_str(&b, ",\"seats\":");
        rc = section_seats(db, c, version, event_id, key, seq, &b);
        if (rc != TS_OK)
            goto done;
        append_str(&b, "}");
    }
    append_str(&b, "]}");
    d->text = (char *)b.data;
    d->len = b.len;
    ts_buf_init(&b);
done:
    ts_buf_deinit(&b);
    if (rc != TS_OK) {
        doc_free(d);
        return rc;
    }
    *out = d;
    return TS_OK;
}

/* Takes a reference to the cached document of event when it is current for
 * the snapshot r at checkpoint seq, and *as_of gets the checkpoint to
 * report (seq, or a later one at which the document was found current).
 * NULL when there is none. */
static struct proj__doc *doc_lookup(proj_db_t *db, const char *event_id, const PGresult *r,
                                    uint64_t version, uint64_t seq, uint64_t *as_of)
{
    proj__doc_slot_t *slot = &db->docs[doc_slot_of(event_id)];
    struct proj__doc *d = NULL;
    pthread_mutex_lock(&db->doc_mu);
    if (slot->doc && slot->doc->version == version && strcmp(slot->doc->event_id, event_id) == 0) {
        if (slot->valid_seq >= seq) {
            d = slot->doc;
        } else if (doc_current(slot->doc, r)) {
            slot->valid_seq = seq;
            d = slot->doc;
        }
    }
    if (d) {
        d->refs++;
        *as_of = slot->valid_seq;
    }
    pthread_mutex_unlock(&db->doc_mu);
    return d;
}

/* Offers d, current at checkpoint seq, to the cache: it replaces what the
 * slot holds unless that is a document of the same event and build found
 * current at a later checkpoint. */
static void doc_offer(proj_db_t *db, struct proj__doc *d, uint64_t seq)
{
    proj__doc_slot_t *slot = &db->docs[doc_slot_of(d->event_id)];
    struct proj__doc *old = NULL;
    pthread_mutex_lock(&db->doc_mu);
    if (!slot->doc || slot->doc->version != d->version ||
        strcmp(slot->doc->event_id, d->event_id) != 0 || slot->valid_seq < seq) {
        old = slot->doc;
        slot->doc = d;
        slot->valid_seq = seq;
        d->refs++;
    }
    pthread_mutex_unlock(&db->doc_mu);
    proj__doc_unref(db, old);
}

/* ---- the answer ---- */

ts_status proj_seatmap_open(proj_db_t *db, const char *event_id, proj_seatmap_t *out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    struct proj__doc *d = NULL;
    int in_tx = 0;
    uint64_t as_of = 0;
    ts_status rc;

    memset(out, 0, sizeof *out);
    if (!event_id)
        return TS_ERR_INVALID;
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
    uint64_t seq = (uint64_t)proj__col_i64(r, 0, 0), version = (uint64_t)proj__col_i64(r, 0, 7);
    cache_use_version(db, version);
    d = doc_lookup(db, event_id, r, version, seq, &as_of);
    if (!d) {
        rc = doc_build(db, c, event_id, r, version, &d);
        if (rc != TS_OK)
            goto done;
        as_of = seq;
        doc_offer(db, d, seq);
    }
    rc = exec_simple(c, "COMMIT");
    in_tx = 0;
done:
    if (in_tx)
        exec_simple(c, "ROLLBACK");
    PQclear(r);
    proj__db_release(db, c);
    if (rc != TS_OK) {
        proj__doc_unref(db, d);
        return rc;
    }
    out->db = db;
    out->doc = d;
    snprintf(out->seq, sizeof out->seq, "%" PRIu64, as_of);
    out->piece[0] = d->text;
    out->len[0] = d->prefix_len;
    out->piece[1] = out->seq;
    out->len[1] = strlen(out->seq);
    out->piece[2] = d->text + d->prefix_len;
    out->len[2] = d->len - d->prefix_len;
    return TS_OK;
}

void proj_seatmap_close(proj_seatmap_t *m)
{
    if (m && m->doc)
        proj__doc_unref(m->db, m->doc);
    if (m)
        memset(m, 0, sizeof *m);
}

ts_status proj_seatmap_text(proj_db_t *db, const char *event_id, char **out, size_t *len)
{
    proj_seatmap_t m;
    ts_buf_t b;
    ts_status rc = proj_seatmap_open(db, event_id, &m);
    if (rc != TS_OK)
        return rc;
    ts_buf_init(&b);
    for (int i = 0; i < 3; i++)
        ts_buf_append(&b, m.piece[i], m.len[i]);
    ts_buf_put_u8(&b, '\0');
    proj_seatmap_close(&m);
    *out = (char *)b.data;
    if (len)
        *len = b.len - 1;
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
