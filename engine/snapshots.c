/*
 * Snapshot maintenance: the fold of one commit (shared with the lanes'
 * catch-up, so a rebuilt snapshot is exactly what a lane would have
 * written), and the verify and rebuild passes of `turnstile snapshots`.
 *
 * Both passes read the log once, in stream order, through eng__log_read and
 * keep a table of folds, one per subject (subject → fold_t). A fold holds
 * its aggregate state only while it is still being folded: verify drops it
 * once the snapshot's last_seq has been compared, rebuild once the subject's
 * last commit (its message count from stream info) has been folded and
 * written. So memory is bounded by the subjects still open, not by the log.
 *
 * Verify compares the fold with the snapshot by version, last_hash and the
 * encoded state, the state by its length and SHA-256 (kept instead of the
 * bytes, so the table stays small however large the snapshots are).
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ts_status eng__fold(const cmd_aggregate_ops_t *ops, void *state, const void *data, size_t len,
                    ts_arena_t *scratch, uint64_t *version, uint8_t hash[32])
{
    evt_commit_t c;
    ts_arena_reset(scratch);
    ts_status rc = evt_commit_decode(data, len, scratch, &c);
    if (rc == TS_OK) {
        for (uint32_t i = 0; i < c.n_events; i++)
            ops->apply(state, &c.events[i]);
        *version = c.version;
    }
    /* The chain goes on through a commit that does not decode: the next
     * commit's prev_hash names these bytes whatever they are. */
    eng__sha256(data, len, hash);
    return rc;
}

typedef struct {
    const char *subject; /* in pass_t.arena */
    const cmd_aggregate_ops_t *ops;
    void *state; /* non-NULL while folding */
    uint64_t last_seq, version;
    uint8_t hash[32];
    uint64_t left; /* rebuild: commits still to come; 0 when unknown */
    int done;      /* compared (verify) or written (rebuild) */
    /* The snapshot found in LMDB, if any. */
    int has_snap;
    int snap_stale;      /* rebuild: of another format, or unreadable */
    eng_snapshot_t snap; /* snap.state is NULL: only its digest is kept */
    uint8_t state_digest[32];
    const char *reason; /* verify: NULL when equal; rebuild: encode_refused */
} fold_t;

typedef struct {
    eng_t *e;
    const char *filter;
    ts_arena_t arena;   /* subjects */
    ts_arena_t scratch; /* one commit's decode */
    ts_map_t index;     /* subject → slot in folds */
    fold_t *folds;
    uint32_t n, cap;
    uint32_t pending; /* verify: folds still to compare */
    eng_snapshot_report_t *rep;
} pass_t;

static void pass_init(pass_t *p, eng_t *e, const char *filter, eng_snapshot_report_t *rep)
{
    memset(p, 0, sizeof(*p));
    p->e = e;
    p->filter = filter;
    p->rep = rep;
    memset(rep, 0, sizeof(*rep));
    ts_arena_init(&p->arena, 1 << 16);
    ts_arena_init(&p->scratch, 1 << 16);
    ts_map_init(&p->index);
}

static void pass_deinit(pass_t *p)
{
    for (uint32_t i = 0; i < p->n; i++)
        if (p->folds[i].state)
            p->folds[i].ops->state_free(p->folds[i].state);
    free(p->folds);
    ts_map_deinit(&p->index);
    ts_arena_deinit(&p->scratch);
    ts_arena_deinit(&p->arena);
}

/* The fold of subject, created when create is set (else NULL when absent).
 * The pointer is valid until the next fold is created. */
static fold_t *fold_get(pass_t *p, const char *subject, int create)
{
    int32_t i = ts_map_get(&p->index, subject);
    if (i >= 0)
        return &p->folds[i];
    if (!create)
        return NULL;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->folds = realloc(p->folds, p->cap * sizeof(*p->folds));
        if (!p->folds)
            abort();
    }
    fold_t *f = &p->folds[p->n];
    memset(f, 0, sizeof(*f));
    f->subject = ts_arena_strdup(&p->arena, subject);
    ts_map_put(&p->index, f->subject, (int32_t)p->n++);
    return f;
}

static void fold_start(fold_t *f, const cmd_aggregate_ops_t *ops)
{
    f->ops = ops;
    f->state = ops->state_new();
}

