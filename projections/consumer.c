/* The durable pull consumer shared by the projectors (proj_int.h): connect,
 * wait for the stream, recreate the durable at checkpoint + 1, fetch in
 * stream order. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdlib.h>
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

ts_status proj__consumer_open(proj__consumer_t *c, uint64_t checkpoint)
{
    natsOptions *opts = NULL;
    natsStatus s;
    jsErrCode jerr = 0;
    jsStreamInfo *si = NULL;
    jsConsumerInfo *ci = NULL;
    jsConsumerConfig cc;
    jsSubOptions so;

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
    if (si->State.LastSeq < checkpoint)
        proj__log("%s: checkpoint %" PRIu64 " is past the end of stream %s (%" PRIu64
                  "): was the checkpoint made from another stream?",
                  c->what, checkpoint, c->stream, si->State.LastSeq);
    jsStreamInfo_Destroy(si);

    /* Recreate the durable at checkpoint + 1: the checkpoint, not the
     * consumer's ack floor, says what was done, and a fresh consumer has no
     * messages pending from an earlier session that could come back out of
     * order. */
    s = js_DeleteConsumer(c->js, c->stream, c->durable, NULL, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr) {
        proj__log("delete consumer %s: %s", c->durable, nats_err(s));
        return TS_ERR_LOG;
    }
    jsConsumerConfig_Init(&cc);
    cc.Durable = c->durable;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = PROJ_ACK_WAIT_NS;
    cc.MaxAckPending = PROJ_MAX_ACK_PENDING;
    cc.DeliverPolicy = js_DeliverAll;
    if (checkpoint > 0) {
        cc.DeliverPolicy = js_DeliverByStartSequence;
        cc.OptStartSeq = checkpoint + 1;
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
    c->fresh = 1;
    proj__log("%s reading stream %s from seq %" PRIu64, c->what, c->stream, checkpoint + 1);
    return TS_OK;
}

void proj__consumer_close(proj__consumer_t *c)
{
    natsSubscription_Destroy(c->sub);
    jsCtx_Destroy(c->js);
    natsConnection_Destroy(c->nc);
    c->sub = NULL;
    c->js = NULL;
    c->nc = NULL;
}

ts_status proj__consumer_fetch(proj__consumer_t *c, int max, int wait_ms, uint64_t checkpoint,
                               natsMsgList *list, proj__msg_t *out, int *n, int *gap)
{
    jsErrCode jerr = 0;
    *n = 0;
    *gap = 0;
    natsStatus s = natsSubscription_Fetch(list, c->sub, max, wait_ms, &jerr);
    if (s == NATS_TIMEOUT)
        return TS_OK; /* nothing new: normal */
    if (s != NATS_OK) {
        proj__log("fetch: %s", nats_err(s));
        return TS_ERR_LOG;
    }
    /* Keep the prefix that is in order (see "Order" in proj_int.h). */
    uint64_t expect = checkpoint + 1;
    for (int i = 0; i < list->Count; i++) {
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, list->Msgs[i]) != NATS_OK)
            return TS_ERR_LOG;
        uint64_t seq = meta->Sequence.Stream;
        int64_t ns = meta->Timestamp;
        jsMsgMetaData_Destroy(meta);
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
