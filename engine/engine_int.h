/* Private to engine/: the engine, its lanes, the log and store adapters. */
#ifndef TS_ENGINE_INT_H
#define TS_ENGINE_INT_H

#include "engine/engine.h"
#include "events/codec.h"

#include <lmdb.h>
#include <nats/nats.h>
#include <openssl/types.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

/* ---- log.c: the JetStream adapter ---- */

typedef struct {
    natsConnection *nc;
    jsCtx *js;
    char *stream;
} eng_log_t;

/* create: make the stream when missing (SERVE); else a missing stream is
 * TS_ERR_NOT_FOUND. */
ts_status eng__log_open(eng_log_t *log, const char *url, const char *stream, int create);
void eng__log_close(eng_log_t *log);
/* Appends data on subject expecting last_seq as the subject's last sequence.
 * Errors: TS_ERR_CONFLICT (wrong last sequence), TS_ERR_LOG, TS_ERR_TIMEOUT. */
ts_status eng__log_append(eng_log_t *log, const char *subject, const void *data, size_t len,
                          uint64_t last_seq, const char *msg_id, uint64_t *seq);
/* The first message on filter with sequence >= from. TS_ERR_NOT_FOUND when
 * none. *msg must be destroyed with natsMsg_Destroy. */
ts_status eng__log_next(eng_log_t *log, const char *filter, uint64_t from, natsMsg **msg,
                        uint64_t *seq);
/* See eng_log_read. */
ts_status eng__log_read(eng_log_t *log, const char *filter, uint64_t from,
                        int (*fn)(const eng_log_msg_t *m, void *arg), void *arg);
/* Calls fn(subject, number of messages) for every subject of the stream
 * matching filter (stream info). */
ts_status eng__log_subjects(eng_log_t *log, const char *filter,
                            void (*fn)(const char *subject, uint64_t count, void *arg), void *arg);
/* 1 when subject matches the NATS filter ('*' one token, a final '>' one or
 * more tokens). */
int eng__subject_match(const char *filter, const char *subject);

/* ---- store.c: the LMDB adapter ---- */

typedef struct {
    MDB_env *env;
    MDB_dbi snapshots;
    MDB_dbi idem;
} eng_store_t;

typedef struct {
    uint32_t format_version;
    uint64_t last_seq;
    uint64_t version;
    uint8_t last_hash[32];
    const void *state; /* borrowed from the read txn copy (see store.c) */
    size_t state_len;
} eng_snapshot_t;

ts_status eng__store_open(eng_store_t *st, const char *dir);
void eng__store_close(eng_store_t *st);
/* state is copied into arena. Errors: TS_ERR_NOT_FOUND, TS_ERR_CORRUPT. */
ts_status eng__store_snapshot_get(eng_store_t *st, const char *subject, ts_arena_t *arena,
                                  eng_snapshot_t *out);
ts_status eng__store_snapshot_put(eng_store_t *st, const char *subject, const eng_snapshot_t *s);
ts_status eng__store_snapshot_del(eng_store_t *st, const char *subject);
/* Calls fn for every snapshot in key (subject) order, inside one read txn:
 * subject is NUL-terminated scratch, *s and its state are valid during the
 * call only; status is TS_ERR_CORRUPT (and *s zero) when the value is shorter
 * than its header. fn returns non-zero to stop. */
ts_status eng__store_snapshot_each(eng_store_t *st,
                                   int (*fn)(const char *subject, ts_status status,
                                             const eng_snapshot_t *s, void *arg),
                                   void *arg);
ts_status eng__store_sync(eng_store_t *st);

/* ---- lanes ---- */

typedef struct eng_job eng_job_t;

struct eng_job {
    const eng_cmd_t *cmd;
    ts_arena_t *arena;
    eng_outcome_t *out;
    ts_status status;
    cmd_result_t *result;
    int async; /* sweeper jobs: nobody waits, the worker frees them */
    struct eng_lane *lane;
    sem_t done;
    /* eng_execute_then: the job queued when this one succeeds, without
     * waking the caller; and, on that second job, the caller's semaphore
     * (its first job's done) and when the first was answered. */
    eng_job_t *then;
    sem_t *wake;
    double first_done_s;
    eng_job_t *next;
};

