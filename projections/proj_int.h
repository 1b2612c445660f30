/*
 * proj_int.h — private to projections/: the pool's insides, the fold and the
 * pure helpers (cursor, array literals, JSON shaping) that unit tests reach.
 *
 * The pool. proj_db_t is an array of slots, each a PGconn that is opened on
 * first use and reopened when found broken; a mutex and a condition variable
 * hand a slot to one thread at a time. A slot remembers which named prepared
 * statements exist on its connection (a bit per statement), so statements are
 * prepared once per connection, lazily, and again after a reconnect.
 *
 * The fold (fold.c) turns one decoded commit into statements sent in libpq
 * pipeline mode; batch.c folds a batch of commits with the checkpoint update,
 * in one transaction, for the projector (projector.c) and for the builds of
 * fresh schemas (build.c) alike.
 *
 * Nothing here is part of the public contract; no other folder includes it.
 */
#ifndef TS_PROJ_INT_H
#define TS_PROJ_INT_H

#include "base/base.h"
#include "events/events.h"
#include "projections/projections.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdint.h>
#include <zlib.h>

/* ---- pool (db.c) ---- */

typedef struct {
    PGconn *pg;     /* NULL until first use */
    int busy;       /* handed out */
    uint64_t ready; /* bit i set: prepared statement i exists on pg */
    int staging;    /* has the staging tables (proj__staging_ensure) */
} proj__conn_t;

/* A seated section's seats, serialised (a compact JSON array), as of the
 * section's updated_seq: immutable, shared by reference between the
 * section cache and every document made from it, freed with its last
 * reference. Every change to a seat bumps its section's updated_seq, so a
 * blob whose seq matches the row read in a snapshot is exactly what that
 * snapshot holds. Text, not a json_t tree: a tree costs about 900 bytes
 * per seat, the text about 70, and the API sends text. */
typedef struct {
    _Atomic int refs;
    size_t len;
    /* The same text as a gzip piece (gzpiece.c): raw deflate ending with a
     * sync flush, made once with the blob, in the same allocation after
     * data; and the text's CRC-32. */
    const unsigned char *gz;
    size_t gz_len;
    uint32_t crc;
    char data[];
} proj__blob_t;

typedef struct {
    char event_id[65];
    char section[17];
    uint64_t seq;
    proj__blob_t *blob; /* NULL when the slot is empty */
} proj__seat_slot_t;

#define PROJ_SEAT_CACHE_SLOTS 512
#define PROJ_SEAT_CACHE_WAYS 4 /* slots a key may use from its hash */

/* One piece of a document as it is sent. */
typedef struct {
    const char *p;
    size_t n;
} proj__piece_t;

/* A seat-map answer as one zstd frame (zstpiece.c), for one document at
 * one checkpoint: immutable, freed with its last reference. */
typedef struct proj__zanswer {
    _Atomic int refs;
    uint64_t as_of;
    size_t len;
    unsigned char data[];
} proj__zanswer_t;

/* A whole seat-map document, assembled once and served to every request
 * that finds the event unchanged (seatmap.c): immutable once made, freed
 * with its last reference. It is a list of pieces sent one after the
 * other: the small texts between the seats arrays (in frame), each seated
 * section's blob, and at piece 1 a hole for the digits of as_of_seq, which
 * each answer fills with its own. keys and seqs are the sections it was
 * made from, in order. */
struct proj__doc {
    _Atomic int refs;
    char event_id[65];
    uint64_t version; /* checkpoints.version of the build it was read from */
    uint32_t n_sections;
    char (*keys)[17];
    uint64_t *seqs;
    char *frame;
    proj__blob_t **blobs; /* one reference each */
    uint32_t n_blobs;
    proj__piece_t *pieces;
    uint32_t n_pieces;
    size_t len; /* of all the pieces but the hole */
    /* The gzip pieces, one per piece (the blobs' own, the frame's
     * compressed into gzframe; empty for the hole), and the CRC-32 and
     * length of the text before the hole and after it, so that an answer
     * only compresses its digits and combines three CRCs. */
    unsigned char *gzframe;
    proj__piece_t *gzpieces;
    size_t gz_len; /* of all the gzip pieces */
    uint32_t crc_head, crc_tail;
    size_t len_head, len_tail;
    /* The last zstd answer made of it (zstpiece.c), for the checkpoint
     * zanswer->as_of; NULL until one is asked for. */
    pthread_mutex_t zanswer_mu;
    proj__zanswer_t *zanswer;
};

/* The document cache: one slot per event (by hash), holding the newest
 * document and the newest checkpoint at which it was found current.
 * And the shared read of read_event (seatmap.c, shared_read): reads are
 * numbered as they start; the result of the last one to finish (number
 * reads_done) is kept for the requests that waited for it. */
typedef struct {
    struct proj__doc *doc;
    uint64_t valid_seq;
    int building;            /* a request is assembling the next document */
    char building_event[65]; /* of this event */
    char read_event[65];     /* "" when no read was shared here yet */
    int reading;             /* a read of read_event is under way */
    uint64_t reads_started, reads_done;
    ts_status read_rc;             /* of read number reads_done */
    struct proj__doc *read_doc;    /* its document (a reference), or NULL */
    proj__zanswer_t *read_zanswer; /* and its zstd answer (a reference), or NULL */
    uint64_t read_as_of;           /* and the checkpoint it was current at */
    int64_t read_at_ms;            /* when that read began (monotonic clock) */
    int64_t read_end_ms;           /* and when it ended */
    /* A read handed to the refresher thread: its number and start. */
    int refresh_wanted;
    uint64_t refresh_no;
    int64_t refresh_at_ms;
    /* When a request last asked for this slot's map as zstd: the
     * refresher then makes the zstd answer of each map it reads. */
    _Atomic int64_t zstd_asked_ms;
} proj__doc_slot_t;

