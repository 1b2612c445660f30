/*
 * ts_tamper — a test tool that forges what Turnstile must detect. Never
 * part of the product; the integration tests (test_audit_verify.py,
 * test_snapshots.py) drive it.
 *
 *   ts_tamper copy --from URL STREAM --to URL STREAM
 *                  [--alter SEQ] [--garble SEQ] [--drop SEQ] [--swap SEQ,SEQ]...
 *       Republishes every message of one stream into a fresh stream (deleted
 *       first when it exists; subjects tix.>), in order, with the changes:
 *       --alter re-encodes the commit with one character of its actor
 *       changed (it still decodes; only the next commit's prev_hash tells),
 *       --garble flips a byte of its file identifier (it no longer decodes),
 *       --drop leaves it out, --swap publishes two commits in each other's
 *       place. Prints {"copied": n, "map": {"<source seq>": <new seq>}}. Two
 *       streams cannot share subjects on one server: the copy goes to another
 *       nats-server.
 *
 *   ts_tamper snapshot --data DIR --subject S [--format-version N]
 *                      [--version N] [--last-seq N] [--flip-state] [--flip-hash]
 *       Rewrites the LMDB snapshot of S in DIR/engine (the layout of
 *       engine/store.c) and prints its old header as JSON.
 *
 *   ts_tamper fill --nats URL --stream S --commits N [--subjects K]
 *       Appends N well-chained commits round-robin over K inventory shards
 *       tix.inv.bench.S<k> (InventoryOpened, then HoldPlaced and
 *       HoldReleased): a large log for measuring the readers.
 *
 * Exit status 0 on success, 1 on failure, 2 on bad usage.
 */
#include "events/codec.h"

#include <inttypes.h>
#include <lmdb.h>
#include <nats/nats.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_EDITS 16

static int fail(const char *what, natsStatus s, jsErrCode jerr)
{
    fprintf(stderr, "ts_tamper: %s: %s (%d)\n", what, natsStatus_GetText(s), (int)jerr);
    return 1;
}

static int connect_js(const char *url, natsConnection **nc, jsCtx **js)
{
    natsStatus s = natsConnection_ConnectTo(nc, url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(js, *nc, NULL);
    return s == NATS_OK ? 0 : fail(url, s, 0);
}

static void disconnect(natsConnection *nc, jsCtx *js)
{
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
}

/* Deletes stream name when it exists and creates it afresh on tix.>. */
static int fresh_stream(jsCtx *js, const char *name, int keep)
{
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    if (js_GetStreamInfo(&si, js, name, NULL, &jerr) == NATS_OK) {
        jsStreamInfo_Destroy(si);
        if (keep)
            return 0;
        natsStatus s = js_DeleteStream(js, name, NULL, &jerr);
        if (s != NATS_OK)
            return fail("delete stream", s, jerr);
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"tix.>"};
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.AllowDirect = true;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK)
        return fail("create stream", s, jerr);
    jsStreamInfo_Destroy(si);
    return 0;
}

/* ---- copy ---- */

typedef struct {
    uint64_t seq;
    char *subject;
    uint8_t *data;
    size_t len;
} msg_t;

/* Re-encodes m with one character of its actor changed. */
static int alter(msg_t *m)
{
    ts_arena_t a;
    ts_arena_init(&a, 1 << 16);
    evt_commit_t c;
    ts_buf_t b;
    ts_buf_init(&b);
    int rc = 1;
    if (evt_commit_decode(m->data, m->len, &a, &c) != TS_OK) {
        fprintf(stderr, "ts_tamper: seq %llu does not decode\n", (unsigned long long)m->seq);
        goto done;
    }
    char *actor = ts_arena_strdup(&a, c.actor && c.actor[0] ? c.actor : "x");
    actor[0] = actor[0] == 'X' ? 'Y' : 'X';
    c.actor = actor;
    if (evt_commit_encode(&c, &b) != TS_OK)
        goto done;
    free(m->data);
    m->data = malloc(b.len);
    memcpy(m->data, b.data, b.len);
    m->len = b.len;
    rc = 0;
done:
    ts_buf_deinit(&b);
    ts_arena_deinit(&a);
    return rc;
}

