/*
 * codec — FlatBuffers bytes <-> evt_commit_t, and a commit as JSON.
 *
 * The wire format is schemas/commit.fbs (file identifier "TSC1"); flatc
 * generates the C++ accessors at build time and codec.cc is the one C++ unit
 * of the tree, behind this C header. The JSON functions are plain C
 * (event_json.c). Bytes from the log are untrusted: evt_commit_decode runs the
 * FlatBuffers verifier before touching any field, and checks that every
 * required field is present, so a truncated or corrupted commit is refused
 * with TS_ERR_CORRUPT and never read.
 *
 * Thread-safety: every function is reentrant; none keeps state.
 */
#ifndef TS_CODEC_H
#define TS_CODEC_H

#include "base/base.h"
#include "events/events.h"

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Required fields. Encode refuses and decode rejects a commit without them,
 * so after a successful decode they are never NULL:
 *   commit: subject, and 1..N events, each of a known type;
 *   VenueCreated venue_id; EventCreated event_id, venue_id; EventPublished
 *   event_id; InventoryOpened event_id, tier_key; HoldPlaced booking_id,
 *   event_id, section, user_id; HoldReleased/HoldExpired booking_id;
 *   UserRegistered user_id, email; Claimed kind, owner; every section key,
 *   row label, tier key and string inside an array (seats, tier sections).
 * Every other string may be NULL and comes back NULL; an array of 0 elements
 * comes back as {0, NULL}; money with an empty currency is allowed. */

/* Encodes c into out (appended; out must be initialised). On error nothing
 * is appended.
 * Errors: TS_ERR_INVALID when a required field is missing, an event type or
 * section kind is unknown, an array has elements but no storage, or a
 * currency is not NUL-terminated within its 4 bytes. */
ts_status evt_commit_encode(const evt_commit_t *c, ts_buf_t *out);

/* Verifies then decodes len bytes (any alignment). Every string and array of
 * *out is copied into arena and lives as long as it; nothing points into
 * data. *out is written only on success (the arena may have grown anyway).
 * Errors: TS_ERR_CORRUPT (empty or garbage bytes, wrong file identifier,
 * verifier failed, required field missing, unknown event type or section
 * kind, prev_hash not 32 bytes, a NUL inside a string, a currency longer
 * than 3, or a buffer that shares objects to claim more data than it holds).
 * An absent prev_hash reads as 32 zero bytes. */
ts_status evt_commit_decode(const void *data, size_t len, ts_arena_t *arena, evt_commit_t *out);

/* {"type": "HoldPlaced", "data": {...}} for one event, plus "command_id" and
 * "actor" only when the event carries its own. data's keys are the field
 * names of events.h; times are RFC 3339 strings, null when 0; money, and the
 * int64 amounts of HoldPlaced (subtotal, discount, service_fee, total,
 * vat_included, in unit_price's currency), are {"amount", "currency"};
 * NULL strings are null; section kind is "seated"/"standing"; roles are an
 * array of role names. password_hash is never included. New reference. */
json_t *evt_event_to_json(const evt_event_t *e);

/* The audit shape of API.md without seq/hash (the caller adds those):
 * {subject, version, time, actor, command_id, correlation_id, prev_hash,
 *  events: [{type, data}]}, prev_hash as 64 lowercase hex digits. New
 * reference. */
json_t *evt_commit_to_json(const evt_commit_t *c);

#ifdef __cplusplus
}
#endif

#endif