/* How old a shared read may be when a request that allows it
 * (PROJ_SEATMAP_RECENT) takes its result instead of reading (seatmap.c,
 * shared_read): begun under FRESH ago; or under STALE ago while the event is
 * being read, that is while a newer read is under way or when the last one
 * ended under IDLE ago. A request that takes a result older than FRESH
 * hands the next read to the refresher thread. A map whose last read
 * ended IDLE ms ago or more, with none under way, is read again on the
 * request's way, so a lone viewer always gets a fresh one.
 *
 * STALE is well above what a read takes on a quiet machine (a few ms): on a
 * busy one the refresher gets its share of two cores among a hundred
 * connection threads, and its read can take tens of ms. With 50, every
 * request then queued behind it (seatmap.sh, 128 connections refreshing
 * every 25 ms, 4,700 answers/s: p99 55 ms; 6.4 and 7.0 ms with 500). FRESH
 * keeps the reads to 10 a second while holds move the checkpoint (each
 * makes the whole map's zstd frame again; with 20, serve used 1.3-2.0 CPU-s
 * more per 10 s at 128 connections). IDLE is above FRESH: under steady
 * requests the last read has always ended less than IDLE ago when the next
 * is due, so the refresher makes it and no request reads on its way. A
 * request with min_seq never takes a result older than min_seq. */
#define PROJ_SHARED_READ_FRESH_MS 100
#define PROJ_SHARED_READ_IDLE_MS 150
#define PROJ_SHARED_READ_STALE_MS 500

#define PROJ_DOC_CACHE_SLOTS 64

struct proj_db {
    char *conninfo;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    proj__conn_t *conns;
    int down; /* the last connection attempt failed (under mu) */
    pthread_mutex_t cache_mu;
    uint64_t cache_version; /* checkpoints.version the cache was filled from */
    proj__seat_slot_t cache[PROJ_SEAT_CACHE_SLOTS];
    pthread_mutex_t doc_mu;    /* guards docs */
    pthread_cond_t doc_cv;     /* a document was built */
    pthread_cond_t refresh_cv; /* a read was handed to the refresher */
    pthread_t refresher;       /* started with the first such read */
    int refresher_running, refresher_stop;
    proj__doc_slot_t docs[PROJ_DOC_CACHE_SLOTS];
};

/* ---- gzip pieces (gzpiece.c) ----
 *
 * A gzip answer (RFC 1952) is put together from texts compressed apart:
 * the header, then each piece of the text as raw deflate data from a fresh
 * stream ended with Z_SYNC_FLUSH (so it is byte-aligned and not final),
 * in order, then proj__gz_last_block (an empty final block), then the
 * trailer with the CRC-32 of the whole text, combined from the pieces'
 * CRCs, and its length. */

#define PROJ_GZ_LEVEL 1 /* 11x smaller seat blobs at a third of the CPU of level 6 */
#define PROJ_GZ_HEADER_LEN 10
#define PROJ_GZ_LAST_BLOCK_LEN 2
#define PROJ_GZ_TRAILER_LEN 8

extern const unsigned char proj__gz_header[PROJ_GZ_HEADER_LEN];
extern const unsigned char proj__gz_last_block[PROJ_GZ_LAST_BLOCK_LEN];

/* A deflate stream reused for many pieces, each compressed as by a fresh
 * one. One thread at a time. */
typedef struct {
    z_stream zs;
    int ready;
} proj__deflater_t;

/* small: for pieces of a few dozen bytes (a 512-byte window, little
 * memory). -1 when zlib cannot allocate; *d needs deinit either way. */
int proj__deflater_init(proj__deflater_t *d, int small);
void proj__deflater_deinit(proj__deflater_t *d);
/* Appends the n bytes at in to out as a gzip piece (nothing for n = 0).
 * Errors: TS_ERR_NOMEM (zlib could not allocate or failed). */
ts_status proj__deflate_piece(proj__deflater_t *d, const void *in, size_t n, ts_buf_t *out);
/* The CRC-32 of n bytes; of two texts one after the other from theirs. */
uint32_t proj__crc(const void *p, size_t n);
uint32_t proj__crc_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);
/* The 8-byte gzip trailer of a text with this CRC-32 and length. */
void proj__gz_trailer(uint32_t crc, uint64_t len, unsigned char out[PROJ_GZ_TRAILER_LEN]);

/* ---- zstd answers (zstpiece.c) ----
 *
 * A zstd answer (RFC 8878, Content-Encoding: zstd per RFC 9659) is one
 * frame of the whole text, made once per map read and shared by every
 * request that takes that read (seatmap.c, answer_zstd, refresher_main).
 * One frame, not a frame per section: RFC 8878 lets frames follow one
 * another, but some decoders stop after the first (Node's zlib, which
 * Node's fetch uses and which sends "zstd" in Accept-Encoding; Ruby's
 * zstd-ruby before 2.0.7; python-zstandard by default), and they would
 * get a truncated map. */

/* Measured with `zstd -b` on a map of the benchmark's layout (50 sections
 * of 1,000 seats, 10 % of the seats held at random, 3.8 MB): level 1 81 KB
 * at 1.4 GB/s (2.7 ms), level 3 83 KB at 1.1 GB/s; a frame per section
 * came to 123 KB. gzip level 1 of the same text, 344 KB. */
#define PROJ_ZSTD_LEVEL 1
/* RFC 9659 section 3: at most an 8 MB (2^23) window for Content-Encoding
 * zstd. A text up to that size is one "single segment" frame whose window
 * is the text's size; a larger one gets this window. */
#define PROJ_ZSTD_WINDOW_LOG 23

