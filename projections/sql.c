/* The SQL of every statement the read side runs (the DDL is in schema.c).
 * Parameters only, never interpolated values; each parameter is cast where
 * it is first used so the prepared types never depend on inference.
 * Times travel as epoch milliseconds (ts_ms_to_tstz / ts_tstz_to_ms). */
#include "projections/proj_int.h"

/* The two hold statements, over a source of bookings V (a parenthesised
 * query, or NOT MATERIALIZED and one) and, for HOLDS_PLACED, of held seats
 * X (a row source of (event_id, seat_id, booking_id)). The projector gives
 * them as array parameters; a build gives the staging tables it filled by
 * COPY (fold.c), which PostgreSQL reads much faster than arrays of hundreds
 * of thousands of elements. One text, so both fold alike.
 *
 * A booking placed again (the segment holds it once) updates its row; a new
 * one is inserted. Each booking of the segment is probed once: o holds the
 * few already in the table (usually none), the update joins only those, and
 * the insert leaves them out through a hashed NOT IN. (An anti-join for the
 * insert plus a join for the update probed every booking twice: 1.1 s of
 * 7.8 for 275,000 bookings; ON CONFLICT's speculative insertion cost 60 %
 * more per row than the anti-join, measured on 110,000 bookings.) All
 * sub-statements see the table as it was before the statement, and only one
 * writer folds a schema at a time (the projector's advisory lock, a build's
 * own schema), so no row is both or neither.
 * The per-section sums aggregate the segment first and join the few
 * resulting rows to sections. */
/* The insert of the new bookings (b), filtered by WHERE, and the held seats
 * with the per-section sums, shared by HOLDS_PLACED and HOLDS_NEW. */
#define HOLDS_INSERT(WHERE)                                                                        \
    "b AS (INSERT INTO bookings (booking_id, event_id, section, user_id, status, tier,\n"          \
    "        quantity, expires_at, items, subtotal, discount, service_fee, total,\n"               \
    "        vat_included, currency, created_seq, updated_seq)\n"                                  \
    "      SELECT booking_id, event_id, section, user_id, status, tier, quantity,\n"               \
    "        ts_ms_to_tstz(expires_ms), items, subtotal, discount, service_fee, total, vat,\n"     \
    "        currency, created_seq, updated_seq FROM v" WHERE "),\n"
#define HOLDS_SEATS(X)                                                                             \
    "s AS (UPDATE seats SET status = 'held', booking_id = x.booking_id\n"                          \
    "      FROM " X " AS x(event_id, seat_id, booking_id)\n"                                       \
    "      WHERE seats.event_id = x.event_id AND seats.seat_id = x.seat_id\n"                      \
    "        AND seats.status = 'free'\n"                                                          \
    "      RETURNING seats.event_id, seats.section),\n"                                            \
    "c AS (SELECT event_id, section, count(*) AS n FROM s GROUP BY 1, 2),\n"                       \
    "g AS (SELECT event_id, section, max(updated_seq) AS seq,\n"                                   \
    "        sum(CASE WHEN status = 'held' THEN quantity ELSE 0 END) AS units\n"                   \
    "      FROM v GROUP BY 1, 2)\n"                                                                \
    "SELECT g.event_id, g.section,\n"                                                              \
    "  -(CASE WHEN k.kind = 'standing' THEN g.units ELSE 0 END + coalesce(c.n, 0)), g.seq\n"       \
    "FROM g JOIN sections k ON k.event_id = g.event_id AND k.key = g.section\n"                    \
    "  LEFT JOIN c ON c.event_id = g.event_id AND c.section = g.section"
#define HOLDS_PLACED(V, X)                                                                         \
    "WITH v AS " V ",\n"                                                                           \
    "o AS MATERIALIZED (SELECT * FROM v\n"                                                         \
    "      WHERE EXISTS (SELECT 1 FROM bookings x WHERE x.booking_id = v.booking_id)),\n"          \
    "u AS (UPDATE bookings SET status = o.status, quantity = o.quantity,\n"                        \
    "        expires_at = ts_ms_to_tstz(o.expires_ms), items = o.items,\n"                         \
    "        subtotal = o.subtotal, discount = o.discount, service_fee = o.service_fee,\n"         \
    "        total = o.total, vat_included = o.vat, currency = o.currency,\n"                      \
    "        updated_seq = o.updated_seq\n"                                                        \
    "      FROM o WHERE bookings.booking_id = o.booking_id),\n" HOLDS_INSERT(                      \
        "\n      WHERE v.booking_id NOT IN (SELECT booking_id FROM o)") HOLDS_SEATS(X)

/* HOLDS_PLACED for a segment none of whose bookings is in the table yet,
 * as the log of a running system has it (every hold is a new booking): no
 * probe at all. A build and a backlog transaction try it first, inside a
 * savepoint, and fall back to HOLDS_PLACED when the primary key refuses a
 * booking (fold.c); 0.7 s of 4.6 for 275,000 bookings. */
#define HOLDS_NEW(V, X) "WITH v AS " V ",\n" HOLDS_INSERT("") HOLDS_SEATS(X)

