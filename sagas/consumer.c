/*
 * The saga runner: one thread, one NATS connection, one durable pull
 * consumer. A session connects, makes sure the durable exists (created
 * delivering from the start of the stream, so a saga added to a running
 * installation catches up on its history, which idempotent handlers make
 * harmless; or from its end, from_end), binds to it and fetches; any error
 * ends the session and the next starts a second later. An ordered saga's
 * session recreates the durable at its ack floor + 1 first (sagas.h).
 */
#include "events/codec.h"
#include "sagas/sagas.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAGA_ACK_WAIT_NS (10LL * 1000 * 1000 * 1000)
#define SAGA_FETCH 16
#define SAGA_FETCH_WAIT_MS 500
#define SAGA_RETRY_DELAY_MS 1000
/* Ordered sagas: bigger batches (they see every commit of their subjects),
 * one cumulative ack per SAGA_ORDERED_ACK_EVERY handled commits at most. */
#define SAGA_ORDERED_FETCH 256
#define SAGA_ORDERED_ACK_EVERY 64
#define SAGA_ORDERED_ACK_WAIT_NS (30LL * 1000 * 1000 * 1000)
/* After a fetch that did not fill its batch, a saga waits this long before
 * the next: commits that come meanwhile arrive in one fetch (and, for an
 * ordered saga, one ack) instead of one each. A saga's reaction is no
 * time-critical answer; NATS's work per commit is. At 100 holds a second
 * (seatmap.sh's background) the three sagas sent about 490 fetches a second,
 * one per commit each. */
#define SAGA_LINGER_MS 20

struct saga {
    char *nats_url, *stream, *name, *filter;
    saga_handler_t handler;
    void (*on_start)(saga_t *s, void *arg);
    void *arg;
    void (*arg_free)(void *arg);
    int ordered, from_end;
    atomic_int stop;
    atomic_int bound; /* a session got as far as its subscription */
    pthread_t thread;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    natsMsg *current; /* being handled (saga_progress) */
    int said_down;
};

int saga_stopping(const saga_t *s)
{
    return atomic_load(&((saga_t *)s)->stop);
}

void saga_progress(saga_t *s)
{
    if (s->current)
        natsMsg_InProgress(s->current, NULL);
}

static void nap(saga_t *s, int ms)
{
    for (int slept = 0; slept < ms && !saga_stopping(s); slept += 50) {
        int step = ms - slept < 50 ? ms - slept : 50;
        struct timespec ts = {0, step * 1000L * 1000};
        nanosleep(&ts, NULL);
    }
}

/* SAGA_LINGER_MS after a fetch of got commits that left room for more. */
static void linger(saga_t *s, int got, int batch)
{
    if (got > 0 && got < batch)
        nap(s, SAGA_LINGER_MS);
}

static void session_end(saga_t *s)
{
    /* The last acks go out before the connection does. The connection is
     * closed before the subscription is destroyed: closing joins its
     * reading thread, which in nats.c 3.4 may still be handing a message
     * to a subscription another thread destroys (nats.c issue 637; seen
     * here as a crash of serve at SIGTERM under ASan). */
    if (s->nc) {
        natsConnection_FlushTimeout(s->nc, 1000);
        natsConnection_Close(s->nc);
    }
    natsSubscription_Destroy(s->sub);
    jsCtx_Destroy(s->js);
    natsConnection_Destroy(s->nc);
    s->sub = NULL;
    s->js = NULL;
    s->nc = NULL;
}

/* An ordered saga's durable, recreated to deliver from its ack floor + 1
 * (or, made for the first time, from the start or the end of the stream):
 * nothing delivered to an earlier session comes back out of order. */
