/*
 * The LMDB adapter: snapshots and the idempotency table.
 *
 * Snapshot value layout (little endian):
 *   u32 format_version | u64 last_seq | u64 version | 32 bytes last_hash |
 *   state bytes (cmd_aggregate_ops_t.encode)
 * Idempotency value layout:
 *   u64 stored_at_ms | 32 bytes request hash | u32 status | body bytes
 *
 * The environment is opened with MDB_NOSYNC and flushed by the sweeper every
 * second: everything here is a cache of the log except idempotency answers,
 * and a hold repeated after a power cut is still recognised by its command
 * id in the inventory state (RULE-HOLD-5).
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IDEM_TTL_MS (24LL * 3600 * 1000)

static ts_status from_mdb(int rc)
{
    if (rc == 0)
        return TS_OK;
    if (rc == MDB_NOTFOUND)
        return TS_ERR_NOT_FOUND;
    return TS_ERR_IO;
}

ts_status eng__store_open(eng_store_t *st, const char *dir)
{
    MDB_txn *txn = NULL;
    int rc;
    memset(st, 0, sizeof(*st));
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "engine: cannot create %s: %s\n", dir, strerror(errno));
        return TS_ERR_IO;
    }
    if ((rc = mdb_env_create(&st->env)) != 0)
        goto done;
    mdb_env_set_maxdbs(st->env, 4);
    mdb_env_set_mapsize(st->env, (size_t)8 << 30);
    if ((rc = mdb_env_open(st->env, dir, MDB_NOSYNC | MDB_NOTLS, 0600)) != 0)
        goto done;
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
        goto done;
    if ((rc = mdb_dbi_open(txn, "snapshots", MDB_CREATE, &st->snapshots)) != 0)
        goto done;
    if ((rc = mdb_dbi_open(txn, "idempotency", MDB_CREATE, &st->idem)) != 0)
        goto done;
    rc = mdb_txn_commit(txn);
    txn = NULL;
done:
    if (txn)
        mdb_txn_abort(txn);
    if (rc != 0) {
        fprintf(stderr, "engine: LMDB at %s: %s\n", dir, mdb_strerror(rc));
        eng__store_close(st);
        return TS_ERR_IO;
    }
    return TS_OK;
}

void eng__store_close(eng_store_t *st)
{
    if (st->env) {
        mdb_env_sync(st->env, 1);
        mdb_env_close(st->env);
    }
    memset(st, 0, sizeof(*st));
}

ts_status eng__store_sync(eng_store_t *st)
{
    return from_mdb(mdb_env_sync(st->env, 1));
}

/* The header of a snapshot value; s->state points into v. */
static ts_status snapshot_parse(const MDB_val *v, eng_snapshot_t *s)
{
    ts_reader_t r;
    ts_reader_init(&r, v->mv_data, v->mv_size);
    memset(s, 0, sizeof(*s));
    s->format_version = ts_reader_u32(&r);
    s->last_seq = ts_reader_u64(&r);
    s->version = ts_reader_u64(&r);
    const void *h = ts_reader_bytes(&r, 32);
    if (!r.ok) {
        memset(s, 0, sizeof(*s));
        return TS_ERR_CORRUPT;
    }
    memcpy(s->last_hash, h, 32);
    s->state = r.p;
    s->state_len = r.left;
    return TS_OK;
}

ts_status eng__store_snapshot_get(eng_store_t *st, const char *subject, ts_arena_t *arena,
                                  eng_snapshot_t *out)
{
    MDB_txn *txn = NULL;
    MDB_val k = {strlen(subject), (void *)subject}, v;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return from_mdb(rc);
    ts_status st_rc = from_mdb(mdb_get(txn, st->snapshots, &k, &v));
    eng_snapshot_t s;
    if (st_rc == TS_OK && (st_rc = snapshot_parse(&v, &s)) == TS_OK) {
        /* The value is valid only until the txn ends: copy it. */
        s.state = ts_arena_memdup(arena, s.state, s.state_len);
        *out = s;
    }
    mdb_txn_abort(txn);
    return st_rc;
}