/* V: (booking_id, status, seq) of the ended bookings. x is materialized so
 * that the seats are found by their primary key from x's rows: the planner
 * guesses 100 elements per items array, and inlined it would rather scan
 * every seat of the event once per booking (seen: 60 s for 5,000 bookings,
 * where the probes take 50 ms). */
#define HOLDS_ENDED(V)                                                                             \
    "WITH v AS " V ",\n"                                                                           \
    "b AS (UPDATE bookings SET status = v.status, updated_seq = v.seq FROM v\n"                    \
    "      WHERE bookings.booking_id = v.booking_id AND bookings.status = 'held'\n"                \
    "      RETURNING bookings.booking_id, bookings.event_id, bookings.section,\n"                  \
    "        bookings.quantity, bookings.items, v.seq),\n"                                         \
    "x AS MATERIALIZED (SELECT b.event_id, i ->> 'seat' AS seat_id, b.booking_id\n"                \
    "      FROM b, json_array_elements(b.items) AS i WHERE i ->> 'seat' IS NOT NULL),\n"           \
    "s AS (UPDATE seats SET status = 'free', booking_id = NULL FROM x\n"                           \
    "      WHERE seats.event_id = x.event_id AND seats.seat_id = x.seat_id\n"                      \
    "        AND seats.booking_id = x.booking_id\n"                                                \
    "      RETURNING seats.event_id, seats.section),\n"                                            \
    "c AS (SELECT event_id, section, count(*) AS n FROM s GROUP BY 1, 2),\n"                       \
    "g AS (SELECT event_id, section, max(seq) AS seq, sum(quantity) AS units\n"                    \
    "      FROM b GROUP BY 1, 2)\n"                                                                \
    "SELECT g.event_id, g.section,\n"                                                              \
    "  CASE WHEN k.kind = 'standing' THEN g.units ELSE 0 END + coalesce(c.n, 0), g.seq\n"          \
    "FROM g JOIN sections k ON k.event_id = g.event_id AND k.key = g.section\n"                    \
    "  LEFT JOIN c ON c.event_id = g.event_id AND c.section = g.section"

