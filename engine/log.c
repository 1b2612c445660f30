/* The JetStream adapter: the stream, appends with expected sequence, reads
 * (direct gets for single commits, an ordered consumer for long ranges). */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ts_status from_nats(natsStatus s)
{
    switch (s) {
    case NATS_OK:
        return TS_OK;
    case NATS_TIMEOUT:
        return TS_ERR_TIMEOUT;
    case NATS_NOT_FOUND:
        return TS_ERR_NOT_FOUND;
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
        return TS_ERR_UNAVAILABLE;
    default:
        return TS_ERR_LOG;
    }
}

static ts_status ensure_stream(eng_log_t *log, int create)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, log->js, log->stream, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return TS_OK;
    }
    if (!create) {
        /* A reader must not create an empty log where it expected one. */
        fprintf(stderr, "engine: no stream %s: %s\n", log->stream, natsStatus_GetText(s));
        return s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr ? TS_ERR_NOT_FOUND : from_nats(s);
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"tix.>"};
    cfg.Name = log->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    /* The log is the truth: never discard. Direct get serves catch-up and
     * audit reads; the dedup window covers a retried append. */
    cfg.Retention = js_LimitsPolicy;
    cfg.AllowDirect = true;
    cfg.Duplicates = (int64_t)120 * 1000 * 1000 * 1000;
    cfg.MaxMsgSize = 8 * 1024 * 1024;
    s = js_AddStream(&si, log->js, &cfg, NULL, &jerr);
    if (s != NATS_OK && jerr != JSStreamNameExistErr) {
        fprintf(stderr, "engine: cannot create stream %s: %s (%d)\n", log->stream,
                natsStatus_GetText(s), (int)jerr);
        return TS_ERR_LOG;
    }
    jsStreamInfo_Destroy(si);
    return TS_OK;
}

