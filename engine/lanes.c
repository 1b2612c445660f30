/*
 * Lanes and group commit.
 *
 * All lane bookkeeping (the subject index, queues, the ready list, the busy
 * flags) is guarded by e->mu. A lane's state is touched only by the thread
 * that set its busy flag: a worker deciding a batch, or eng_read. Workers
 * take every queued command of a ready lane (up to ENG_MAX_BATCH), decide
 * them in order against the state, and append all their events as one
 * commit; commands that arrive meanwhile wait for the next round. That is
 * the group commit of DESIGN.md.
 */
#include "engine/engine_int.h"

#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENG_MAX_BATCH 256
#define ENG_MAX_ATTEMPTS 6
#define ENG_SNAPSHOT_MIN_INTERVAL_MS 3000

int64_t eng__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void eng__sha256(const void *data, size_t len, uint8_t out[32])
{
    SHA256(data, len, out);
}

const char *eng_new_id(ts_arena_t *a, const char *prefix)
{
    uint8_t raw[8];
    char hex[17];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort(); /* no randomness: ids could collide; refuse to go on */
    ts_hex(raw, sizeof(raw), hex);
    return ts_arena_printf(a, "%s%s", prefix, hex);
}

/* ---- lane index (e->mu held) ---- */

static eng_lane_t *lane_get(eng_t *e, const char *subject, const cmd_aggregate_ops_t *ops)
{
    int32_t i = ts_map_get(&e->lane_index, subject);
    if (i >= 0)
        return e->lanes[i];
    if (e->n_lanes == e->cap_lanes) {
        e->cap_lanes = e->cap_lanes ? e->cap_lanes * 2 : 1024;
        e->lanes = realloc(e->lanes, e->cap_lanes * sizeof(*e->lanes));
        if (!e->lanes)
            abort();
    }
    eng_lane_t *l = calloc(1, sizeof(*l));
    if (!l)
        abort();
    l->subject = strdup(subject);
    l->ops = ops;
    e->lanes[e->n_lanes] = l;
    ts_map_put(&e->lane_index, l->subject, (int32_t)e->n_lanes);
    e->n_lanes++;
    return l;
}

/* Puts l on the ready list when it has jobs and nobody runs it; wakes a
 * worker unless wake is 0 (the caller is a worker that takes the list's head
 * next, see lane_run). */
static void lane_make_ready_ex(eng_t *e, eng_lane_t *l, int wake)
{
    if (l->busy || l->ready_queued || !l->head)
        return;
    l->ready_queued = 1;
    l->next_ready = NULL;
    if (e->ready_tail)
        e->ready_tail->next_ready = l;
    else
        e->ready_head = l;
    e->ready_tail = l;
    if (wake)
        pthread_cond_signal(&e->work_cv);
}

static void lane_make_ready(eng_t *e, eng_lane_t *l)
{
    lane_make_ready_ex(e, l, 1);
}

static void lane_unload(eng_lane_t *l)
{
    if (l->state)
        l->ops->state_free(l->state);
    l->state = NULL;
    l->loaded = 0;
}

/* Applies every commit on the lane's subject after last_seq. */
static ts_status lane_catch_up(eng_t *e, eng_lane_t *l)
{
    ts_arena_t scratch;
    ts_arena_init(&scratch, 1 << 16);
    ts_status rc;
    for (;;) {
        natsMsg *m = NULL;
        uint64_t seq = 0;
        rc = eng__log_next(&e->log, l->subject, l->last_seq + 1, &m, &seq);
        if (rc == TS_ERR_NOT_FOUND) {
            rc = TS_OK;
            break;
        }
        if (rc != TS_OK)
            break;
        if (eng__fold(l->ops, l->state, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                      &scratch, &l->version, l->last_hash) != TS_OK)
            fprintf(stderr, "engine: %s seq %llu does not decode; skipped\n", l->subject,
                    (unsigned long long)seq);
        l->last_seq = seq;
        natsMsg_Destroy(m);
    }
    ts_arena_deinit(&scratch);
    return rc;
}

/* ---- loading: snapshot, then catch-up from the stream ---- */

