/*
 * projections — the read side: the event log folded into PostgreSQL, and the
 * JSON answers the API serves from it.
 *
 * What it is for. The log (JetStream stream TICKETS) is the only truth; the
 * tables here are a cache of it that can be dropped and rebuilt at any time.
 * A projector (proj_run) is a durable JetStream pull consumer that folds
 * commits into tables; the queries (proj_venue_get ... proj_booking_get) read
 * them through a small pool of connections (proj_db_t) and shape API.md JSON.
 * The audit projector, which ships the log to Grafana Loki instead of
 * PostgreSQL, has a header of its own (projections/audit.h).
 *
 * Data layout (one projection, "catalog", in the PostgreSQL schema of the
 * same name; all DDL lives in schema.c):
 *
 *   checkpoints(projection pk, last_seq, updated_at, version)
 *       the stream sequence of the last commit folded, per projection, and
 *       the number of the build that made the schema (see below)
 *   venues(venue_id pk, name, city, country, capacity, layout jsonb, updated_seq)
 *       layout = {"sections": [{key, name, kind, capacity, rows?}]} (API.md)
 *   events(event_id pk, venue_id, organizer_id, title, description, genre,
 *          city, starts_at, ends_at, status, tiers jsonb, policy jsonb,
 *          updated_seq, search tsvector generated from title + description)
 *   sections(event_id, key, kind, tier, ord, capacity, available, updated_seq)
 *       the frozen layout of a published event: one row per section sold by
 *       a tier; available = free seats (seated) or free GA units (standing)
 *   seats(event_id, section, seat_id, row_label, number, accessible, status,
 *         booking_id, ord)
 *       one row per seat of a seated section; ord is the seat-map order
 *       (section order of the venue, then row order, then number); the
 *       primary key (event_id, seat_id) is its only index
 *   bookings(booking_id pk, event_id, section, user_id, status, tier,
 *            quantity, expires_at, items json, subtotal, discount,
 *            service_fee, total, vat_included, currency, created_seq,
 *            updated_seq)
 *   waitlist(entry_id pk, event_id, tier, user_id, quantity, status,
 *            joined_at, booking_id, offer_expires_at, joined_seq,
 *            joined_idx, updated_seq)
 *       one row per waitlist entry (RULE-WL-1, fold_waitlist.c); status is
 *       waiting, offered, left, lapsed or fulfilled; a list's FIFO order is
 *       (joined_seq, joined_idx), the place of its WaitlistJoined in the log
 *   sales_tiers(event_id, tier, sold, gross, refunds, checked_in) and
 *   sales_minutes(event_id, minute, tier, sold, gross, refunds)
 *       issue 4: the sales dashboard's sums, per tier and per minute of
 *       confirmation, moved by the fold (see proj_event_sales)
 *
 * Invariants.
 *  - A batch of commits is folded in one transaction that also moves the
 *    projection's checkpoint; messages are acked only after COMMIT. A commit
 *    at or below the checkpoint is skipped, so redelivery never applies twice.
 *    (A bootstrap acks what it gives its build as it goes, before the swap
 *    commits: the consumer is recreated at the live checkpoint by every
 *    session, so its acks never decide what is folded, and unacked
 *    messages would stop the delivery at MaxAckPending.)
 *  - The projector's session commits asynchronously (synchronous_commit
 *    off): since the checkpoint is in the same transaction as its rows, a
 *    crash of PostgreSQL loses at most the last whole transactions, and the
 *    next session folds them again from the checkpoint it finds (the
 *    consumer is recreated there, so acks never decide what is folded).
 *  - A commit that cannot be decoded is logged and skipped: the checkpoint
 *    still moves past it (a poison message never blocks the projection). So
 *    is one whose data PostgreSQL refuses (SQLSTATE class 22, 23 or 54): the
 *    batch is retried one commit per transaction to single it out. Any other
 *    database error rolls back, nothing is acked, and the batch is fetched
 *    again a second later.
 *  - For a seated section, available = count of its seats whose status is
 *    free; for a standing one, capacity minus the units of held bookings.
 *  - *_seq columns hold JetStream stream sequences (the commit_seq of API.md).
 *  - Only one projector per projection folds at a time: it holds a session
 *    advisory lock on its connection; a second one waits as a standby.
 *  - The durable consumer is recreated at checkpoint + 1 whenever the
 *    projector (re)starts: the checkpoint, not the consumer's ack floor,
 *    says what the tables hold, so dropping the tables rebuilds them.
 *
 * Schemas, builds and the swap (build.c). The live model is always the
 * schema named "catalog"; every connection of the pool has search_path
 * "catalog, public" (the helper functions and the version sequence live in
 * public). A build folds the log into a fresh schema "catalog_v<N>", N the
 * next value of public.ts_catalog_version, which nobody reads: tables
 * with only their primary keys, big transactions, asynchronous commit;
 * once the bulk is in, the tables get their secondary indexes. A build either becomes an analyst's
 * copy (renamed to a schema of their choosing, left alone afterwards) or replaces the live model,
 * blue/green, in one transaction:
 *   1. lock every table of "catalog" ACCESS EXCLUSIVE, with a short
 *      lock_timeout (the caller retries): in-flight readers and the
 *      projector's batch finish first, later ones queue behind the swap;
 *   2. fold into the build what the log holds beyond its checkpoint (the
 *      build ends at or past the live checkpoint: never behind a min_seq
 *      already answered);
 *   3. DROP SCHEMA catalog CASCADE, rename catalog_v<N> to catalog, NOTIFY.
 * Queued readers then resolve their table names again and find the new
 * tables (PostgreSQL re-looks a name up when an invalidation arrived while
 * it waited for the lock, and replans prepared statements after a schema
 * change); the projector's next batch finds the new schema's checkpoint and
 * skips what the build already holds. No reader sees a half-built model: a
 * build schema is never on a search_path, the swapped-in one is complete,
 * and the seat map locks its tables before taking its snapshot (seatmap.c).
 * Only one build runs at a time (a session advisory lock). A build that
 * fails or is interrupted drops its schema; one whose process died is
 * dropped by the next build.
 *
 * Speed. A batch is sent in libpq pipeline mode; holds are folded set-wise
 * (two statements per run of holds, see proj_int.h) and a section's
 * available count is written once per batch; a published event's seats are
 * generated server-side by one INSERT. The projector sizes its batches by
 * its backlog: when a fetch leaves messages pending in the consumer, one
 * transaction folds up to proj_config_t.catchup commits (200,000), its hold
 * segment carried across its fetches as a build carries it across its
 * transactions, still one checkpoint and one ack per transaction, the next
 * fetches made on a thread of their own while PostgreSQL works; big hold
 * segments then go through COPY into temporary staging tables (shared with
 * the builds) and are inserted without probing for bookings that cannot
 * exist yet (a savepoint falls back to probing), and its session plans the fold's joins as
 * primary-key probes from the batch's rows, with statistics refreshed while it catches up
 * (projector.c). A build goes further: it folds 20,000 commits per
 * transaction and carries the open hold segment across its transactions, so
 * a booking placed and ended during the build is inserted once, already
 * ended, and its seats are never written (see BENCHMARKS.md for what each
 * step saved on a million events). The projector carries a segment only
 * within one transaction: its checkpoint, once committed, must mean the
 * tables hold every commit up to it. The seat map is served from a per-event document built from
 * shared per-section blobs of serialised seats (seatmap.c).
 *
 * Threading. proj_db_t and every query are thread-safe (the pool hands each
 * call its own connection). proj_run blocks the calling thread until *stop.
 * JSON handed out is a new reference owned by the caller.
 */
