/*
 * replay — the log read back: commits as an auditor sees them, and the
 * per-aggregate hash chain checked over a whole stream.
 *
 * Why a folder of its own. The engine owns the connection to the log
 * (eng_log_scan for a page, eng_log_read for a whole range) and events/
 * owns the codec; neither should know what an auditor's view looks like.
 * Two front ends show the same view: `GET /audit/events` and `turnstile
 * audit log` print the same items, `GET /audit/verify` and `turnstile audit
 * verify` the same verdict. This folder is the one place that view is made,
 * on top of engine/ and events/ (STYLE.md names replay/ for it; rebuilding
 * read models as of a point in time will live here too).
 *
 * The audit item of one commit (API.md "Audit"):
 *   {seq, subject, version, time, actor, command_id, correlation_id,
 *    hash, prev_hash, events: [{type, data}]}
 * where hash is the SHA-256 of the payload exactly as stored and prev_hash
 * the one the commit carries (64 lowercase hex digits). A commit that does
 * not decode is still shown, as {seq, subject, hash, error: "undecodable"}:
 * an auditor must see that it is there.
 *
 * The chain (DESIGN.md "Audit"). On each subject, the k-th commit (k = 1,
 * 2, ...) must decode, carry its own subject, have version k, and carry as
 * prev_hash the SHA-256 of the (k-1)-th commit's payload (32 zero bytes for
 * the first). The verifier keeps, per subject, the version and hash of the
 * last commit seen: about 100 bytes a subject, whatever the log's length.
 * It reads in stream order, so the first break it reports is the first in
 * stream order. After a break it goes on from the commit as found, so one
 * tampering is reported once per commit it disturbs, not for the rest of
 * the subject's history. What each tampering looks like:
 *   - a commit altered and re-encoded: the NEXT commit on its subject has
 *     the wrong prev_hash ("prev_hash_mismatch"); the last commit of a
 *     subject has no successor to give it away;
 *   - a commit's bytes damaged: "undecodable" at that commit;
 *   - a commit removed: the next one's version skips ("version_gap");
 *   - two commits of a subject swapped: "version_gap" at the first of them;
 *   - a commit moved to another subject: "subject_mismatch".
 * Reordering commits of different subjects changes no chain: the order
 * between aggregates is not part of what the chain protects.
 *
 * Rebuilds (rebuild.c). rpl_rebuild folds the whole log into a fresh
 * PostgreSQL schema (projections.h, "Schemas, builds and the swap") and
 * either swaps it in for the live model or keeps it as an analyst's copy as
 * of a point in time. The phases of a rebuild of the live model:
 *   bulk      the log from seq 1 to its head, one ordered read, folded in
 *             big transactions into UNLOGGED tables;
 *   flush     the hold segment the bulk carried to its end, sent (most of
 *             the database's work: every booking, the seats still held);
 *   catch-up  what was appended meanwhile, in rounds, until the rest is
 *             small (the live projector keeps folding into the old model);
 *   finish    LOGGED tables, secondary indexes, ANALYZE;
 *   swap      with the live tables locked, the last commits, then the
 *             rename; retried after another catch-up when the locks are not
 *             granted within 250 ms (a reader or the projector holds them),
 *             from the third attempt on within 1.5 s (past PostgreSQL's
 *             deadlock_timeout, so that a blocking autovacuum is cancelled).
 * A copy has only bulk (stopping at until_seq / until_time) and finish, then
 * the rename to its own name. The read is in stream order, so a model as of
 * seq N is the fold of exactly the commits 1..N, and one as of time T the
 * fold of the longest prefix of the log whose stream timestamps are <= T.
 *
 * Threading: rpl_commit_json and rpl_verify are reentrant; a rpl_chain_t
 * belongs to one thread; rpl_rebuild blocks its thread (and calls progress
 * on it).
 */
#ifndef TS_REPLAY_H
#define TS_REPLAY_H

#include "base/base.h"
#include "base/map.h"
#include "engine/engine.h"

#include <jansson.h>

/* ---- audit items ---- */

typedef struct {
    const char *type;  /* commits with at least one event of this type; NULL: any */
    int64_t from_time; /* commit time >= from_time (ms); 0: unbounded */
    int64_t to_time;   /* commit time < to_time (ms); 0: unbounded */
} rpl_filter_t;

/* The audit item of the commit m, or NULL when f (which may be NULL) leaves
 * it out. An undecodable commit is never left out. New reference; borrows
 * nothing from m. */
json_t *rpl_commit_json(const eng_log_msg_t *m, const rpl_filter_t *f);

/* ---- the hash chain ---- */

typedef struct {
    uint64_t subjects; /* distinct subjects seen */
    uint64_t commits;  /* commits seen */
    uint64_t broken;   /* subjects with at least one break */
    int ok;            /* broken == 0 */
    struct {
        const char *subject; /* NULL when ok */
        uint64_t seq;
        const char *reason; /* static: undecodable, subject_mismatch,
                               version_gap, prev_hash_mismatch */
    } first_bad;
} rpl_verify_t;