static void fold_end(fold_t *f)
{
    if (f->state)
        f->ops->state_free(f->state);
    f->state = NULL;
    f->done = 1;
}

static void fold_commit(pass_t *p, fold_t *f, const eng_log_msg_t *m)
{
    eng__fold(f->ops, f->state, m->data, m->len, &p->scratch, &f->version, f->hash);
    f->last_seq = m->seq;
    p->rep->commits++;
}

static void issue_set(eng_snapshot_issue_t *dst, ts_arena_t *arena, const fold_t *f, uint64_t seq,
                      const char *reason)
{
    if (dst->subject)
        return; /* the first one stays */
    dst->subject = ts_arena_strdup(arena, f->subject);
    dst->last_seq = seq;
    dst->reason = reason;
}

/* ---- verify ---- */

/* Compares the finished fold with its snapshot and drops the state. */
static void verify_compare(pass_t *p, fold_t *f)
{
    ts_buf_t b;
    ts_buf_init(&b);
    if (f->version != f->snap.version) {
        f->reason = "version";
    } else if (memcmp(f->hash, f->snap.last_hash, 32) != 0) {
        f->reason = "last_hash";
    } else if (f->ops->encode(f->state, &b) != TS_OK || b.len != f->snap.state_len) {
        f->reason = "state";
    } else if (b.len) {
        uint8_t d[32];
        eng__sha256(b.data, b.len, d);
        if (memcmp(d, f->state_digest, 32) != 0)
            f->reason = "state";
    }
    ts_buf_deinit(&b);
    fold_end(f);
    p->pending--;
}

static int verify_list(const char *subject, ts_status status, const eng_snapshot_t *s, void *arg)
{
    pass_t *p = arg;
    if (p->filter && !eng__subject_match(p->filter, subject))
        return 0;
    fold_t *f = fold_get(p, subject, 1);
    int kind = cmd_aggregate_of_subject(subject);
    f->has_snap = 1;
    if (status != TS_OK) {
        f->reason = "corrupt_record";
        return 0;
    }
    f->snap = *s;
    f->snap.state = NULL;
    if (s->state_len)
        eng__sha256(s->state, s->state_len, f->state_digest);
    if (kind < 0) {
        f->reason = "unknown_subject";
        return 0;
    }
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(kind);
    if (s->format_version != ops->format_version) {
        f->reason = "stale_format";
        return 0;
    }
    fold_start(f, ops);
    p->pending++;
    if (s->last_seq == 0)
        verify_compare(p, f); /* the fold of no commit at all */
    return 0;
}

static int verify_commit(const eng_log_msg_t *m, void *arg)
{
    pass_t *p = arg;
    fold_t *f = fold_get(p, m->subject, 0);
    if (f && f->state && !f->done) {
        if (m->seq > f->snap.last_seq) {
            /* Passed last_seq without meeting it on this subject. */
            f->reason = "not_in_log";
            fold_end(f);
            p->pending--;
        } else {
            fold_commit(p, f, m);
            if (m->seq == f->snap.last_seq)
                verify_compare(p, f);
        }
    }
    return p->pending == 0;
}

ts_status eng_snapshots_verify(eng_t *e, const char *filter, ts_arena_t *arena,
                               eng_snapshot_report_t *out)
{
    if (e->cfg.mode != ENG_MODE_MAINTAIN)
        return TS_ERR_INVALID;
    pass_t p;
    eng_snapshot_report_t rep;
    pass_init(&p, e, filter, &rep);
    ts_status rc = eng__store_snapshot_each(&e->store, verify_list, &p);
    if (rc == TS_OK && p.pending)
        rc = eng__log_read(&e->log, filter ? filter : ">", 1, verify_commit, &p);
    if (rc != TS_OK)
        goto done;
    for (uint32_t i = 0; i < p.n; i++) {
        fold_t *f = &p.folds[i];
        if (f->state && !f->done) {
            f->reason = "not_in_log"; /* last_seq lies beyond the log's end */
            fold_end(f);
        }
        rep.snapshots++;
        if (f->reason && strcmp(f->reason, "stale_format") == 0) {
            rep.stale++;
            issue_set(&rep.first_stale, arena, f, f->snap.last_seq, f->reason);
        } else if (f->reason) {
            rep.mismatched++;
            issue_set(&rep.first_bad, arena, f, f->snap.last_seq, f->reason);
        } else {
            rep.matched++;
        }
    }
    *out = rep;
done:
    pass_deinit(&p);
    return rc;
}

