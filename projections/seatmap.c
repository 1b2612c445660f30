/* GET /events/{id}/seats: the seat map, as pieces to send (proj_seatmap_open,
 * the fast path), as text (proj_seatmap_text) or as a json_t
 * (proj_seatmap_get, the same text parsed).
 *
 * A map is read in one REPEATABLE READ snapshot: the checkpoint (as_of_seq),
 * the event's sections in venue order with their updated_seq, and for each
 * seated section its seats. Two caches in db keep that cheap:
 *  - sections: the seats of (event, section) serialised once per
 *    updated_seq, as an immutable shared blob;
 *  - documents: per event, the whole answer as a list of pieces (the small
 *    texts between the seats arrays, and the section blobs), with the
 *    newest checkpoint at which it was found current.
 * A request whose snapshot shows the same sections at the same updated_seq
 * as the cached document sends that document (only as_of_seq is its own);
 * one that shows changes assembles a new document, reading only the
 * sections that changed. A document never reports a checkpoint at which it
 * was not current, and one found current at a later checkpoint than the
 * request's snapshot may be sent as it is (newer is fine: a caller that
 * asked for min_seq waited for it before the snapshot).
 *
 * The same document is also kept compressed, for gzip answers: each blob
 * carries its text as a gzip piece (gzpiece.c), made with the blob, and a
 * document compresses its small frame texts once when it is assembled and
 * keeps the CRC-32 of its text before and after the as_of_seq hole. A gzip
 * answer is then the header, the pieces in order with the digits of its
 * own as_of_seq compressed in the hole, and an 18-byte end: one gzip
 * member, with nothing on a request's way compressed but those digits. A
 * zstd answer is one frame of the whole text (zstpiece.c), made with the
 * read by the refresher thread while clients ask for zstd (else once per
 * document and checkpoint on a request's way): the requests that share a
 * read (shared_read) share its frame. Either answer is the identity text, byte for byte.
 * Which document and which as_of_seq an answer gets does not depend on its
 * encoding. A 50,000-seat map is 3.8 MB of text, about 334 KB as gzip and
 * about 81 KB as zstd.
 *
 * A rebuild may swap another schema in (build.c). Two things keep a map
 * whole across that. The transaction locks its four tables before it takes
 * its snapshot (LOCK needs none), so it either finishes on the old tables
 * before the swap can lock them, or waits for the swap and then resolves
 * every name, and takes its snapshot, in the new schema; a snapshot taken
 * before the swap would see the new tables as they were before it (without
 * at least what the swap's own transaction added to them). And the caches belong to one build:
 * every entry was made from checkpoints.version, a map read from another version empties the
 * section cache first and never uses a document of another, since the same seq in two builds only
 * means the same seats while both came from the same code. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Appends a string literal (its length known at compile time). */
#define APPEND_LIT(b, s) ts_buf_append((b), (s), sizeof(s) - 1)

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

void proj__blob_unref(proj__blob_t *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}

static proj__blob_t *blob_ref(proj__blob_t *b)
{
    atomic_fetch_add(&b->refs, 1);
    return b;
}

/* Empties the section cache when it was filled from another build than
 * version. */
static void cache_use_version(proj_db_t *db, uint64_t version)
{
    pthread_mutex_lock(&db->cache_mu);
    if (db->cache_version != version) {
        for (size_t i = 0; i < PROJ_SEAT_CACHE_SLOTS; i++) {
            proj__blob_unref(db->cache[i].blob);
            db->cache[i].blob = NULL;
        }
        db->cache_version = version;
    }
    pthread_mutex_unlock(&db->cache_mu);
}

static int slot_is(const proj__seat_slot_t *s, const char *event_id, const char *section)
{
    return s->blob && strcmp(s->event_id, event_id) == 0 && strcmp(s->section, section) == 0;
}

/* A reference to the cached seats of (event, section) at seq, or NULL. */
static proj__blob_t *cache_get(proj_db_t *db, uint64_t version, const char *event_id,
                               const char *section, uint64_t seq)
{
    size_t h = slot_of(event_id, section);
    proj__blob_t *b = NULL;
    pthread_mutex_lock(&db->cache_mu);
    /* Another map may have moved the cache to a newer build meanwhile. */
    for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !b && db->cache_version == version; w++) {
        proj__seat_slot_t *s = way(db, h, w);
        if (slot_is(s, event_id, section) && s->seq == seq)
            b = blob_ref(s->blob);
    }
    pthread_mutex_unlock(&db->cache_mu);
    return b;
}

/* Stores a reference to blob as the seats of (event, section) at seq, read
 * from build version. */