#ifndef TS_PROJECTIONS_H
#define TS_PROJECTIONS_H

#include "base/base.h"

#include <jansson.h>
#include <stdint.h>

/* The one projection of this module, its schema and its JetStream durable. */
#define PROJ_CATALOG "catalog"
#define PROJ_CATALOG_SCHEMA "catalog"
#define PROJ_CATALOG_DURABLE "proj_catalog"
/* Channel of the NOTIFY sent after each committed batch (payload: seq). */
#define PROJ_CATALOG_CHANNEL "proj_catalog"

/* ---- the connection pool ---- */

typedef struct proj_db proj_db_t;

/* Makes a pool of at most pool_size (1..64) connections to conninfo (a libpq
 * connection string or URI). Connections are opened lazily, so this succeeds
 * while PostgreSQL is down; proj_db_ping tells whether it is up.
 * Errors: TS_ERR_INVALID (pool_size out of range, conninfo unparsable).
 * *out is written only on success; free it with proj_db_free. */
ts_status proj_db_open(const char *conninfo, int pool_size, proj_db_t **out);

/* Closes every connection. Accepts NULL. No call may be running on db. */
void proj_db_free(proj_db_t *db);

/* SELECT 1 (for /readyz). Errors: TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_db_ping(proj_db_t *db);

/* Creates schema "catalog", its tables, indexes and checkpoint row when
 * missing (moving a model found in schema public there). Idempotent; safe
 * from two processes at once (pg_advisory_xact_lock).
 * Errors: TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_schema_ensure(proj_db_t *db);

/* The last stream sequence folded by projection (0 when none yet).
 * Errors: TS_ERR_NOT_FOUND (no such projection), TS_ERR_UNAVAILABLE,
 * TS_ERR_DB. */