static ts_status lane_load(eng_t *e, eng_lane_t *l, int trust_snapshot)
{
    ts_arena_t scratch;
    ts_arena_init(&scratch, 1 << 16);
    ts_status rc = TS_OK;
    lane_unload(l);
    l->last_seq = 0;
    l->version = 0;
    memset(l->last_hash, 0, 32);
    eng_snapshot_t snap;
    if (trust_snapshot &&
        eng__store_snapshot_get(&e->store, l->subject, &scratch, &snap) == TS_OK &&
        snap.format_version == l->ops->format_version) {
        /* A snapshot of another state-format version is ignored: rebuilt. */
        l->state = l->ops->decode(snap.state, snap.state_len);
        if (l->state) {
            l->last_seq = snap.last_seq;
            l->version = snap.version;
            memcpy(l->last_hash, snap.last_hash, 32);
        }
    }
    if (!l->state)
        l->state = l->ops->state_new();
    ts_arena_deinit(&scratch);
    rc = lane_catch_up(e, l);
    if (rc != TS_OK) {
        lane_unload(l);
        return rc;
    }
    l->loaded = 1;
    return TS_OK;
}

static void lane_snapshot(eng_t *e, eng_lane_t *l)
{
    ts_buf_t b;
    ts_buf_init(&b);
    if (l->ops->encode(l->state, &b) != TS_OK) {
        /* Never store a snapshot that would decode to something else. */
        fprintf(stderr, "engine: %s: state refused by the codec; no snapshot\n", l->subject);
        ts_buf_deinit(&b);
        return;
    }
    eng_snapshot_t s = {.format_version = l->ops->format_version,
                        .last_seq = l->last_seq,
                        .version = l->version,
                        .state = b.data,
                        .state_len = b.len};
    memcpy(s.last_hash, l->last_hash, 32);
    if (eng__store_snapshot_put(&e->store, l->subject, &s) == TS_OK)
        l->commits_since_snapshot = 0;
    ts_buf_deinit(&b);
}

/* ---- one batch ---- */

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Decides every job against the lane state, applying accepted events as it
 * goes. Returns the number of events; fills *events (heap, caller frees). */
static uint32_t decide_batch(eng_lane_t *l, eng_job_t **jobs, uint32_t n, evt_event_t **events)
{
    uint32_t total = 0, cap = 0;
    evt_event_t *all = NULL;
    const eng_cmd_t *lead = NULL;
    int64_t now = eng__now_ms();
    for (uint32_t i = 0; i < n; i++) {
        eng_job_t *j = jobs[i];
        const eng_cmd_t *c = j->cmd;
        cmd_ctx_t ctx = {.now = now,
                         .actor = c->actor ? c->actor : "system",
                         .actor_is_admin = c->actor_is_admin,
                         .command_id = c->command_id,
                         .new_id = c->new_id,
                         .arena = j->arena};
        /* A result has room for CMD_MAX_EVENTS events (55 KB) and a
         * decision fills a few, each zeroed by cmd_emit: clearing the rest
         * cost a 55 KB memset per command. */
        j->result = ts_arena_alloc_uninit(j->arena, sizeof(cmd_result_t));
        j->result->reject = NULL;
        j->result->n_events = 0;
        j->result->ref = NULL;
        eng__decide(c, l->state, &ctx, j->result);
        if (j->result->reject || j->result->n_events == 0)
            continue;
        if (!lead)
            lead = c;
        if (total + j->result->n_events > cap) {
            cap = (total + j->result->n_events) * 2;
            all = realloc(all, cap * sizeof(*all));
            if (!all)
                abort();
        }
        for (uint32_t k = 0; k < j->result->n_events; k++) {
            evt_event_t *ev = &j->result->events[k];
            l->ops->apply(l->state, ev);
            all[total] = *ev;
            /* A group commit names each command that differs from the lead. */
            if (!same_str(c->command_id, lead->command_id))
                all[total].command_id = c->command_id;
            if (!same_str(c->actor, lead->actor))
                all[total].actor = c->actor ? c->actor : "system";
            total++;
        }
    }
    *events = all;
    return total;
}