/* One frame of the n pieces (piece, len; total bytes in all) as a new
 * proj__zanswer_t for checkpoint as_of (*out, one reference). On a thread
 * that called proj__zstd_keep_context, its compression context is kept
 * for the next call; elsewhere one is made and freed per call.
 * Errors: TS_ERR_NOMEM (out of memory, or zstd failed). */
ts_status proj__zstd_answer(const char *const *piece, const size_t *len, uint32_t n, size_t total,
                            uint64_t as_of, proj__zanswer_t **out);
void proj__zanswer_unref(proj__zanswer_t *z);
/* The calling thread keeps its context between proj__zstd_answer calls
 * (the seat map's refresher thread, which makes them all for a busy map):
 * a context for a 3.8 MB text holds about 4 MB, too much to keep on every
 * connection thread, too much to map and unmap 50 times a second. */
void proj__zstd_keep_context(void);

/* Drop a reference, freeing with the last one (seatmap.c). Accept NULL. */
void proj__blob_unref(proj__blob_t *b);
void proj__doc_unref(struct proj__doc *doc);
/* Stops the seat map's refresher thread, if it runs (seatmap.c). */
void proj__seatmap_stop(proj_db_t *db);

/* Hands out a live connection (connecting when needed), waiting up to 5 s
 * for a free slot. Errors: TS_ERR_UNAVAILABLE (no slot, cannot connect). */
ts_status proj__db_acquire(proj_db_t *db, proj__conn_t **out);
/* Gives the slot back; a connection left broken or inside a transaction is
 * closed so the next user reconnects. Accepts NULL. */
void proj__db_release(proj_db_t *db, proj__conn_t *c);

/* Translates a finished result: TS_OK for PGRES_COMMAND_OK / TUPLES_OK,
 * TS_ERR_UNAVAILABLE when the connection is gone, TS_ERR_DB otherwise (logged
 * with what). Does not clear res. */
ts_status proj__pg_check(PGconn *pg, const PGresult *res, const char *what);

/* Named statements, prepared lazily per connection; their SQL is in sql.c
 * (proj__stmt_sql), the prepared name is the second column. A statement
 * the fold sends in its pipeline belongs between PROJ_F_VENUE_CREATED and
 * PROJ_F_NOTIFY: the projector prepares that range before it starts one. */
#define PROJ_STMT_LIST(X)                                                                          \
    X(PROJ_Q_CHECKPOINT_GET, "proj_q_checkpoint")                                                  \
    X(PROJ_Q_VENUE_GET, "proj_q_venue")                                                            \
    X(PROJ_Q_EVENT_GET, "proj_q_event")                                                            \
    X(PROJ_Q_SEATMAP_SECTIONS, "proj_q_seatmap_sections")                                          \
    X(PROJ_Q_SEATMAP_SEATS, "proj_q_seatmap_seats")                                                \
    X(PROJ_Q_BOOKING_GET, "proj_q_booking")                                                        \
    X(PROJ_Q_WAITLIST_USER, "proj_q_waitlist_user")                                                \
    X(PROJ_Q_SALES, "proj_q_sales")                                                                \
    X(PROJ_F_VENUE_CREATED, "proj_f_venue_created")                                                \
    X(PROJ_F_EVENT_CREATED, "proj_f_event_created")                                                \
    X(PROJ_F_EVENT_PUBLISHED, "proj_f_event_published")                                            \
    X(PROJ_F_HOLDS_PLACED, "proj_f_holds_placed")                                                  \
    X(PROJ_F_HOLDS_ENDED, "proj_f_holds_ended")                                                    \
    X(PROJ_F_SECTION_DELTA, "proj_f_section_delta")                                                \
    X(PROJ_F_SALE_PAYMENT, "proj_f_sale_payment")                                                  \
    X(PROJ_F_SALE_CONFIRMED, "proj_f_sale_confirmed")                                              \
    X(PROJ_F_SALE_REFUND_DUE, "proj_f_sale_refund_due")                                            \
    X(PROJ_F_SALE_CANCELLED, "proj_f_sale_cancelled")                                              \
    X(PROJ_F_SALE_REFUNDED, "proj_f_sale_refunded")                                                \
    X(PROJ_F_SALE_EVENT_CANCELLED, "proj_f_sale_event_cancelled")                                  \
    X(PROJ_F_SALE_CHECKED_IN, "proj_f_sale_checked_in")                                            \
    X(PROJ_F_SALE_TRANSFERRED, "proj_f_sale_transferred")                                          \
    X(PROJ_F_WAITLIST, "proj_f_waitlist")                                                          \
    X(PROJ_F_DASH_CONFIRMED, "proj_f_dash_confirmed")                                              \
    X(PROJ_F_DASH_CANCELLED, "proj_f_dash_cancelled")                                              \
    X(PROJ_F_DASH_CHECKED_IN, "proj_f_dash_checked_in")                                            \
    X(PROJ_F_CHECKPOINT_LOCK, "proj_f_checkpoint_lock")                                            \
    X(PROJ_F_CHECKPOINT_SET, "proj_f_checkpoint_set")                                              \
    X(PROJ_F_NOTIFY, "proj_f_notify")                                                              \
    X(PROJ_F_HOLDS_PLACED_STAGED, "proj_f_holds_placed_staged")                                    \
    X(PROJ_F_HOLDS_ENDED_STAGED, "proj_f_holds_ended_staged")                                      \
    X(PROJ_F_EVENT_UPDATED, "proj_f_event_updated")                                                \
    X(PROJ_F_ANALYZE_SEATS, "proj_f_analyze_seats")                                                \
    X(PROJ_F_HOLDS_NEW_STAGED, "proj_f_holds_new_staged")

typedef enum {
#define PROJ_STMT_ENUM(id, name) id,
    PROJ_STMT_LIST(PROJ_STMT_ENUM)
#undef PROJ_STMT_ENUM
        PROJ_STMT_COUNT
} proj__stmt_t;