ts_status eng__store_snapshot_each(eng_store_t *st,
                                   int (*fn)(const char *subject, ts_status status,
                                             const eng_snapshot_t *s, void *arg),
                                   void *arg)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    char *subject = NULL;
    size_t cap = 0;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc == 0)
        rc = mdb_cursor_open(txn, st->snapshots, &cur);
    for (int op = MDB_FIRST; rc == 0; op = MDB_NEXT) {
        if ((rc = mdb_cursor_get(cur, &k, &v, op)) != 0)
            break;
        if (k.mv_size + 1 > cap) {
            cap = k.mv_size + 64;
            char *p = realloc(subject, cap);
            if (!p)
                abort();
            subject = p;
        }
        memcpy(subject, k.mv_data, k.mv_size);
        subject[k.mv_size] = '\0';
        eng_snapshot_t s;
        ts_status ps = snapshot_parse(&v, &s);
        if (fn(subject, ps, &s, arg))
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
    free(subject);
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    return from_mdb(rc);
}

ts_status eng__store_snapshot_del(eng_store_t *st, const char *subject)
{
    MDB_txn *txn = NULL;
    MDB_val k = {strlen(subject), (void *)subject};
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_del(txn, st->snapshots, &k, NULL);
    if (rc == 0 || rc == MDB_NOTFOUND) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    return from_mdb(rc);
}

ts_status eng__store_snapshot_put(eng_store_t *st, const char *subject, const eng_snapshot_t *s)
{
    ts_buf_t b;
    ts_buf_init(&b);
    ts_buf_put_u32(&b, s->format_version);
    ts_buf_put_u64(&b, s->last_seq);
    ts_buf_put_u64(&b, s->version);
    ts_buf_append(&b, s->last_hash, 32);
    ts_buf_append(&b, s->state, s->state_len);
    MDB_txn *txn = NULL;
    MDB_val k = {strlen(subject), (void *)subject}, v = {b.len, b.data};
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_put(txn, st->snapshots, &k, &v, 0);
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    ts_buf_deinit(&b);
    return from_mdb(rc);
}

ts_status eng_idem_get(eng_t *e, const char *key, ts_arena_t *arena, eng_idem_t *out)
{
    MDB_txn *txn = NULL;
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_txn_begin(e->store.env, NULL, MDB_RDONLY, &txn);
    if (rc != 0)
        return from_mdb(rc);
    ts_status st = from_mdb(mdb_get(txn, e->store.idem, &k, &v));
    if (st == TS_OK) {
        ts_reader_t r;
        ts_reader_init(&r, v.mv_data, v.mv_size);
        int64_t at = (int64_t)ts_reader_u64(&r);
        const void *h = ts_reader_bytes(&r, 32);
        uint32_t status = ts_reader_u32(&r);
        if (!r.ok) {
            st = TS_ERR_CORRUPT;
        } else if (eng__now_ms() - at > IDEM_TTL_MS) {
            /* RULE-HOLD-5: answers are kept for 24 h. */
            st = TS_ERR_NOT_FOUND;
        } else {
            memcpy(out->request_hash, h, 32);
            out->status = (int)status;
            out->body = ts_arena_strndup(arena, (const char *)r.p, r.left);
        }
    }
    mdb_txn_abort(txn);
    return st;
}

ts_status eng_idem_put(eng_t *e, const char *key, const eng_idem_t *val)
{
    ts_buf_t b;
    ts_buf_init(&b);
    ts_buf_put_u64(&b, (uint64_t)eng__now_ms());
    ts_buf_append(&b, val->request_hash, 32);
    ts_buf_put_u32(&b, (uint32_t)val->status);
    ts_buf_append(&b, val->body, strlen(val->body));
    MDB_txn *txn = NULL;
    MDB_val k = {strlen(key), (void *)key}, v = {b.len, b.data};
    int rc = mdb_txn_begin(e->store.env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_put(txn, e->store.idem, &k, &v, 0);
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    ts_buf_deinit(&b);
    return from_mdb(rc);
}
