/*
 * base — the few things every other folder shares: the status type, the
 * arena allocator, money, time formatting and id checks.
 *
 * Status. Every fallible function returns a ts_status: 0 is OK, every error
 * is negative. The codes and their strings come from one X-macro
 * (TS_STATUS_LIST) so they can never drift apart. A *business* rejection
 * (a seat taken, a hold expired) is not a status: it is data returned by a
 * command handler (see commands.h).
 *
 * Arena. A request or a command gets an arena; everything allocated from it
 * lives until ts_arena_deinit() or ts_arena_reset(). Blocks are chained, so
 * pointers handed out stay valid while the arena grows. Allocation failure
 * aborts: there is no sensible recovery from out-of-memory in this engine.
 *
 * Time is an int64 count of milliseconds since the Unix epoch (UTC). base
 * never reads the clock: callers pass the time in (commands are pure).
 *
 * Nothing here does I/O, and nothing here is thread-safe by itself: an arena
 * belongs to one thread at a time.
 */
#ifndef TS_BASE_H
#define TS_BASE_H

#include <stddef.h>
#include <stdint.h>

#define TS_STATUS_LIST(X)                                                                          \
    X(TS_OK, 0, "ok")                                                                              \
    X(TS_ERR_NOMEM, -1, "out of memory")                                                           \
    X(TS_ERR_INVALID, -2, "invalid argument")                                                      \
    X(TS_ERR_CORRUPT, -3, "corrupt or truncated data")                                             \
    X(TS_ERR_NOT_FOUND, -4, "not found")                                                           \
    X(TS_ERR_CONFLICT, -5, "concurrent write (wrong expected sequence)")                           \
    X(TS_ERR_IO, -6, "I/O error")                                                                  \
    X(TS_ERR_TIMEOUT, -7, "timed out")                                                             \
    X(TS_ERR_UNAVAILABLE, -8, "dependency unavailable")                                            \
    X(TS_ERR_TOO_LARGE, -9, "too large")                                                           \
    X(TS_ERR_VERSION, -10, "format version mismatch")                                              \
    X(TS_ERR_DB, -11, "database error")                                                            \
    X(TS_ERR_LOG, -12, "event log error")                                                          \
    X(TS_ERR_AUTH, -13, "authentication failed")                                                   \
    X(TS_ERR_SHUTDOWN, -14, "shutting down")

typedef enum {
#define TS_STATUS_ENUM(name, value, text) name = value,
    TS_STATUS_LIST(TS_STATUS_ENUM)
#undef TS_STATUS_ENUM
} ts_status;

/* Returns a static string for any status, "unknown status" for others. */
const char *ts_status_str(ts_status st);

/* ---- arena ---- */

typedef struct ts_arena_block ts_arena_block;

typedef struct {
    ts_arena_block *head;
    size_t block_size;
    size_t used_total;
} ts_arena_t;

/* Caller owns the ts_arena_t storage. block_size 0 picks 4 KiB. */
void ts_arena_init(ts_arena_t *a, size_t block_size);
/* Frees every block. Accepts a zeroed arena. */
void ts_arena_deinit(ts_arena_t *a);
/* Frees everything but keeps the arena usable. */
void ts_arena_reset(ts_arena_t *a);
/* Memory aligned to 16 bytes, zeroed, valid until deinit/reset. */
void *ts_arena_alloc(ts_arena_t *a, size_t n);
/* The same, not zeroed: for a big structure of which the caller sets the
 * little it uses. */
void *ts_arena_alloc_uninit(ts_arena_t *a, size_t n);
/* Copies of strings and bytes; ts_arena_strdup(NULL) returns NULL. */
char *ts_arena_strdup(ts_arena_t *a, const char *s);
char *ts_arena_strndup(ts_arena_t *a, const char *s, size_t n);
void *ts_arena_memdup(ts_arena_t *a, const void *p, size_t n);
/* printf into the arena. */
char *ts_arena_printf(ts_arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- growable byte buffer (heap) ---- */

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} ts_buf_t;

void ts_buf_init(ts_buf_t *b);
void ts_buf_deinit(ts_buf_t *b);
void ts_buf_append(ts_buf_t *b, const void *p, size_t n);
void ts_buf_put_u8(ts_buf_t *b, uint8_t v);
void ts_buf_put_u32(ts_buf_t *b, uint32_t v);
void ts_buf_put_u64(ts_buf_t *b, uint64_t v);
/* Length-prefixed (u32) string; NULL is written as length 0xFFFFFFFF. */
void ts_buf_put_str(ts_buf_t *b, const char *s);

/* Bounds-checked reader over borrowed bytes; any overrun sets ok = 0 and
 * every later read returns zero values. */
typedef struct {
    const uint8_t *p;
    size_t left;
    int ok;
} ts_reader_t;

void ts_reader_init(ts_reader_t *r, const void *p, size_t n);
uint8_t ts_reader_u8(ts_reader_t *r);
uint32_t ts_reader_u32(ts_reader_t *r);
uint64_t ts_reader_u64(ts_reader_t *r);
/* Strings are copied into the arena (NUL-terminated). */
const char *ts_reader_str(ts_reader_t *r, ts_arena_t *a);
const void *ts_reader_bytes(ts_reader_t *r, size_t n);

/* ---- money (RULE-PRICE-1: integer minor units, never floating point) ---- */

typedef struct {
    int64_t amount;
    char currency[4]; /* ISO-4217, NUL-terminated */
} ts_money_t;

/* a * bps / 10000 rounded half-up (a >= 0). */
int64_t ts_bps_half_up(int64_t a, uint32_t bps);

/* ---- time ---- */

/* Formats ms-since-epoch as RFC 3339 UTC ("2026-12-20T18:00:00Z", with
 * ".mmmZ" only when ms is not a whole second). out must hold 32 bytes. */
void ts_time_format(int64_t ms, char out[32]);
/* Parses RFC 3339 ("YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)"). 0 on success. */
ts_status ts_time_parse(const char *s, int64_t *out_ms);

/* ---- ids and names ---- */

/* Section keys and row labels: [A-Za-z0-9_]{1,16} (API.md). */
int ts_key_valid(const char *s);
/* Opaque ids we issue: [A-Za-z0-9_-]{1,64}, safe as a NATS subject token:
 * '-' is fine in subjects, '.', '*', '>' and spaces never appear. */
int ts_id_valid(const char *s);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ts_hex(const uint8_t *p, size_t n, char *out);

#define TS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
