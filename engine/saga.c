/* The saga runner (saga_int.h): durable pull consumers on the log, one
 * thread each, handling commits in order and acking what is done; and the
 * sagas of `turnstile serve` (eng_sagas_start). */
#include "engine/saga_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAGA_BATCH 256
#define SAGA_FETCH_WAIT_MS 500
#define SAGA_ACK_WAIT_NS (60LL * 1000 * 1000 * 1000)
#define SAGA_ACK_EVERY 64 /* handled commits between acks within a batch */
#define SAGA_DEFAULT_OFFER_MINUTES 15
#define SAGA_DEFAULT_NOTIFY_STREAM "NOTIFY"

struct eng_saga {
    eng_t *e;
    eng_saga_def_t def;
    char durable[80];
    pthread_t thread;
    int started;
    atomic_int stop;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    ts_arena_t arena;
    int said; /* a failure was logged; quiet until a session works */
};

static const char *nats_err(natsStatus s)
{
    const char *last = nats_GetLastError(NULL);
    return last && *last ? last : natsStatus_GetText(s);
}

static void nap(eng_saga_t *s, int ms)
{
    for (int slept = 0; slept < ms && !atomic_load(&s->stop); slept += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void session_end(eng_saga_t *s)
{
    natsSubscription_Destroy(s->sub);
    jsCtx_Destroy(s->js);
    if (s->nc) {
        /* The last acks go out before the connection does. */
        natsConnection_FlushTimeout(s->nc, 1000);
        natsConnection_Destroy(s->nc);
    }
    s->sub = NULL;
    s->js = NULL;
    s->nc = NULL;
}

/* Where the session starts: after the ack floor of the durable, or at the
 * end of the stream for a saga that never ran. */
static ts_status start_seq(eng_saga_t *s, uint64_t *start)
{
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    const char *stream = s->e->cfg.stream;
    natsStatus st = js_GetConsumerInfo(&ci, s->js, stream, s->durable, NULL, &jerr);
    if (st == NATS_OK) {
        *start = ci->AckFloor.Stream + 1;
        jsConsumerInfo_Destroy(ci);
        return TS_OK;
    }
    if (st != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        fprintf(stderr, "saga %s: consumer info: %s\n", s->def.name, nats_err(st));
        return TS_ERR_LOG;
    }
    st = js_GetStreamInfo(&si, s->js, stream, NULL, &jerr);
    if (st != NATS_OK) {
        fprintf(stderr, "saga %s: stream %s: %s\n", s->def.name, stream, nats_err(st));
        return TS_ERR_LOG;
    }
    *start = si->State.LastSeq + 1;
    jsStreamInfo_Destroy(si);
    return TS_OK;
}

static ts_status session_begin(eng_saga_t *s)
{
    natsOptions *opts = NULL;
    jsConsumerInfo *ci = NULL;
    jsConsumerConfig cc;
    jsSubOptions so;
    jsErrCode jerr = 0;
    uint64_t start = 0;
    ts_status rc = TS_ERR_UNAVAILABLE;
    natsStatus st = natsOptions_Create(&opts);
    if (st == NATS_OK)
        st = natsOptions_SetURL(opts, s->e->cfg.nats_url);
    if (st == NATS_OK)
        st = natsOptions_SetName(opts, s->durable);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(opts, -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(opts, 1000);
    if (st == NATS_OK)
        st = natsConnection_Connect(&s->nc, opts);
    natsOptions_Destroy(opts);
    if (st != NATS_OK) {
        if (!s->said)
            fprintf(stderr, "saga %s: cannot connect to NATS: %s\n", s->def.name, nats_err(st));
        return rc;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    if (natsConnection_JetStream(&s->js, s->nc, &jo) != NATS_OK)
        return TS_ERR_LOG;
    if ((rc = start_seq(s, &start)) != TS_OK)
        return rc;
    /* Recreated at the ack floor: nothing delivered to an earlier session
     * can come back out of order. */
    st = js_DeleteConsumer(s->js, s->e->cfg.stream, s->durable, NULL, &jerr);
    if (st != NATS_OK && st != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        fprintf(stderr, "saga %s: delete consumer: %s\n", s->def.name, nats_err(st));
        return TS_ERR_LOG;
    }
    jsConsumerConfig_Init(&cc);
    cc.Durable = s->durable;
    cc.AckPolicy = js_AckAll;
    cc.AckWait = SAGA_ACK_WAIT_NS;
    cc.MaxAckPending = 4 * SAGA_BATCH;
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = start;
    cc.FilterSubject = s->def.filter;
    st = js_AddConsumer(&ci, s->js, s->e->cfg.stream, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (st != NATS_OK) {
        fprintf(stderr, "saga %s: add consumer: %s\n", s->def.name, nats_err(st));
        return TS_ERR_LOG;
    }
    jsSubOptions_Init(&so);
    so.Stream = s->e->cfg.stream;
    so.Consumer = s->durable;
    st = js_PullSubscribe(&s->sub, s->js, NULL, s->durable, NULL, &so, &jerr);
    if (st != NATS_OK) {
        fprintf(stderr, "saga %s: pull subscribe: %s\n", s->def.name, nats_err(st));
        return TS_ERR_LOG;
    }
    if (s->said)
        fprintf(stderr, "saga %s: running again from seq %" PRIu64 "\n", s->def.name, start);
    s->said = 0;
    return TS_OK;
}

/* Handles one message; an undecodable commit is skipped (the log is the
 * truth and cannot be fixed; it must not stop the saga). */
static ts_status handle(eng_saga_t *s, natsMsg *msg)
{
    jsMsgMetaData *meta = NULL;
    evt_commit_t commit;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK)
        return TS_ERR_LOG;
    eng_saga_msg_t m = {.seq = meta->Sequence.Stream,
                        .subject = natsMsg_GetSubject(msg),
                        .commit = &commit,
                        .arena = &s->arena,
                        .js = s->js};
    jsMsgMetaData_Destroy(meta);
    ts_arena_reset(&s->arena);
    if (evt_commit_decode(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg), &s->arena,
                          &commit) != TS_OK) {
        fprintf(stderr, "saga %s: seq %" PRIu64 " on %s does not decode; skipped\n", s->def.name,
                m.seq, m.subject);
        return TS_OK;
    }
    ts_status rc = s->def.handle(s->def.ctx, &m);
    if (rc != TS_OK && !s->said) {
        fprintf(stderr, "saga %s: seq %" PRIu64 " on %s: %s; retrying\n", s->def.name, m.seq,
                m.subject, ts_status_str(rc));
        s->said = 1;
    }
    return rc;
}

/* Fetches and handles until stop or a failure. */
static ts_status pump(eng_saga_t *s)
{
    ts_status rc = TS_OK;
    while (rc == TS_OK && !atomic_load(&s->stop)) {
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        natsStatus st =
            natsSubscription_Fetch(&list, s->sub, SAGA_BATCH, SAGA_FETCH_WAIT_MS, &jerr);
        if (st == NATS_TIMEOUT)
            continue;
        if (st != NATS_OK) {
            if (!s->said)
                fprintf(stderr, "saga %s: fetch: %s\n", s->def.name, nats_err(st));
            s->said = 1;
            return TS_ERR_LOG;
        }
        natsMsg *done = NULL; /* the last handled message, not yet acked */
        for (int i = 0; i < list.Count && rc == TS_OK; i++) {
            rc = handle(s, list.Msgs[i]);
            if (rc != TS_OK)
                break;
            done = list.Msgs[i];
            /* AckAll: one ack covers everything before it. */
            if ((i + 1) % SAGA_ACK_EVERY == 0) {
                natsMsg_Ack(done, NULL);
                done = NULL;
            }
        }
        if (done)
            natsMsg_Ack(done, NULL);
        natsMsgList_Destroy(&list);
    }
    return rc;
}

static void *saga_main(void *arg)
{
    eng_saga_t *s = arg;
    while (!atomic_load(&s->stop)) {
        ts_status rc = session_begin(s);
        if (rc == TS_OK)
            rc = pump(s);
        else
            s->said = 1;
        session_end(s);
        if (!atomic_load(&s->stop))
            nap(s, 1000);
    }
    return NULL;
}

ts_status eng__saga_start(eng_t *e, const eng_saga_def_t *def, eng_saga_t **out)
{
    eng_saga_t *s = calloc(1, sizeof(*s));
    if (!s)
        return TS_ERR_NOMEM;
    s->e = e;
    s->def = *def;
    snprintf(s->durable, sizeof s->durable, "saga_%s", def->name);
    ts_arena_init(&s->arena, 64 * 1024);
    atomic_init(&s->stop, 0);
    if (pthread_create(&s->thread, NULL, saga_main, s) != 0) {
        ts_arena_deinit(&s->arena);
        free(s);
        return TS_ERR_NOMEM;
    }
    s->started = 1;
    *out = s;
    return TS_OK;
}

void eng__saga_stop(eng_saga_t *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, 1);
    if (s->started)
        pthread_join(s->thread, NULL);
    ts_arena_deinit(&s->arena);
    free(s);
}

/* ---- the sagas of serve ---- */

struct eng_sagas {
    eng_saga_waitlist_t *waitlist;
    eng_saga_notify_t *notify;
    eng_saga_t *runners[2];
};

ts_status eng_sagas_start(eng_t *e, const eng_sagas_config_t *cfg, eng_sagas_t **out)
{
    if (e->cfg.mode != ENG_MODE_SERVE)
        return TS_ERR_INVALID;
    const char *stream =
        cfg && cfg->notify_stream ? cfg->notify_stream : SAGA_DEFAULT_NOTIFY_STREAM;
    uint32_t offer = cfg && cfg->offer_minutes ? cfg->offer_minutes : SAGA_DEFAULT_OFFER_MINUTES;
    ts_status rc = eng__notify_stream_ensure(e->log.js, stream);
    if (rc != TS_OK)
        return rc;
    eng_sagas_t *s = calloc(1, sizeof(*s));
    if (!s)
        return TS_ERR_NOMEM;
    s->waitlist = eng__saga_waitlist_new(e, offer);
    s->notify = eng__saga_notify_new(e, stream);
    /* The waitlist saga reacts to inventory shards only; the notifications
     * come from shards, waitlists and events. */
    eng_saga_def_t defs[2] = {
        {.name = "waitlist",
         .filter = "tix.inv.>",
         .handle = eng__saga_waitlist_handle,
         .ctx = s->waitlist},
        {.name = "notify", .filter = NULL, .handle = eng__saga_notify_handle, .ctx = s->notify},
    };
    for (int i = 0; i < 2 && rc == TS_OK; i++)
        rc = eng__saga_start(e, &defs[i], &s->runners[i]);
    if (rc != TS_OK) {
        eng_sagas_stop(s);
        return rc;
    }
    *out = s;
    return TS_OK;
}

void eng_sagas_stop(eng_sagas_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < 2; i++)
        eng__saga_stop(s->runners[i]);
    eng__saga_waitlist_free(s->waitlist);
    eng__saga_notify_free(s->notify);
    free(s);
}