static void cache_put(proj_db_t *db, uint64_t version, const char *event_id, const char *section,
                      uint64_t seq, proj__blob_t *blob)
{
    size_t h = slot_of(event_id, section);
    proj__seat_slot_t *s = NULL;
    proj__blob_t *old = NULL;

    if (strlen(event_id) >= sizeof s->event_id || strlen(section) >= sizeof s->section)
        return;
    pthread_mutex_lock(&db->cache_mu);
    /* Not when read from a build the cache no longer holds. */
    if (db->cache_version == version) {
        /* The key's own slot, else an empty one, else the first way. */
        for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !s; w++)
            if (slot_is(way(db, h, w), event_id, section))
                s = way(db, h, w);
        /* Never replace a newer snapshot with an older one. */
        if (s && s->seq > seq)
            s = NULL;
        else {
            for (size_t w = 0; w < PROJ_SEAT_CACHE_WAYS && !s; w++)
                if (!way(db, h, w)->blob)
                    s = way(db, h, w);
            if (!s)
                s = way(db, h, 0);
        }
    }
    if (s) {
        old = s->blob;
        strcpy(s->event_id, event_id);
        strcpy(s->section, section);
        s->seq = seq;
        s->blob = blob_ref(blob);
    }
    pthread_mutex_unlock(&db->cache_mu);
    proj__blob_unref(old);
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

/* The seats array of one seated section at seq (a new reference), from the
 * cache or read in c's snapshot; a new one is compressed with z (a big
 * deflater, initialised here on first use). */