ts_status proj_checkpoint_get(proj_db_t *db, const char *projection, uint64_t *seq);

/* Waits until projection's checkpoint >= min_seq, polling every 5 ms, for at
 * most timeout_ms. Errors: TS_ERR_TIMEOUT, TS_ERR_NOT_FOUND,
 * TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_wait_seq(proj_db_t *db, const char *projection, uint64_t min_seq, int timeout_ms);

/* ---- queries: API.md shapes; *out gets a new reference on success ---- */

/* {venue_id, name, city, country, capacity,
 *  sections: [{key, name, kind, capacity, rows?: [{label, seats, accessible}]}]}
 * Errors: TS_ERR_NOT_FOUND, TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_venue_get(proj_db_t *db, const char *venue_id, json_t **out);

/* {event_id, venue_id, organizer_id, title, description, genre, city,
 *  starts_at, ends_at, status, tiers: [{key, name, price, sections,
 *  sale_starts_at, sale_ends_at, available}], policy: {...}, commit_seq}
 * available is null until the event is published. Drafts are returned too:
 * the API decides who may see them (organizer_id).
 * Errors: TS_ERR_NOT_FOUND, TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_event_get(proj_db_t *db, const char *event_id, json_t **out);

typedef struct {
    const char *text;   /* full-text on title + description, or NULL */
    const char *genre;  /* exact, case-insensitive, or NULL */
    const char *city;   /* exact, case-insensitive, or NULL */
    int64_t from_ms;    /* starts_at >= from_ms; 0: unbounded */
    int64_t to_ms;      /* starts_at < to_ms; 0: unbounded */
    int limit;          /* 1..200; 0 picks 50 */
    const char *cursor; /* next_cursor of the previous page, or NULL */
} proj_events_query_t;

/* {items: [{event_id, venue_id, title, genre, city, starts_at, ends_at,
 *  status, price_from}], next_cursor: "..." | null}: published events,
 * soonest first (starts_at, event_id); with a text, the events whose title
 * matches it first, then those only their description matches, each group
 * soonest first. next_cursor is null when the page holds the last event.
 * A cursor is valid only for the kind of list (with or without a text)
 * that made it.
 * Errors: TS_ERR_INVALID (limit out of range, malformed cursor),
 * TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_events_list(proj_db_t *db, const proj_events_query_t *q, json_t **out);

/* {event_id, as_of_seq, sections: [{key, kind, tier, seats: [{id, row,
 *  number, accessible, status}]} | {key, kind, tier, capacity, available}]}
 * Sections in venue order, seats in row order then number. as_of_seq is the
 * catalog checkpoint in the same snapshot as the seats. A draft event has no
 * sections yet ([]).
 * Errors: TS_ERR_NOT_FOUND, TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_seatmap_get(proj_db_t *db, const char *event_id, json_t **out);

/* The same document as it is served: pieces of text to be sent one after
 * the other, valid until proj_seatmap_close. They are a document shared by
 * every request that finds the event unchanged since it was assembled, and
 * its sections' seats are shared with the documents made before and after
 * it; only the digits of this answer's as_of_seq are its own. So an
 * unchanged 50,000-seat map costs one small query and no copy, and a map
 * changed by a hold costs the changed section. The document never reflects
 * a checkpoint older than the one read when the call started (as_of_seq >=
 * it), so a caller that waited for min_seq gets a map at least that new.
 *
 * With PROJ_SEATMAP_GZIP the pieces are one gzip member (RFC 1952) of
 * that same text instead, for Content-Encoding: gzip: each section's seats
 * were compressed once when they were serialised, the small texts between
 * them once per document, and an answer compresses only its as_of_seq
 * digits (and writes the 18 bytes of the member's end). With
 * PROJ_SEATMAP_ZSTD the answer is one piece, one zstd frame (RFC 8878) of
 * that text, for Content-Encoding: zstd (RFC 9659: no window above 8 MB),
 * made once per document and checkpoint and shared by the requests that
 * get both. A 50,000-seat map: 3.8 MB of text, about 334 KB gzip, about
 * 81 KB zstd. */
