/* Every table, index and helper function of the read side, in one place (see
 * projections.h for what each table means and for the schemas they live
 * in). The same table DDL makes the live schema "catalog" (idempotently, at
 * every start of serve and project) and a fresh build schema (once,
 * without the secondary indexes, which proj__schema_finish adds after the
 * bulk load). Statements name tables unqualified and run with
 * search_path set to the target schema, so one text serves both; the helper
 * functions and the version sequence live in public, shared by every schema.
 *
 * The live DDL runs under a transaction-scoped advisory lock, so two
 * processes starting at once (the API and the projector) do not race on
 * CREATE ... IF NOT EXISTS, which PostgreSQL does not make safe by itself;
 * the swap (build.c) takes the same lock. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Shared by every schema; idempotent. */
static const char public_sql[] =
    /* Epoch milliseconds <-> timestamptz. 0 means "not set" in events.h.
     * STABLE, as the timestamptz arithmetic in their bodies is: PostgreSQL
     * inlines a SQL function only when its body is no more volatile than
     * the function says, and an IMMUTABLE one ran through the SQL-function
     * executor on every call instead (2.8 us a call: 0.97 s for 300,000
     * rows, 0.15 s inlined; a fold converts a time or two per booking).
     * No index or generated column uses them. */
    "CREATE OR REPLACE FUNCTION public.ts_ms_to_tstz(ms bigint) RETURNS timestamptz\n"
    "  LANGUAGE sql STABLE PARALLEL SAFE AS\n"
    "  $f$ SELECT CASE WHEN ms IS NULL OR ms = 0 THEN NULL\n"
    "      ELSE timestamptz 'epoch' + ms * interval '1 millisecond' END $f$;\n"
    "CREATE OR REPLACE FUNCTION public.ts_tstz_to_ms(t timestamptz) RETURNS bigint\n"
    "  LANGUAGE sql STABLE PARALLEL SAFE AS\n"
    "  $f$ SELECT (extract(epoch FROM t) * 1000)::bigint $f$;\n"
    /* Each schema ever made gets the next number (checkpoints.version). */
    "CREATE SEQUENCE IF NOT EXISTS public.ts_catalog_version;\n";

/* Read models made before they had a schema of their own lived in public:
 * move them into "catalog" (no copy: ALTER ... SET SCHEMA is a catalog
 * update) so an upgraded installation keeps its model and checkpoint. */
static const char migrate_sql[] =
    "DO $m$ BEGIN\n"
    "  IF to_regnamespace('" PROJ_CATALOG_SCHEMA "') IS NULL\n"
    "     AND to_regclass('public.checkpoints') IS NOT NULL THEN\n"
    "    CREATE SCHEMA " PROJ_CATALOG_SCHEMA ";\n"
    "    ALTER TABLE public.checkpoints SET SCHEMA " PROJ_CATALOG_SCHEMA ";\n"
    "    ALTER TABLE public.venues SET SCHEMA " PROJ_CATALOG_SCHEMA ";\n"
    "    ALTER TABLE public.events SET SCHEMA " PROJ_CATALOG_SCHEMA ";\n"
    "    ALTER TABLE public.sections SET SCHEMA " PROJ_CATALOG_SCHEMA ";\n"
    "    ALTER TABLE public.seats SET SCHEMA " PROJ_CATALOG_SCHEMA ";\n"
    "    ALTER TABLE public.bookings SET SCHEMA " PROJ_CATALOG_SCHEMA ";\n"
    "    ALTER TABLE " PROJ_CATALOG_SCHEMA ".checkpoints ADD COLUMN version bigint\n"
    "      NOT NULL DEFAULT nextval('public.ts_catalog_version');\n"
    "  END IF;\n"
    "END $m$;\n";