const char *const proj__stmt_sql[PROJ_STMT_COUNT] = {
    [PROJ_Q_CHECKPOINT_GET] = "SELECT last_seq FROM checkpoints WHERE projection = $1::text",

    [PROJ_Q_VENUE_GET] = "SELECT venue_id, name, city, country, capacity, layout::text\n"
                         "FROM venues WHERE venue_id = $1::text",

    /* The event row plus {tier: available} over its sections, in one
     * snapshot. */
    [PROJ_Q_EVENT_GET] =
        "SELECT e.event_id, e.venue_id, e.organizer_id, e.title, e.description, e.genre,\n"
        "  e.city, ts_tstz_to_ms(e.starts_at), ts_tstz_to_ms(e.ends_at), e.status,\n"
        "  e.tiers::text, e.policy::text, e.updated_seq,\n"
        "  (SELECT json_object_agg(a.tier, a.available)::text FROM\n"
        "    (SELECT tier, sum(available) AS available FROM sections\n"
        "     WHERE event_id = e.event_id AND tier IS NOT NULL GROUP BY tier) a)\n"
        "FROM events e WHERE e.event_id = $1::text",

    /* One row per section in venue order (none for a draft: s.* NULL), with
     * the checkpoint and the build version of the same snapshot. */
    [PROJ_Q_SEATMAP_SECTIONS] =
        "SELECT c.last_seq, s.key, s.kind, s.tier, s.capacity, s.available, s.updated_seq,\n"
        "  c.version\n"
        "FROM events e LEFT JOIN sections s ON s.event_id = e.event_id\n"
        "  LEFT JOIN checkpoints c ON c.projection = '" PROJ_CATALOG "'\n"
        "WHERE e.event_id = $1::text ORDER BY s.ord",

    /* The section's key range of the primary key (see schema.c). */
    [PROJ_Q_SEATMAP_SEATS] =
        "SELECT seat_id, row_label, number, accessible, status FROM seats\n"
        "WHERE event_id = $1::text AND seat_id >= $2::text || '-' AND seat_id < $2::text || '.'\n"
        "ORDER BY ord",

    /* The booking plus its tickets (issue 3), in one snapshot. */
    [PROJ_Q_BOOKING_GET] =
        "SELECT " PROJ_BOOKING_COLS "FROM bookings b WHERE b.booking_id = $1::text",

    /* A user's entries still on a list, with their FIFO place among the
     * list's entries (RULE-WL-1), keyset-paginated on (joined_seq,
     * entry_id). $1 user, $2 cursor seq (NULL: from the start), $3 cursor
     * entry, $4 limit */
    [PROJ_Q_WAITLIST_USER] =
        "SELECT w.entry_id, w.event_id, w.tier, w.quantity, w.status,\n"
        "  ts_tstz_to_ms(w.joined_at), w.booking_id, ts_tstz_to_ms(w.offer_expires_at),\n"
        "  w.joined_seq, w.updated_seq,\n"
        "  (SELECT count(*) FROM waitlist o WHERE o.event_id = w.event_id AND o.tier = w.tier\n"
        "     AND o.status IN ('waiting', 'offered')\n"
        "     AND (o.joined_seq, o.joined_idx) <= (w.joined_seq, w.joined_idx))\n"
        "FROM waitlist w\n"
        "WHERE w.user_id = $1::text AND w.status IN ('waiting', 'offered')\n"
        "  AND ($2::bigint IS NULL OR (w.joined_seq, w.entry_id) > ($2::bigint, $3::text))\n"
        "ORDER BY w.joined_seq, w.entry_id\n"
        "LIMIT $4::int",

    /* $1 id, $2 name, $3 city, $4 country, $5 capacity, $6 layout, $7 seq */
    [PROJ_F_VENUE_CREATED] =
        "INSERT INTO venues (venue_id, name, city, country, capacity, layout, updated_seq)\n"
        "VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint, $6::jsonb, $7::bigint)\n"
        "ON CONFLICT (venue_id) DO UPDATE SET name = EXCLUDED.name, city = EXCLUDED.city,\n"
        "  country = EXCLUDED.country, capacity = EXCLUDED.capacity,\n"
        "  layout = EXCLUDED.layout, updated_seq = EXCLUDED.updated_seq",

    /* $1 event, $2 venue, $3 organizer, $4 title, $5 description, $6 genre,
     * $7 city, $8 starts ms, $9 ends ms, $10 tiers, $11 policy, $12 seq */
    [PROJ_F_EVENT_CREATED] =
        "INSERT INTO events (event_id, venue_id, organizer_id, title, description, genre,\n"
        "  city, starts_at, ends_at, status, tiers, policy, updated_seq)\n"
        "VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text,\n"
        "  ts_ms_to_tstz($8::bigint), ts_ms_to_tstz($9::bigint), 'draft', $10::jsonb,\n"
        "  $11::jsonb, $12::bigint)\n"
        "ON CONFLICT (event_id) DO UPDATE SET venue_id = EXCLUDED.venue_id,\n"
        "  organizer_id = EXCLUDED.organizer_id, title = EXCLUDED.title,\n"
        "  description = EXCLUDED.description, genre = EXCLUDED.genre, city = EXCLUDED.city,\n"
        "  starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,\n"
        "  status = EXCLUDED.status, tiers = EXCLUDED.tiers, policy = EXCLUDED.policy,\n"
        "  updated_seq = EXCLUDED.updated_seq",

    /* RULE-EVT-1: the frozen layout becomes sections and seats, in one
     * statement so a 50,000-seat venue costs one round trip; the seats are
     * generated server-side from the rows. Only sections sold by a tier are
     * kept (the first tier naming a section wins).
     * $1 event, $2 seq; sections: $3 keys, $4 kinds, $5 capacities;
     * rows: $6 section, $7 label, $8 seat count, $9 ord of the row's seat 0;
     * $10 accessible seat ids. */
    [PROJ_F_EVENT_PUBLISHED] =
        "WITH e AS (UPDATE events SET status = 'published', updated_seq = $2::bigint\n"
        "           WHERE event_id = $1::text RETURNING tiers),\n"
        "t AS (SELECT DISTINCT ON (s.sec) s.sec, tk.t ->> 'key' AS tier\n"
        "      FROM e, jsonb_array_elements(e.tiers) WITH ORDINALITY AS tk(t, i),\n"
        "           jsonb_array_elements_text(tk.t -> 'sections') AS s(sec)\n"
        "      ORDER BY s.sec, tk.i),\n"
        "secs AS (INSERT INTO sections (event_id, key, kind, tier, ord, capacity, available,\n"
        "           updated_seq)\n"
        "         SELECT $1::text, u.key, u.kind, t.tier, u.ord, u.cap, u.cap, $2::bigint\n"
        "         FROM unnest($3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY\n"
        "              AS u(key, kind, cap, ord)\n"
        "         JOIN t ON t.sec = u.key\n"
        "         ON CONFLICT (event_id, key) DO NOTHING)\n"
        "INSERT INTO seats (event_id, section, seat_id, row_label, number, accessible, status,\n"
        "  booking_id, ord)\n"
        "SELECT $1::text, r.sec, r.sec || '-' || r.label || '-' || n, r.label, n,\n"
        /* A constant array: PostgreSQL hashes it for = ANY. */
        "  r.sec || '-' || r.label || '-' || n = ANY ($10::text[]), 'free', NULL, r.base + n\n"
        "FROM unnest($6::text[], $7::text[], $8::int[], $9::int[]) AS r(sec, label, cnt, base)\n"
        "JOIN t ON t.sec = r.sec\n"
        "CROSS JOIN LATERAL generate_series(1, r.cnt) AS n\n"
        /* A plain INSERT is twice as fast as ON CONFLICT; a second publish
         * of the same event adds nothing instead. */
        "WHERE NOT EXISTS (SELECT 1 FROM seats x WHERE x.event_id = $1::text)",

    /* A segment's new bookings (see proj__segment_t), one element per
     * booking in $1..$17: id, event, section, user, tier, quantity, expires
     * ms, items, subtotal, discount, service fee, total, vat, currency,
     * created seq, status (held, or how it ended within the segment), updated
     * seq; one per seat of the still held ones in $18..$20: event, seat id,
     * booking. RULE-HOLD-1: only free seats become held. Answers one row per
     * section touched: (event, section, available delta, last seq), summed
     * per batch into PROJ_F_SECTION_DELTA: minus the seats actually taken,
     * or the units of held bookings in a standing section. */
    [PROJ_F_HOLDS_PLACED] = HOLDS_PLACED(
        "(SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],\n"
        "    $5::text[], $6::int[], $7::bigint[], $8::json[], $9::bigint[],\n"
        "    $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[],\n"
        "    $15::bigint[], $16::text[], $17::bigint[])\n"
        "  AS v(booking_id, event_id, section, user_id, tier, quantity, expires_ms,\n"
        "    items, subtotal, discount, service_fee, total, vat, currency,\n"
        "    created_seq, status, updated_seq))",
        "unnest($18::text[], $19::text[], $20::text[])"),

    /* A segment's ended bookings: $1 ids, $2 new statuses (released,
     * expired), $3 seqs. Only a held booking ends; its seats (found through
     * its items, by primary key: seats has no index on booking_id) or units
     * become free again. Answers like PROJ_F_HOLDS_PLACED. */
    [PROJ_F_HOLDS_ENDED] = HOLDS_ENDED("(SELECT * FROM unnest($1::text[], $2::text[], "
                                       "$3::bigint[]) AS v(booking_id, status, seq))"),

    /* The sum of a batch's deltas for one section. updated_seq also keys
     * the seat-map cache, so it moves even when the delta is 0.
     * $1 event, $2 section, $3 delta, $4 seq */
    [PROJ_F_SECTION_DELTA] = "UPDATE sections SET available = available + $3::bigint,\n"
                             "  updated_seq = greatest(updated_seq, $4::bigint)\n"
                             "WHERE event_id = $1::text AND key = $2::text",

    /* ---- issue 3: the sales (fold_sales.c) ---- */

    /* PaymentRequested, PaymentFailed: $1 booking, $2 payment, $3 payment
     * status ("requested", "failed"), $4 seq. A failed payment ends the hold
     * by its own HoldReleased. */
    [PROJ_F_SALE_PAYMENT] =
        "UPDATE bookings SET payment_id = $2::text, payment_status = $3::text,\n"
        "  updated_seq = $4::bigint\n"
        "WHERE booking_id = $1::text",

    /* BookingConfirmed (RULE-TKT-1, RULE-PAY-2): $1 booking, $2 payment,
     * $3 at ms, $4 seq; tickets $5 ids, $6 seats, $7 holders, $8 versions.
     * A booking the model still shows held keeps its seats, now sold; one
     * whose hold ended takes them again (reacquired), only where free
     * (RULE-HOLD-1), and the section's available count drops by what it
     * took. The section's updated_seq moves (it keys the seat-map cache). */
    [PROJ_F_SALE_CONFIRMED] =
        "WITH o AS (SELECT booking_id, status FROM bookings WHERE booking_id = $1::text\n"
        "           AND status IN ('held', 'expired', 'released')),\n"
        "b AS (UPDATE bookings SET status = 'confirmed',\n"
        "        payment_id = coalesce($2::text, bookings.payment_id), payment_status = 'paid',\n"
        "        confirmed_at = ts_ms_to_tstz($3::bigint), updated_seq = $4::bigint\n"
        "      FROM o WHERE bookings.booking_id = o.booking_id\n"
        "      RETURNING bookings.booking_id, bookings.event_id, bookings.section,\n"
        "        bookings.tier, bookings.quantity, bookings.items, o.status AS was),\n"
        "x AS (SELECT b.event_id, i ->> 'seat' AS seat_id, b.booking_id, b.was\n"
        "      FROM b, json_array_elements(b.items) AS i WHERE i ->> 'seat' IS NOT NULL),\n"
        "s AS (UPDATE seats SET status = 'sold', booking_id = x.booking_id FROM x\n"
        "      WHERE seats.event_id = x.event_id AND seats.seat_id = x.seat_id\n"
        "        AND ((x.was = 'held' AND seats.booking_id = x.booking_id)\n"
        "             OR (x.was <> 'held' AND seats.status = 'free'))\n"
        "      RETURNING seats.seat_id, x.was),\n"
        "t AS (INSERT INTO tickets (ticket_id, event_id, section, booking_id, holder_id, seat,\n"
        "        tier, status, version, ord, created_seq, updated_seq)\n"
        "      SELECT u.id, b.event_id, b.section, b.booking_id, u.holder, u.seat, b.tier,\n"
        "        'valid', u.version, u.ord - 1, $4::bigint, $4::bigint\n"
        "      FROM b, unnest($5::text[], $6::text[], $7::text[], $8::int[]) WITH ORDINALITY\n"
        "        AS u(id, seat, holder, version, ord)\n"
        "      ON CONFLICT (ticket_id) DO NOTHING RETURNING 1),\n"
        "k AS (SELECT b.event_id, b.section,\n"
        "        CASE WHEN b.was = 'held' THEN 0 WHEN sec.kind = 'standing' THEN b.quantity\n"
        "          ELSE (SELECT count(*) FROM s) END AS taken\n"
        "      FROM b JOIN sections sec ON sec.event_id = b.event_id AND sec.key = b.section)\n"
        "UPDATE sections SET available = available - k.taken,\n"
        "  updated_seq = greatest(updated_seq, $4::bigint)\n"
        "FROM k WHERE sections.event_id = k.event_id AND sections.key = k.section",

    /* BookingRefundDue (RULE-PAY-2): paid after the hold ended, the seats
     * gone; the booking holds no seat in the model any more.
     * $1 booking, $2 payment, $3 refund, $4 seq */
    [PROJ_F_SALE_REFUND_DUE] =
        "UPDATE bookings SET status = 'refund_due', refund = $3::bigint,\n"
        "  payment_id = coalesce($2::text, payment_id), payment_status = 'paid',\n"
        "  updated_seq = $4::bigint\n"
        "WHERE booking_id = $1::text AND status IN ('held', 'expired', 'released')",

    /* BookingCancelled (RULE-REF-1): $1 booking, $2 refund, $3 seq. The
     * seats (or units) are free again and every ticket still valid or used
     * is cancelled, as on the shard. */
    [PROJ_F_SALE_CANCELLED] =
        "WITH b AS (UPDATE bookings SET\n"
        "        status = CASE WHEN $2::bigint > 0 THEN 'refund_due' ELSE 'cancelled' END,\n"
        "        refund = $2::bigint, updated_seq = $3::bigint\n"
        "      WHERE booking_id = $1::text AND status = 'confirmed'\n"
        "      RETURNING booking_id, event_id, section, quantity, items),\n"
        "x AS (SELECT b.event_id, i ->> 'seat' AS seat_id, b.booking_id\n"
        "      FROM b, json_array_elements(b.items) AS i WHERE i ->> 'seat' IS NOT NULL),\n"
        "s AS (UPDATE seats SET status = 'free', booking_id = NULL FROM x\n"
        "      WHERE seats.event_id = x.event_id AND seats.seat_id = x.seat_id\n"
        "        AND seats.booking_id = x.booking_id\n"
        "      RETURNING 1),\n"
        "t AS (UPDATE tickets SET status = 'cancelled', updated_seq = $3::bigint\n"
        "      WHERE booking_id IN (SELECT booking_id FROM b) AND status IN ('valid', 'used')\n"
        "      RETURNING 1),\n"
        "k AS (SELECT b.event_id, b.section,\n"
        "        CASE WHEN sec.kind = 'standing' THEN b.quantity\n"
        "          ELSE (SELECT count(*) FROM s) END AS freed\n"
        "      FROM b JOIN sections sec ON sec.event_id = b.event_id AND sec.key = b.section)\n"
        "UPDATE sections SET available = available + k.freed,\n"
        "  updated_seq = greatest(updated_seq, $3::bigint)\n"
        "FROM k WHERE sections.event_id = k.event_id AND sections.key = k.section",

    /* RefundCompleted: $1 booking, $2 seq */
    [PROJ_F_SALE_REFUNDED] = "UPDATE bookings SET status = 'refunded', updated_seq = $2::bigint\n"
                             "WHERE booking_id = $1::text AND status = 'refund_due'",

    /* EventCancelled: $1 event, $2 seq. Its bookings follow by their own
     * events (the cancellation saga). */
    [PROJ_F_SALE_EVENT_CANCELLED] =
        "UPDATE events SET status = 'cancelled', updated_seq = $2::bigint\n"
        "WHERE event_id = $1::text",

    /* TicketCheckedIn (RULE-TKT-2): $1 ticket, $2 at ms, $3 gate, $4 seq */
    [PROJ_F_SALE_CHECKED_IN] =
        "UPDATE tickets SET status = 'used', checked_in_at = ts_ms_to_tstz($2::bigint),\n"
        "  gate = $3::text, updated_seq = $4::bigint\n"
        "WHERE ticket_id = $1::text AND status = 'valid'",

    /* TicketTransferred (RULE-TKT-3): $1 ticket, $2 new ticket, $3 new
     * holder, $4 version, $5 seq. */
    [PROJ_F_SALE_TRANSFERRED] =
        "WITH o AS (UPDATE tickets SET status = 'transferred', updated_seq = $5::bigint\n"
        "           WHERE ticket_id = $1::text AND status = 'valid' RETURNING *)\n"
        "INSERT INTO tickets (ticket_id, event_id, section, booking_id, holder_id, seat, tier,\n"
        "  status, version, ord, created_seq, updated_seq)\n"
        "SELECT $2::text, event_id, section, booking_id, $3::text, seat, tier, 'valid',\n"
        "  $4::int, ord, $5::bigint, $5::bigint FROM o\n"
        "ON CONFLICT (ticket_id) DO NOTHING",

    /* RULE-WL-1: every Waitlist* event carries its whole entry; the row
     * takes its status, and the offer once there is one. $1 entry, $2 event,
     * $3 tier, $4 user, $5 quantity, $6 status, $7 at ms, $8 booking,
     * $9 offer expiry ms, $10 seq, $11 index of the event in its commit */
    [PROJ_F_WAITLIST] =
        "INSERT INTO waitlist (entry_id, event_id, tier, user_id, quantity, status, joined_at,\n"
        "  booking_id, offer_expires_at, joined_seq, joined_idx, updated_seq)\n"
        "VALUES ($1::text, $2::text, $3::text, $4::text, $5::int, $6::text,\n"
        "  ts_ms_to_tstz($7::bigint), $8::text, ts_ms_to_tstz($9::bigint), $10::bigint,\n"
        "  $11::int, $10::bigint)\n"
        "ON CONFLICT (entry_id) DO UPDATE SET status = EXCLUDED.status,\n"
        "  booking_id = coalesce(EXCLUDED.booking_id, waitlist.booking_id),\n"
        "  offer_expires_at = coalesce(EXCLUDED.offer_expires_at, waitlist.offer_expires_at),\n"
        "  updated_seq = EXCLUDED.updated_seq",

    [PROJ_F_CHECKPOINT_LOCK] =
        "SELECT last_seq FROM checkpoints WHERE projection = $1::text FOR UPDATE",

    [PROJ_F_CHECKPOINT_SET] = "UPDATE checkpoints SET last_seq = $2::bigint, updated_at = now()\n"
                              "WHERE projection = $1::text",

    [PROJ_F_NOTIFY] = "SELECT pg_notify($1::text, $2::text)",

    /* The same from a build's staging tables (proj__staging_sql). */
    [PROJ_F_HOLDS_PLACED_STAGED] =
        HOLDS_PLACED("NOT MATERIALIZED (SELECT * FROM seg_placed)", "seg_seats"),
    [PROJ_F_HOLDS_ENDED_STAGED] = HOLDS_ENDED("NOT MATERIALIZED (SELECT * FROM seg_ended)"),

    /* EventUpdated: the whole new description; identity, city and status
     * stay. $1 event, $2 title, $3 description, $4 genre, $5/$6 starts/ends
     * (ms), $7 tiers, $8 policy, $9 seq. */
    [PROJ_F_EVENT_UPDATED] =
        "UPDATE events SET title = $2::text, description = $3::text, genre = $4::text,\n"
        "  starts_at = ts_ms_to_tstz($5::bigint), ends_at = ts_ms_to_tstz($6::bigint),\n"
        "  tiers = $7::jsonb, policy = $8::jsonb, updated_seq = $9::bigint\n"
        "WHERE event_id = $1::text",

    /* ---- issue 4: the sales dashboard (fold_dashboard.c, sales.c) ---- */

    /* Each runs right after the statement of the same event in
     * PROJ_F_SALE_*, and counts what that one just changed: the rows it
     * moved carry the event's seq as updated_seq, rows it left alone an
     * older one (one event per booking or ticket and commit: the domain
     * never confirms, cancels or admits twice). A booking's minute is the
     * UTC minute of its confirmation (schema.c). */

    /* BookingConfirmed: $1 booking, $2 seq */
    [PROJ_F_DASH_CONFIRMED] =
        "WITH b AS (SELECT event_id, coalesce(tier, '') AS tier, quantity, total,\n"
        "    ts_ms_to_tstz(ts_tstz_to_ms(confirmed_at) / 60000 * 60000) AS minute\n"
        "  FROM bookings WHERE booking_id = $1::text AND status = 'confirmed'\n"
        "    AND updated_seq = $2::bigint AND confirmed_at IS NOT NULL),\n"
        "m AS (INSERT INTO sales_minutes (event_id, minute, tier, sold, gross, refunds)\n"
        "  SELECT event_id, minute, tier, quantity, total, 0 FROM b\n"
        "  ON CONFLICT (event_id, minute, tier) DO UPDATE SET\n"
        "    sold = sales_minutes.sold + EXCLUDED.sold,\n"
        "    gross = sales_minutes.gross + EXCLUDED.gross)\n"
        "INSERT INTO sales_tiers (event_id, tier, sold, gross, refunds, checked_in)\n"
        "SELECT event_id, tier, quantity, total, 0, 0 FROM b\n"
        "ON CONFLICT (event_id, tier) DO UPDATE SET sold = sales_tiers.sold + EXCLUDED.sold,\n"
        "  gross = sales_tiers.gross + EXCLUDED.gross",

    /* BookingCancelled (RULE-REF-1): $1 booking, $2 seq. Its items are no
     * longer sold, its refund is owed, and its tickets that were admitted
     * (cancelled just now, with a check-in time) leave checked_in. */
    [PROJ_F_DASH_CANCELLED] =
        "WITH b AS (SELECT event_id, coalesce(tier, '') AS tier, quantity, refund,\n"
        "    ts_ms_to_tstz(ts_tstz_to_ms(confirmed_at) / 60000 * 60000) AS minute,\n"
        "    (SELECT count(*) FROM tickets t WHERE t.booking_id = $1::text\n"
        "       AND t.status = 'cancelled' AND t.updated_seq = $2::bigint\n"
        "       AND t.checked_in_at IS NOT NULL) AS used\n"
        "  FROM bookings WHERE booking_id = $1::text AND status IN ('refund_due', 'cancelled')\n"
        "    AND updated_seq = $2::bigint AND confirmed_at IS NOT NULL),\n"
        "m AS (UPDATE sales_minutes SET sold = sold - b.quantity, refunds = refunds + b.refund\n"
        "  FROM b WHERE sales_minutes.event_id = b.event_id AND sales_minutes.minute = b.minute\n"
        "    AND sales_minutes.tier = b.tier)\n"
        "UPDATE sales_tiers SET sold = sold - b.quantity, refunds = refunds + b.refund,\n"
        "  checked_in = checked_in - b.used\n"
        "FROM b WHERE sales_tiers.event_id = b.event_id AND sales_tiers.tier = b.tier",

    /* TicketCheckedIn (RULE-TKT-2): $1 ticket, $2 seq */
    [PROJ_F_DASH_CHECKED_IN] =
        "INSERT INTO sales_tiers (event_id, tier, sold, gross, refunds, checked_in)\n"
        "SELECT event_id, coalesce(tier, ''), 0, 0, 0, 1 FROM tickets\n"
        "WHERE ticket_id = $1::text AND status = 'used' AND updated_seq = $2::bigint\n"
        "ON CONFLICT (event_id, tier) DO UPDATE SET checked_in = sales_tiers.checked_in + 1",

    /* GET /events/{id}/sales, in one snapshot: the event, the checkpoint,
     * and as JSON arrays its tiers' [tier, capacity, available] over the
     * sections, [tier, held, lapsed] over the held bookings (RULE-HOLD-3:
     * a hold whose expires_at has passed holds nothing any more, even
     * before its HoldExpired arrives), [tier, sold, gross, refunds,
     * checked_in], and the series summed over tiers, oldest first, in its
     * API shape already: a month of minutes is 40,000 entries, which
     * jansson would take longer to parse and reshape than PostgreSQL to
     * make. json_agg keeps the order of its sorted subquery (an ORDER BY
     * inside the aggregate would sort the built objects again, spilling to
     * disk). Money is in the currency of the event's first tier, as in
     * proj__sales_json. $1 event, $2/$3 the series' from (>=) and to (<) in
     * ms, 0 for unbounded. */
    [PROJ_Q_SALES] =
        "SELECT e.organizer_id, e.status, e.tiers::text, c.last_seq,\n"
        "  (SELECT json_agg(json_build_array(k.tier, k.capacity, k.available))\n"
        "   FROM (SELECT tier, sum(capacity) AS capacity, sum(available) AS available\n"
        "         FROM sections WHERE event_id = e.event_id AND tier IS NOT NULL\n"
        "         GROUP BY tier) k)::text,\n"
        "  (SELECT json_agg(json_build_array(h.tier, h.held, h.lapsed))\n"
        "   FROM (SELECT coalesce(tier, '') AS tier,\n"
        "           coalesce(sum(quantity) FILTER (WHERE expires_at IS NULL\n"
        "             OR expires_at > now()), 0) AS held,\n"
        "           coalesce(sum(quantity) FILTER (WHERE expires_at <= now()), 0) AS lapsed\n"
        "         FROM bookings WHERE event_id = e.event_id AND status = 'held'\n"
        "         GROUP BY 1) h)::text,\n"
        "  (SELECT json_agg(json_build_array(tier, sold, gross, refunds, checked_in))\n"
        "   FROM sales_tiers WHERE event_id = e.event_id)::text,\n"
        "  (SELECT json_agg(json_build_object(\n"
        "      'minute', to_char(m.minute AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),\n"
        "      'sold', m.sold,\n"
        "      'gross', json_build_object('amount', m.gross, 'currency', m.cur),\n"
        "      'refunds', json_build_object('amount', m.refunds, 'currency', m.cur)))\n"
        "   FROM (SELECT minute, e.tiers -> 0 -> 'price' ->> 'currency' AS cur,\n"
        "           sum(sold)::bigint AS sold, sum(gross)::bigint AS gross,\n"
        "           sum(refunds)::bigint AS refunds\n"
        "         FROM sales_minutes WHERE event_id = e.event_id\n"
        "           AND minute >= coalesce(ts_ms_to_tstz($2::bigint), '-infinity')\n"
        "           AND minute < coalesce(ts_ms_to_tstz($3::bigint), 'infinity')\n"
        "         GROUP BY minute ORDER BY minute) m)::text\n"
        "FROM events e LEFT JOIN checkpoints c ON c.projection = '" PROJ_CATALOG "'\n"
        "WHERE e.event_id = $1::text",

    /* Inside the batch's transaction, so its own new seats are counted
     * (ANALYZE samples rows the current transaction inserted). Without it,
     * seats published in the same batch (or since autovacuum last came)
     * are unknown to the planner, which then hashes the whole table for a
     * handful of holds (seen: 300 ms instead of 3 ms a statement). */
    [PROJ_F_ANALYZE_SEATS] = "ANALYZE seats (event_id, seat_id, status)",

    /* PROJ_F_HOLDS_PLACED_STAGED when no booking of the segment exists. */
    [PROJ_F_HOLDS_NEW_STAGED] =
        HOLDS_NEW("NOT MATERIALIZED (SELECT * FROM seg_placed)", "seg_seats"),
};