typedef struct {
    uint32_t n_pieces;
    const char **piece; /* n_pieces of them, with their lengths in len */
    size_t *len;
    size_t total;       /* the sum of len */
    const char *coding; /* the pieces' Content-Encoding: "gzip", "zstd", NULL for text */
    /* private */
    struct proj__doc *doc;
    char seq[24];
    unsigned char gz_seq[64];      /* the digits of seq, compressed */
    unsigned char gz_end[10];      /* the last block and the gzip trailer */
    struct proj__zanswer *zanswer; /* the zstd answer (a reference), or NULL */
} proj_seatmap_t;

#define PROJ_SEATMAP_GZIP 1u /* proj_seatmap_open: the answer as gzip */
/* proj_seatmap_open: the answer as one zstd frame (over PROJ_SEATMAP_GZIP
 * when both are set). */
#define PROJ_SEATMAP_ZSTD 4u
/* proj_seatmap_open: the map read for another request may be taken when it
 * began a few milliseconds ago (20, or 500 while the event is busy:
 * proj_int.h) and its as_of_seq is at least min_seq. Without it, the map
 * is read after the call began (one read may still serve many callers). */
#define PROJ_SEATMAP_RECENT 2u

/* Fills *out (caller's storage); flags a set of PROJ_SEATMAP_*; min_seq
 * counts with PROJ_SEATMAP_RECENT (the caller has waited for the catalog to
 * reach it). The reads of concurrent callers for one event are shared.
 * Errors: TS_ERR_NOT_FOUND, TS_ERR_UNAVAILABLE, TS_ERR_DB, TS_ERR_NOMEM,
 * TS_ERR_INVALID (event_id NULL). On an error *out needs no
 * proj_seatmap_close. Thread-safe. */
ts_status proj_seatmap_open(proj_db_t *db, const char *event_id, uint64_t min_seq, unsigned flags,
                            proj_seatmap_t *out);
/* Releases what proj_seatmap_open handed out. Accepts a zeroed *m. */
void proj_seatmap_close(proj_seatmap_t *m);

/* The same document as compact JSON text, NUL-terminated, in a malloc'd
 * buffer the caller frees; *len (if len is not NULL) gets its length. The
 * fast path for GET /events/{id}/seats: each section's seats come from
 * db's cache of serialised sections unless the section changed since, so an
 * unchanged 50,000-seat map costs one small query and a copy, and no JSON
 * tree is built (proj_seatmap_get parses this text).
 * Errors: TS_ERR_NOT_FOUND, TS_ERR_UNAVAILABLE, TS_ERR_DB, TS_ERR_NOMEM. */
ts_status proj_seatmap_text(proj_db_t *db, const char *event_id, char **out, size_t *len);

/* {booking_id, event_id, user_id, status, expires_at, items: [{seat, tier,
 *  price}], subtotal, discount, service_fee, total, vat_included,
 *  tickets: [], commit_seq}: money as {amount, currency}; user_id is for the
 * API's ownership check (strip it before answering if needed).
 * Errors: TS_ERR_NOT_FOUND, TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_booking_get(proj_db_t *db, const char *booking_id, json_t **out);

/* RULE-WL-1: {items: [{entry_id, event_id, tier, quantity, position, status,
 *  joined_at, offer: {booking_id, expires_at} | null}], next_cursor}: the
 * user's entries still on a list ("waiting" or "offered"), oldest first;
 * position is the entry's 1-based FIFO place among its list's entries.
 * limit 0 picks 50 (1..200); cursor is a next_cursor or NULL.
 * Errors: TS_ERR_INVALID (limit out of range, malformed cursor),
 * TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_waitlist_list(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                             json_t **out);
/* {items: [{ticket_id, event_id, booking_id, seat, tier, status, version,
 *  checked_in: {at, gate} | null, event: {title, starts_at}}], next_cursor}:
 * the tickets held by user_id (RULE-TKT-1..3), oldest first; a ticket the
 * user transferred away is listed with status "transferred". limit 1..200
 * (0 picks 50); cursor is a next_cursor of this list or NULL.
 * Errors: TS_ERR_INVALID (limit, cursor), TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_user_tickets(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                            json_t **out);

/* ---- issue 4: the sales dashboard and a user's bookings (sales.c) ---- */