typedef struct eng_lane {
    char *subject;
    const cmd_aggregate_ops_t *ops;
    void *state;
    uint64_t last_seq;
    uint64_t version;
    uint8_t last_hash[32];
    int loaded;
    int busy;
    int ready_queued;
    int expire_pending;
    uint32_t commits_since_snapshot;
    int64_t next_snapshot_ms; /* no snapshot before this time */
    eng_job_t *head, *tail;
    struct eng_lane *next_ready;
    struct eng_lane *next_all;
} eng_lane_t;

#define ENG_METRIC_BUCKETS 12

typedef struct {
    _Atomic uint64_t count[ENG_CMD_COUNT][4]; /* ok, rejected, error, repeated */
    _Atomic uint64_t latency[ENG_CMD_COUNT][ENG_METRIC_BUCKETS + 1];
    _Atomic uint64_t latency_sum_us[ENG_CMD_COUNT];
    _Atomic uint64_t batch[ENG_METRIC_BUCKETS + 1];
    _Atomic uint64_t batch_sum;
    _Atomic uint64_t commits;
    _Atomic uint64_t conflicts;
} eng_metrics_t;

struct eng {
    eng_config_t cfg; /* cfg.mode: see engine.h */
    eng_log_t log;
    eng_store_t store;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a lane became ready, or stopping */
    pthread_cond_t idle_cv; /* a lane stopped being busy */
    ts_map_t lane_index;    /* subject → slot in lanes */
    eng_lane_t **lanes;
    uint32_t n_lanes, cap_lanes;
    eng_lane_t *ready_head, *ready_tail;
    int stopping;
    pthread_t *workers;
    int n_workers;
    pthread_t sweeper;
    int sweeper_started;
    eng_metrics_t metrics;
};

/* snapshots.c: folds one commit (its payload as in the log) into state as
 * a lane does: decode, apply every event, version from the commit; a commit
 * that does not decode is skipped (TS_ERR_CORRUPT) but still advances hash,
 * which always becomes SHA-256 of data. scratch is reset. */
ts_status eng__fold(const cmd_aggregate_ops_t *ops, void *state, const void *data, size_t len,
                    ts_arena_t *scratch, uint64_t *version, uint8_t hash[32]);

/* dispatch.c: runs the decision of one command against a lane's state. */
void eng__decide(const eng_cmd_t *cmd, const void *state, const cmd_ctx_t *ctx, cmd_result_t *out);

/* lanes.c */
ts_status eng__lanes_start(eng_t *e);
void eng__lanes_stop(eng_t *e);
/* Queues an expiry sweep on every loaded inventory lane with a hold due. */
void eng__sweep(eng_t *e, int64_t now);
/* Queues an expiry sweep on the inventory lane of subject, loading it,
 * unless one is pending; other subjects are ignored. */
void eng__sweep_subject(eng_t *e, const char *subject);

int64_t eng__now_ms(void);
void eng__sha256(const void *data, size_t len, uint8_t out[32]);
void eng__metrics_batch(eng_t *e, uint32_t n);

/* ---- ticket_keys.c, ticket_code.c (RULE-TKT-1): engine.h's ticket
 * functions without an engine, on a data directory ---- */

ts_status eng__ticket_key_ensure(const char *data_dir, const char *event_id, ts_arena_t *arena,
                                 const char **public_key);
/* Errors: TS_ERR_NOT_FOUND (no file), TS_ERR_IO, TS_ERR_CORRUPT. *out is the
 * caller's to EVP_PKEY_free. */
ts_status eng__ticket_key_load(const char *data_dir, const char *event_id, EVP_PKEY **out);
ts_status eng__ticket_key_public(EVP_PKEY *k, ts_arena_t *arena, const char **public_key);
ts_status eng__ticket_code_sign(EVP_PKEY *k, const eng_ticket_payload_t *p, ts_arena_t *arena,
                                const char **code);

#endif