static long find(msg_t *v, size_t n, uint64_t seq)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].seq == seq)
            return (long)i;
    fprintf(stderr, "ts_tamper: no message %llu in the source\n", (unsigned long long)seq);
    return -1;
}

static int cmd_copy(int argc, char **argv)
{
    const char *from_url = NULL, *from = NULL, *to_url = NULL, *to = NULL;
    uint64_t alters[MAX_EDITS], garbles[MAX_EDITS], drops[MAX_EDITS], swaps[MAX_EDITS][2];
    int n_alter = 0, n_garble = 0, n_drop = 0, n_swap = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--from") || !strcmp(a, "--to")) && i + 2 < argc) {
            *(a[2] == 'f' ? &from_url : &to_url) = argv[++i];
            *(a[2] == 'f' ? &from : &to) = argv[++i];
        } else if (!strcmp(a, "--alter") && i + 1 < argc && n_alter < MAX_EDITS) {
            alters[n_alter++] = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--garble") && i + 1 < argc && n_garble < MAX_EDITS) {
            garbles[n_garble++] = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--drop") && i + 1 < argc && n_drop < MAX_EDITS) {
            drops[n_drop++] = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--swap") && i + 1 < argc && n_swap < MAX_EDITS &&
                   sscanf(argv[i + 1], "%" SCNu64 ",%" SCNu64, &swaps[n_swap][0],
                          &swaps[n_swap][1]) == 2) {
            i++;
            n_swap++;
        } else {
            fprintf(stderr, "ts_tamper copy: bad option '%s'\n", a);
            return 2;
        }
    }
    if (!from || !to) {
        fprintf(stderr, "ts_tamper copy: --from URL STREAM and --to URL STREAM are required\n");
        return 2;
    }
    natsConnection *snc = NULL, *dnc = NULL;
    jsCtx *sjs = NULL, *djs = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    msg_t *v = NULL;
    size_t n = 0;
    int rc = 1;
    if (connect_js(from_url, &snc, &sjs) || connect_js(to_url, &dnc, &djs))
        goto done;
    natsStatus s = js_GetStreamInfo(&si, sjs, from, NULL, &jerr);
    if (s != NATS_OK) {
        fail(from, s, jerr);
        goto done;
    }
    uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    v = calloc(last + 1, sizeof(*v));
    for (uint64_t seq = 1; seq <= last; seq++) {
        natsMsg *m = NULL;
        s = js_GetMsg(&m, sjs, from, seq, NULL, &jerr);
        if (s == NATS_NOT_FOUND)
            continue; /* deleted in the source */
        if (s != NATS_OK) {
            fail("get", s, jerr);
            goto done;
        }
        v[n].seq = seq;
        v[n].subject = strdup(natsMsg_GetSubject(m));
        v[n].len = (size_t)natsMsg_GetDataLength(m);
        v[n].data = malloc(v[n].len ? v[n].len : 1);
        memcpy(v[n].data, natsMsg_GetData(m), v[n].len);
        n++;
        natsMsg_Destroy(m);
    }
    for (int k = 0; k < n_alter; k++) {
        long i = find(v, n, alters[k]);
        if (i < 0 || alter(&v[i]))
            goto done;
    }
    for (int k = 0; k < n_garble; k++) {
        long i = find(v, n, garbles[k]);
        if (i < 0 || v[i].len < 8)
            goto done;
        v[i].data[4] ^= 0xff; /* the file identifier "TSC1" */
    }
    for (int k = 0; k < n_swap; k++) {
        long i = find(v, n, swaps[k][0]), j = find(v, n, swaps[k][1]);
        if (i < 0 || j < 0)
            goto done;
        msg_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    for (int k = 0; k < n_drop; k++) {
        long i = find(v, n, drops[k]);
        if (i < 0)
            goto done;
        free(v[i].subject);
        free(v[i].data);
        memmove(&v[i], &v[i + 1], (n - (size_t)i - 1) * sizeof(*v));
        n--;
    }
    if (fresh_stream(djs, to, 0))
        goto done;
    printf("{\"copied\": %zu, \"map\": {", n);
    for (size_t i = 0; i < n; i++) {
        jsPubAck *ack = NULL;
        s = js_Publish(&ack, djs, v[i].subject, v[i].data, (int)v[i].len, NULL, &jerr);
        if (s != NATS_OK) {
            fail("publish", s, jerr);
            goto done;
        }
        printf("%s\"%llu\": %llu", i ? ", " : "", (unsigned long long)v[i].seq,
               (unsigned long long)ack->Sequence);
        jsPubAck_Destroy(ack);
    }
    printf("}}\n");
    rc = 0;
done:
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].subject);
        free(v[i].data);
    }
    free(v);
    disconnect(snc, sjs);
    disconnect(dnc, djs);
    return rc;
}