static ts_status append_commit(eng_t *e, eng_lane_t *l, eng_job_t **jobs, uint32_t n,
                               evt_event_t *events, uint32_t n_events, uint64_t *seq,
                               uint8_t hash[32])
{
    const eng_cmd_t *lead = NULL;
    for (uint32_t i = 0; i < n && !lead; i++)
        if (!jobs[i]->result->reject && jobs[i]->result->n_events)
            lead = jobs[i]->cmd;
    evt_commit_t c = {0};
    c.subject = l->subject;
    c.version = l->version + 1;
    c.command_id = lead->command_id ? lead->command_id : "none";
    c.correlation_id = lead->correlation_id ? lead->correlation_id : c.command_id;
    c.actor = lead->actor ? lead->actor : "system";
    c.time = eng__now_ms();
    memcpy(c.prev_hash, l->last_hash, 32);
    c.n_events = n_events;
    c.events = events;
    ts_buf_t b;
    ts_buf_init(&b);
    ts_status rc = evt_commit_encode(&c, &b);
    if (rc == TS_OK) {
        char msg_id[65];
        eng__sha256(b.data, b.len, hash);
        ts_hex(hash, 32, msg_id);
        /* A timed-out append is retried with the same bytes and Msg-Id: the
         * server's dedup window turns a duplicate into the original's ack. */
        for (int attempt = 0; attempt < 3; attempt++) {
            rc = eng__log_append(&e->log, l->subject, b.data, b.len, l->last_seq, msg_id, seq);
            if (rc != TS_ERR_TIMEOUT && rc != TS_ERR_UNAVAILABLE)
                break;
        }
    }
    ts_buf_deinit(&b);
    return rc;
}

static ts_status enqueue(eng_t *e, eng_job_t *j);

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void complete(eng_t *e, eng_job_t *j, ts_status st, uint64_t seq)
{
    j->status = st;
    if (st == TS_OK && j->result) {
        j->out->reject = j->result->reject;
        j->out->ref = j->result->ref;
        j->out->n_events = j->result->reject ? 0 : j->result->n_events;
        j->out->events = j->result->events;
        j->out->commit_seq = j->out->n_events ? seq : j->lane->last_seq;
    }
    if (j->async) {
        pthread_mutex_lock(&e->mu);
        j->lane->expire_pending = 0;
        pthread_mutex_unlock(&e->mu);
        ts_arena_deinit(j->arena);
        free(j);
        return;
    }
    /* eng_execute_then: the first command is in the log (or needed
     * nothing), so the second goes to its lane now, by this thread, while
     * the caller sleeps on. */
    eng_job_t *n = j->then;
    if (n && st == TS_OK && !j->out->reject) {
        n->first_done_s = mono_s();
        ts_status rc = enqueue(e, n);
        if (rc == TS_OK)
            return;
        n->status = rc;
    }
    sem_post(j->wake ? j->wake : &j->done);
}

static void process_batch(eng_t *e, eng_lane_t *l, eng_job_t **jobs, uint32_t n)
{
    ts_status rc = TS_ERR_CONFLICT;
    uint64_t seq = 0;
    for (int attempt = 0; attempt < ENG_MAX_ATTEMPTS; attempt++) {
        /* After a conflict the snapshot may be what misled us: rebuild from
         * the stream alone. */
        if (!l->loaded && (rc = lane_load(e, l, attempt == 0)) != TS_OK)
            break;
        evt_event_t *events = NULL;
        uint32_t n_events = decide_batch(l, jobs, n, &events);
        if (n_events == 0) {
            free(events);
            rc = TS_OK;
            break;
        }
        uint8_t hash[32];
        rc = append_commit(e, l, jobs, n, events, n_events, &seq, hash);
        free(events);
        if (rc == TS_OK) {
            l->last_seq = seq;
            l->version++;
            memcpy(l->last_hash, hash, 32);
            atomic_fetch_add(&e->metrics.commits, 1);
            eng__metrics_batch(e, n);
            /* Snapshots cost O(state): a hot shard writes one at most every
             * few seconds however fast it commits. */
            int64_t now = eng__now_ms();
            if (++l->commits_since_snapshot >= (uint32_t)e->cfg.snapshot_every &&
                now >= l->next_snapshot_ms) {
                lane_snapshot(e, l);
                /* A snapshot stalls the lane for as long as it takes: keep
                 * that under 1% of the lane's time, and at least 3 s apart. */
                int64_t took = eng__now_ms() - now;
                l->next_snapshot_ms = eng__now_ms() + (took * 100 > ENG_SNAPSHOT_MIN_INTERVAL_MS
                                                           ? took * 100
                                                           : ENG_SNAPSHOT_MIN_INTERVAL_MS);
            }
            break;
        }
        /* The state holds events that are not in the log: drop it. */
        lane_unload(l);
        if (rc != TS_ERR_CONFLICT)
            break;
        atomic_fetch_add(&e->metrics.conflicts, 1);
    }
    if (rc == TS_ERR_CONFLICT)
        rc = TS_ERR_LOG;
    for (uint32_t i = 0; i < n; i++)
        complete(e, jobs[i], rc, seq);
}