/* GET /events/{id}/sales: {event_id, as_of_seq, organizer_id, event_status,
 * currency, tiers: [{tier, name, capacity, sold, held, available, gross,
 * refunds, checked_in}], totals: {capacity, sold, held, available, gross,
 * refunds, checked_in}, series: [{minute, sold, gross, refunds}]}, money as
 * {amount, currency} in the event's currency. Per tier:
 *   sold       items of bookings confirmed and not cancelled (tickets
 *              issued and not cancelled; a transfer keeps them sold)
 *   held       items of holds still active now (expires_at > now:
 *              RULE-HOLD-3, before the HoldExpired of a lapsed one arrives)
 *   available  capacity - sold - held
 *   gross      the totals paid by every confirmation (fee included), also
 *              of bookings cancelled since
 *   refunds    what cancellations of confirmed bookings owe back, whether
 *              or not the provider has paid it yet (RULE-REF-1); a late
 *              payment refunded because its seats were gone (RULE-PAY-2)
 *              was no sale and is in neither
 *   checked_in tickets admitted at a gate (RULE-TKT-2) whose booking is
 *              not cancelled
 * series: one entry per UTC minute in which bookings were confirmed, oldest
 * first, summed over tiers: their items still sold, what they paid and what
 * their cancellations owe back, so over every minute the entries sum to
 * totals' sold, gross and refunds. from_ms / to_ms (0: unbounded) keep the
 * minutes m with from_ms <= m < to_ms; they bound the series only.
 * as_of_seq is the catalog checkpoint in the same snapshot as every
 * number.
 *
 * The answer comes as compact JSON text, NUL-terminated, in a malloc'd
 * buffer the caller frees, *len its length; *who gets the event's
 * organizer ("" when none) and status, for the API's access check.
 * Errors: TS_ERR_NOT_FOUND, TS_ERR_INVALID (event_id NULL),
 * TS_ERR_UNAVAILABLE, TS_ERR_DB, TS_ERR_NOMEM. */
typedef struct {
    char organizer_id[65];
    char event_status[16];
} proj_event_who_t;
ts_status proj_event_sales_text(proj_db_t *db, const char *event_id, int64_t from_ms, int64_t to_ms,
                                proj_event_who_t *who, char **out, size_t *len);

/* GET /users/me/bookings: {items: [booking as proj_booking_get], next_cursor:
 * "..." | null}, the user's bookings newest first (by the commit that placed
 * them, then booking id), limit 1..200 (0 picks 50), cursor the previous
 * page's next_cursor or NULL.
 * Errors: TS_ERR_INVALID (limit out of range, a cursor this function did not
 * make), TS_ERR_UNAVAILABLE, TS_ERR_DB. */
ts_status proj_user_bookings(proj_db_t *db, const char *user_id, int limit, const char *cursor,
                             json_t **out);

/* ---- builds: the log folded into a fresh schema (build.c) ---- */

typedef struct proj_build proj_build_t;

typedef struct {
    const char *pg_conninfo; /* libpq connection string */
    /* NULL: a rebuild of the live model, swapped in by proj_build_swap.
     * Else the schema an analyst's copy will have (proj_schema_name_valid),
     * made by proj_build_keep. */
    const char *into;
    int replace; /* into: an existing schema of that name is replaced */
    int batch;   /* commits per transaction; 0 picks 20,000 */
    /* Fold hold segments within each transaction, as the projector does.
     * Otherwise (the default, several times faster) a booking placed and
     * ended anywhere between two other kinds of event is written once,
     * already ended, and its seats never: the same tables in the end, but
     * a commit whose data PostgreSQL refuses can then not be singled out
     * (see TS_ERR_CORRUPT below). */
    int exact;
} proj_build_config_t;

typedef struct {
    uint64_t checkpoint; /* the last commit folded and committed */
    uint64_t commits;    /* commits folded (decoded) */
    uint64_t events;     /* events in them */
} proj_build_stats_t;

/* 1 when s may name an analyst's copy: 1..63 of [a-z0-9_], not starting
 * with a digit, and none of public, information_schema, pg_*, catalog*
 * (the live model and the builds). Pure. */
int proj_schema_name_valid(const char *s);

/* Connects (a connection of its own, for the whole build), takes the build
 * lock, drops the schemas of builds whose process died, and creates schema
 * catalog_v<N> with empty tables. Errors: TS_ERR_INVALID (bad config, or
 * into is not valid or is an SQL keyword), TS_ERR_CONFLICT (another build
 * runs, still after 3 s of asking; into exists and replace is not set),
 * TS_ERR_UNAVAILABLE, TS_ERR_DB.
 * *out is written only on success; free it with proj_build_free. */
