/*
 * Sagas: durable pull consumers on the log that react to events by issuing
 * commands (DESIGN.md: "reactors consuming the stream and issuing
 * commands").
 *
 * One thread per saga fetches the commits of its filter in stream order
 * from the durable consumer saga_<name>, decodes each and hands it to the
 * saga's function, then acks it. A function that fails (the log or a lane
 * could not be reached) gets the same commit again, after a pause, until it
 * succeeds or the saga stops; an unacked commit is redelivered after a
 * restart. Delivery is therefore at least once and in order, which is why
 * every saga command is idempotent.
 *
 * The consumer lives in JetStream, so a saga resumes where it stopped; one
 * that never ran starts at the beginning of the log.
 */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAGA_BATCH 64
#define SAGA_FETCH_WAIT_MS 500
#define SAGA_RETRY_MS 500
#define SAGA_ACK_WAIT_NS (60LL * 1000 * 1000 * 1000)

struct eng_saga {
    eng_t *e;
    char *name;   /* saga_<name>: the durable */
    char *filter; /* subject filter, e.g. tix.inv.> */
    eng_saga_fn fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    int stopping; /* guarded by mu */
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    int said_error;
};

static int saga_stopping(eng_saga_t *s)
{
    pthread_mutex_lock(&s->mu);
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void nap(eng_saga_t *s, int ms)
{
    for (int slept = 0; slept < ms && !saga_stopping(s); slept += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void saga_close(eng_saga_t *s)
{
    natsSubscription_Destroy(s->sub);
    jsCtx_Destroy(s->js);
    natsConnection_Destroy(s->nc);
    s->sub = NULL;
    s->js = NULL;
    s->nc = NULL;
}

/* Connects and binds to (or creates) the durable consumer. */
static ts_status saga_open(eng_saga_t *s)
{
    natsOptions *opts = NULL;
    jsErrCode jerr = 0;
    natsStatus st = natsOptions_Create(&opts);
    if (st == NATS_OK)
        st = natsOptions_SetURL(opts, s->e->cfg.nats_url);
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
        saga_close(s);
        return TS_ERR_UNAVAILABLE;
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = s->e->cfg.stream;
    so.Config.Durable = s->name;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = SAGA_ACK_WAIT_NS;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.MaxAckPending = 1024;
    st = js_PullSubscribe(&s->sub, s->js, s->filter, s->name, NULL, &so, &jerr);
    if (st != NATS_OK) {
        if (!s->said_error)
            fprintf(stderr, "saga %s: cannot subscribe to %s: %s (%d); retrying\n", s->name,
                    s->filter, natsStatus_GetText(st), (int)jerr);
        s->said_error = 1;
        saga_close(s);
        return TS_ERR_LOG;
    }
    s->said_error = 0;
    return TS_OK;
}

/* Runs the saga's function on one message until it succeeds or the saga
 * stops. Returns 1 when the message may be acked. */
static int saga_handle(eng_saga_t *s, natsMsg *msg, ts_arena_t *arena)
{
    jsMsgMetaData *meta = NULL;
    uint64_t seq = 0;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    eng_log_msg_t m = {.seq = seq,
                       .subject = natsMsg_GetSubject(msg),
                       .data = natsMsg_GetData(msg),
                       .len = (size_t)natsMsg_GetDataLength(msg)};
    evt_commit_t c;
    ts_arena_reset(arena);
    if (evt_commit_decode(m.data, m.len, arena, &c) != TS_OK) {
        /* The log is the truth: a commit nobody can read is passed over. */
        fprintf(stderr, "saga %s: seq %llu on %s does not decode; skipped\n", s->name,
                (unsigned long long)seq, m.subject);
        return 1;
    }
    for (int attempt = 0;; attempt++) {
        ts_status st = s->fn(s->e, &m, &c, s->arg);
        if (st == TS_OK)
            return 1;
        if (attempt == 0)
            fprintf(stderr, "saga %s: seq %llu on %s: %s; retrying\n", s->name,
                    (unsigned long long)seq, m.subject, ts_status_str(st));
        if (saga_stopping(s))
            return 0;
        nap(s, SAGA_RETRY_MS);
    }
}

static void *saga_main(void *arg)
{
    eng_saga_t *s = arg;
    ts_arena_t arena;
    ts_arena_init(&arena, 1 << 16);
    while (!saga_stopping(s)) {
        if (!s->sub && saga_open(s) != TS_OK) {
            nap(s, 1000);
            continue;
        }
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        natsStatus st =
            natsSubscription_Fetch(&list, s->sub, SAGA_BATCH, SAGA_FETCH_WAIT_MS, &jerr);
        if (st == NATS_TIMEOUT)
            continue;
        if (st != NATS_OK) {
            fprintf(stderr, "saga %s: fetch: %s; reconnecting\n", s->name, natsStatus_GetText(st));
            saga_close(s);
            nap(s, 1000);
            continue;
        }
        for (int i = 0; i < list.Count; i++) {
            /* A message not acked (the saga stops) comes back after a
             * restart: nothing is lost, and the commands are idempotent. */
            if (saga_stopping(s) || !saga_handle(s, list.Msgs[i], &arena))
                break;
            natsMsg_Ack(list.Msgs[i], NULL);
        }
        natsMsgList_Destroy(&list);
    }
    ts_arena_deinit(&arena);
    saga_close(s);
    return NULL;
}

ts_status eng_saga_start(eng_t *e, const char *name, const char *filter, eng_saga_fn fn, void *arg,
                         eng_saga_t **out)
{
    if (!e || e->cfg.mode != ENG_MODE_SERVE || !name || !filter || !fn)
        return TS_ERR_INVALID;
    eng_saga_t *s = calloc(1, sizeof(*s));
    if (!s)
        return TS_ERR_NOMEM;
    s->e = e;
    size_t n = strlen(name) + 6;
    s->name = malloc(n);
    s->filter = strdup(filter);
    if (!s->name || !s->filter) {
        free(s->name);
        free(s->filter);
        free(s);
        return TS_ERR_NOMEM;
    }
    snprintf(s->name, n, "saga_%s", name);
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, saga_main, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s->name);
        free(s->filter);
        free(s);
        return TS_ERR_NOMEM;
    }
    *out = s;
    return TS_OK;
}

void eng_saga_stop(eng_saga_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    free(s->name);
    free(s->filter);
    free(s);
}