/* ---- snapshot ---- */

static int cmd_snapshot(int argc, char **argv)
{
    const char *data = NULL, *subject = NULL;
    long long format = -1, version = -1, last_seq = -1;
    int flip_state = 0, flip_hash = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--flip-state"))
            flip_state = 1;
        else if (!strcmp(a, "--flip-hash"))
            flip_hash = 1;
        else if (i + 1 >= argc)
            return fprintf(stderr, "ts_tamper snapshot: bad option '%s'\n", a), 2;
        else if (!strcmp(a, "--data"))
            data = argv[++i];
        else if (!strcmp(a, "--subject"))
            subject = argv[++i];
        else if (!strcmp(a, "--format-version"))
            format = atoll(argv[++i]);
        else if (!strcmp(a, "--version"))
            version = atoll(argv[++i]);
        else if (!strcmp(a, "--last-seq"))
            last_seq = atoll(argv[++i]);
        else
            return fprintf(stderr, "ts_tamper snapshot: bad option '%s'\n", a), 2;
    }
    if (!data || !subject)
        return fprintf(stderr, "ts_tamper snapshot: --data and --subject are required\n"), 2;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/engine", data);
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    MDB_val k = {strlen(subject), (void *)subject}, v;
    uint8_t *buf = NULL;
    int rc = mdb_env_create(&env);
    if (rc == 0) {
        mdb_env_set_maxdbs(env, 4);
        mdb_env_set_mapsize(env, (size_t)8 << 30);
        rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    }
    if (rc == 0)
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "snapshots", 0, &dbi);
    if (rc == 0)
        rc = mdb_get(txn, dbi, &k, &v);
    /* u32 format_version | u64 last_seq | u64 version | 32 bytes hash | state */
    if (rc == 0 && v.mv_size < 52) {
        fprintf(stderr, "ts_tamper: snapshot of %s too short\n", subject);
        rc = MDB_CORRUPTED;
    }
    if (rc == 0) {
        buf = malloc(v.mv_size);
        memcpy(buf, v.mv_data, v.mv_size);
        uint32_t f;
        uint64_t ls, ver;
        memcpy(&f, buf, 4);
        memcpy(&ls, buf + 4, 8);
        memcpy(&ver, buf + 12, 8);
        printf("{\"format_version\": %u, \"last_seq\": %llu, \"version\": %llu, \"state_len\": "
               "%zu}\n",
               f, (unsigned long long)ls, (unsigned long long)ver, v.mv_size - 52);
        if (format >= 0)
            f = (uint32_t)format;
        if (last_seq >= 0)
            ls = (uint64_t)last_seq;
        if (version >= 0)
            ver = (uint64_t)version;
        memcpy(buf, &f, 4);
        memcpy(buf + 4, &ls, 8);
        memcpy(buf + 12, &ver, 8);
        if (flip_hash)
            buf[20] ^= 0x01;
        if (flip_state && v.mv_size > 52)
            buf[v.mv_size - 1] ^= 0x01;
        MDB_val nv = {v.mv_size, buf};
        rc = mdb_put(txn, dbi, &k, &nv, 0);
    }
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    free(buf);
    if (rc != 0)
        fprintf(stderr, "ts_tamper snapshot: %s: %s\n", subject, mdb_strerror(rc));
    return rc ? 1 : 0;
}

/* ---- fill ---- */

typedef struct {
    char subject[64];
    uint64_t version;
    uint8_t hash[32];
} shard_t;