static ts_status section_seats(proj_db_t *db, proj__conn_t *c, uint64_t version,
                               const char *event_id, const char *section, uint64_t seq,
                               proj__deflater_t *z, proj__blob_t **out)
{
    const char *p[2] = {event_id, section};
    PGresult *r = NULL;
    ts_buf_t text, gz;
    ts_status rc;

    if ((*out = cache_get(db, version, event_id, section, seq)) != NULL)
        return TS_OK;
    rc = proj__exec(c, PROJ_Q_SEATMAP_SEATS, 2, p, &r);
    if (rc != TS_OK)
        return rc;
    /* Written directly: through a jansson tree per seat, a 1,000-seat
     * section took tens of milliseconds to serialise. */
    ts_buf_init(&text);
    ts_buf_put_u8(&text, '[');
    for (int i = 0; i < PQntuples(r); i++) {
        if (i)
            ts_buf_put_u8(&text, ',');
        APPEND_LIT(&text, "{\"id\":");
        proj__json_str(&text, PQgetvalue(r, i, 0));
        APPEND_LIT(&text, ",\"row\":");
        proj__json_str(&text, PQgetvalue(r, i, 1));
        APPEND_LIT(&text, ",\"number\":");
        proj__json_num(&text, proj__col_i64(r, i, 2));
        if (PQgetvalue(r, i, 3)[0] == 't')
            APPEND_LIT(&text, ",\"accessible\":true,\"status\":");
        else
            APPEND_LIT(&text, ",\"accessible\":false,\"status\":");
        proj__json_str(&text, PQgetvalue(r, i, 4));
        ts_buf_put_u8(&text, '}');
    }
    ts_buf_put_u8(&text, ']');
    PQclear(r);
    /* Compressed here, once per change of the section, and never on a
     * request's way: a gzip answer only sends what is made here. */
    ts_buf_init(&gz);
    if (!z->ready && proj__deflater_init(z, 0) != 0)
        rc = TS_ERR_NOMEM;
    else
        rc = proj__deflate_piece(z, text.data, text.len, &gz);
    proj__blob_t *b = rc == TS_OK ? malloc(sizeof *b + text.len + gz.len) : NULL;
    if (b) {
        atomic_init(&b->refs, 1);
        b->len = text.len;
        memcpy(b->data, text.data, text.len);
        memcpy(b->data + text.len, gz.data, gz.len);
        b->gz = (const unsigned char *)b->data + text.len;
        b->gz_len = gz.len;
        b->crc = proj__crc(text.data, text.len);
        cache_put(db, version, event_id, section, seq, b);
    }
    ts_buf_deinit(&gz);
    ts_buf_deinit(&text);
    *out = b;
    return b ? TS_OK : TS_ERR_NOMEM;
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

void proj__doc_unref(struct proj__doc *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    for (uint32_t i = 0; i < d->n_blobs; i++)
        proj__blob_unref(d->blobs[i]);
    free(d->blobs);
    free(d->pieces);
    free(d->keys);
    free(d->seqs);
    free(d->frame);
    free(d->gzframe);
    free(d->gzpieces);
    proj__zanswer_unref(d->zanswer);
    pthread_mutex_destroy(&d->zanswer_mu);
    free(d);
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

/* While a document is assembled, its pieces are offsets into the frame
 * (blob < 0) or a whole blob; they become pointers once the frame is done. */
typedef struct {
    int32_t blob;
    size_t off, n;
} draft_piece_t;

/* Ends the frame piece that started at *from, if it is not empty. */
static void frame_piece(ts_buf_t *frame, size_t *from, draft_piece_t *pieces, uint32_t *n)
{
    if (frame->len > *from)
        pieces[(*n)++] = (draft_piece_t){-1, *from, frame->len - *from};
    *from = frame->len;
}

/* Fills d's gzip pieces from its pieces (complete): the blobs' own, the
 * frame's compressed now (each a few dozen bytes), and the CRC-32s of the
 * text before and after the hole. */
static ts_status doc_gzip(struct proj__doc *d)
{
    proj__deflater_t z;
    ts_buf_t gz;
    size_t *off = calloc(d->n_pieces + 1, sizeof *off);
    uint32_t crc;
    int after = 0;
    ts_status rc = TS_OK;

    ts_buf_init(&gz);
    d->gzpieces = calloc(d->n_pieces, sizeof *d->gzpieces);
    if (proj__deflater_init(&z, 1) != 0 || !off || !d->gzpieces)
        rc = TS_ERR_NOMEM;
    d->crc_head = d->crc_tail = proj__crc(NULL, 0);
    /* The blobs are pieces in their order, each pointing at its data. */
    for (uint32_t k = 0, bi = 0; k < d->n_pieces && rc == TS_OK; k++) {
        const proj__piece_t *pc = &d->pieces[k];
        const proj__blob_t *b = NULL;
        if (bi < d->n_blobs && pc->p == d->blobs[bi]->data)
            b = d->blobs[bi++];
        off[k] = gz.len;
        if (!pc->p) {
            after = 1; /* the hole: the answer's own */
            continue;
        }
        if (b) {
            crc = b->crc;
        } else {
            crc = proj__crc(pc->p, pc->n);
            rc = proj__deflate_piece(&z, pc->p, pc->n, &gz);
        }
        if (after) {
            d->crc_tail = proj__crc_combine(d->crc_tail, crc, pc->n);
            d->len_tail += pc->n;
        } else {
            d->crc_head = proj__crc_combine(d->crc_head, crc, pc->n);
            d->len_head += pc->n;
        }
    }
    proj__deflater_deinit(&z);
    if (rc == TS_OK) {
        off[d->n_pieces] = gz.len;
        d->gzframe = gz.data; /* the pieces point into it from here on */
        ts_buf_init(&gz);
        for (uint32_t k = 0, bi = 0; k < d->n_pieces; k++) {
            const proj__piece_t *pc = &d->pieces[k];
            if (bi < d->n_blobs && pc->p == d->blobs[bi]->data) {
                d->gzpieces[k] =
                    (proj__piece_t){(const char *)d->blobs[bi]->gz, d->blobs[bi]->gz_len};
                bi++;
            } else {
                d->gzpieces[k] =
                    (proj__piece_t){(const char *)d->gzframe + off[k], off[k + 1] - off[k]};
            }
            d->gz_len += d->gzpieces[k].n;
        }
    }
    ts_buf_deinit(&gz);
    free(off);
    return rc;
}

/* Assembles the document of the snapshot r belongs to (c's transaction):
 * sections in venue order, each seated one's seats from the section cache
 * or read now. *out has one reference. */
static ts_status doc_build(proj_db_t *db, proj__conn_t *c, const char *event_id, const PGresult *r,
                           uint64_t version, struct proj__doc **out)
{
    struct proj__doc *d = calloc(1, sizeof *d);
    int n = PQntuples(r);
    ts_buf_t frame;
    draft_piece_t *draft = NULL;
    uint32_t nd = 0;
    size_t from = 0;
    char num[48];
    proj__deflater_t z = {0};
    ts_status rc = TS_OK;

    ts_buf_init(&frame);
    if (!d)
        return TS_ERR_NOMEM;
    atomic_init(&d->refs, 1);
    pthread_mutex_init(&d->zanswer_mu, NULL);
    d->version = version;
    if (strlen(event_id) >= sizeof d->event_id) {
        rc = TS_ERR_INVALID;
        goto done;
    }
    strcpy(d->event_id, event_id);
    /* At most: the head, the hole, and per section a text and a blob,
     * and the tail. */
    d->keys = calloc((size_t)n + 1, sizeof *d->keys);
    d->seqs = calloc((size_t)n + 1, sizeof *d->seqs);
    d->blobs = calloc((size_t)n + 1, sizeof *d->blobs);
    draft = calloc(2 * (size_t)n + 4, sizeof *draft);
    if (!d->keys || !d->seqs || !d->blobs || !draft) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    APPEND_LIT(&frame, "{\"event_id\":");
    append_json(&frame, json_string(event_id));
    APPEND_LIT(&frame, ",\"as_of_seq\":");
    frame_piece(&frame, &from, draft, &nd);
    draft[nd++] = (draft_piece_t){-2, 0, 0}; /* the hole for as_of_seq */
    APPEND_LIT(&frame, ",\"sections\":[");
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
        if (i)
            ts_buf_put_u8(&frame, ',');
        APPEND_LIT(&frame, "{\"key\":");
        append_json(&frame, proj__col_str(r, i, 1));
        APPEND_LIT(&frame, ",\"kind\":");
        append_json(&frame, proj__col_str(r, i, 2));
        APPEND_LIT(&frame, ",\"tier\":");
        append_json(&frame, proj__col_str(r, i, 3));
        if (strcmp(PQgetvalue(r, i, 2), "standing") == 0) {
            snprintf(num, sizeof num, ",\"capacity\":%" PRId64 ",\"available\":%" PRId64 "}",
                     proj__col_i64(r, i, 4), proj__col_i64(r, i, 5));
            append_str(&frame, num);
            continue;
        }
        APPEND_LIT(&frame, ",\"seats\":");
        frame_piece(&frame, &from, draft, &nd);
        rc = section_seats(db, c, version, event_id, key, seq, &z, &d->blobs[d->n_blobs]);
        if (rc != TS_OK)
            goto done;
        draft[nd++] = (draft_piece_t){(int32_t)d->n_blobs, 0, d->blobs[d->n_blobs]->len};
        d->n_blobs++;
        ts_buf_put_u8(&frame, '}');
    }
    APPEND_LIT(&frame, "]}");
    frame_piece(&frame, &from, draft, &nd);
    /* The frame is complete: the pieces can point into it. */
    d->frame = (char *)frame.data;
    ts_buf_init(&frame);
    d->pieces = calloc(nd, sizeof *d->pieces);
    if (!d->pieces) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    for (uint32_t k = 0; k < nd; k++) {
        if (draft[k].blob >= 0)
            d->pieces[k] = (proj__piece_t){d->blobs[draft[k].blob]->data, draft[k].n};
        else if (draft[k].blob == -1)
            d->pieces[k] = (proj__piece_t){d->frame + draft[k].off, draft[k].n};
        d->len += d->pieces[k].n;
    }
    d->n_pieces = nd;
    rc = doc_gzip(d);
done:
    proj__deflater_deinit(&z);
    ts_buf_deinit(&frame);
    free(draft);
    if (rc != TS_OK) {
        proj__doc_unref(d);
        return rc;
    }
    *out = d;
    return TS_OK;
}

/* Takes a reference to the cached document of event when it is current for
 * the sections r lists at checkpoint seq; *as_of gets the checkpoint to
 * report (seq, or a later one at which the document was found current).
 * NULL when there is none: the caller builds one, and *builder says
 * whether it claimed the slot for that (doc_done releases it). Only one
 * request builds an event's document at a time: another one that needs it
 * waits for that build, which is usually current for it too. */
static struct proj__doc *doc_get(proj_db_t *db, const char *event_id, const PGresult *r,
                                 uint64_t version, uint64_t seq, uint64_t *as_of, int *builder)
{
    proj__doc_slot_t *slot = &db->docs[doc_slot_of(event_id)];
    struct proj__doc *d = NULL;
    *builder = 0;
    pthread_mutex_lock(&db->doc_mu);
    for (;;) {
        struct proj__doc *x = slot->doc;
        if (x && x->version == version && strcmp(x->event_id, event_id) == 0) {
            if (slot->valid_seq >= seq) {
                d = x;
            } else if (r && doc_current(x, r)) {
                slot->valid_seq = seq;
                d = x;
            }
        }
        if (d || !slot->building || strcmp(slot->building_event, event_id) != 0)
            break;
        pthread_cond_wait(&db->doc_cv, &db->doc_mu);
    }
    if (d) {
        atomic_fetch_add(&d->refs, 1);
        *as_of = slot->valid_seq;
    } else if (!slot->building) {
        /* A slot built for another event (two events with one hash) is
         * not waited for: this one builds without the claim. */
        slot->building = 1;
        strcpy(slot->building_event, event_id);
        *builder = 1;
    }
    pthread_mutex_unlock(&db->doc_mu);
    return d;
}

/* Ends the claim doc_get gave. */
static void doc_done(proj_db_t *db, const char *event_id)
{
    proj__doc_slot_t *slot = &db->docs[doc_slot_of(event_id)];
    pthread_mutex_lock(&db->doc_mu);
    slot->building = 0;
    pthread_cond_broadcast(&db->doc_cv);
    pthread_mutex_unlock(&db->doc_mu);
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
        atomic_fetch_add(&d->refs, 1);
    }
    pthread_mutex_unlock(&db->doc_mu);
    proj__doc_unref(old);
}