/* Each follows "CREATE TABLE IF NOT EXISTS ". */
static const char *const tables[] = {
    "checkpoints (\n"
    "  projection text PRIMARY KEY,\n"
    "  last_seq bigint NOT NULL DEFAULT 0,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now(),\n"
    /* Which build of the model this is (the seat-map cache keys on it). */
    "  version bigint NOT NULL DEFAULT nextval('public.ts_catalog_version'))",

    "venues (\n"
    "  venue_id text PRIMARY KEY,\n"
    "  name text NOT NULL,\n"
    "  city text,\n"
    "  country text,\n"
    "  capacity bigint NOT NULL,\n"
    "  layout jsonb NOT NULL,\n"
    "  updated_seq bigint NOT NULL)",

    "events (\n"
    "  event_id text PRIMARY KEY,\n"
    "  venue_id text NOT NULL,\n"
    "  organizer_id text,\n"
    "  title text NOT NULL,\n"
    "  description text,\n"
    "  genre text,\n"
    "  city text,\n"
    "  starts_at timestamptz,\n"
    "  ends_at timestamptz,\n"
    "  status text NOT NULL,\n"
    "  tiers jsonb NOT NULL,\n"
    "  policy jsonb NOT NULL,\n"
    "  updated_seq bigint NOT NULL,\n"
    /* 'simple': titles are in many languages, so no stemming. */
    "  search tsvector GENERATED ALWAYS AS (to_tsvector('simple',\n"
    "    coalesce(title, '') || ' ' || coalesce(description, ''))) STORED)",

    "sections (\n"
    "  event_id text NOT NULL,\n"
    "  key text NOT NULL,\n"
    "  kind text NOT NULL,\n"
    "  tier text,\n"
    "  ord int NOT NULL,\n"
    "  capacity bigint NOT NULL,\n"
    "  available bigint NOT NULL,\n"
    "  updated_seq bigint NOT NULL,\n"
    "  PRIMARY KEY (event_id, key))",

    /* The one index of seats is its primary key: a 50,000-seat publish
     * pays for every index. A seat's row is updated at every hold and
     * release, and never in an indexed column: with room left in its page
     * (fillfactor) the update is HOT, writing no index entry (measured: a
     * set-wise update of 360,000 seats took 1.9 s instead of 4.1 s). Ids are COLLATE "C" (byte
     * order, cheap comparisons), which also makes the rows of a section one key range, seat_id >=
     * '<section>-' AND seat_id < '<section>.', since section keys never contain '-' ('.' follows
     * '-' in ASCII). */
    "seats (\n"
    "  event_id text COLLATE \"C\" NOT NULL,\n"
    "  section text COLLATE \"C\" NOT NULL,\n"
    "  seat_id text COLLATE \"C\" NOT NULL,\n"
    "  row_label text NOT NULL,\n"
    "  number int NOT NULL,\n"
    "  accessible boolean NOT NULL,\n"
    "  status text NOT NULL,\n"
    "  booking_id text,\n"
    "  ord int NOT NULL,\n"
    "  PRIMARY KEY (event_id, seat_id)) WITH (fillfactor = 60)",

    /* A booking's row is updated when its hold ends (held -> released,
     * expired, ...), never in an indexed column: with room left in its
     * page the update is HOT and writes none of its three index entries
     * (measured: 80,000 ended bookings 40 % faster at fillfactor 80).
     * items is json, not jsonb: nothing looks inside it but the fold's
     * search for an ended booking's seats, and building jsonb cost the
     * backend about 1 s of an 11 s backlog catch-up (275,000 items: 0.8-1.1
     * s as jsonb, 0.3-0.4 s as json, 0.1 s as text). */
    "bookings (\n"
    "  booking_id text PRIMARY KEY,\n"
    "  event_id text NOT NULL,\n"
    "  section text NOT NULL,\n"
    "  user_id text NOT NULL,\n"
    "  status text NOT NULL,\n"
    "  tier text,\n"
    "  quantity int NOT NULL,\n"
    "  expires_at timestamptz,\n"
    "  items json NOT NULL,\n"
    "  subtotal bigint NOT NULL,\n"
    "  discount bigint NOT NULL,\n"
    "  service_fee bigint NOT NULL,\n"
    "  total bigint NOT NULL,\n"
    "  vat_included bigint NOT NULL,\n"
    "  currency text NOT NULL,\n"
    "  created_seq bigint NOT NULL,\n"
    "  updated_seq bigint NOT NULL,\n"
    /* issue 3: the payment, what is due back, when it was paid for. Last,
     * so a live table that gets them by ALTER (alter_sql) has the columns
     * of a fresh one in the same order. */
    "  payment_id text,\n"
    "  payment_status text,\n"
    "  refund bigint NOT NULL DEFAULT 0,\n"
    "  confirmed_at timestamptz) WITH (fillfactor = 80)",

    /* issue 3: tickets (RULE-TKT-1..3). ord is the ticket's place in its
     * booking (a transfer's new ticket takes the old one's). */
    "tickets (\n"
    "  ticket_id text PRIMARY KEY,\n"
    "  event_id text NOT NULL,\n"
    "  section text NOT NULL,\n"
    "  booking_id text NOT NULL,\n"
    "  holder_id text NOT NULL,\n"
    "  seat text,\n"
    "  tier text,\n"
    "  status text NOT NULL,\n"
    "  version int NOT NULL,\n"
    "  checked_in_at timestamptz,\n"
    "  gate text,\n"
    "  ord int NOT NULL,\n"
    "  created_seq bigint NOT NULL,\n"
    "  updated_seq bigint NOT NULL)",

    /* RULE-WL-1: one row per waitlist entry, in the state of its last
     * Waitlist* event; (joined_seq, joined_idx) is the FIFO order. */
    "waitlist (\n"
    "  entry_id text PRIMARY KEY,\n"
    "  event_id text NOT NULL,\n"
    "  tier text NOT NULL,\n"
    "  user_id text NOT NULL,\n"
    "  quantity int NOT NULL,\n"
    "  status text NOT NULL,\n"
    "  joined_at timestamptz,\n"
    "  booking_id text,\n"
    "  offer_expires_at timestamptz,\n"
    "  joined_seq bigint NOT NULL,\n"
    "  joined_idx int NOT NULL,\n"
    "  updated_seq bigint NOT NULL)",

    /* issue 4: the organizer's sales dashboard, kept up by the fold
     * (fold_dashboard.c) so a request reads a row per tier and a row per
     * minute, never the bookings. Per (event, tier): sold = items of
     * bookings confirmed and not cancelled; gross = totals of every
     * confirmation; refunds = what cancellations of confirmed bookings owe
     * back; checked_in = tickets admitted whose booking is not cancelled.
     * tier is '' for a booking without one. */
    "sales_tiers (\n"
    "  event_id text NOT NULL,\n"
    "  tier text NOT NULL,\n"
    "  sold bigint NOT NULL,\n"
    "  gross bigint NOT NULL,\n"
    "  refunds bigint NOT NULL,\n"
    "  checked_in bigint NOT NULL,\n"
    "  PRIMARY KEY (event_id, tier))",

    /* The same by the minute a booking was confirmed in (UTC, from
     * BookingConfirmed.at): the bookings confirmed in that minute, their
     * items still sold, what they paid and what their cancellations owe
     * back. A cancellation changes the row of its booking's minute, so the
     * rows of an event always sum to its sales_tiers rows. */
    "sales_minutes (\n"
    "  event_id text NOT NULL,\n"
    "  minute timestamptz NOT NULL,\n"
    "  tier text NOT NULL,\n"
    "  sold bigint NOT NULL,\n"
    "  gross bigint NOT NULL,\n"
    "  refunds bigint NOT NULL,\n"
    "  PRIMARY KEY (event_id, minute, tier))",
};

