/*
 * ts_notify_tail — a test tool that prints what the notifications saga has
 * published: every message of a JetStream stream (NOTIFY by default), one
 * JSON line each, in stream order, then exits. Never part of the product.
 *
 *   ts_notify_tail --nats URL [--stream NOTIFY] [--from-seq N]
 *   ts_notify_tail --nats URL [--stream NOTIFY] --delete
 *
 * Each line is {"seq": N, "subject": "notify.email.<kind>", "msg_id":
 * "<Nats-Msg-Id>", "data": <the message, a JSON value as published>}.
 * A stream that does not exist prints nothing. --delete removes the stream
 * instead (a test makes the notifications' stream unavailable with it).
 * Exit status 0, 1 on a NATS failure, 2 on bad usage.
 */
#include <inttypes.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string of s (the message id and subject are plain ASCII; escape
 * what JSON requires anyway). */
static void put_json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    const char *url = NULL, *stream = "NOTIFY";
    uint64_t from = 1;
    int delete = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nats") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--stream") == 0 && i + 1 < argc)
            stream = argv[++i];
        else if (strcmp(argv[i], "--delete") == 0)
            delete = 1;
        else if (strcmp(argv[i], "--from-seq") == 0 && i + 1 < argc)
            from = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: ts_notify_tail --nats URL [--stream NOTIFY] [--from-seq N | "
                            "--delete]\n");
            return 2;
        }
    }
    if (!url) {
        fprintf(stderr, "ts_notify_tail: --nats is required\n");
        return 2;
    }
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    int rc = 1;
    if (natsConnection_ConnectTo(&nc, url) != NATS_OK ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK) {
        fprintf(stderr, "ts_notify_tail: cannot connect to %s\n", url);
        goto done;
    }
    natsStatus s;
    if (delete) {
        s = js_DeleteStream(js, stream, NULL, &jerr);
        rc = s == NATS_OK || s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr ? 0 : 1;
        if (rc)
            fprintf(stderr, "ts_notify_tail: delete %s: %s\n", stream, natsStatus_GetText(s));
        goto done;
    }
    s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        rc = 0;
        goto done;
    }
    if (s != NATS_OK) {
        fprintf(stderr, "ts_notify_tail: stream %s: %s\n", stream, natsStatus_GetText(s));
        goto done;
    }
    uint64_t first = si->State.FirstSeq > from ? si->State.FirstSeq : from;
    for (uint64_t seq = first; seq <= si->State.LastSeq; seq++) {
        natsMsg *m = NULL;
        s = js_GetMsg(&m, js, stream, seq, NULL, &jerr);
        if (s == NATS_NOT_FOUND)
            continue; /* deleted */
        if (s != NATS_OK) {
            fprintf(stderr, "ts_notify_tail: seq %" PRIu64 ": %s\n", seq, natsStatus_GetText(s));
            goto done;
        }
        const char *id = NULL;
        natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
        printf("{\"seq\": %" PRIu64 ", \"subject\": ", seq);
        put_json_string(natsMsg_GetSubject(m));
        printf(", \"msg_id\": ");
        put_json_string(id);
        printf(", \"data\": %.*s}\n", natsMsg_GetDataLength(m), natsMsg_GetData(m));
        natsMsg_Destroy(m);
    }
    rc = 0;
done:
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}