/* Runs one round of l: takes up to ENG_MAX_BATCH queued jobs, decides and
 * commits them with e->mu released, then frees the lane and hands any jobs
 * that queued meanwhile to the workers. Called and returns with e->mu held.
 * by_worker: the caller is worker_main, which takes the ready list's head as
 * soon as this returns. */
static void lane_run(eng_t *e, eng_lane_t *l, int by_worker)
{
    eng_job_t *batch[ENG_MAX_BATCH];
    uint32_t n = 0;
    while (l->head && n < ENG_MAX_BATCH) {
        batch[n++] = l->head;
        l->head = l->head->next;
    }
    if (!l->head)
        l->tail = NULL;
    l->busy = 1;
    pthread_mutex_unlock(&e->mu);
    process_batch(e, l, batch, n);
    pthread_mutex_lock(&e->mu);
    l->busy = 0;
    pthread_cond_broadcast(&e->idle_cv);
    /* A busy lane's next batch: when the ready list is empty, the worker
     * that ran this one takes it next (it holds e->mu until then), and a
     * worker woken for it would find nothing: two context switches for
     * nothing per batch of a hot lane. */
    lane_make_ready_ex(e, l, !(by_worker && !e->ready_head));
}

static void *worker_main(void *arg)
{
    eng_t *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->ready_head && !e->stopping)
            pthread_cond_wait(&e->work_cv, &e->mu);
        eng_lane_t *l = e->ready_head;
        if (!l)
            break; /* stopping, and nothing left to do */
        e->ready_head = l->next_ready;
        if (!e->ready_head)
            e->ready_tail = NULL;
        l->ready_queued = 0;
        if (!l->busy && l->head)
            lane_run(e, l, 1);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* Which aggregate each command works on: a command sent to another kind of
 * subject is refused before it can misread a state. The account commands
 * (login, refresh, logout, grant role, block) work on the user; payments,
 * refunds, check-in and transfer (RULE-TKT-2, -3) on inventory shards. */
// clang-format off
static const cmd_agg_kind_t cmd_kind[ENG_CMD_COUNT] = {
    [ENG_VENUE_CREATE] = CMD_AGG_VENUE,
    [ENG_EVENT_CREATE] = CMD_AGG_EVENT,
    [ENG_EVENT_PUBLISH] = CMD_AGG_EVENT,
    [ENG_INV_OPEN] = CMD_AGG_INV,
    [ENG_INV_HOLD] = CMD_AGG_INV,
    [ENG_INV_RELEASE] = CMD_AGG_INV,
    [ENG_INV_EXPIRE] = CMD_AGG_INV,
    [ENG_USER_REGISTER] = CMD_AGG_USER,
    [ENG_CLAIM] = CMD_AGG_CLAIM,
    [ENG_USER_LOGIN] = CMD_AGG_USER,
    [ENG_USER_REFRESH] = CMD_AGG_USER,
    [ENG_USER_LOGOUT] = CMD_AGG_USER,
    [ENG_USER_GRANT_ROLE] = CMD_AGG_USER,
    [ENG_USER_BLOCK] = CMD_AGG_USER,
    [ENG_EVENT_UPDATE] = CMD_AGG_EVENT,
    [ENG_PROMO_CREATE] = CMD_AGG_EVENT,
    [ENG_PROMO_USE] = CMD_AGG_EVENT,
    [ENG_PROMO_RELEASE] = CMD_AGG_EVENT,
    [ENG_QUOTA_TAKE] = CMD_AGG_QUOTA,
    [ENG_QUOTA_CONFIRM] = CMD_AGG_QUOTA,
    [ENG_QUOTA_RETURN] = CMD_AGG_QUOTA,
    [ENG_INV_RESCHEDULE] = CMD_AGG_INV,
    [ENG_INV_HOLD_BEST] = CMD_AGG_INV,
    [ENG_INV_PAYMENT_REQUEST] = CMD_AGG_INV,
    [ENG_INV_WEBHOOK] = CMD_AGG_INV,
    [ENG_INV_CANCEL_BOOKING] = CMD_AGG_INV,
    [ENG_INV_CANCEL_ALL] = CMD_AGG_INV,
    [ENG_EVENT_CANCEL] = CMD_AGG_EVENT,
    [ENG_WAIT_JOIN] = CMD_AGG_WAIT,
    [ENG_WAIT_LEAVE] = CMD_AGG_WAIT,
    [ENG_WAIT_OFFER] = CMD_AGG_WAIT,
    [ENG_WAIT_LAPSE] = CMD_AGG_WAIT,
    [ENG_WAIT_FULFIL] = CMD_AGG_WAIT,
    [ENG_INV_CHECKIN] = CMD_AGG_INV,
    [ENG_INV_TRANSFER] = CMD_AGG_INV,
    [ENG_WAIT_PASS] = CMD_AGG_WAIT,
};
// clang-format on

