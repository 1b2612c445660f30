/* The durable pull consumer shared by the projectors (proj_int.h): connect,
 * wait for the stream, recreate the durable at checkpoint + 1, fetch in
 * stream order; and the prefetcher that fetches a backlog on a thread of
 * its own while the caller folds what came before. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROJ_ACK_WAIT_NS (30LL * 1000 * 1000 * 1000)
#define PROJ_MAX_ACK_PENDING 100000

int proj__stopping(volatile int *stop)
{
    return *stop != 0;
}

void proj__nap(volatile int *stop, int ms)
{
    for (int slept = 0; slept < ms && !proj__stopping(stop); slept += 50) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static const char *nats_err(natsStatus s)
{
    const char *last = nats_GetLastError(NULL);
    return last && *last ? last : natsStatus_GetText(s);
}

ts_status proj__consumer_connect(proj__consumer_t *c, uint64_t checkpoint)
{
    natsOptions *opts = NULL;
    natsStatus s;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;

    s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(opts, c->nats_url);
    if (s == NATS_OK)
        s = natsOptions_SetName(opts, c->client_name);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 1000);
    if (s == NATS_OK)
        s = natsConnection_Connect(&c->nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        if (!c->said_nats)
            proj__log("cannot connect to NATS at %s: %s; retrying every second", c->nats_url,
                      nats_err(s));
        c->said_nats = 1;
        return TS_ERR_UNAVAILABLE;
    }
    c->said_nats = 0;
    s = natsConnection_JetStream(&c->js, c->nc, NULL);
    if (s != NATS_OK)
        return TS_ERR_LOG;

    /* The engine creates the stream; until it does, wait for it. */
    for (;;) {
        s = js_GetStreamInfo(&si, c->js, c->stream, NULL, &jerr);
        if (s == NATS_OK)
            break;
        if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
            proj__log("stream %s: %s", c->stream, nats_err(s));
            return TS_ERR_LOG;
        }
        if (!c->said_stream)
            proj__log("stream %s does not exist yet; waiting for it", c->stream);
        c->said_stream = 1;
        proj__nap(c->stop, 1000);
        if (proj__stopping(c->stop))
            return TS_ERR_SHUTDOWN;
    }
    c->said_stream = 0;
    c->head = si->State.LastSeq;
    if (si->State.LastSeq < checkpoint)
        proj__log("%s: checkpoint %" PRIu64 " is past the end of stream %s (%" PRIu64
                  "): was the checkpoint made from another stream?",
                  c->what, checkpoint, c->stream, si->State.LastSeq);
    jsStreamInfo_Destroy(si);
    return TS_OK;
}

ts_status proj__consumer_subscribe(proj__consumer_t *c, uint64_t from)
{
    natsStatus s;
    jsErrCode jerr = 0;
    jsConsumerInfo *ci = NULL;
    jsConsumerConfig cc;
    jsSubOptions so;

    /* Recreate the durable: the checkpoint, not the consumer's ack floor,
     * says what was done, and a fresh consumer has no messages pending from
     * an earlier session that could come back out of order. */
    s = js_DeleteConsumer(c->js, c->stream, c->durable, NULL, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        proj__log("delete consumer %s: %s", c->durable, nats_err(s));
        return TS_ERR_LOG;
    }
    jsConsumerConfig_Init(&cc);
    cc.Durable = c->durable;
    /* AckAll: messages handled in stream order, one ack of the last one
     * covers everything before it. */
    cc.AckPolicy = c->ack_all ? js_AckAll : js_AckExplicit;
    cc.AckWait = c->ack_wait_ns ? c->ack_wait_ns : PROJ_ACK_WAIT_NS;
    cc.MaxAckPending = c->max_ack_pending ? c->max_ack_pending : PROJ_MAX_ACK_PENDING;
    cc.DeliverPolicy = js_DeliverAll;
    if (from > 1) {
        cc.DeliverPolicy = js_DeliverByStartSequence;
        cc.OptStartSeq = from;
    }
    s = js_AddConsumer(&ci, c->js, c->stream, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        proj__log("add consumer %s: %s", c->durable, nats_err(s));
        return TS_ERR_LOG;
    }
    jsSubOptions_Init(&so);
    so.Stream = c->stream;
    so.Consumer = c->durable;
    s = js_PullSubscribe(&c->sub, c->js, NULL, c->durable, NULL, &so, &jerr);
    if (s != NATS_OK) {
        proj__log("pull subscribe %s: %s", c->durable, nats_err(s));
        return TS_ERR_LOG;
    }
    /* A big fetch (tens of thousands of messages) may be past the default
     * limits of what a subscription buffers (65,536 messages, 64 MB): the
     * fetch itself bounds it. */
    if (c->unlimited_pending)
        natsSubscription_SetPendingLimits(c->sub, -1, -1);
    c->fresh = 1;
    proj__log("%s reading stream %s from seq %" PRIu64, c->what, c->stream, from ? from : 1);
    return TS_OK;
}