/* A live model made before issue 3 gets its columns (tables[] has them
 * last); the tickets table is simply created. */
static const char alter_sql[] = "ALTER TABLE bookings ADD COLUMN IF NOT EXISTS payment_id text,\n"
                                "  ADD COLUMN IF NOT EXISTS payment_status text,\n"
                                "  ADD COLUMN IF NOT EXISTS refund bigint NOT NULL DEFAULT 0,\n"
                                "  ADD COLUMN IF NOT EXISTS confirmed_at timestamptz;\n";

/* issue 4: a live model that had confirmed bookings before it had the
 * sales tables gets them computed once from its bookings and tickets, by
 * the definitions of schema.c (a confirmed booking always makes a
 * sales_tiers row, so an empty table beside a confirmed booking means
 * "never filled"). Additions, not inserts: a projector folding meanwhile
 * adds only what this statement's snapshot did not see. */
static const char backfill_sql[] =
    "WITH b AS (SELECT b.event_id, coalesce(b.tier, '') AS tier,\n"
    "    ts_ms_to_tstz(ts_tstz_to_ms(b.confirmed_at) / 60000 * 60000) AS minute,\n"
    "    CASE WHEN b.status = 'confirmed' THEN b.quantity ELSE 0 END AS sold, b.total AS gross,\n"
    "    CASE WHEN b.status = 'confirmed' THEN 0 ELSE b.refund END AS refunds,\n"
    "    (SELECT count(*) FROM tickets t\n"
    "     WHERE t.booking_id = b.booking_id AND t.status = 'used') AS checked_in\n"
    "  FROM bookings b\n"
    "  WHERE b.confirmed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sales_tiers)),\n"
    "m AS (INSERT INTO sales_minutes (event_id, minute, tier, sold, gross, refunds)\n"
    "  SELECT event_id, minute, tier, sum(sold), sum(gross), sum(refunds) FROM b GROUP BY 1, 2, 3\n"
    "  ON CONFLICT (event_id, minute, tier) DO UPDATE SET\n"
    "    sold = sales_minutes.sold + EXCLUDED.sold, gross = sales_minutes.gross + EXCLUDED.gross,\n"
    "    refunds = sales_minutes.refunds + EXCLUDED.refunds)\n"
    "INSERT INTO sales_tiers (event_id, tier, sold, gross, refunds, checked_in)\n"
    "SELECT event_id, tier, sum(sold), sum(gross), sum(refunds), sum(checked_in)\n"
    "FROM b GROUP BY 1, 2\n"
    "ON CONFLICT (event_id, tier) DO UPDATE SET sold = sales_tiers.sold + EXCLUDED.sold,\n"
    "  gross = sales_tiers.gross + EXCLUDED.gross,\n"
    "  refunds = sales_tiers.refunds + EXCLUDED.refunds,\n"
    "  checked_in = sales_tiers.checked_in + EXCLUDED.checked_in";