static natsStatus recreate_ordered(saga_t *s)
{
    jsErrCode jerr = 0;
    jsConsumerInfo *ci = NULL;
    jsStreamInfo *si = NULL;
    uint64_t start = 1;
    natsStatus st = js_GetConsumerInfo(&ci, s->js, s->stream, s->name, NULL, &jerr);
    if (st == NATS_OK) {
        start = ci->AckFloor.Stream + 1;
        jsConsumerInfo_Destroy(ci);
        ci = NULL;
        st = js_DeleteConsumer(s->js, s->stream, s->name, NULL, &jerr);
    } else if (st == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
        st = js_GetStreamInfo(&si, s->js, s->stream, NULL, &jerr);
        if (st == NATS_OK && s->from_end)
            start = si->State.LastSeq + 1;
        jsStreamInfo_Destroy(si);
    }
    if (st != NATS_OK)
        return st;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = s->name;
    cc.FilterSubject = s->filter;
    cc.AckPolicy = js_AckAll;
    cc.AckWait = SAGA_ORDERED_ACK_WAIT_NS;
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = start;
    cc.MaxAckPending = 4 * SAGA_ORDERED_FETCH;
    st = js_AddConsumer(&ci, s->js, s->stream, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    return st;
}

static ts_status session_begin(saga_t *s)
{
    natsOptions *opts = NULL;
    jsErrCode jerr = 0;
    jsConsumerInfo *ci = NULL;
    natsStatus st = natsOptions_Create(&opts);
    if (st == NATS_OK)
        st = natsOptions_SetURL(opts, s->nats_url);
    if (st == NATS_OK)
        st = natsOptions_SetName(opts, s->name);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(opts, -1);
    if (st == NATS_OK)
        st = natsConnection_Connect(&s->nc, opts);
    natsOptions_Destroy(opts);
    if (st == NATS_OK)
        st = natsConnection_JetStream(&s->js, s->nc, NULL);
    if (st != NATS_OK) {
        if (!s->said_down)
            fprintf(stderr, "saga %s: cannot reach NATS at %s: %s; retrying\n", s->name,
                    s->nats_url, natsStatus_GetText(st));
        s->said_down = 1;
        return TS_ERR_UNAVAILABLE;
    }
    if (s->ordered) {
        st = recreate_ordered(s);
        if (st != NATS_OK) {
            if (!s->said_down)
                fprintf(stderr, "saga %s: cannot recreate the consumer: %s (%d)\n", s->name,
                        natsStatus_GetText(st), (int)jerr);
            s->said_down = 1;
            return TS_ERR_LOG;
        }
    }
    st = s->ordered ? NATS_OK : js_GetConsumerInfo(&ci, s->js, s->stream, s->name, NULL, &jerr);
    if (st != NATS_OK) {
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = s->name;
        cc.FilterSubject = s->filter;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = SAGA_ACK_WAIT_NS;
        cc.DeliverPolicy = s->from_end ? js_DeliverNew : js_DeliverAll;
        cc.MaxAckPending = 64;
        st = js_AddConsumer(&ci, s->js, s->stream, &cc, NULL, &jerr);
        /* Another serve may have made it meanwhile: the bind below then
         * finds theirs, or fails and says why. */
        if (st != NATS_OK)
            fprintf(stderr, "saga %s: creating the consumer: %s (%d)\n", s->name,
                    natsStatus_GetText(st), (int)jerr);
    }
    jsConsumerInfo_Destroy(ci);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = s->stream;
    so.Consumer = s->name;
    st = js_PullSubscribe(&s->sub, s->js, s->filter, s->name, NULL, &so, &jerr);
    if (st != NATS_OK) {
        fprintf(stderr, "saga %s: cannot bind to the consumer: %s (%d)\n", s->name,
                natsStatus_GetText(st), (int)jerr);
        return TS_ERR_LOG;
    }
    if (s->said_down)
        fprintf(stderr, "saga %s: consuming %s\n", s->name, s->filter);
    s->said_down = 0;
    atomic_store(&s->bound, 1);
    return TS_OK;
}

/* Handles one message; acks, naks or terminates it. */
static void handle(saga_t *s, natsMsg *m, ts_arena_t *arena)
{
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    evt_commit_t c;
    ts_arena_reset(arena);
    if (evt_commit_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), arena, &c) !=
        TS_OK) {
        /* The log is the truth and cannot be fixed: never retry it. */
        fprintf(stderr, "saga %s: seq %llu does not decode; skipped\n", s->name,
                (unsigned long long)seq);
        natsMsg_Term(m, NULL);
        return;
    }
    s->current = m;
    ts_status rc = s->handler(s, &c, seq, s->arg);
    s->current = NULL;
    if (rc == TS_OK) {
        natsMsg_Ack(m, NULL);
        return;
    }
    if (!saga_stopping(s))
        fprintf(stderr, "saga %s: seq %llu: %s; retrying later\n", s->name, (unsigned long long)seq,
                ts_status_str(rc));
    natsMsg_NakWithDelay(m, SAGA_RETRY_DELAY_MS, NULL);
}

/* An ordered session's batches: handled in order, acked cumulatively as
 * far as handled; a failure ends the session (sagas.h). */