/* ---- the answer ---- */

/* Reads the event's sections and the checkpoint (PROJ_Q_SEATMAP_SECTIONS)
 * into *r. Errors: TS_ERR_NOT_FOUND (no such event), as proj__exec. */
static ts_status read_sections(proj__conn_t *c, const char *event_id, PGresult **r, uint64_t *seq,
                               uint64_t *version)
{
    ts_status rc = proj__exec(c, PROJ_Q_SEATMAP_SECTIONS, 1, &event_id, r);
    if (rc != TS_OK)
        return rc;
    if (PQntuples(*r) == 0)
        return TS_ERR_NOT_FOUND;
    *seq = (uint64_t)proj__col_i64(*r, 0, 0);
    *version = (uint64_t)proj__col_i64(*r, 0, 7);
    return TS_OK;
}

/* Makes out's one piece its zstd answer, out->zanswer (out->piece and
 * out->len have room for one at least). */
static void send_zanswer(proj_seatmap_t *out)
{
    out->n_pieces = 1;
    out->piece[0] = (const char *)out->zanswer->data;
    out->len[0] = out->zanswer->len;
    out->total = out->zanswer->len;
    out->coding = "zstd";
}

/* Fills out with one zstd frame of d's text at checkpoint as_of (digits in
 * out->seq), out's pieces (d->n_pieces of them) already filled with that
 * text. The frame is made once per document and checkpoint, under the
 * document's lock, so the requests that share a read share its frame and
 * wait for the one that makes it (about 3 ms for a 50,000-seat map). */