typedef struct {
    uint64_t version; /* of the subject's last commit seen */
    uint8_t hash[32]; /* SHA-256 of its payload */
    uint8_t broken;   /* a break was seen on the subject */
} rpl_link_t;

/* A verifier fed in stream order. The caller owns the storage. */
typedef struct {
    ts_map_t index; /* subject → slot in links */
    rpl_link_t *links;
    uint32_t n, cap;
    ts_arena_t names;   /* subject strings */
    ts_arena_t scratch; /* one commit's decode */
    rpl_verify_t result;
} rpl_chain_t;

void rpl_chain_init(rpl_chain_t *c);
/* Accepts a zeroed or already deinitialised chain. */
void rpl_chain_deinit(rpl_chain_t *c);
/* Checks the commit at stream sequence seq on subject (payload data, len
 * bytes) against its subject's chain and makes it the chain's head. Returns
 * NULL when it fits, else the reason it does not (see rpl_verify_t). Calls
 * must come in stream order. c->result is up to date after each call;
 * result.first_bad.subject lives as long as c. */
const char *rpl_chain_add(rpl_chain_t *c, uint64_t seq, const char *subject, const void *data,
                          size_t len);

/* Verifies every chain of the subjects matching filter (NULL: every
 * subject), reading the whole stream once in order (eng_log_read). *out is
 * written only on success; first_bad.subject is copied into arena.
 * Errors: those of eng_log_read. */
ts_status rpl_verify(eng_t *e, const char *filter, ts_arena_t *arena, rpl_verify_t *out);

/* {subjects, commits, ok, broken, first_bad?: {subject, seq, reason}}.
 * New reference. */
json_t *rpl_verify_json(const rpl_verify_t *v);

/* ---- read models rebuilt from the log ---- */

typedef enum {
    RPL_PHASE_BULK = 0,
    RPL_PHASE_FLUSH, /* the bulk's last transaction: the held bookings */
    RPL_PHASE_CATCH_UP,
    RPL_PHASE_FINISH,
    RPL_PHASE_SWAP,
    RPL_PHASE_DONE,
} rpl_phase_t;

/* "bulk", "flush", "catch-up", "finish", "swap", "done". */
const char *rpl_phase_name(rpl_phase_t p);

typedef struct {
    rpl_phase_t phase;
    const char *schema; /* the build's, catalog_v<N> */
    uint64_t seq;       /* the last commit read from the log */
    uint64_t target;    /* where the phase stops: the log's head (or until_seq) */
    uint64_t commits;   /* folded and committed so far */
    uint64_t events;    /* in those commits */
    double seconds;     /* since the start */
} rpl_progress_t;

typedef struct {
    const char *pg_conninfo; /* libpq connection string */
    /* NULL: rebuild the live model and swap it in. Else an analyst's copy,
     * made under this schema name (proj_schema_name_valid). */
    const char *into;
    int replace;        /* into: replace an existing schema of that name */
    int has_until_seq;  /* into: stop after commit until_seq */
    uint64_t until_seq; /*       (0: an empty model) */
    int64_t until_time; /* into: stop before the first commit stored after
                           until_time (ms); 0: no limit */
    int batch;          /* commits per transaction; 0 picks 20,000 */
    int exact;          /* proj_build_config_t.exact; a build that meets a
                           commit PostgreSQL refuses is made again exact */
    volatile int *stop; /* set non-zero to give up (may be NULL) */
    /* Called on the rebuild's thread at each change of phase and then about
     * every progress_ms (0: 1000) while commits are read. May be NULL. */
    void (*progress)(const rpl_progress_t *p, void *arg);
    void *progress_arg;
    int progress_ms;
} rpl_rebuild_config_t;

typedef struct {
    char schema[64];       /* where the model is now: "catalog" or into */
    char built_as[32];     /* the build's own name, catalog_v<N> */
    uint64_t version;      /* N */
    uint64_t checkpoint;   /* the model's last commit (its checkpoint) */
    uint64_t log_head;     /* the log's last sequence when the build ended */
    uint64_t replaced_seq; /* rebuild: the live checkpoint at the swap */
    uint64_t commits, events;
    double seconds;
    int swap_attempts;
} rpl_rebuild_report_t;

/* Builds the catalog read model from the log (see "Rebuilds" above). *out
 * is written only on success. The live model is untouched unless the swap
 * succeeds; a build that fails is dropped.
 * Errors: TS_ERR_INVALID (config, e.g. until without into),
 * TS_ERR_NOT_FOUND (until_seq is past the log's head), TS_ERR_CONFLICT
 * (another build runs; into exists and replace is not set),
 * TS_ERR_SHUTDOWN (*stop was set), TS_ERR_TIMEOUT (the swap's locks were
 * never granted), those of eng_log_read, TS_ERR_DB, TS_ERR_UNAVAILABLE. */
ts_status rpl_rebuild(eng_t *e, const rpl_rebuild_config_t *cfg, rpl_rebuild_report_t *out);

#endif