static void fill_event(evt_event_t *ev, const shard_t *sh, uint64_t k, uint64_t version, char *id,
                       size_t id_len)
{
    memset(ev, 0, sizeof(*ev));
    if (version == 1) {
        evt_inventory_opened_t *o = &ev->u.inventory_opened;
        ev->type = EVT_INVENTORY_OPENED;
        o->event_id = "bench";
        o->section = (evt_section_t){.key = sh->subject + strlen("tix.inv.bench."),
                                     .kind = EVT_STANDING,
                                     .capacity = 1u << 30};
        o->tier_key = "floor";
        o->price = (ts_money_t){1500, "EUR"};
        o->max_per_order = 4;
        o->hold_minutes = 20;
        return;
    }
    /* Even versions place a hold, odd ones release the one before. */
    snprintf(id, id_len, "bk-%llu-%llu", (unsigned long long)k,
             (unsigned long long)(version - (version % 2)));
    if (version % 2) {
        ev->type = EVT_HOLD_RELEASED;
        ev->u.hold_ended.booking_id = id;
        return;
    }
    evt_hold_placed_t *h = &ev->u.hold_placed;
    ev->type = EVT_HOLD_PLACED;
    h->booking_id = id;
    h->event_id = "bench";
    h->section = sh->subject + strlen("tix.inv.bench.");
    h->user_id = "bench-user";
    h->command_id = id;
    h->tier_key = "floor";
    h->quantity = 1;
    h->unit_price = (ts_money_t){1500, "EUR"};
    h->subtotal = h->total = 1500;
}

static int cmd_fill(int argc, char **argv)
{
    const char *url = NULL, *stream = NULL;
    uint64_t commits = 0, subjects = 100;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--nats"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--stream"))
            stream = argv[i + 1];
        else if (!strcmp(argv[i], "--commits"))
            commits = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--subjects"))
            subjects = strtoull(argv[i + 1], NULL, 10);
    }
    if (!url || !stream || !commits || !subjects)
        return fprintf(stderr, "ts_tamper fill: --nats, --stream, --commits are required\n"), 2;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    if (connect_js(url, &nc, &js) || fresh_stream(js, stream, 1))
        return disconnect(nc, js), 1;
    shard_t *sh = calloc(subjects, sizeof(*sh));
    for (uint64_t k = 0; k < subjects; k++)
        snprintf(sh[k].subject, sizeof(sh[k].subject), "tix.inv.bench.S%llu",
                 (unsigned long long)k);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    natsStatus s = NATS_OK;
    for (uint64_t i = 0; i < commits && s == NATS_OK; i++) {
        shard_t *x = &sh[i % subjects];
        char id[64];
        evt_event_t ev;
        evt_commit_t c = {.subject = x->subject,
                          .version = x->version + 1,
                          .command_id = "bench",
                          .correlation_id = "bench",
                          .actor = "bench",
                          .time = (int64_t)time(NULL) * 1000,
                          .n_events = 1,
                          .events = &ev};
        fill_event(&ev, x, i % subjects, c.version, id, sizeof(id));
        memcpy(c.prev_hash, x->hash, 32);
        ts_buf_t b;
        ts_buf_init(&b);
        if (evt_commit_encode(&c, &b) != TS_OK) {
            fprintf(stderr, "ts_tamper fill: encode failed\n");
            s = NATS_ERR;
        } else {
            s = js_PublishAsync(js, x->subject, b.data, (int)b.len, NULL);
            SHA256(b.data, b.len, x->hash);
            x->version++;
        }
        ts_buf_deinit(&b);
    }
    if (s == NATS_OK) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = 60000;
        s = js_PublishAsyncComplete(js, &po);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(sh);
    disconnect(nc, js);
    if (s != NATS_OK)
        return fail("fill", s, 0);
    printf("{\"commits\": %llu, \"seconds\": %.3f}\n", (unsigned long long)commits,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc >= 2 && !strcmp(argv[1], "copy"))
        rc = cmd_copy(argc, argv);
    else if (argc >= 2 && !strcmp(argv[1], "snapshot"))
        rc = cmd_snapshot(argc, argv);
    else if (argc >= 2 && !strcmp(argv[1], "fill"))
        rc = cmd_fill(argc, argv);
    else
        fprintf(stderr, "usage: ts_tamper copy|snapshot|fill ... (see the source)\n");
    nats_Close();
    return rc;
}