static ts_status answer_zstd(struct proj__doc *d, uint64_t as_of, proj_seatmap_t *out)
{
    ts_status rc = TS_OK;
    pthread_mutex_lock(&d->zanswer_mu);
    if (!d->zanswer || d->zanswer->as_of != as_of) {
        proj__zanswer_t *z = NULL;
        rc = proj__zstd_answer(out->piece, out->len, out->n_pieces, out->total, as_of, &z);
        if (rc == TS_OK) {
            proj__zanswer_unref(d->zanswer);
            d->zanswer = z;
        }
    }
    if (rc == TS_OK) {
        out->zanswer = d->zanswer;
        atomic_fetch_add(&out->zanswer->refs, 1);
    }
    pthread_mutex_unlock(&d->zanswer_mu);
    if (rc == TS_OK)
        send_zanswer(out);
    return rc;
}

/* Fills out with z, the zstd answer made with the read of d that the
 * request took (one reference each, now out's). */
static ts_status answer_made(struct proj__doc *d, proj__zanswer_t *z, proj_seatmap_t *out)
{
    out->doc = d;
    out->zanswer = z;
    snprintf(out->seq, sizeof out->seq, "%" PRIu64, z->as_of);
    out->piece = calloc(1, sizeof *out->piece);
    out->len = calloc(1, sizeof *out->len);
    if (!out->piece || !out->len)
        return TS_ERR_NOMEM;
    send_zanswer(out);
    return TS_OK;
}

/* Fills out's pieces from d (one reference, now out's) at checkpoint as_of,
 * as text, as one gzip member or as one zstd frame (coding: 0 or one of
 * PROJ_SEATMAP_GZIP and PROJ_SEATMAP_ZSTD). */
static ts_status answer_pieces(struct proj__doc *d, uint64_t as_of, unsigned coding,
                               proj_seatmap_t *out)
{
    int gzip = coding == PROJ_SEATMAP_GZIP;
    uint32_t n = d->n_pieces + (gzip ? 2 : 0);
    size_t digits;
    ts_status rc = TS_OK;

    out->doc = d;
    snprintf(out->seq, sizeof out->seq, "%" PRIu64, as_of);
    digits = strlen(out->seq);
    out->piece = calloc(n, sizeof *out->piece);
    out->len = calloc(n, sizeof *out->len);
    if (!out->piece || !out->len)
        return TS_ERR_NOMEM;
    out->n_pieces = n;
    if (!gzip) {
        for (uint32_t i = 0; i < d->n_pieces; i++) {
            int hole = !d->pieces[i].p;
            out->piece[i] = hole ? out->seq : d->pieces[i].p;
            out->len[i] = hole ? digits : d->pieces[i].n;
        }
        out->total = d->len + digits;
        /* zstd that cannot be made (out of memory): the text as it is. */
        if (coding == PROJ_SEATMAP_ZSTD)
            (void)answer_zstd(d, as_of, out);
        return TS_OK;
    }
    /* Only the digits are compressed here, with a small stream; the rest
     * was compressed when the document and its blobs were made. */
    proj__deflater_t z;
    ts_buf_t gz;
    ts_buf_init(&gz);
    if (proj__deflater_init(&z, 1) != 0)
        rc = TS_ERR_NOMEM;
    else
        rc = proj__deflate_piece(&z, out->seq, digits, &gz);
    proj__deflater_deinit(&z);
    if (rc == TS_OK && gz.len > sizeof out->gz_seq)
        rc = TS_ERR_NOMEM; /* 20 digits never compress to more */
    if (rc == TS_OK) {
        memcpy(out->gz_seq, gz.data, gz.len);
        uint32_t crc = proj__crc_combine(d->crc_head, proj__crc(out->seq, digits), digits);
        crc = proj__crc_combine(crc, d->crc_tail, d->len_tail);
        memcpy(out->gz_end, proj__gz_last_block, PROJ_GZ_LAST_BLOCK_LEN);
        proj__gz_trailer(crc, d->len + digits, out->gz_end + PROJ_GZ_LAST_BLOCK_LEN);
        out->piece[0] = (const char *)proj__gz_header;
        out->len[0] = PROJ_GZ_HEADER_LEN;
        for (uint32_t i = 0; i < d->n_pieces; i++) {
            int hole = !d->pieces[i].p;
            out->piece[i + 1] = hole ? (const char *)out->gz_seq : d->gzpieces[i].p;
            out->len[i + 1] = hole ? gz.len : d->gzpieces[i].n;
        }
        out->piece[n - 1] = (const char *)out->gz_end;
        out->len[n - 1] = sizeof out->gz_end;
        out->total = PROJ_GZ_HEADER_LEN + d->gz_len + gz.len + sizeof out->gz_end;
        out->coding = "gzip";
    }
    ts_buf_deinit(&gz);
    return rc;
}

