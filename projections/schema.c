/* Every table, index and helper function of the read side, in one place (see
 * projections.h for what each table means). The DDL is idempotent and runs
 * under a transaction-scoped advisory lock, so two processes starting at once
 * (the API and the projector) do not race on CREATE ... IF NOT EXISTS, which
 * PostgreSQL does not make safe by itself. */
#include "projections/proj_int.h"

static const char schema_sql[] =
    /* Epoch milliseconds <-> timestamptz. 0 means "not set" in events.h. */
    "CREATE OR REPLACE FUNCTION ts_ms_to_tstz(ms bigint) RETURNS timestamptz\n"
    "  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS\n"
    "  $f$ SELECT CASE WHEN ms IS NULL OR ms = 0 THEN NULL\n"
    "      ELSE timestamptz 'epoch' + ms * interval '1 millisecond' END $f$;\n"
    "CREATE OR REPLACE FUNCTION ts_tstz_to_ms(t timestamptz) RETURNS bigint\n"
    "  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS\n"
    "  $f$ SELECT (extract(epoch FROM t) * 1000)::bigint $f$;\n"

    "CREATE TABLE IF NOT EXISTS checkpoints (\n"
    "  projection text PRIMARY KEY,\n"
    "  last_seq bigint NOT NULL DEFAULT 0,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now());\n"
    "INSERT INTO checkpoints (projection) VALUES ('" PROJ_CATALOG "')\n"
    "  ON CONFLICT (projection) DO NOTHING;\n"

    "CREATE TABLE IF NOT EXISTS venues (\n"
    "  venue_id text PRIMARY KEY,\n"
    "  name text NOT NULL,\n"
    "  city text,\n"
    "  country text,\n"
    "  capacity bigint NOT NULL,\n"
    "  layout jsonb NOT NULL,\n"
    "  updated_seq bigint NOT NULL);\n"

    "CREATE TABLE IF NOT EXISTS events (\n"
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
    "    coalesce(title, '') || ' ' || coalesce(description, ''))) STORED);\n"
    "CREATE INDEX IF NOT EXISTS events_published_idx ON events (starts_at, event_id)\n"
    "  WHERE status = 'published';\n"
    "CREATE INDEX IF NOT EXISTS events_search_idx ON events USING gin (search);\n"

    "CREATE TABLE IF NOT EXISTS sections (\n"
    "  event_id text NOT NULL,\n"
    "  key text NOT NULL,\n"
    "  kind text NOT NULL,\n"
    "  tier text,\n"
    "  ord int NOT NULL,\n"
    "  capacity bigint NOT NULL,\n"
    "  available bigint NOT NULL,\n"
    "  updated_seq bigint NOT NULL,\n"
    "  PRIMARY KEY (event_id, key));\n"

    /* The one index of seats is its primary key: a 50,000-seat publish
     * pays for every index. Ids are COLLATE "C" (byte order, cheap
     * comparisons), which also makes the rows of a section one key range,
     * seat_id >= '<section>-' AND seat_id < '<section>.', since section
     * keys never contain '-' ('.' follows '-' in ASCII). */
    "CREATE TABLE IF NOT EXISTS seats (\n"
    "  event_id text COLLATE \"C\" NOT NULL,\n"
    "  section text COLLATE \"C\" NOT NULL,\n"
    "  seat_id text COLLATE \"C\" NOT NULL,\n"
    "  row_label text NOT NULL,\n"
    "  number int NOT NULL,\n"
    "  accessible boolean NOT NULL,\n"
    "  status text NOT NULL,\n"
    "  booking_id text,\n"
    "  ord int NOT NULL,\n"
    "  PRIMARY KEY (event_id, seat_id));\n"

    "CREATE TABLE IF NOT EXISTS bookings (\n"
    "  booking_id text PRIMARY KEY,\n"
    "  event_id text NOT NULL,\n"
    "  section text NOT NULL,\n"
    "  user_id text NOT NULL,\n"
    "  status text NOT NULL,\n"
    "  tier text,\n"
    "  quantity int NOT NULL,\n"
    "  expires_at timestamptz,\n"
    "  items jsonb NOT NULL,\n"
    "  subtotal bigint NOT NULL,\n"
    "  discount bigint NOT NULL,\n"
    "  service_fee bigint NOT NULL,\n"
    "  total bigint NOT NULL,\n"
    "  vat_included bigint NOT NULL,\n"
    "  currency text NOT NULL,\n"
    "  created_seq bigint NOT NULL,\n"
    "  updated_seq bigint NOT NULL);\n"
    "CREATE INDEX IF NOT EXISTS bookings_user_idx ON bookings (user_id, created_seq);\n"
    "CREATE INDEX IF NOT EXISTS bookings_event_idx ON bookings (event_id);\n";

ts_status proj__schema_apply(PGconn *pg)
{
    ts_status rc;
    PGresult *res = PQexec(pg, "BEGIN");
    rc = proj__pg_check(pg, res, "schema: begin");
    PQclear(res);
    if (rc != TS_OK)
        return rc;
    /* Held until COMMIT: the second process waits, then finds everything. */
    res = PQexec(pg, "SELECT pg_advisory_xact_lock(" PROJ_LOCK_CLASS ", " PROJ_LOCK_SCHEMA ")");
    rc = proj__pg_check(pg, res, "schema: lock");
    PQclear(res);
    if (rc == TS_OK) {
        /* "already exists, skipping" notices on every start are noise. */
        res = PQexec(pg, "SET LOCAL client_min_messages = warning");
        PQclear(res);
        /* Several statements, no parameters: the simple query protocol. */
        res = PQexec(pg, schema_sql);
        rc = proj__pg_check(pg, res, "schema");
        PQclear(res);
    }
    res = PQexec(pg, rc == TS_OK ? "COMMIT" : "ROLLBACK");
    if (rc == TS_OK)
        rc = proj__pg_check(pg, res, "schema: commit");
    PQclear(res);
    return rc;
}