/* The SQL of each statement (sql.c). */
extern const char *const proj__stmt_sql[PROJ_STMT_COUNT];
/* The events list query (sql.c), run unnamed: its optional filters want a
 * plan made for the actual parameters. */
extern const char proj__sql_events_list[];
/* A user's bookings (sql.c), run unnamed as well. */
extern const char proj__sql_user_bookings[];

/* The columns of a booking answer, over "bookings b", in the order
 * proj__booking_json reads them: GET /bookings/{id} and the user's list
 * select the same. */
#define PROJ_BOOKING_COLS                                                                          \
    "b.booking_id, b.event_id, b.user_id, b.status, ts_tstz_to_ms(b.expires_at),\n"                \
    "  b.items::text, b.subtotal, b.discount, b.service_fee, b.total, b.vat_included,\n"           \
    "  b.currency, b.updated_seq, b.payment_id, b.refund,\n"                                       \
    "  (SELECT json_agg(json_build_object('ticket_id', t.ticket_id, 'seat', t.seat,\n"             \
    "     'tier', t.tier, 'status', t.status, 'version', t.version)\n"                             \
    "     ORDER BY t.ord, t.version)::text\n"                                                      \
    "   FROM tickets t WHERE t.booking_id = b.booking_id)\n"
#define PROJ_BOOKING_NCOLS 16
/* The booking JSON of API.md from row of a result whose first columns are
 * PROJ_BOOKING_COLS (queries.c). New reference. */
json_t *proj__booking_json(const PGresult *r, int row);
/* The DDL of a build's staging tables (sql.c): a connection that ran it
 * sets proj__conn_t.staging, and its hold segments go through COPY. */
extern const char proj__staging_sql[];

/* Prepares statement s on c when not yet done. Must not be called in
 * pipeline mode. Errors: TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj__prepare(proj__conn_t *c, proj__stmt_t s);
/* Creates the staging tables (proj__staging_sql) on c unless it has them,
 * outside any transaction. Errors: TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj__staging_ensure(proj__conn_t *c);
/* The statement's name ("proj_<n>"), for PQexecPrepared. */
const char *proj__stmt_name(proj__stmt_t s);
/* PQexecPrepared after proj__prepare; *out is the result on TS_OK (caller
 * clears it), NULL otherwise. */
ts_status proj__exec(proj__conn_t *c, proj__stmt_t s, int n, const char *const *values,
                     PGresult **out);

/* Column readers for the JSON answers: a string (null when NULL or not
 * UTF-8), an integer (0 when NULL), a json/jsonb column parsed (null when
 * NULL or unparsable). New references. */
json_t *proj__col_str(const PGresult *r, int row, int col);
int64_t proj__col_i64(const PGresult *r, int row, int col);
json_t *proj__col_json(const PGresult *r, int row, int col);

/* ---- list pages (page.c) ---- */

/* A page's limit: 0 picks the default. */
#define PROJ_PAGE_DEFAULT 50
#define PROJ_PAGE_MAX 200

/* *out = limit, or PROJ_PAGE_DEFAULT for 0. Errors: TS_ERR_INVALID outside
 * 1..PROJ_PAGE_MAX (*out untouched). */
ts_status proj__page_limit(int limit, int *out);

/* A request for one page of a user's list, keyset-paginated on (seq, id)
 * behind a cursor of cursor.c without a rank. params are its statement's:
 * $1 owner, $2/$3 the cursor's (seq, id) or NULL when there is none, $4 the
 * row limit (limit + 1). They point into the struct: do not copy it. */
typedef struct {
    int limit;   /* rows in the page */
    int64_t seq; /* the cursor's seq, 0 without a cursor */
    const char *params[4];
    char seq_text[24], id[65], lim[16];
} proj__page_t;

/* Fills *pg from the limit (0 picks the default) and the previous page's
 * next_cursor (or NULL). Errors: TS_ERR_INVALID for a limit out of range
 * or a cursor that proj__cursor_encode did not make without a rank. */
ts_status proj__page_init(proj__page_t *pg, const char *owner, int limit, const char *cursor);

/* A list query: its statement (sql, run unnamed, or the prepared stmt when
 * sql is NULL), the columns of its keyset (the id is column 0) and how a row
 * becomes an item. */
typedef struct {
    const char *sql;
    proj__stmt_t stmt;
    const char *what; /* names the unnamed statement in the log */
    int key_col;      /* the key's integer (a seq, or starts_at ms) */
    int rank_col;     /* the key's rank (a text search), or -1 for none */
    json_t *(*item)(const PGresult *r, int row); /* new reference */
} proj__list_t;

/* {items: [l->item of each of the first limit rows of r], next_cursor: the
 * cursor of the last item shown when r has more rows, else null}. Pure.
 * New reference. */
json_t *proj__page_json(const proj__list_t *l, const PGresult *r, int limit);

/* Runs l with its n params (which ask for limit + 1 rows) and answers
 * proj__page_json in *out (TS_OK only). Errors: TS_ERR_UNAVAILABLE,
 * TS_ERR_DB. */
ts_status proj__page_run(proj_db_t *db, const proj__list_t *l, int n, const char *const *params,
                         int limit, json_t **out);

/* Advisory lock keys (pg_advisory_lock(int, int)): the class is "TSPR" in
 * ASCII, the second number says what is locked. */
#define PROJ_LOCK_CLASS "1414746194"
#define PROJ_LOCK_SCHEMA "1"  /* transaction lock around the DDL */
#define PROJ_LOCK_CATALOG "2" /* session lock of the active catalog projector */
#define PROJ_LOCK_BUILD "3"   /* session lock of the one build (build.c) */

/* The tables of a catalog schema, in the order the swap locks them: the
 * seat map's order first (see seatmap.c), then the others. */
#define PROJ_TABLE_COUNT 10
extern const char *const proj__tables[PROJ_TABLE_COUNT];