ts_status proj__consumer_open(proj__consumer_t *c, uint64_t checkpoint)
{
    ts_status rc = proj__consumer_connect(c, checkpoint);
    return rc == TS_OK ? proj__consumer_subscribe(c, checkpoint + 1) : rc;
}

void proj__consumer_close(proj__consumer_t *c)
{
    /* Closed first: that joins the connection's reading thread, which could
     * otherwise still hand a message to the subscription destroyed below
     * (nats.c 3.4, issue 637). Close sends what is buffered (acks) first. */
    if (c->nc)
        natsConnection_Close(c->nc);
    natsSubscription_Destroy(c->sub);
    jsCtx_Destroy(c->js);
    natsConnection_Destroy(c->nc);
    c->sub = NULL;
    c->js = NULL;
    c->nc = NULL;
}

ts_status proj__consumer_fetch(proj__consumer_t *c, int max, int wait_ms, uint64_t checkpoint,
                               natsMsgList *list, proj__msg_t *out, int *n, int *gap,
                               uint64_t *pending)
{
    jsErrCode jerr = 0;
    *n = 0;
    *gap = 0;
    if (pending)
        *pending = 0;
    natsStatus s = natsSubscription_Fetch(list, c->sub, max, wait_ms, &jerr);
    if (s == NATS_TIMEOUT)
        return TS_OK; /* nothing new: normal */
    if (s != NATS_OK) {
        proj__log("fetch: %s", nats_err(s));
        return TS_ERR_LOG;
    }
    /* Keep the prefix that is in order (see "Order" in proj_int.h). */
    uint64_t expect = checkpoint + 1;
    for (int i = 0; i < list->Count && *n < max; i++) {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, list->Msgs[i]) != NATS_OK)
            return TS_ERR_LOG;
        uint64_t seq = meta->Sequence.Stream;
        int64_t ns = meta->Timestamp;
        if (pending)
            *pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
        if (seq < expect && c->drop_old)
            continue;
        if (seq > expect && !c->fresh) {
            proj__log("seq %" PRIu64 " arrived while %" PRIu64
                      " was expected; restarting from the checkpoint",
                      seq, expect);
            *gap = 1;
            break;
        }
        c->fresh = 0;
        out[*n] = (proj__msg_t){.msg = list->Msgs[i], .seq = seq, .ns = ns};
        (*n)++;
        if (seq >= expect)
            expect = seq + 1;
    }
    return TS_OK;
}

/* ---- the prefetcher ---- */

#define PREFETCH_SLOTS PROJ_PREFETCH_SLOTS

struct proj__prefetch {
    proj__consumer_t *c;
    int want, wait_ms;
    uint64_t limit;
    uint64_t expect; /* the next sequence (the thread's) */
    uint64_t fetched;
    proj__msg_t *msgs;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    proj__chunk_t slot[PREFETCH_SLOTS];
    int ready[PREFETCH_SLOTS]; /* filled, not yet handed out */
    int busy[PREFETCH_SLOTS];  /* handed out, not yet released */
    int next_fill, next_out;
    int done; /* the thread delivered its last chunk */
    int quit; /* asked to stop */
};

/* Copies the messages of one fetch into a chunk (fetch by fetch, the list
 * is destroyed before the next fetch: see "one fetch at a time" in
 * projector.c). */