/* Reads the map of event_id now: *out gets a reference to a document
 * current at checkpoint *as_of, which is at least the checkpoint when the
 * call started. */
static ts_status read_map(proj_db_t *db, const char *event_id, struct proj__doc **out,
                          uint64_t *as_of_out)
{
    proj__conn_t *c = NULL;
    PGresult *r = NULL;
    struct proj__doc *d = NULL;
    int in_tx = 0, builder = 0;
    uint64_t as_of = 0, seq = 0, version = 0;
    ts_status rc;

    rc = proj__db_acquire(db, &c);
    if (rc != TS_OK)
        goto done;
    /* The common case first: one statement, one round trip, reads the
     * checkpoint and the sections in one snapshot (a single statement
     * takes its snapshot once it holds its table locks, so a swap is
     * either all before it or all after), and the cached document is
     * current for them. */
    rc = read_sections(c, event_id, &r, &seq, &version);
    if (rc != TS_OK)
        goto done;
    cache_use_version(db, version);
    d = doc_get(db, event_id, r, version, seq, &as_of, &builder);
    if (d)
        goto done;
    /* A new document: the sections again and every changed section's
     * seats, in one REPEATABLE READ snapshot, so as_of_seq tells exactly
     * which commits the answer reflects; the tables locked before it is
     * taken (see the top of this file), in the order the swap locks them. */
    PQclear(r);
    r = NULL;
    rc = exec_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
                        " LOCK TABLE checkpoints, events, sections, seats IN ACCESS SHARE MODE");
    if (rc != TS_OK)
        goto done;
    in_tx = 1;
    rc = read_sections(c, event_id, &r, &seq, &version);
    if (rc != TS_OK)
        goto done;
    cache_use_version(db, version);
    rc = doc_build(db, c, event_id, r, version, &d);
    if (rc != TS_OK)
        goto done;
    as_of = seq;
    doc_offer(db, d, seq);
    rc = exec_simple(c, "COMMIT");
    in_tx = 0;
done:
    if (builder)
        doc_done(db, event_id);
    if (in_tx)
        exec_simple(c, "ROLLBACK");
    PQclear(r);
    proj__db_release(db, c);
    if (rc != TS_OK) {
        proj__doc_unref(d);
        return rc;
    }
    *out = d;
    *as_of_out = as_of;
    return TS_OK;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Stores the result of read number no, begun at began, as the slot's
 * (under doc_mu), with z, its zstd answer when one was made (or NULL), and
 * wakes the requests waiting for it. */
static void read_done(proj_db_t *db, proj__doc_slot_t *slot, uint64_t no, int64_t began,
                      ts_status rc, struct proj__doc *d, uint64_t as_of, proj__zanswer_t *z)
{
    proj__doc_unref(slot->read_doc);
    slot->read_doc = NULL;
    proj__zanswer_unref(slot->read_zanswer);
    slot->read_zanswer = NULL;
    slot->read_rc = rc;
    if (rc == TS_OK) {
        slot->read_doc = d;
        atomic_fetch_add(&d->refs, 1);
        slot->read_as_of = as_of;
        if (z && z->as_of == as_of) {
            slot->read_zanswer = z;
            atomic_fetch_add(&z->refs, 1);
        }
    }
    slot->read_at_ms = began;
    slot->read_end_ms = now_ms();
    slot->reads_done = no;
    slot->reading = 0;
    pthread_cond_broadcast(&db->doc_cv);
}