/* Runs the live schema DDL on pg (schema.c), inside its own transaction:
 * schema "catalog" with every table, index and the checkpoint row, moving
 * a model found in public there first. */
ts_status proj__schema_apply(PGconn *pg);
/* In the caller's transaction: creates schema quoted (an identifier
 * already quoted) with its tables, no secondary index and the
 * checkpoint row of build version, and sets the session's search_path to
 * it. */
ts_status proj__schema_create(PGconn *pg, const char *quoted, uint64_t version);
/* Adds the secondary indexes of the search_path's first schema and
 * analyzes its tables (schema.c), each statement in a
 * transaction of its own. side (may be NULL): another connection with the
 * same search_path, which finishes the bookings meanwhile. */
ts_status proj__schema_finish(PGconn *pg, PGconn *side);

/* Logs one line to stderr, "proj: ..." with a UTC timestamp. */
void proj__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the durable pull consumer of a projector (consumer.c) ---- */

/* What the catalog and the audit projectors share: one NATS connection
 * with a pull subscription on a durable that is recreated at checkpoint + 1
 * at the start of every session (the projector's checkpoint, not the
 * consumer's ack floor, says what was done), and the in-order fetch.
 *
 * Order. The consumer has no subject filter, so stream sequences arrive
 * consecutively, except where the stream has deleted messages. Anything else
 * (messages lost in transit and due for redelivery after AckWait) would let
 * a later commit move the checkpoint past an earlier one that was never
 * handled, so proj__consumer_fetch stops at a gap and says so; the caller
 * handles what came before it and ends the session, and the fresh consumer
 * of the next session proves the gap real (or fills it). */
typedef struct {
    /* Set by the caller before proj__consumer_open; borrowed. */
    const char *nats_url;
    const char *stream;
    const char *durable;     /* e.g. PROJ_CATALOG_DURABLE */
    const char *client_name; /* the NATS connection's name */
    const char *what;        /* for the log: "catalog projector" */
    volatile int *stop;
    int ack_all;           /* AckAll (one ack covers what came before); else AckExplicit */
    int64_t ack_wait_ns;   /* 0: 30 s */
    int max_ack_pending;   /* 0: 100,000 */
    int unlimited_pending; /* the subscription buffers whatever a fetch brings */
    /* A redelivery below the next sequence expected is left out of a fetch
     * (else it is handed out, for the caller to skip and ack). */
    int drop_old;
    /* The session. */
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    uint64_t head; /* the stream's last sequence when the session began */
    int fresh;     /* nothing received since the consumer was created */
    /* Conditions logged once until they clear. */
    int said_stream, said_nats;
} proj__consumer_t;

/* One message of a fetch, in stream order. */
typedef struct {
    natsMsg *msg; /* owned by the fetch's natsMsgList */
    uint64_t seq; /* stream sequence */
    int64_t ns;   /* the stream's timestamp of the message (ns since the epoch) */
} proj__msg_t;

/* 1 once *stop is set. */
int proj__stopping(volatile int *stop);
/* Sleeps up to ms, waking early on stop. */
void proj__nap(volatile int *stop, int ms);

/* Connects, waits (logging once) for the stream to exist, recreates the
 * durable to deliver from checkpoint + 1 and pull-subscribes to it.
 * Errors: TS_ERR_UNAVAILABLE (NATS unreachable: logged once until it
 * clears), TS_ERR_SHUTDOWN (stopped while waiting), TS_ERR_LOG (logged).
 * Call proj__consumer_close afterwards in any case. */
ts_status proj__consumer_open(proj__consumer_t *c, uint64_t checkpoint);
/* The two halves of proj__consumer_open, for a caller that decides where to
 * start from the head of the stream: connect (and wait for the stream),
 * which sets c->head; then recreate the durable to deliver from seq from
 * (0 or 1: the whole stream) and subscribe. Errors: as open. */
ts_status proj__consumer_connect(proj__consumer_t *c, uint64_t checkpoint);
ts_status proj__consumer_subscribe(proj__consumer_t *c, uint64_t from);
/* Ends the session (NULL-safe on every part). */
void proj__consumer_close(proj__consumer_t *c);
/* Fetches up to max (<= the length of out) messages, waiting at most
 * wait_ms, into list (the caller destroys it with natsMsgList_Destroy,
 * also on an error), and writes the in-order prefix after checkpoint to
 * out[0..*n): redeliveries at or below the checkpoint are included (the
 * caller skips and acks them) unless c->drop_old, a gap ends the prefix and
 * sets *gap. *n is 0 when nothing came. *pending (may be NULL) gets the
 * number of messages the consumer still holds after the last one read (0
 * when nothing came). Errors: TS_ERR_LOG (logged). */
ts_status proj__consumer_fetch(proj__consumer_t *c, int max, int wait_ms, uint64_t checkpoint,
                               natsMsgList *list, proj__msg_t *out, int *n, int *gap,
                               uint64_t *pending);

/* ---- fold (fold.c) ---- */

/* Results are read back after this many statements, so the server never
 * blocks writing results we are not reading while we block writing
 * statements it is not reading. Each result is at most a row. */
#define PROJ_PIPELINE_DEPTH 256

/* The change a batch made to one section's available count. Holds return
 * their delta instead of updating the section row themselves: a hot
 * section updated once per hold would grow a chain of row versions inside
 * the batch's transaction, each update walking all the earlier ones. */
typedef struct {
    char *event_id; /* heap */
    char *section;  /* heap */
    int64_t delta;
    uint64_t seq; /* the last commit that touched the section */
} proj__delta_t;