/* Gives a live bookings table made before it had one the fillfactor above
 * (pages written from then on keep the room); once, since the ALTER waits
 * for an autovacuum of the table. */
static const char bookings_fillfactor_sql[] =
    "DO $f$ BEGIN\n"
    "  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = 'bookings'::regclass\n"
    "                 AND reloptions @> '{fillfactor=80}') THEN\n"
    "    ALTER TABLE bookings SET (fillfactor = 80);\n"
    "  END IF;\n"
    "END $f$;\n";

/* A live bookings table made before items was json (see tables[]) is
 * rewritten once, with its indexes, under the schema lock. */
static const char items_json_sql[] =
    "DO $f$ BEGIN\n"
    "  IF (SELECT atttypid FROM pg_attribute WHERE attrelid = 'bookings'::regclass\n"
    "      AND attname = 'items') = 'jsonb'::regtype THEN\n"
    "    RAISE WARNING 'bookings.items: jsonb to json, rewriting the table once';\n"
    "    ALTER TABLE bookings ALTER COLUMN items TYPE json USING items::json;\n"
    "  END IF;\n"
    "END $f$;\n";

/* Only the queries use these; the fold finds its rows by primary key. */
#define EVENTS_INDEXES_SQL                                                                         \
    "CREATE INDEX IF NOT EXISTS events_published_idx ON events (starts_at, event_id)\n"            \
    "  WHERE status = 'published';\n"                                                              \
    "CREATE INDEX IF NOT EXISTS events_search_idx ON events USING gin (search);\n"
/* issue 4: bookings_held_idx, for the dashboard's held counts, which read
 * only the held bookings of an event. No query reads all the bookings of an
 * event, so there is no index on event_id alone: every booking the fold
 * inserts would pay for it (a model made before had one, dropped by
 * drop_sql). */
#define BOOKINGS_INDEXES_SQL                                                                       \
    "CREATE INDEX IF NOT EXISTS bookings_user_idx ON bookings (user_id, created_seq);\n"           \
    "CREATE INDEX IF NOT EXISTS bookings_held_idx ON bookings (event_id) WHERE status = 'held';\n"
#define TICKETS_INDEXES_SQL                                                                        \
    "CREATE INDEX IF NOT EXISTS tickets_booking_idx ON tickets (booking_id);\n"                    \
    "CREATE INDEX IF NOT EXISTS tickets_holder_idx ON tickets (holder_id, created_seq);\n"         \
    "CREATE INDEX IF NOT EXISTS tickets_event_idx ON tickets (event_id, updated_seq);\n"