/* ---- rebuild ---- */

static int rebuild_list(const char *subject, ts_status status, const eng_snapshot_t *s, void *arg)
{
    pass_t *p = arg;
    if (p->filter && !eng__subject_match(p->filter, subject))
        return 0;
    fold_t *f = fold_get(p, subject, 1);
    int kind = cmd_aggregate_of_subject(subject);
    f->has_snap = 1;
    f->snap_stale =
        status != TS_OK || kind < 0 || s->format_version != cmd_aggregate_ops(kind)->format_version;
    return 0;
}

static void rebuild_count(const char *subject, uint64_t count, void *arg)
{
    pass_t *p = arg;
    if (cmd_aggregate_of_subject(subject) >= 0)
        fold_get(p, subject, 1)->left = count;
}

static void rebuild_write(pass_t *p, fold_t *f)
{
    ts_buf_t b;
    ts_buf_init(&b);
    if (f->ops->encode(f->state, &b) != TS_OK) {
        /* An old snapshot of this subject would now be a lie: remove it. */
        fprintf(stderr, "engine: %s: state refused by the codec; no snapshot\n", f->subject);
        f->reason = "encode_refused";
        if (f->has_snap)
            eng__store_snapshot_del(&p->e->store, f->subject);
    } else {
        eng_snapshot_t s = {.format_version = f->ops->format_version,
                            .last_seq = f->last_seq,
                            .version = f->version,
                            .state = b.data,
                            .state_len = b.len};
        memcpy(s.last_hash, f->hash, 32);
        if (eng__store_snapshot_put(&p->e->store, f->subject, &s) == TS_OK)
            p->rep->snapshots++;
        else
            f->reason = "write_failed";
    }
    ts_buf_deinit(&b);
    fold_end(f);
}

static int rebuild_commit(const eng_log_msg_t *m, void *arg)
{
    pass_t *p = arg;
    int kind = cmd_aggregate_of_subject(m->subject);
    if (kind < 0)
        return 0;
    fold_t *f = fold_get(p, m->subject, 1);
    if (f->done)
        return 0; /* appended after the count was taken: left to catch-up */
    if (!f->state)
        fold_start(f, cmd_aggregate_ops(kind));
    fold_commit(p, f, m);
    if (f->left && --f->left == 0)
        rebuild_write(p, f);
    return 0;
}

ts_status eng_snapshots_rebuild(eng_t *e, const char *filter, ts_arena_t *arena,
                                eng_snapshot_report_t *out)
{
    if (e->cfg.mode != ENG_MODE_MAINTAIN)
        return TS_ERR_INVALID;
    pass_t p;
    eng_snapshot_report_t rep;
    const char *f_log = filter ? filter : "tix.>";
    pass_init(&p, e, filter, &rep);
    ts_status rc = eng__store_snapshot_each(&e->store, rebuild_list, &p);
    if (rc != TS_OK)
        goto done;
    /* The counts only let a finished subject's state go early; without
     * them every state stays until the end of the pass. */
    if (eng__log_subjects(&e->log, f_log, rebuild_count, &p) != TS_OK)
        fprintf(stderr, "engine: no subject counts; folding every subject to the end\n");
    if ((rc = eng__log_read(&e->log, f_log, 1, rebuild_commit, &p)) != TS_OK)
        goto done;
    for (uint32_t i = 0; i < p.n; i++) {
        fold_t *f = &p.folds[i];
        if (f->state)
            rebuild_write(&p, f);
        if (f->done && f->has_snap && f->snap_stale && !f->reason) {
            rep.stale++;
            issue_set(&rep.first_stale, arena, f, f->last_seq, "stale_format");
        }
        if (f->reason)
            issue_set(&rep.first_bad, arena, f, f->last_seq, f->reason);
        if (!f->done && f->has_snap) {
            /* A snapshot of a subject with no commit in the log. */
            if ((rc = eng__store_snapshot_del(&e->store, f->subject)) != TS_OK)
                goto done;
            rep.removed++;
        }
    }
    rc = eng__store_sync(&e->store);
    *out = rep;
done:
    pass_deinit(&p);
    return rc;
}