/* Holds are folded set-wise. Consecutive HoldPlaced / HoldReleased /
 * HoldExpired events gather into a segment, sent as at most two statements:
 * every booking the segment ends, then every booking it places. In effect
 * that is the log's order: a seat that an ending booking frees and a new
 * booking takes was freed first in the log too (RULE-HOLD-1: one booking
 * per seat at a time), and GA counts commute. A booking placed and ended in
 * the same segment is sent once, already ended, with its seats untouched
 * (held then freed: no net change); a second end of a booking is a no-op,
 * as in the log. Only a booking placed twice, or any other event, closes
 * the segment first. Records point into the batch's arena. */
typedef struct {
    const evt_hold_placed_t *h;
    const char *status; /* "held", or how it ended within the segment */
    uint64_t created_seq, updated_seq;
} proj__placed_t;

typedef struct {
    const char *booking_id;
    const char *status; /* "released" or "expired" */
    uint64_t seq;
} proj__ended_t;

#define PROJ_PLACED_COLS 20 /* parameters of PROJ_F_HOLDS_PLACED */
#define PROJ_ENDED_COLS 3   /* parameters of PROJ_F_HOLDS_ENDED */

typedef struct {
    proj__placed_t *placed; /* heap */
    size_t n_placed, cap_placed;
    proj__ended_t *ended; /* heap */
    size_t n_ended, cap_ended;
    /* Open-addressing index of the booking ids above: 0 empty, i + 1 for
     * placed[i], -(i + 1) for ended[i]. Power-of-two size, at most half full. */
    int32_t *slots; /* heap */
    size_t n_slots;
    ts_buf_t cols[PROJ_PLACED_COLS]; /* array literals, reused */
    /* A segment carried across batches (proj__seg_own) owns copies of
     * its records here, up to placed[n_own_placed], ended[n_own_ended]. */
    ts_arena_t own;
    size_t n_own_placed, n_own_ended;
} proj__segment_t;

/* Adds a HoldPlaced to the segment (g zero-initialised at first). Returns
 * 0, adding nothing, when the booking is already in the segment: send it
 * first (proj__seg_*_params, proj__seg_reset), then add again. */
int proj__seg_place(proj__segment_t *g, const evt_hold_placed_t *h, uint64_t seq);
/* Adds a HoldReleased / HoldExpired (status "released" / "expired"). */
void proj__seg_end(proj__segment_t *g, const char *booking_id, const char *status, uint64_t seq);
/* The parameters of PROJ_F_HOLDS_ENDED / PROJ_F_HOLDS_PLACED, valid until
 * the next call on g, and the last seq they cover. 0 when there is nothing
 * to send. Send ended before placed. */
int proj__seg_ended_params(proj__segment_t *g, const char *p[PROJ_ENDED_COLS], uint64_t *seq);
int proj__seg_placed_params(proj__segment_t *g, const char *p[PROJ_PLACED_COLS], uint64_t *seq);
/* The same records as COPY text rows (tab-separated, \N for NULL) for a
 * build's staging tables (proj__staging_sql): seg_ended rows into out;
 * seg_placed rows of placed[from..to) into placed and their held seats'
 * seg_seats rows into seats (appended). *seq is raised to the last seq
 * they cover. */
void proj__seg_copy_ended(const proj__segment_t *g, ts_buf_t *out, uint64_t *seq);
void proj__seg_copy_placed(const proj__segment_t *g, size_t from, size_t to, ts_buf_t *placed,
                           ts_buf_t *seats, uint64_t *seq);
/* Copies what the segment points to (the HoldPlaced events, the ended
 * booking ids) into its own memory, so it outlives the batch's arena. */
void proj__seg_own(proj__segment_t *g);
/* Bookings in the segment. */
size_t proj__seg_size(const proj__segment_t *g);
/* Empties the segment, keeping its memory; proj__seg_deinit frees it. */
void proj__seg_reset(proj__segment_t *g);
void proj__seg_deinit(proj__segment_t *g);

/* State of one batch in pipeline mode. Zero-initialise, set c and arena;
 * proj__fold_deinit frees it. */
typedef struct {
    proj__conn_t *c;
    ts_arena_t *arena; /* the batch's commits and parameters; reset per batch */
    int pending;       /* results not yet read */
    struct {
        proj__stmt_t stmt;
        uint64_t seq;
    } sent[PROJ_PIPELINE_DEPTH]; /* what each pending result belongs to */
    int failed;                  /* a statement failed: the transaction is doomed */
    char sqlstate[6];            /* of the first failure */
    proj__delta_t *deltas;
    size_t n_deltas, cap_deltas;
    /* The open hold segment: a caller's, carried across batches, or NULL
     * for one of the batch's own (own_seg). */
    proj__segment_t *seg;
    proj__segment_t own_seg;
    uint64_t events;   /* events given to proj__fold_commit */
    int analyze_seats; /* seats were added: ANALYZE before the next holds */
} proj__fold_t;

/* Segments of at least this many bookings go through COPY when the
 * connection has staging tables (proj__conn_t.staging). */
#define PROJ_STAGE_MIN 512

void proj__fold_deinit(proj__fold_t *f);
/* The v2 events of the event aggregate the catalog shows (fold_events.c):
 * EventUpdated; any other event sends nothing. Called by proj__fold_commit
 * for the types it does not fold itself. Errors: as proj__fold_send, and
 * TS_ERR_INVALID for an event missing a required field. */
ts_status proj__fold_event_v2(proj__fold_t *f, const evt_event_t *e, uint64_t seq);
/* Sends the statements for every event of commit (stream sequence seq).
 * Events this projection ignores (UserRegistered, Claimed, InventoryOpened)
 * send nothing; an event missing a required field is logged and skipped.
 * Errors: TS_ERR_DB / TS_ERR_UNAVAILABLE (the pipeline failed). */
ts_status proj__fold_commit(proj__fold_t *f, const evt_commit_t *commit, uint64_t seq);
/* Sends one prepared statement for the commit at seq in the pipeline,
 * draining results every PROJ_PIPELINE_DEPTH statements. */