static ts_status pump_ordered(saga_t *s, ts_arena_t *arena)
{
    while (!saga_stopping(s)) {
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        natsStatus st =
            natsSubscription_Fetch(&list, s->sub, SAGA_ORDERED_FETCH, SAGA_FETCH_WAIT_MS, &jerr);
        if (st == NATS_TIMEOUT)
            continue;
        if (st != NATS_OK) {
            fprintf(stderr, "saga %s: fetch: %s\n", s->name, natsStatus_GetText(st));
            return TS_ERR_LOG;
        }
        ts_status rc = TS_OK;
        natsMsg *done = NULL; /* handled, not yet acked */
        for (int i = 0; i < list.Count && rc == TS_OK && !saga_stopping(s); i++) {
            natsMsg *m = list.Msgs[i];
            jsMsgMetaData *meta = NULL;
            uint64_t seq = 0;
            if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
                seq = meta->Sequence.Stream;
                jsMsgMetaData_Destroy(meta);
            }
            evt_commit_t c;
            ts_arena_reset(arena);
            if (evt_commit_decode(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), arena,
                                  &c) != TS_OK) {
                /* The log is the truth and cannot be fixed: never retry it. */
                fprintf(stderr, "saga %s: seq %llu does not decode; skipped\n", s->name,
                        (unsigned long long)seq);
            } else {
                s->current = m;
                rc = s->handler(s, &c, seq, s->arg);
                s->current = NULL;
                if (rc != TS_OK) {
                    if (!saga_stopping(s))
                        fprintf(stderr, "saga %s: seq %llu: %s; retrying from it\n", s->name,
                                (unsigned long long)seq, ts_status_str(rc));
                    break;
                }
            }
            done = m;
            if ((i + 1) % SAGA_ORDERED_ACK_EVERY == 0) {
                natsMsg_Ack(done, NULL); /* AckAll: covers every earlier one */
                done = NULL;
            }
        }
        if (done)
            natsMsg_Ack(done, NULL);
        int got = list.Count;
        natsMsgList_Destroy(&list);
        if (rc != TS_OK)
            return rc;
        linger(s, got, SAGA_ORDERED_FETCH);
    }
    return TS_OK;
}

static void *saga_main(void *arg)
{
    saga_t *s = arg;
    ts_arena_t arena;
    ts_arena_init(&arena, 16384);
    if (s->on_start)
        s->on_start(s, s->arg);
    while (!saga_stopping(s)) {
        if (session_begin(s) != TS_OK) {
            session_end(s);
            nap(s, 1000);
            continue;
        }
        if (s->ordered) {
            pump_ordered(s, &arena);
            session_end(s);
            nap(s, 1000);
            continue;
        }
        while (!saga_stopping(s)) {
            natsMsgList list = {0};
            jsErrCode jerr = 0;
            natsStatus st =
                natsSubscription_Fetch(&list, s->sub, SAGA_FETCH, SAGA_FETCH_WAIT_MS, &jerr);
            if (st == NATS_TIMEOUT)
                continue;
            if (st != NATS_OK) {
                fprintf(stderr, "saga %s: fetch: %s\n", s->name, natsStatus_GetText(st));
                break;
            }
            for (int i = 0; i < list.Count; i++) {
                if (saga_stopping(s)) {
                    /* Unhandled: back to the server for the next serve. */
                    natsMsg_Nak(list.Msgs[i], NULL);
                    continue;
                }
                handle(s, list.Msgs[i], &arena);
            }
            int got = list.Count;
            natsMsgList_Destroy(&list);
            linger(s, got, SAGA_FETCH);
        }
        session_end(s);
        nap(s, 1000);
    }
    ts_arena_deinit(&arena);
    return NULL;
}

static void saga_free(saga_t *s)
{
    free(s->nats_url);
    free(s->stream);
    free(s->name);
    free(s->filter);
    free(s);
}

ts_status saga_start(const saga_config_t *cfg, saga_t **out)
{
    if (!cfg || !cfg->nats_url || !cfg->name || !cfg->filter || !cfg->handler)
        return TS_ERR_INVALID;
    saga_t *s = calloc(1, sizeof(*s));
    if (!s)
        return TS_ERR_NOMEM;
    s->nats_url = strdup(cfg->nats_url);
    s->stream = strdup(cfg->stream ? cfg->stream : "TICKETS");
    s->name = strdup(cfg->name);
    s->filter = strdup(cfg->filter);
    s->handler = cfg->handler;
    s->on_start = cfg->on_start;
    s->arg = cfg->arg;
    s->arg_free = cfg->arg_free;
    s->ordered = cfg->ordered;
    s->from_end = cfg->from_end;
    if (!s->nats_url || !s->stream || !s->name || !s->filter ||
        pthread_create(&s->thread, NULL, saga_main, s) != 0) {
        saga_free(s);
        return TS_ERR_NOMEM;
    }
    /* A durable made "from the end" takes the end as of its creation: wait
     * (a little) until it exists, so that what the caller appends next is
     * after its start, not before. */
    for (int waited = 0; s->from_end && !atomic_load(&s->bound) && waited < 5000; waited += 10) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    *out = s;
    return TS_OK;
}

void saga_stop(saga_t *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    if (s->arg_free)
        s->arg_free(s->arg);
    saga_free(s);
}

ts_status saga_publish(saga_t *s, const char *stream, const char *subject, const char *msg_id,
                       const void *data, size_t len)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    po.ExpectStream = stream;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    natsStatus st = s->js ? js_Publish(&ack, s->js, subject, data, (int)len, &po, &jerr)
                          : NATS_CONNECTION_CLOSED;
    jsPubAck_Destroy(ack);
    if (st != NATS_OK) {
        fprintf(stderr, "saga %s: publish on %s: %s (%d)\n", s->name, subject,
                natsStatus_GetText(st), (int)jerr);
        return TS_ERR_UNAVAILABLE;
    }
    return TS_OK;
}