ts_status proj_build_open(const proj_build_config_t *cfg, proj_build_t **out);

/* "catalog_v<N>" (valid as long as b), and N. */
const char *proj_build_schema(const proj_build_t *b);
uint64_t proj_build_version(const proj_build_t *b);

/* Adds the commit at stream sequence seq (bytes copied; calls in stream
 * order). Every `batch` commits the buffered ones are folded in one
 * transaction, as the projector folds them (a commit that does not decode
 * is logged and skipped, and so is one whose data PostgreSQL refuses when
 * the build is exact). Errors: TS_ERR_CORRUPT (PostgreSQL refused the data
 * of a commit and the build is not exact: build again with exact set),
 * TS_ERR_DB, TS_ERR_UNAVAILABLE; b is then unusable. */
ts_status proj_build_add(proj_build_t *b, uint64_t seq, const char *subject, const void *data,
                         size_t len);
/* Folds what is buffered. Errors: as proj_build_add. */
ts_status proj_build_flush(proj_build_t *b);
void proj_build_stats(const proj_build_t *b, proj_build_stats_t *out);

/* Flushes, then builds the secondary indexes and
 * analyzes (seconds for millions of rows; nobody reads the build meanwhile),
 * the bookings on a second connection of their own in parallel with the
 * rest. Commits may still be added afterwards. Errors: as proj_build_add. */
ts_status proj_build_finish(proj_build_t *b);

/* An analyst's copy: renames the finished build to cfg->into, replacing an
 * existing schema of that name when cfg->replace, in one transaction.
 * Errors: TS_ERR_CONFLICT (into exists, replace not set), TS_ERR_DB,
 * TS_ERR_UNAVAILABLE. */
ts_status proj_build_keep(proj_build_t *b);

/* One attempt at the swap (see "Schemas, builds and the swap" above). tail
 * is called once the live tables are locked, inside the swap's transaction;
 * it must add (proj_build_add) every commit after proj_build_stats'
 * checkpoint up to the log's head, and return TS_OK or its error. On
 * success *live_seq (may be NULL) gets the live checkpoint replaced and the
 * build is the live model. Errors: TS_ERR_TIMEOUT (the locks were not
 * granted within lock_timeout_ms: catch up and try again), TS_ERR_INVALID
 * (finish was not called, or the build ended behind the live checkpoint),
 * tail's error, TS_ERR_CORRUPT (as proj_build_add), TS_ERR_DB,
 * TS_ERR_UNAVAILABLE. On an error the live model and the build are as
 * before the call. */
ts_status proj_build_swap(proj_build_t *b, ts_status (*tail)(proj_build_t *b, void *arg), void *arg,
                          int lock_timeout_ms, uint64_t *live_seq);

/* Drops the build schema unless it was kept or swapped in, and closes the
 * connection. Accepts NULL. */
void proj_build_free(proj_build_t *b);

/* ---- the projector ---- */

typedef struct {
    const char *nats_url;    /* e.g. "nats://127.0.0.1:4222" */
    const char *stream;      /* "TICKETS" when NULL */
    const char *pg_conninfo; /* libpq connection string */
    int batch;               /* messages per fetch and transaction; 0 picks 500 */
    /* While the consumer has more messages pending (a backlog: after
     * downtime, or from an empty schema), one transaction folds up to this
     * many commits, fetched 20,000 at a time, its holds carried across the
     * fetches; 0 picks 200,000; at most 1,000,000. Raised to batch if
     * below. */
    int catchup;
    /* A backlog of at least this many commits, and at least twice the
     * checkpoint, is folded by a build of the whole log swapped in (as
     * turnstile replay does; a few times faster than batches); 0 picks
     * 100,000, negative: never. */
    int bootstrap;
    volatile int *stop; /* set non-zero (e.g. from a signal) to stop */
} proj_config_t;

/* Folds the stream into the catalog tables until *stop becomes non-zero,
 * reconnecting to NATS and PostgreSQL on errors and waiting (logging once)
 * while the stream does not exist yet. Creates the schema when missing.
 * Returns TS_OK after a stop; TS_ERR_INVALID for a bad config. Logs to
 * stderr. Blocks the calling thread. */
ts_status proj_run(const proj_config_t *cfg);

#endif