/* The refresher: makes the reads that requests handed over (see
 * shared_read), so that no request waits for them. */
static void *refresher_main(void *arg)
{
    proj_db_t *db = arg;
    char event_id[sizeof db->docs[0].read_event];
    proj__zstd_keep_context();
    pthread_mutex_lock(&db->doc_mu);
    while (!db->refresher_stop) {
        proj__doc_slot_t *slot = NULL;
        for (int i = 0; i < PROJ_DOC_CACHE_SLOTS && !slot; i++)
            if (db->docs[i].refresh_wanted)
                slot = &db->docs[i];
        if (!slot) {
            pthread_cond_wait(&db->refresh_cv, &db->doc_mu);
            continue;
        }
        slot->refresh_wanted = 0;
        /* The slot is marked reading: nobody takes it over meanwhile. */
        strcpy(event_id, slot->read_event);
        uint64_t no = slot->refresh_no;
        int64_t began = slot->refresh_at_ms;
        pthread_mutex_unlock(&db->doc_mu);
        struct proj__doc *d = NULL;
        uint64_t as_of = 0;
        ts_status rc = read_map(db, event_id, &d, &as_of);
        /* Clients asked for zstd lately: make the new map's zstd answer
         * here too, and publish it with the map, so that no request
         * waits the ~3 ms it takes (answer_zstd). It goes with this read's
         * result, not only with the document: a document unchanged across
         * checkpoints would otherwise have its one cached frame swapped
         * back and forth between the old checkpoint and the new. */
        proj_seatmap_t pre;
        memset(&pre, 0, sizeof pre);
        if (rc == TS_OK && now_ms() - atomic_load(&slot->zstd_asked_ms) < 1000) {
            atomic_fetch_add(&d->refs, 1); /* pre's own, released by close */
            (void)answer_pieces(d, as_of, PROJ_SEATMAP_ZSTD, &pre);
        }
        pthread_mutex_lock(&db->doc_mu);
        read_done(db, slot, no, began, rc, d, as_of, pre.zanswer);
        pthread_mutex_unlock(&db->doc_mu);
        proj_seatmap_close(&pre);
        if (rc == TS_OK)
            proj__doc_unref(d);
        pthread_mutex_lock(&db->doc_mu);
    }
    pthread_mutex_unlock(&db->doc_mu);
    return NULL;
}

void proj__seatmap_stop(proj_db_t *db)
{
    pthread_mutex_lock(&db->doc_mu);
    int running = db->refresher_running;
    db->refresher_stop = 1;
    pthread_cond_broadcast(&db->refresh_cv);
    pthread_mutex_unlock(&db->doc_mu);
    if (running)
        pthread_join(db->refresher, NULL);
}

/* read_map shared between the requests for one event. A request takes the
 * result of a read that started after it came, and starts one itself when
 * none is under way; a read under way when it came may have taken its
 * snapshot before the caller's min_seq was reached, so the request waits
 * for it to finish and for the next one. One read (one PostgreSQL round
 * trip) thus answers every request that came while the one before it ran,
 * and each gets a document current at a checkpoint read after it came:
 * never older than its min_seq, never reported at a checkpoint at which
 * it was not current.
 *
 * With recent set the request also takes the last read's result when its
 * as_of_seq is at least min_seq and it is recent (proj_int.h): begun less
 * than PROJ_SHARED_READ_FRESH_MS ago, or less than
 * PROJ_SHARED_READ_STALE_MS ago while the event is busy (a read under way,
 * or the last one ended less than PROJ_SHARED_READ_IDLE_MS ago). When it
 * began FRESH ms ago or more, the request also hands the next read to the
 * refresher thread (unless one is under way), so the reads, and the
 * documents rebuilt after holds, are made off the requests' way. The map is then that much older
 * than the request at most, and still exactly the map of the checkpoint it reports. Results only
 * ever move forward (one read at a time, each begun after the last), so a client's successive
 * answers never go back. */
static ts_status shared_read(proj_db_t *db, const char *event_id, uint64_t min_seq, int recent,
                             struct proj__doc **out, uint64_t *as_of, proj__zanswer_t **z)
{
    proj__doc_slot_t *slot = &db->docs[doc_slot_of(event_id)];
    ts_status rc;

