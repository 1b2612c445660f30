/*
 * codec — FlatBuffers bytes <-> evt_commit_t, and a commit as JSON.
 *
 * The wire format is schemas/commit.fbs; flatc generates the C++ accessors at
 * build time and this is the one C++ unit of the tree (codec.cc), behind this
 * C header. Bytes from the log are untrusted: evt_commit_decode runs the
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

/* Encodes c into out (appended; out must be initialised).
 * Errors: TS_ERR_INVALID when a required string is NULL or a type unknown. */
ts_status evt_commit_encode(const evt_commit_t *c, ts_buf_t *out);

/* Verifies then decodes len bytes. Every string and array of *out is copied
 * into arena and lives as long as it. *out is written only on success.
 * Errors: TS_ERR_CORRUPT (verifier failed, required field missing, unknown
 * event type). */
ts_status evt_commit_decode(const void *data, size_t len, ts_arena_t *arena, evt_commit_t *out);

/* {"type": "HoldPlaced", "data": {...}} for one event. New reference. */
json_t *evt_event_to_json(const evt_event_t *e);

/* The audit shape of API.md without seq/hash (the caller adds those):
 * {subject, version, time, actor, command_id, correlation_id, prev_hash,
 *  events: [{type, data}]}. New reference. */
json_t *evt_commit_to_json(const evt_commit_t *c);

#ifdef __cplusplus
}
#endif

#endif
