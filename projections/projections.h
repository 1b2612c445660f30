/*
 * projections — the read side: the event log folded into PostgreSQL, and the
 * JSON answers the API serves from it.
 *
 * What it is for. The log (JetStream stream TICKETS) is the only truth; the
 * tables here are a cache of it that can be dropped and rebuilt at any time.
 * A projector (proj_run) is a durable JetStream pull consumer that folds
 * commits into tables; the queries (proj_venue_get ... proj_booking_get) read
 * them through a small pool of connections (proj_db_t) and shape API.md JSON.
 *
 * Data layout (one projection, "catalog"; all DDL lives in schema.c):
 *
 *   checkpoints(projection pk, last_seq, updated_at)
 *       the stream sequence of the last commit folded, per projection
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
 *            quantity, expires_at, items jsonb, subtotal, discount,
 *            service_fee, total, vat_included, currency, created_seq,
 *            updated_seq)
 *
 * Invariants.
 *  - A batch of commits is folded in one transaction that also moves the
 *    projection's checkpoint; messages are acked only after COMMIT. A commit
 *    at or below the checkpoint is skipped, so redelivery never applies twice.
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
 * Speed. A batch is sent in libpq pipeline mode; holds are folded set-wise
 * (two statements per run of holds, see proj_int.h) and a section's
 * available count is written once per batch; a published event's seats are
 * generated server-side by one INSERT. The seat map is assembled from a
 * per-section cache of serialised seats (proj_seatmap_text).
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

/* The one projection of this module and its JetStream durable. */
#define PROJ_CATALOG "catalog"
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

/* Creates the tables, indexes and the checkpoint rows when missing.
 * Idempotent; safe from two processes at once (pg_advisory_xact_lock).
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
 * soonest first (starts_at, event_id).
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

/* ---- the projector ---- */

typedef struct {
    const char *nats_url;    /* e.g. "nats://127.0.0.1:4222" */
    const char *stream;      /* "TICKETS" when NULL */
    const char *pg_conninfo; /* libpq connection string */
    int batch;               /* messages per fetch and transaction; 0 picks 500 */
    volatile int *stop;      /* set non-zero (e.g. from a signal) to stop */
} proj_config_t;

/* Folds the stream into the catalog tables until *stop becomes non-zero,
 * reconnecting to NATS and PostgreSQL on errors and waiting (logging once)
 * while the stream does not exist yet. Creates the schema when missing.
 * Returns TS_OK after a stop; TS_ERR_INVALID for a bad config. Logs to
 * stderr. Blocks the calling thread. */
ts_status proj_run(const proj_config_t *cfg);

#endif