ts_status eng__log_open(eng_log_t *log, const char *url, const char *stream, int create)
{
    natsOptions *opts = NULL;
    ts_status rc = TS_ERR_UNAVAILABLE;
    memset(log, 0, sizeof(*log));
    log->stream = strdup(stream);
    /* nats.c spins 2,000 times on a contended lock by default; with more
     * threads than cores that burns CPU the engine needs. Idempotent. */
    nats_Open(100);
    if (natsOptions_Create(&opts) != NATS_OK)
        goto done;
    natsOptions_SetURL(opts, url);
    natsOptions_SetMaxReconnect(opts, -1);
    natsOptions_SetReconnectWait(opts, 250);
    natsOptions_SetTimeout(opts, 5000);
    /* Write each append at once instead of waking nats.c's flusher thread:
     * a command waits for its ack anyway, and the hand-off costs CPU. */
    natsOptions_SetSendAsap(opts, true);
    natsStatus s = natsConnection_Connect(&log->nc, opts);
    if (s != NATS_OK) {
        fprintf(stderr, "engine: cannot connect to NATS at %s: %s\n", url, natsStatus_GetText(s));
        goto done;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    if (natsConnection_JetStream(&log->js, log->nc, &jo) != NATS_OK)
        goto done;
    rc = ensure_stream(log, create);
done:
    natsOptions_Destroy(opts);
    if (rc != TS_OK)
        eng__log_close(log);
    return rc;
}

void eng__log_close(eng_log_t *log)
{
    jsCtx_Destroy(log->js);
    if (log->nc) {
        natsConnection_FlushTimeout(log->nc, 1000);
        natsConnection_Destroy(log->nc);
    }
    free(log->stream);
    memset(log, 0, sizeof(*log));
}

ts_status eng__log_append(eng_log_t *log, const char *subject, const void *data, size_t len,
                          uint64_t last_seq, const char *msg_id, uint64_t *seq)
{
    natsMsg *msg = NULL;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    ts_status rc = TS_ERR_LOG;
    if (natsMsg_Create(&msg, subject, NULL, data, (int)len) != NATS_OK)
        goto done;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id;
    po.MaxWait = 5000;
    /* Optimistic concurrency on the aggregate's subject. */
    if (last_seq)
        po.ExpectLastSubjectSeq = last_seq;
    else
        po.ExpectNoMessage = true;
    natsStatus s = js_PublishMsg(&ack, log->js, msg, &po, &jerr);
    if (s == NATS_OK) {
        *seq = ack->Sequence;
        rc = TS_OK;
    } else if (jerr == JSStreamWrongLastSequenceErr) {
        rc = TS_ERR_CONFLICT;
    } else {
        rc = from_nats(s);
        if (rc == TS_ERR_NOT_FOUND)
            rc = TS_ERR_LOG;
    }
done:
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(msg);
    return rc;
}

ts_status eng__log_next(eng_log_t *log, const char *filter, uint64_t from, natsMsg **msg,
                        uint64_t *seq)
{
    jsDirectGetMsgOptions dg;
    jsDirectGetMsgOptions_Init(&dg);
    dg.Sequence = from ? from : 1;
    dg.NextBySubject = filter;
    natsMsg *m = NULL;
    natsStatus s = js_DirectGetMsg(&m, log->js, log->stream, NULL, &dg);
    if (s != NATS_OK)
        return from_nats(s);
    const char *v = NULL;
    if (natsMsgHeader_Get(m, JSSequence, &v) != NATS_OK || !v) {
        natsMsg_Destroy(m);
        return TS_ERR_LOG;
    }
    *seq = strtoull(v, NULL, 10);
    *msg = m;
    return TS_OK;
}

/* How long a read waits for the next message before it gives up: far more
 * than the server's heartbeat interval of an ordered consumer (5 s). */
#define ENG_READ_IDLE_MS 10000
/* What a read lets nats.c buffer for a callback that stalls. */
#define ENG_READ_PENDING_BYTES (256 * 1024 * 1024)

/* 1 when a message on `filter` lies after `seq` and no later than `end`. */
static int match_after(eng_log_t *log, const char *filter, uint64_t seq, uint64_t end)
{
    natsMsg *m = NULL;
    uint64_t next = 0;
    ts_status rc = eng__log_next(log, filter, seq + 1, &m, &next);
    natsMsg_Destroy(m);
    return rc == TS_OK && next <= end;
}

ts_status eng__log_read(eng_log_t *log, const char *filter, uint64_t from,
                        int (*fn)(const eng_log_msg_t *m, void *arg), void *arg)
{
    jsStreamInfo *si = NULL;
    natsSubscription *sub = NULL;
    natsMsg *m = NULL;
    jsErrCode jerr = 0;
    uint64_t first = 0, end;
    natsStatus s = js_GetStreamInfo(&si, log->js, log->stream, NULL, &jerr);
    if (s != NATS_OK)
        return from_nats(s) == TS_ERR_NOT_FOUND ? TS_ERR_LOG : from_nats(s);
    end = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    /* The end is fixed now, so a read over a busy stream terminates. The
     * first match comes from a direct get: a filter that matches nothing
     * would otherwise leave the consumer waiting for a message that never
     * comes. */
    ts_status rc = eng__log_next(log, filter, from, &m, &first);
    natsMsg_Destroy(m);
    m = NULL;
    if (rc == TS_ERR_NOT_FOUND || (rc == TS_OK && first > end))
        return TS_OK;
    if (rc != TS_OK)
        return rc;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = log->stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = first;
    s = js_SubscribeSync(&sub, log->js, filter, NULL, &so, &jerr);
    if (s != NATS_OK) {
        fprintf(stderr, "engine: cannot read %s on %s: %s (%d)\n", filter, log->stream,
                natsStatus_GetText(s), (int)jerr);
        return from_nats(s) == TS_ERR_NOT_FOUND ? TS_ERR_LOG : from_nats(s);
    }
    /* fn may stall for seconds (a rebuild commits a big transaction). The
     * server then stops at its flow-control window, counted in bytes; the
     * client's default limit of 65,536 pending messages is reached before
     * that with small commits, and nats.c drops messages as a slow
     * consumer (seen: up to 102,668 messages, 75 MB, pending while a
     * rebuild folded). So only the byte limit counts here. */
    natsSubscription_SetPendingLimits(sub, -1, ENG_READ_PENDING_BYTES);
    for (;;) {
        jsMsgMetaData *meta = NULL;
        s = natsSubscription_NextMsg(&m, sub, ENG_READ_IDLE_MS);
        if (s != NATS_OK) {
            rc = from_nats(s);
            break;
        }
        if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {
            rc = TS_ERR_LOG;
            break;
        }
        eng_log_msg_t lm = {.seq = meta->Sequence.Stream,
                            .subject = natsMsg_GetSubject(m),
                            .data = natsMsg_GetData(m),
                            .len = (size_t)natsMsg_GetDataLength(m),
                            .time = meta->Timestamp / 1000000};
        /* NumPending counts the matching messages after this one: 0 should
         * be the last match, even when later messages on other subjects
         * exist. It has been seen 0 one match early (a wildcard filter
         * from a start sequence), so a direct get confirms it. */
        int last =
            lm.seq >= end || (meta->NumPending == 0 && !match_after(log, filter, lm.seq, end));
        int stop = fn(&lm, arg);
        jsMsgMetaData_Destroy(meta);
        natsMsg_Destroy(m);
        m = NULL;
        if (stop || last)
            break;
    }
    natsMsg_Destroy(m);
    /* The connection is shared and stays open, and nats.c 3.4's reading
     * thread may still be handing a message to this subscription after the
     * unsubscribe took it out of the connection's table (issue 637): a
     * flush returns once that thread has read the PONG, so after every
     * message that came before it. Only then is the subscription freed. */
    natsSubscription_Unsubscribe(sub);
    natsConnection_FlushTimeout(log->nc, ENG_READ_IDLE_MS);
    natsSubscription_Destroy(sub);
    return rc;
}

ts_status eng__log_subjects(eng_log_t *log, const char *filter,
                            void (*fn)(const char *subject, uint64_t count, void *arg), void *arg)
{
    jsOptions o;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = filter;
    natsStatus s = js_GetStreamInfo(&si, log->js, log->stream, &o, &jerr);
    if (s != NATS_OK)
        return from_nats(s) == TS_ERR_NOT_FOUND ? TS_ERR_LOG : from_nats(s);
    for (int i = 0; si->State.Subjects && i < si->State.Subjects->Count; i++)
        fn(si->State.Subjects->List[i].Subject, si->State.Subjects->List[i].Msgs, arg);
    jsStreamInfo_Destroy(si);
    return TS_OK;
}

int eng__subject_match(const char *f, const char *s)
{
    for (;;) {
        size_t fl = strcspn(f, "."), sl = strcspn(s, ".");
        if (sl == 0)
            return 0; /* an empty token never matches */
        if (fl == 1 && f[0] == '>' && !f[1])
            return 1; /* '>' takes every token left */
        if (!(fl == 1 && f[0] == '*') && (fl != sl || memcmp(f, s, fl) != 0))
            return 0;
        f += fl;
        s += sl;
        if (!*f || !*s)
            return !*f && !*s;
        f++;
        s++;
    }
}