#define WAITLIST_INDEXES_SQL                                                                       \
    "CREATE INDEX IF NOT EXISTS waitlist_user_idx ON waitlist (user_id, joined_seq);\n"            \
    "CREATE INDEX IF NOT EXISTS waitlist_list_idx ON waitlist (event_id, tier, joined_seq)\n"      \
    "  WHERE status IN ('waiting', 'offered');\n"
static const char indexes_sql[] =
    EVENTS_INDEXES_SQL BOOKINGS_INDEXES_SQL TICKETS_INDEXES_SQL WAITLIST_INDEXES_SQL;
/* Indexes a live model may have from an older version and no longer needs. */
static const char drop_sql[] = "DROP INDEX IF EXISTS bookings_event_idx;\n";

/* A build's finish, in two halves: bookings, and everything else; each in
 * two steps. The secondary indexes are built once the bulk is in (a sort
 * instead of an insert per row). Then VACUUM (ANALYZE): statistics now,
 * for the first queries after the swap, and the tables marked vacuumed, or
 * autovacuum would come for a million fresh rows a minute after the swap
 * (seen: it then held up the next rebuild's swap). VACUUM runs outside any
 * transaction block, so it is a query string of its own.
 *
 * The build's tables are logged from the start. They were UNLOGGED and
 * made LOGGED here, but SET LOGGED rewrites the whole table and its primary
 * key and writes every page to the WAL: on a million events the finish
 * took 7.8 s on the bookings' connection and 5.8 s on the other, more than
 * the WAL of the rows as they are inserted costs (PostgreSQL's CPU for a
 * bootstrap of that log: 17.5 s logged, 23.4 s unlogged, in the same
 * conditions). */
static const char finish_bookings_sql[] = BOOKINGS_INDEXES_SQL;
static const char vacuum_bookings_sql[] = "VACUUM (ANALYZE) bookings";
static const char finish_others_sql[] = EVENTS_INDEXES_SQL TICKETS_INDEXES_SQL WAITLIST_INDEXES_SQL;
static const char vacuum_others_sql[] =
    "VACUUM (ANALYZE) checkpoints, venues, events, sections, seats, tickets, waitlist,"
    " sales_tiers, sales_minutes";

/* Under the schema lock, so the version is drawn once per schema. */
static const char checkpoint_row_sql[] =
    "INSERT INTO checkpoints (projection) SELECT '" PROJ_CATALOG "'\n"
    "  WHERE NOT EXISTS (SELECT 1 FROM checkpoints WHERE projection = '" PROJ_CATALOG "');\n";

const char *const proj__tables[PROJ_TABLE_COUNT] = {
    "checkpoints", "events",  "sections", "seats",       "venues",
    "bookings",    "tickets", "waitlist", "sales_tiers", "sales_minutes"};

static ts_status run(PGconn *pg, const char *sql, const char *what)
{
    PGresult *res = PQexec(pg, sql);
    ts_status rc = proj__pg_check(pg, res, what);
    PQclear(res);
    return rc;
}

/* Creates every table in the first schema of the search_path. */
static ts_status create_tables(PGconn *pg)
{
    ts_status rc = TS_OK;
    ts_buf_t sql;
    ts_buf_init(&sql);
    for (size_t i = 0; i < TS_ARRAY_LEN(tables); i++) {
        const char *head = "CREATE TABLE IF NOT EXISTS ";
        ts_buf_append(&sql, head, strlen(head));
        ts_buf_append(&sql, tables[i], strlen(tables[i]));
        ts_buf_append(&sql, ";\n", 2);
    }
    ts_buf_put_u8(&sql, '\0');
    rc = run(pg, (const char *)sql.data, "schema: tables");
    ts_buf_deinit(&sql);
    return rc;
}