/* A build's staging tables, one per connection and session (pg_temp), in
 * the columns HOLDS_PLACED and HOLDS_ENDED read. */
const char proj__staging_sql[] =
    "CREATE TEMP TABLE seg_placed (booking_id text, event_id text, section text, user_id text,\n"
    "  tier text, quantity int, expires_ms bigint, items json, subtotal bigint,\n"
    "  discount bigint, service_fee bigint, total bigint, vat bigint, currency text,\n"
    "  created_seq bigint, status text, updated_seq bigint);\n"
    "CREATE TEMP TABLE seg_seats (event_id text, seat_id text, booking_id text);\n"
    "CREATE TEMP TABLE seg_ended (booking_id text, status text, seq bigint);\n";

/* Published events, keyset-paginated on (rank, starts_at, event_id). A NULL
 * parameter switches its filter off. The text matches the full-text index
 * on title + description or, for words the parser splits oddly, a title
 * substring (LIKE wildcards in it escaped). rank orders a text search:
 * 1 when the title alone matches (every word of the query is in the title,
 * or the text is a substring of it), 0 when only the description does, so
 * title matches come first, each group soonest first; without a text it is
 * 0 everywhere and the order is soonest first. Two values only, so a page
 * boundary is an exact key (a floating-point score would not be).
 * $1 text, $2 genre, $3 city, $4 from ms, $5 to ms, $6 cursor ms,
 * $7 cursor id, $8 limit, $9 cursor rank */
