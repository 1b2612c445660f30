/*
 * audit_int.h — private to projections/: the pieces of the audit projector
 * (audit.h), split so that the pure ones are unit-tested on their own.
 *
 *   audit_line.c   pure: masking, one commit into entries (labels,
 *                  timestamp, line)
 *   audit_push.c   pure: the Loki push body and the file record; the
 *                  POST itself (libcurl)
 *   audit_store.c  files under <data>/audit: checkpoint, key, lock, the
 *                  appended audit.log
 *   audit.c        the loop (proj_audit_run)
 *
 * Nothing here is part of the public contract; no other folder includes it.
 */
#ifndef TS_AUDIT_INT_H
#define TS_AUDIT_INT_H

#include "base/base.h"
#include "projections/audit.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define PROJ_AUDIT_APP "turnstile"

/* The HMAC key of the masking; bytes borrowed. */
typedef struct {
    const uint8_t *key;
    size_t len;
} proj__audit_key_t;

/* ---- masking and entries (audit_line.c) ---- */

/* Lowercase hex HMAC-SHA256 of s[0..n) under k, lower-casing ASCII letters
 * first when lower is set. out holds 65 bytes. */
void proj__audit_hmac(const proj__audit_key_t *k, const char *s, size_t n, int lower, char out[65]);

/* A deep copy of v with the masking rules of audit.h applied; person_names:
 * v is the data of an event of a user aggregate. New reference (NULL only
 * for NULL v). */
json_t *proj__audit_mask(const proj__audit_key_t *k, const json_t *v, int person_names);

/* One log entry. Strings live in the arena of the proj__audit_entries_t. */
typedef struct {
    uint64_t seq;           /* the commit's stream sequence */
    uint32_t index;         /* the event's index in the commit */
    int64_t ns;             /* Loki timestamp (ns since the epoch) */
    const char *aggregate;  /* label */
    const char *event_type; /* label */
    const char *line;       /* compact JSON */
} proj__audit_entry_t;

/* A growing list of entries and their strings. Zero-initialise or _init;
 * _deinit frees. */
typedef struct {
    proj__audit_entry_t *v; /* heap */
    size_t n, cap;
    ts_arena_t arena;
} proj__audit_entries_t;

void proj__audit_entries_init(proj__audit_entries_t *es);
/* Forgets every entry, keeping the memory. */
void proj__audit_entries_reset(proj__audit_entries_t *es);
void proj__audit_entries_deinit(proj__audit_entries_t *es);

/* Appends the entries of the commit at stream sequence seq on subject
 * (payload data[0..len), the stream's timestamp msg_ns): one per event, or
 * one "Undecodable" entry when the payload does not decode. Returns the
 * number appended (>= 1). */
size_t proj__audit_add_commit(proj__audit_entries_t *es, const proj__audit_key_t *k, uint64_t seq,
                              const char *subject, const void *data, size_t len, int64_t msg_ns);

/* ---- what is shipped (audit_push.c) ---- */

/* The Loki push body of es[0..n) (audit.h "Push"): compact JSON text,
 * NUL-terminated, malloc'd (the caller frees); *len gets its length. */
char *proj__audit_push_body(const proj__audit_entry_t *es, size_t n, size_t *len);

/* The file records of es[0..n) (audit.h "File"), each ending in '\n',
 * appended to out. */
void proj__audit_file_records(const proj__audit_entry_t *es, size_t n, ts_buf_t *out);

typedef struct proj__loki proj__loki_t;

/* A client for <base_url>/loki/api/v1/push (a trailing '/' of base_url is
 * ignored); a POST in progress is abandoned as soon as *stop (may be NULL)
 * is set. Call curl_global_init first. Errors: TS_ERR_INVALID, TS_ERR_NOMEM.
 * *out is written only on success. */
ts_status proj__loki_new(const char *base_url, volatile int *stop, proj__loki_t **out);
void proj__loki_free(proj__loki_t *l);
/* "<base_url>/loki/api/v1/push", valid as long as l. */
const char *proj__loki_url(const proj__loki_t *l);
/* One POST of body. TS_OK on a 2xx answer. Otherwise TS_ERR_UNAVAILABLE
 * (no connection, timeout, 429 or 5xx) or TS_ERR_INVALID (another answer),
 * and why (the status and the start of the answer, or curl's error) in
 * why[0..n). *http gets the status, 0 when there was no answer. */
ts_status proj__loki_post(proj__loki_t *l, const char *body, size_t len, long *http, char *why,
                          size_t n);

/* ---- files under <data>/audit (audit_store.c) ---- */

/* The sequence in <dir>/checkpoint, 0 when there is no file.
 * Errors: TS_ERR_CORRUPT (not a decimal number), TS_ERR_IO. */
ts_status proj__audit_checkpoint_read(const char *dir, uint64_t *seq);
/* Writes seq to <dir>/checkpoint atomically and durably: a temporary file,
 * fsync, rename, fsync of dir. Errors: TS_ERR_IO (logged). */
ts_status proj__audit_checkpoint_write(const char *dir, uint64_t seq);

/* The masking key: env_key's bytes when it is not NULL or empty, else the
 * content of <dir>/mask.key (trailing newline ignored), created first when
 * missing (32 random bytes as 64 hex digits, mode 0600). *out is malloc'd
 * (the caller frees), written only on success. Errors: TS_ERR_IO,
 * TS_ERR_CORRUPT (an empty key file). */
ts_status proj__audit_key_load(const char *dir, const char *env_key, uint8_t **out, size_t *len);

/* Opens <dir>/lock and tries an exclusive flock. *fd gets the descriptor
 * (hold it for as long as the lock should last; closing it unlocks).
 * Errors: TS_ERR_CONFLICT (another process holds it), TS_ERR_IO. */
ts_status proj__audit_lock(const char *dir, int *fd);

/* Appends bytes to path (created 0640 when missing) and fsyncs it.
 * Errors: TS_ERR_IO, errno saying why (not logged). */
ts_status proj__audit_file_append(const char *path, const void *bytes, size_t len);
/* Cuts path after its last '\n' when it does not end in one (a torn line
 * from a crash); nothing when it is missing. *cut gets the bytes removed.
 * Errors: TS_ERR_IO. */
ts_status proj__audit_file_repair(const char *path, size_t *cut);

#endif