ts_status proj__fold_send(proj__fold_t *f, proj__stmt_t s, uint64_t seq, int n,
                          const char *const *values);
/* The sales of issue 3 (fold_sales.c): payments, confirmations with their
 * tickets, refunds, cancellations, check-ins, transfers, and an event's
 * cancellation. proj__fold_commit sends the open hold segment first, so
 * these keep their place in the log's order. */
int proj__fold_sales_wants(evt_type_t t);
ts_status proj__fold_sales(proj__fold_t *f, const evt_event_t *e, uint64_t seq);
/* The sales dashboard of issue 4 (fold_dashboard.c): after the statement
 * proj__fold_sales sent for a BookingConfirmed, BookingCancelled or
 * TicketCheckedIn, the statement that moves the sales_tiers and
 * sales_minutes rows by what that one changed; nothing for other events. */
ts_status proj__fold_dashboard(proj__fold_t *f, const evt_event_t *e, uint64_t seq);
/* Sends a Sync and reads every pending result (collecting the deltas). */
ts_status proj__fold_drain(proj__fold_t *f);
/* Sends the open hold segment (unless keep_segment), drains, then sends one
 * update per section the batch touched (its available delta and last seq).
 * Call once, after the last commit. */
ts_status proj__fold_sections(proj__fold_t *f, int keep_segment);

/* ---- the waitlist read model (fold_waitlist.c) ---- */

/* Sends the statement for event number index of the commit at seq when it
 * is a Waitlist* event (RULE-WL-1); nothing for any other event. Errors: as
 * proj__fold_send; TS_ERR_INVALID for an event missing a required field. */
ts_status proj__fold_waitlist(proj__fold_t *f, const evt_event_t *e, uint32_t index, uint64_t seq);

/* ---- batches (batch.c) ---- */

/* One commit as read from the log; the bytes are borrowed. */
typedef struct {
    uint64_t seq;
    const char *subject;
    const void *data;
    size_t len;
} proj__item_t;

typedef struct {
    uint64_t checkpoint; /* after the batch */
    uint64_t commits;    /* folded: above the checkpoint and decoded */
    uint64_t events;     /* in those commits */
    char sqlstate[6];    /* of a failed statement, "" otherwise */
} proj__batch_t;

/* How a batch treats hold segments. The projector's batches (carry NULL)
 * send every hold they fold. A build (build.c) may carry the open segment
 * from batch to batch (carry: its segment, flush: send it at the end of
 * this batch), so that a booking placed in one batch and ended in a later
 * one is written once, already ended, and its seats never at all: the
 * result is the same as one huge batch's, but a checkpoint committed in
 * between is ahead of what the tables hold. Only a build, which nobody
 * reads before it is complete, may do that. */
typedef struct {
    proj__segment_t *carry;
    int flush;
} proj__carry_t;

/* Folds items[0..n) (in stream order) into the transaction open on c and
 * moves the catalog checkpoint of the search_path's schema past them; with
 * skip set only the checkpoint moves (a poison commit). Commits at or below
 * the checkpoint (read FOR UPDATE) are skipped, so a redelivery never
 * applies twice. notify: also NOTIFY PROJ_CATALOG_CHANNEL. cy may be NULL
 * (no carrying). arena holds the decoded commits and is reset first. *out
 * is filled in any case (sqlstate says which statement failed). Errors:
 * TS_ERR_DB, TS_ERR_UNAVAILABLE; a carried segment is then unusable. */
ts_status proj__fold_items(proj__conn_t *c, ts_arena_t *arena, const proj__item_t *items, int n,
                           int skip, int notify, const proj__carry_t *cy, proj__batch_t *out);
/* proj__fold_items in three steps, for a transaction that folds several
 * fetches (a backlog transaction, projector.c): open locks the checkpoint
 * and enters pipeline mode; each add folds items (at most a carried
 * segment's records outlive it: the arena is reset at the next add), with
 * no wait for PostgreSQL unless PROJ_PIPELINE_DEPTH statements are pending
 * or a segment goes through COPY, so PostgreSQL works on one fetch while the
 * next is decoded; close sends the segment unless keep, the sections'
 * deltas and the checkpoint, drains and leaves pipeline mode. An error
 * sticks (later adds do nothing); close must be called in any case, and
 * *out is filled as by proj__fold_items. */
typedef struct {
    proj__fold_t f;
    proj__segment_t *carry;
    uint64_t ck, last;
    int added;
    ts_status rc;
    proj__batch_t out;
} proj__txfold_t;
ts_status proj__fold_open(proj__txfold_t *t, proj__conn_t *c, ts_arena_t *arena,
                          proj__segment_t *carry);
ts_status proj__fold_add(proj__txfold_t *t, const proj__item_t *items, int n, int skip);
ts_status proj__fold_close(proj__txfold_t *t, int keep, int notify, proj__batch_t *out);
/* The same in a transaction of its own (BEGIN ... COMMIT). When it fails on
 * the data of a commit (SQLSTATE class 22, 23 or 54) and nothing is
 * carried, the items are folded one per transaction and those that fail
 * alone are skipped (logged), so a poison commit never blocks the
 * projection. out sums the transactions. With a carried segment a failure
 * is final (the failing statement may hold bookings of earlier batches). */
ts_status proj__fold_batch(proj__conn_t *c, ts_arena_t *arena, const proj__item_t *items, int n,
                           int notify, const proj__carry_t *cy, proj__batch_t *out);
/* 1 when sqlstate names a data error (the classes above). */
int proj__data_error(const char sqlstate[6]);

/* ---- prefetching a backlog (consumer.c) ---- */

