/* The JetStream adapter: the stream, appends with expected sequence, reads. */
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

static ts_status ensure_stream(eng_log_t *log)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, log->js, log->stream, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return TS_OK;
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

ts_status eng__log_open(eng_log_t *log, const char *url, const char *stream)
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
    rc = ensure_stream(log);
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