static void fill_chunk(proj__chunk_t *ch, const proj__msg_t *msgs, int n)
{
    ts_arena_reset(&ch->mem);
    ch->n = 0;
    ch->reply = NULL;
    for (int i = 0; i < n; i++) {
        natsMsg *m = msgs[i].msg;
        size_t len = (size_t)natsMsg_GetDataLength(m);
        ch->items[ch->n++] =
            (proj__item_t){.seq = msgs[i].seq,
                           .subject = ts_arena_strdup(&ch->mem, natsMsg_GetSubject(m)),
                           .data = ts_arena_memdup(&ch->mem, natsMsg_GetData(m), len),
                           .len = len};
    }
    if (n > 0 && natsMsg_GetReply(msgs[n - 1].msg))
        ch->reply = ts_arena_strdup(&ch->mem, natsMsg_GetReply(msgs[n - 1].msg));
}

static void *prefetch_main(void *arg)
{
    proj__prefetch_t *p = arg;
    int last = 0;
    while (!last) {
        pthread_mutex_lock(&p->mu);
        while (!p->quit && (p->ready[p->next_fill] || p->busy[p->next_fill]))
            pthread_cond_wait(&p->cv, &p->mu);
        int quit = p->quit;
        pthread_mutex_unlock(&p->mu);
        if (quit)
            break;
        proj__chunk_t *ch = &p->slot[p->next_fill];
        natsMsgList list = {0};
        int n = 0;
        ch->gap = 0;
        ch->pending = 0;
        ch->rc = proj__consumer_fetch(p->c, p->want, p->wait_ms, p->expect - 1, &list, p->msgs, &n,
                                      &ch->gap, &ch->pending);
        if (ch->rc == TS_OK)
            fill_chunk(ch, p->msgs, n);
        else
            ch->n = 0;
        natsMsgList_Destroy(&list);
        if (ch->n > 0)
            p->expect = ch->items[ch->n - 1].seq + 1;
        p->fetched += (uint64_t)ch->n;
        last = ch->rc != TS_OK || ch->n == 0 || ch->pending == 0 || ch->gap ||
               (p->limit && p->fetched >= p->limit) || proj__stopping(p->c->stop);
        ch->last = last;
        pthread_mutex_lock(&p->mu);
        p->ready[p->next_fill] = 1;
        p->next_fill = (p->next_fill + 1) % PREFETCH_SLOTS;
        if (last)
            p->done = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ts_status proj__prefetch_start(proj__consumer_t *c, int want, int wait_ms, uint64_t checkpoint,
                               uint64_t limit, proj__prefetch_t **out)
{
    proj__prefetch_t *p = calloc(1, sizeof *p);
    if (!p)
        return TS_ERR_NOMEM;
    p->c = c;
    p->want = want;
    p->wait_ms = wait_ms;
    p->limit = limit;
    p->expect = checkpoint + 1;
    p->msgs = calloc((size_t)want, sizeof *p->msgs);
    int ok = p->msgs != NULL;
    for (int i = 0; i < PREFETCH_SLOTS; i++) {
        ts_arena_init(&p->slot[i].mem, 1 << 20);
        p->slot[i].items = calloc((size_t)want, sizeof *p->slot[i].items);
        ok = ok && p->slot[i].items;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (!ok || pthread_create(&p->thread, NULL, prefetch_main, p) != 0) {
        p->done = 1; /* no thread to join */
        p->quit = 1;
        proj__prefetch_stop(p);
        return TS_ERR_NOMEM;
    }
    *out = p;
    return TS_OK;
}

proj__chunk_t *proj__prefetch_next(proj__prefetch_t *p)
{
    proj__chunk_t *ch = NULL;
    pthread_mutex_lock(&p->mu);
    while (!p->ready[p->next_out] && !p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->ready[p->next_out]) {
        ch = &p->slot[p->next_out];
        p->ready[p->next_out] = 0;
        p->busy[p->next_out] = 1;
        p->next_out = (p->next_out + 1) % PREFETCH_SLOTS;
    }
    pthread_mutex_unlock(&p->mu);
    return ch;
}

void proj__prefetch_release(proj__prefetch_t *p, proj__chunk_t *ch)
{
    pthread_mutex_lock(&p->mu);
    p->busy[ch - p->slot] = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void proj__prefetch_stop(proj__prefetch_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    int joinable = !p->quit;
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    /* A fetch under way ends within its wait. */
    if (joinable)
        pthread_join(p->thread, NULL);
    for (int i = 0; i < PREFETCH_SLOTS; i++) {
        ts_arena_deinit(&p->slot[i].mem);
        free(p->slot[i].items);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->msgs);
    free(p);
}