/* The aggregate kind command type t works on; -1 for a type out of range. */
static int cmd_kind_of(eng_cmd_type_t t)
{
    return t < ENG_CMD_COUNT ? (int)cmd_kind[t] : -1;
}

static ts_status enqueue(eng_t *e, eng_job_t *j)
{
    int kind = cmd_aggregate_of_subject(j->cmd->subject);
    if (kind < 0 || cmd_kind_of(j->cmd->type) != kind)
        return TS_ERR_INVALID;
    if (e->cfg.mode != ENG_MODE_SERVE)
        return TS_ERR_INVALID; /* the read-only modes never append */
    pthread_mutex_lock(&e->mu);
    if (e->stopping) {
        pthread_mutex_unlock(&e->mu);
        return TS_ERR_SHUTDOWN;
    }
    eng_lane_t *l = lane_get(e, j->cmd->subject, cmd_aggregate_ops(kind));
    j->lane = l;
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    /* A lane that is idle with this job alone is run by its caller (see
     * eng_execute); otherwise the workers take it, as they take every job
     * that no caller runs (sweeps, the second of eng_execute_then). */
    if (j->async || j->wake || l->busy || l->head != j)
        lane_make_ready(e, l);
    pthread_mutex_unlock(&e->mu);
    return TS_OK;
}

/* Queues j and waits until j->done is posted (by j, or by its then job);
 * j->status then, or the error of enqueue. */
static ts_status execute_job(eng_t *e, eng_job_t *j)
{
    sem_init(&j->done, 0, 0);
    ts_status rc = enqueue(e, j);
    if (rc == TS_OK) {
        /* When the lane is idle the caller decides and commits itself:
         * no hand-off to a worker and back, two context switches saved per
         * command. Commands that queue meanwhile go to the workers (group
         * commit), so a busy lane is never serialised behind one caller. */
        pthread_mutex_lock(&e->mu);
        eng_lane_t *l = j->lane;
        if (!l->busy && !l->ready_queued && l->head == j)
            lane_run(e, l, 0);
        pthread_mutex_unlock(&e->mu);
        while (sem_wait(&j->done) != 0)
            ;
        rc = j->status;
    }
    sem_destroy(&j->done);
    return rc;
}

ts_status eng_execute(eng_t *e, const eng_cmd_t *cmd, ts_arena_t *arena, eng_outcome_t *out)
{
    eng_job_t j = {.cmd = cmd, .arena = arena, .out = out};
    memset(out, 0, sizeof(*out));
    return execute_job(e, &j);
}

ts_status eng_execute_then(eng_t *e, const eng_cmd_t *first, const eng_cmd_t *then,
                           ts_arena_t *arena, eng_outcome_t *first_out, eng_outcome_t *then_out,
                           int *ran_then, double *first_seconds)
{
    double t0 = mono_s();
    eng_job_t j = {.cmd = first, .arena = arena, .out = first_out};
    eng_job_t n = {.cmd = then, .arena = arena, .out = then_out, .wake = &j.done};
    memset(first_out, 0, sizeof(*first_out));
    memset(then_out, 0, sizeof(*then_out));
    *ran_then = 0;
    if (first_seconds)
        *first_seconds = 0;
    /* then is checked now: once first is committed, queueing it can only
     * fail because the engine stops. */
    int kind = cmd_aggregate_of_subject(then->subject);
    if (kind < 0 || kind != cmd_kind_of(then->type))
        return TS_ERR_INVALID;
    j.then = &n;
    /* As eng_execute: an idle lane is run by its caller. */
    ts_status rc = execute_job(e, &j);
    if (!j.lane)
        return rc; /* not queued (enqueue sets the lane only on success) */
    if (rc == TS_OK && !first_out->reject) {
        *ran_then = 1;
        rc = n.status;
        if (first_seconds)
            *first_seconds = n.first_done_s - t0;
    } else if (first_seconds) {
        *first_seconds = mono_s() - t0;
    }
    return rc;
}