/* The text as a title substring, LIKE wildcards in it escaped. */
#define TITLE_HAS_Q1                                                                               \
    "title ILIKE '%' || replace(replace(replace($1::text, '\\', '\\\\'), '%', '\\%'), '_',\n"      \
    "  '\\_') || '%'"
const char proj__sql_events_list[] =
    "SELECT * FROM (\n"
    "  SELECT event_id, venue_id, title, genre, city, ts_tstz_to_ms(starts_at) AS starts_ms,\n"
    "    ts_tstz_to_ms(ends_at), status, tiers::text, starts_at,\n"
    "    CASE WHEN $1::text IS NULL THEN 0\n"
    "      WHEN to_tsvector('simple', title) @@ plainto_tsquery('simple', $1::text)\n"
    "        OR " TITLE_HAS_Q1 " THEN 1 ELSE 0 END AS rank\n"
    "  FROM events\n"
    "  WHERE status = 'published' AND starts_at IS NOT NULL\n"
    "    AND ($1::text IS NULL OR search @@ plainto_tsquery('simple', $1::text)\n"
    "         OR " TITLE_HAS_Q1 ")\n"
    "    AND ($2::text IS NULL OR lower(genre) = lower($2::text))\n"
    "    AND ($3::text IS NULL OR lower(city) = lower($3::text))\n"
    "    AND ($4::bigint IS NULL OR starts_at >= ts_ms_to_tstz($4::bigint))\n"
    "    AND ($5::bigint IS NULL OR starts_at < ts_ms_to_tstz($5::bigint))) e\n"
    "WHERE $6::bigint IS NULL OR e.rank < $9::int\n"
    /* Not ts_ms_to_tstz, which reads 0 as "not set": a cursor at the
     * epoch is a position like any other. */
    "  OR (e.rank = $9::int AND (e.starts_at, e.event_id) >\n"
    "      (timestamptz 'epoch' + $6::bigint * interval '1 millisecond', $7::text))\n"
    "ORDER BY e.rank DESC, e.starts_at, e.event_id\n"
    "LIMIT $8::int";

/* GET /users/me/bookings: the user's bookings, newest first, keyset-
 * paginated on (created_seq, booking_id) descending (bookings_user_idx).
 * Run unnamed, like the events list. $1 user, $2/$3 the cursor's
 * (created_seq, booking_id) or NULL, $4 the row limit */
const char proj__sql_user_bookings[] =
    "SELECT " PROJ_BOOKING_COLS ", b.created_seq\n"
    "FROM bookings b\n"
    "WHERE b.user_id = $1::text\n"
    "  AND ($2::bigint IS NULL OR (b.created_seq, b.booking_id) < ($2::bigint, $3::text))\n"
    "ORDER BY b.created_seq DESC, b.booking_id DESC\n"
    "LIMIT $4::int";