    pthread_mutex_lock(&db->doc_mu);
    /* A slot shared by another event (two ids, one hash) is taken over
     * when it is idle; while that event reads, this one reads alone. */
    if (strcmp(slot->read_event, event_id) != 0 && !slot->reading) {
        strcpy(slot->read_event, event_id);
        proj__doc_unref(slot->read_doc);
        slot->read_doc = NULL;
        proj__zanswer_unref(slot->read_zanswer);
        slot->read_zanswer = NULL;
        slot->reads_done = slot->reads_started; /* no result of this event */
    }
    uint64_t came = slot->reads_started; /* reads numbered above came start later */
    for (;;) {
        if (strcmp(slot->read_event, event_id) != 0)
            break; /* taken over meanwhile: read alone */
        int64_t now = now_ms(), age = now - slot->read_at_ms;
        int busy = slot->reading || now - slot->read_end_ms < PROJ_SHARED_READ_IDLE_MS;
        int take = slot->reads_done > came;
        if (!take && recent && slot->read_doc && slot->read_as_of >= min_seq &&
            (age < PROJ_SHARED_READ_FRESH_MS || (busy && age < PROJ_SHARED_READ_STALE_MS))) {
            take = 1;
            if (age >= PROJ_SHARED_READ_FRESH_MS && !slot->reading && !db->refresher_stop) {
                if (!db->refresher_running &&
                    pthread_create(&db->refresher, NULL, refresher_main, db) == 0)
                    db->refresher_running = 1;
                if (db->refresher_running) {
                    slot->reading = 1;
                    slot->refresh_wanted = 1;
                    slot->refresh_no = ++slot->reads_started;
                    slot->refresh_at_ms = now;
                    pthread_cond_signal(&db->refresh_cv);
                }
            }
        }
        if (take) {
            rc = slot->read_rc;
            if (rc == TS_OK) {
                *out = slot->read_doc;
                atomic_fetch_add(&(*out)->refs, 1);
                *as_of = slot->read_as_of;
                if (z && slot->read_zanswer) {
                    *z = slot->read_zanswer;
                    atomic_fetch_add(&(*z)->refs, 1);
                }
            }
            pthread_mutex_unlock(&db->doc_mu);
            return rc;
        }
        if (!slot->reading) {
            uint64_t mine = ++slot->reads_started;
            int64_t began = now_ms();
            slot->reading = 1;
            pthread_mutex_unlock(&db->doc_mu);
            rc = read_map(db, event_id, out, as_of);
            pthread_mutex_lock(&db->doc_mu);
            read_done(db, slot, mine, began, rc, rc == TS_OK ? *out : NULL, *as_of, NULL);
            pthread_mutex_unlock(&db->doc_mu);
            return rc;
        }
        pthread_cond_wait(&db->doc_cv, &db->doc_mu);
    }
    pthread_mutex_unlock(&db->doc_mu);
    return read_map(db, event_id, out, as_of);
}

ts_status proj_seatmap_open(proj_db_t *db, const char *event_id, uint64_t min_seq, unsigned flags,
                            proj_seatmap_t *out)
{
    struct proj__doc *d = NULL;
    uint64_t as_of = 0;

    memset(out, 0, sizeof *out);
    if (!event_id || strlen(event_id) >= sizeof d->event_id)
        return TS_ERR_INVALID;
    unsigned coding = flags & PROJ_SEATMAP_ZSTD   ? PROJ_SEATMAP_ZSTD
                      : flags & PROJ_SEATMAP_GZIP ? PROJ_SEATMAP_GZIP
                                                  : 0;
    proj__zanswer_t *z = NULL;
    ts_status rc = shared_read(db, event_id, min_seq, (flags & PROJ_SEATMAP_RECENT) != 0, &d,
                               &as_of, coding == PROJ_SEATMAP_ZSTD ? &z : NULL);
    if (rc != TS_OK)
        return rc;
    if (coding == PROJ_SEATMAP_ZSTD)
        atomic_store(&db->docs[doc_slot_of(event_id)].zstd_asked_ms, now_ms());
    /* The answer's own copy of the piece list, with its as_of_seq; a zstd
     * answer made with the read it took is sent as it is. */
    rc = z && z->as_of == as_of ? answer_made(d, z, out) : answer_pieces(d, as_of, coding, out);
    if (z && out->zanswer != z)
        proj__zanswer_unref(z);
    if (rc != TS_OK)
        proj_seatmap_close(out);
    return rc;
}

void proj_seatmap_close(proj_seatmap_t *m)
{
    if (!m)
        return;
    proj__doc_unref(m->doc);
    proj__zanswer_unref(m->zanswer);
    free(m->piece);
    free(m->len);
    memset(m, 0, sizeof *m);
}

ts_status proj_seatmap_text(proj_db_t *db, const char *event_id, char **out, size_t *len)
{
    proj_seatmap_t m;
    ts_buf_t b;
    ts_status rc = proj_seatmap_open(db, event_id, 0, 0, &m);
    if (rc != TS_OK)
        return rc;
    ts_buf_init(&b);
    for (uint32_t i = 0; i < m.n_pieces; i++)
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