/* While a projector folds a backlog, PostgreSQL works on one core and the
 * fetch (nats-server, decoding) could run on the other: the prefetcher
 * fetches on a thread of its own, one fetch at a time, copying each fetch's
 * messages into a chunk and letting them go before the next fetch, while
 * the caller folds the chunk before. It stops after the chunk that is
 * last: nothing came, nothing is pending, a gap, an error, *stop, or limit
 * messages fetched. Only the caller acks (the chunk's reply subject). */
typedef struct {
    proj__item_t *items; /* in stream order; bytes in mem */
    int n;
    uint64_t pending;  /* messages the consumer still held after the last */
    int gap;           /* the fetch stopped at a gap */
    int last;          /* the prefetcher's last chunk */
    ts_status rc;      /* of the fetch (n is 0 on an error) */
    const char *reply; /* reply subject of the last message, or NULL */
    ts_arena_t mem;
} proj__chunk_t;

typedef struct proj__prefetch proj__prefetch_t;

/* Chunks fetched ahead at most: enough to fetch a backlog transaction's
 * commits while PostgreSQL works on its first chunk (a publish of many
 * events takes seconds). A consumer's MaxAckPending must leave room for
 * them and the one being folded. */
#define PROJ_PREFETCH_SLOTS 8

/* Starts fetching up to want messages a time, waiting up to wait_ms each,
 * in order after checkpoint (c->drop_old should be set), until limit
 * messages (0: no limit). Errors: TS_ERR_NOMEM. */
ts_status proj__prefetch_start(proj__consumer_t *c, int want, int wait_ms, uint64_t checkpoint,
                               uint64_t limit, proj__prefetch_t **out);
/* The next chunk, waiting for it; NULL once the last was handed out. */
proj__chunk_t *proj__prefetch_next(proj__prefetch_t *p);
/* Gives a chunk back (its bytes are reused). */
void proj__prefetch_release(proj__prefetch_t *p, proj__chunk_t *ch);
/* Stops the thread (within one fetch's wait) and frees everything. Chunks
 * not handed out are dropped. Accepts NULL. */
void proj__prefetch_stop(proj__prefetch_t *p);

/* ---- pure helpers (shape.c, cursor.c): no I/O ---- */

/* Appends s as one element of a PostgreSQL array literal ("{"a","b"}"),
 * quoting it; NULL becomes a NULL element. Call proj__pg_array_close at the
 * end. */
void proj__pg_array_add(ts_buf_t *b, const char *s);
/* Terminates the literal (also for zero elements: "{}") and NUL-ends it. */
const char *proj__pg_array_close(ts_buf_t *b);

/* {"amount": a, "currency": cur}. */
json_t *proj__money_json(int64_t amount, const char *currency);
/* RFC 3339 string, or null for 0. */
json_t *proj__time_json(int64_t ms);
/* The venue layout stored in venues.layout: {"sections": [...]}. Also sets
 * *capacity to the sum of the section capacities. */
json_t *proj__layout_json(const evt_venue_created_t *v, int64_t *capacity);
/* events.tiers and events.policy in API.md shape. */
json_t *proj__tiers_json(const evt_tier_t *tiers, uint32_t n);
json_t *proj__policy_json(const evt_policy_t *p);
/* bookings.items: one entry per seat or GA unit (API.md). */
json_t *proj__items_json(const evt_hold_placed_t *h);
/* The same value as JSON text appended to b (NUL-terminated, the NUL not
 * counted), written directly (segment.c): a build writes hundreds of
 * thousands, and a jansson tree for each costs ten times as much. jsonb
 * stores the value, not the text, so both give the same column. */
void proj__items_text(ts_buf_t *b, const evt_hold_placed_t *h);
/* JSON written directly into b (segment.c), for texts made by the
 * hundred thousand: a string (null for NULL; '"', '\\' and control
 * characters escaped, other bytes as they are), an integer. */
void proj__json_str(ts_buf_t *b, const char *s);
void proj__json_num(ts_buf_t *b, int64_t v);
/* The cheapest tier price of a tiers array, or null. New reference. */
json_t *proj__price_from(const json_t *tiers);

/* The parts of the sales dashboard as PROJ_Q_SALES answers them (sql.c);
 * borrowed. Arrays may be NULL (none). */
typedef struct {
    const char *event_id;
    const char *organizer_id;
    const char *event_status;
    uint64_t as_of_seq;
    const json_t *tiers;    /* events.tiers: [{key, name, price: {currency}}] */
    const json_t *sections; /* [[tier, capacity, available]] */
    const json_t *held;     /* [[tier, held, lapsed]] */
    const json_t *sales;    /* [[tier, sold, gross, refunds, checked_in]] */
    const json_t *series;   /* [{minute, sold, gross, refunds}]: taken as it is */
} proj__sales_parts_t;

/* The GET /events/{id}/sales answer (projections.h, proj_event_sales) from
 * its parts (sales.c): one entry per tier of the event, in its order, then
 * one per other tier key the parts name; available includes what lapsed
 * holds still occupy; totals sum the tiers; series as given. New
 * reference. */
json_t *proj__sales_json(const proj__sales_parts_t *p);

/* Opaque list cursor for the key (starts_at ms, event_id), or (rank,
 * starts_at ms, event_id) for a text search: URL-safe base64 of
 * "<ms>.<event_id>", or "r<rank>.<ms>.<event_id>" when rank (0..9) is not
 * -1. out must hold PROJ_CURSOR_MAX bytes. */
#define PROJ_CURSOR_MAX 128
void proj__cursor_encode(int rank, int64_t starts_ms, const char *event_id,
                         char out[PROJ_CURSOR_MAX]);
/* *rank is -1 for a cursor without one. Errors: TS_ERR_INVALID for anything
 * proj__cursor_encode cannot produce. id must hold 65 bytes. Outputs are
 * written only on success. */
ts_status proj__cursor_decode(const char *cursor, int *rank, int64_t *starts_ms, char id[65]);

#endif