ts_status proj__schema_apply(PGconn *pg)
{
    ts_status rc = run(pg, "BEGIN", "schema: begin");
    if (rc != TS_OK)
        return rc;
    /* Held until COMMIT: the second process waits, then finds everything. */
    rc = run(pg, "SELECT pg_advisory_xact_lock(" PROJ_LOCK_CLASS ", " PROJ_LOCK_SCHEMA ")",
             "schema: lock");
    /* "already exists, skipping" notices on every start are noise. */
    if (rc == TS_OK)
        rc = run(pg, "SET LOCAL client_min_messages = warning", "schema: quiet");
    /* Several statements, no parameters: the simple query protocol. */
    if (rc == TS_OK)
        rc = run(pg, public_sql, "schema: public");
    if (rc == TS_OK)
        rc = run(pg, migrate_sql, "schema: migrate");
    if (rc == TS_OK)
        rc = run(pg,
                 "CREATE SCHEMA IF NOT EXISTS " PROJ_CATALOG_SCHEMA ";\n"
                 "SET LOCAL search_path = " PROJ_CATALOG_SCHEMA ", public",
                 "schema: catalog");
    if (rc == TS_OK)
        rc = create_tables(pg);
    if (rc == TS_OK)
        rc = run(pg, alter_sql, "schema: issue 3 columns");
    if (rc == TS_OK)
        rc = run(pg, indexes_sql, "schema: indexes");
    if (rc == TS_OK)
        rc = run(pg, drop_sql, "schema: old indexes");
    if (rc == TS_OK)
        rc = run(pg, backfill_sql, "schema: issue 4 sales");
    if (rc == TS_OK)
        rc = run(pg, bookings_fillfactor_sql, "schema: bookings fillfactor");
    if (rc == TS_OK)
        rc = run(pg, items_json_sql, "schema: bookings items as json");
    if (rc == TS_OK)
        rc = run(pg, checkpoint_row_sql, "schema: checkpoint");
    ts_status end = run(pg, rc == TS_OK ? "COMMIT" : "ROLLBACK", "schema: commit");
    return rc == TS_OK ? end : rc;
}

ts_status proj__schema_create(PGconn *pg, const char *quoted, uint64_t version)
{
    char sql[256];
    ts_status rc = run(pg, "SET client_min_messages = warning", "build: quiet");
    if (rc == TS_OK)
        rc = run(pg, public_sql, "build: public");
    if (rc != TS_OK)
        return rc;
    /* The caller's transaction makes schema, tables and checkpoint row
     * appear together. */
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s; SET search_path = %s, public", quoted, quoted);
    rc = run(pg, sql, "build: schema");
    if (rc == TS_OK)
        rc = create_tables(pg);
    if (rc == TS_OK) {
        char num[24];
        const char *p = num;
        snprintf(num, sizeof num, "%" PRIu64, version);
        PGresult *res = PQexecParams(pg,
                                     "INSERT INTO checkpoints (projection, version)"
                                     " VALUES ('" PROJ_CATALOG "', $1::bigint)",
                                     1, NULL, &p, NULL, NULL, 0);
        rc = proj__pg_check(pg, res, "build: checkpoint");
        PQclear(res);
    }
    return rc;
}

/* Waits for what side was sent; TS_OK when every statement succeeded. */
static ts_status side_done(PGconn *side, const char *what)
{
    ts_status rc = TS_OK;
    PGresult *res;
    while ((res = PQgetResult(side)) != NULL) {
        if (rc == TS_OK)
            rc = proj__pg_check(side, res, what);
        PQclear(res);
    }
    return rc;
}

/* One step: bookings' part on side (or after the rest, on pg alone). */
static ts_status finish_step(PGconn *pg, PGconn *side, const char *bookings, const char *others)
{
    if (!side || !PQsendQuery(side, bookings)) {
        ts_status rc = run(pg, bookings, bookings);
        return rc == TS_OK ? run(pg, others, others) : rc;
    }
    ts_status rc = run(pg, others, others);
    ts_status side_rc = side_done(side, bookings);
    return rc != TS_OK ? rc : side_rc;
}

ts_status proj__schema_finish(PGconn *pg, PGconn *side)
{
    /* Two backends, two cores: bookings on side while pg does the rest. */
    ts_status rc = finish_step(pg, side, finish_bookings_sql, finish_others_sql);
    return rc == TS_OK ? finish_step(pg, side, vacuum_bookings_sql, vacuum_others_sql) : rc;
}