ts_status eng_read(eng_t *e, const char *subject, void (*fn)(const void *state, void *arg),
                   void *arg)
{
    int kind = cmd_aggregate_of_subject(subject);
    if (kind < 0 || e->cfg.mode != ENG_MODE_SERVE)
        return TS_ERR_INVALID;
    pthread_mutex_lock(&e->mu);
    eng_lane_t *l = lane_get(e, subject, cmd_aggregate_ops(kind));
    while (l->busy)
        pthread_cond_wait(&e->idle_cv, &e->mu);
    l->busy = 1;
    pthread_mutex_unlock(&e->mu);
    /* Another process (or engine) may have appended since this lane last
     * looked: a read catches up first, so it never answers from a stale
     * cache. A failed catch-up leaves the lane to be reloaded. */
    ts_status rc = l->loaded ? lane_catch_up(e, l) : lane_load(e, l, 1);
    if (rc == TS_OK)
        fn(l->state, arg);
    else
        lane_unload(l);
    pthread_mutex_lock(&e->mu);
    l->busy = 0;
    pthread_cond_broadcast(&e->idle_cv);
    lane_make_ready(e, l);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

/* Queues an async expiry sweep on inventory lane l (e->mu held). */
static void lane_queue_expire(eng_t *e, eng_lane_t *l)
{
    struct {
        eng_job_t job;
        eng_cmd_t cmd;
        ts_arena_t arena;
        eng_outcome_t out;
    } *a = calloc(1, sizeof(*a));
    if (!a)
        abort();
    ts_arena_init(&a->arena, 8192);
    a->cmd.type = ENG_INV_EXPIRE;
    a->cmd.subject = l->subject;
    a->cmd.actor = "system";
    a->cmd.command_id = eng_new_id(&a->arena, "sweep-");
    a->cmd.u.expire_max = 256;
    a->job.cmd = &a->cmd;
    a->job.arena = &a->arena;
    a->job.out = &a->out;
    a->job.async = 1;
    a->job.lane = l;
    l->expire_pending = 1;
    if (l->tail)
        l->tail->next = &a->job;
    else
        l->head = &a->job;
    l->tail = &a->job;
    lane_make_ready(e, l);
}

void eng__sweep(eng_t *e, int64_t now)
{
    pthread_mutex_lock(&e->mu);
    for (uint32_t i = 0; i < e->n_lanes; i++) {
        eng_lane_t *l = e->lanes[i];
        if (l->ops->kind != CMD_AGG_INV || !l->loaded || l->busy || l->expire_pending)
            continue;
        int64_t next = inv_next_expiry(l->state);
        if (!next || next > now)
            continue;
        /* RULE-HOLD-3: record expiries within a second or two. */
        lane_queue_expire(e, l);
    }
    pthread_mutex_unlock(&e->mu);
}

void eng__sweep_subject(eng_t *e, const char *subject)
{
    if (cmd_aggregate_of_subject(subject) != CMD_AGG_INV)
        return;
    pthread_mutex_lock(&e->mu);
    eng_lane_t *l = lane_get(e, subject, cmd_aggregate_ops(CMD_AGG_INV));
    if (!e->stopping && !l->expire_pending)
        lane_queue_expire(e, l);
    pthread_mutex_unlock(&e->mu);
}

ts_status eng__lanes_start(eng_t *e)
{
    e->n_workers = e->cfg.workers;
    e->workers = calloc((size_t)e->n_workers, sizeof(pthread_t));
    if (!e->workers)
        abort();
    for (int i = 0; i < e->n_workers; i++)
        if (pthread_create(&e->workers[i], NULL, worker_main, e) != 0)
            return TS_ERR_NOMEM;
    return TS_OK;
}

void eng__lanes_stop(eng_t *e)
{
    pthread_mutex_lock(&e->mu);
    e->stopping = 1;
    pthread_cond_broadcast(&e->work_cv);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < e->n_workers; i++)
        pthread_join(e->workers[i], NULL);
    free(e->workers);
    e->workers = NULL;
    /* Leave a fresh snapshot of every lane that changed since its last. */
    for (uint32_t i = 0; i < e->n_lanes; i++) {
        eng_lane_t *l = e->lanes[i];
        if (l->loaded && l->commits_since_snapshot)
            lane_snapshot(e, l);
        lane_unload(l);
        free(l->subject);
        free(l);
    }
    free(e->lanes);
    e->lanes = NULL;
    e->n_lanes = 0;
    ts_map_deinit(&e->lane_index);
}
