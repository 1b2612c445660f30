/*
 * saga_notify (sagas.h): e-mails for an external mailer, as JSON messages
 * on NATS subject notify.email.<kind> in JetStream stream NOTIFY (subjects
 * notify.>), one per event that calls for one:
 *
 *   booking_confirmed  BookingConfirmed: the booking, its tickets with
 *                      links to GET /api/v1/tickets/<id> and its QR code
 *   waitlist_offer     WaitlistOffered (RULE-WL-1): the offer's booking and
 *                      until when it is held
 *   refund             RefundCompleted: the provider has paid the refund
 *                      back (RULE-REF-1, RULE-PAY-2); a cancellation that
 *                      is due a refund is told when the money moves, not
 *                      when it is promised
 *   event_cancelled    BookingCancelled with reason "event_cancelled": one
 *                      message per cancelled booking, to its holder (so
 *                      per affected user and booking), with the refund due;
 *                      holds released by a cancellation are not told
 *
 * Every message has "kind", "to" (the user's e-mail, from the user
 * aggregate), "user_id", "name", "event_id", "event_title", "source_seq"
 * (the TICKETS commit) and what its kind needs. Its Nats-Msg-Id is
 * "<TICKETS seq>-<event index>", so the stream drops a message published
 * again after a restart (within its duplicate window), and the TICKETS
 * commit is acked only once every message it called for is acknowledged by
 * NOTIFY: delivery to the mailer is at-least-once across restarts.
 */
#include "sagas/sagas.h"

#include <inttypes.h>
#include <jansson.h>
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The duplicate window of NOTIFY: a redelivered commit is re-published
 * within seconds of the first time, after a restart within minutes. */
#define NOTIFY_DUPLICATES_NS (3600LL * 1000 * 1000 * 1000)
/* What the mailer has not read after a week is not worth sending. */
#define NOTIFY_MAX_AGE_NS (7LL * 24 * 3600 * 1000 * 1000 * 1000)

#define NOTIFY_DEFAULT_STREAM "NOTIFY"

typedef struct {
    eng_t *e;
    char *stream;
    ts_arena_t scratch; /* one commit's: reset for each */
} notify_t;

static void notify_free(void *arg)
{
    notify_t *n = arg;
    if (!n)
        return;
    free(n->stream);
    ts_arena_deinit(&n->scratch);
    free(n);
}

/* Creates the stream when missing. */
static ts_status stream_ensure(jsCtx *js, const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, js, stream, NULL, &jerr) == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return TS_OK;
    }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"notify.>"};
    cfg.Name = stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Duplicates = NOTIFY_DUPLICATES_NS;
    cfg.MaxAge = NOTIFY_MAX_AGE_NS;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK && jerr != JSStreamNameExistErr) {
        fprintf(stderr, "saga_notify: cannot create stream %s: %s (%d)\n", stream,
                natsStatus_GetText(s), (int)jerr);
        return TS_ERR_LOG;
    }
    jsStreamInfo_Destroy(si);
    return TS_OK;
}

/* ---- what a message needs from the aggregates ---- */

typedef struct {
    ts_arena_t *a;
    const char *booking_id;
    const char *user_id; /* out */
    char currency[4];
} booking_read_t;

static void read_booking(const void *state, void *arg)
{
    booking_read_t *r = arg;
    const inv_booking_t *b = inv_booking_find(state, r->booking_id);
    if (!b)
        return;
    r->user_id = ts_arena_strdup(r->a, b->hold.user_id);
    memcpy(r->currency, b->hold.unit_price.currency, sizeof r->currency);
}

typedef struct {
    ts_arena_t *a;
    const char *title;
    int64_t starts_at;
} event_read_t;

static void read_event(const void *state, void *arg)
{
    const cmd_event_state_t *s = state;
    event_read_t *r = arg;
    if (!s->exists)
        return;
    r->title = ts_arena_strdup(r->a, s->ev.title);
    r->starts_at = s->ev.starts_at;
}

static json_t *time_json(int64_t ms)
{
    char buf[32];
    if (!ms)
        return json_null();
    ts_time_format(ms, buf);
    return json_string(buf);
}

static json_t *money_json(int64_t amount, const char *currency)
{
    return json_pack("{s:I, s:s}", "amount", (json_int_t)amount, "currency",
                     currency && currency[0] ? currency : "EUR");
}

/* ---- one message ---- */

typedef struct {
    notify_t *n;
    saga_t *saga;
    const evt_commit_t *commit;
    uint64_t seq;
    ts_arena_t *arena;
    const char *event_id;
} job_t;

/* Fills the common fields of msg (consumed) and publishes it; a user who
 * does not exist gets nothing. */
static ts_status publish(job_t *j, uint32_t index, const char *kind, const char *user_id,
                         json_t *msg)
{
    ts_arena_t *a = j->arena;
    if (!msg) {
        /* An event lacking a field the message needs: the log cannot be
         * fixed, so it must not stop the notifications behind it. */
        fprintf(stderr,
                "saga_notify: seq %" PRIu64 " #%" PRIu32 ": incomplete event; %s not sent\n",
                j->seq, index, kind);
        return TS_OK;
    }
    eng_user_t u;
    ts_status rc = user_id ? eng_user_get(j->n->e, user_id, a, &u) : TS_ERR_NOT_FOUND;
    if (rc == TS_ERR_NOT_FOUND) {
        fprintf(stderr, "saga_notify: seq %" PRIu64 ": no user %s; %s not sent\n", j->seq,
                user_id ? user_id : "(none)", kind);
        json_decref(msg);
        return TS_OK;
    }
    event_read_t ev = {.a = a};
    if (rc == TS_OK)
        rc = eng_read(j->n->e, ts_arena_printf(a, "tix.event.%s", j->event_id), read_event, &ev);
    if (rc != TS_OK) {
        json_decref(msg);
        return rc;
    }
    json_object_set_new(msg, "kind", json_string(kind));
    json_object_set_new(msg, "to", json_string(u.email));
    json_object_set_new(msg, "user_id", json_string(u.user_id));
    json_object_set_new(msg, "name", json_string(u.name ? u.name : ""));
    json_object_set_new(msg, "event_id", json_string(j->event_id));
    json_object_set_new(msg, "event_title", ev.title ? json_string(ev.title) : json_null());
    json_object_set_new(msg, "event_starts_at", time_json(ev.starts_at));
    json_object_set_new(msg, "source_seq", json_integer((json_int_t)j->seq));
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return TS_ERR_NOMEM;
    ts_status pub =
        saga_publish(j->saga, j->n->stream, ts_arena_printf(a, "notify.email.%s", kind),
                     ts_arena_printf(a, "%" PRIu64 "-%" PRIu32, j->seq, index), text, strlen(text));
    free(text);
    return pub;
}

static ts_status booking_user(job_t *j, const char *booking_id, booking_read_t *r)
{
    memset(r, 0, sizeof(*r));
    r->a = j->arena;
    r->booking_id = booking_id;
    return eng_read(j->n->e, j->commit->subject, read_booking, r);
}

static ts_status confirmed(job_t *j, uint32_t index, const evt_booking_confirmed_t *c)
{
    booking_read_t b;
    ts_status rc = booking_user(j, c->booking_id, &b);
    if (rc != TS_OK)
        return rc;
    json_t *tickets = json_array();
    for (uint32_t i = 0; i < c->n_tickets; i++) {
        const evt_ticket_t *t = &c->tickets[i];
        json_array_append_new(tickets,
                              json_pack("{s:s, s:o, s:s+, s:s++}", "ticket_id", t->ticket_id,
                                        "seat", t->seat ? json_string(t->seat) : json_null(), "url",
                                        "/api/v1/tickets/", t->ticket_id, "qr_url",
                                        "/api/v1/tickets/", t->ticket_id, "/qr.svg"));
    }
    json_t *msg = json_pack("{s:s, s:s+, s:o}", "booking_id", c->booking_id, "booking_url",
                            "/api/v1/bookings/", c->booking_id, "tickets", tickets);
    return publish(j, index, "booking_confirmed", b.user_id, msg);
}

static ts_status offered(job_t *j, uint32_t index, const evt_waitlist_entry_t *w)
{
    json_t *msg =
        json_pack("{s:s, s:s, s:I, s:s, s:s+, s:o}", "entry_id", w->entry_id, "tier", w->tier,
                  "quantity", (json_int_t)w->quantity, "booking_id", w->booking_id, "booking_url",
                  "/api/v1/bookings/", w->booking_id, "expires_at", time_json(w->expires_at));
    return publish(j, index, "waitlist_offer", w->user_id, msg);
}

static ts_status refunded(job_t *j, uint32_t index, const evt_payment_t *p)
{
    booking_read_t b;
    ts_status rc = booking_user(j, p->booking_id, &b);
    if (rc != TS_OK)
        return rc;
    json_t *msg = json_pack("{s:s, s:o, s:o}", "booking_id", p->booking_id, "payment_id",
                            p->payment_id ? json_string(p->payment_id) : json_null(), "refund",
                            money_json(p->amount, p->currency[0] ? p->currency : b.currency));
    return publish(j, index, "refund", b.user_id, msg);
}

static ts_status cancelled(job_t *j, uint32_t index, const evt_booking_cancelled_t *c)
{
    booking_read_t b;
    ts_status rc = booking_user(j, c->booking_id, &b);
    if (rc != TS_OK)
        return rc;
    json_t *msg = json_pack("{s:s, s:o}", "booking_id", c->booking_id, "refund",
                            money_json(c->refund, b.currency));
    return publish(j, index, "event_cancelled", b.user_id, msg);
}

/* The event id of tix.inv.<event>.<x> or tix.wait.<event>.<x>. */
static const char *event_of(ts_arena_t *a, const char *subject)
{
    const char *p = strchr(subject + 4, '.');
    const char *dot = p ? strchr(p + 1, '.') : NULL;
    return dot ? ts_arena_strndup(a, p + 1, (size_t)(dot - p - 1)) : NULL;
}

static ts_status on_commit(saga_t *saga, const evt_commit_t *c, uint64_t seq, void *arg)
{
    notify_t *n = arg;
    ts_arena_reset(&n->scratch);
    job_t j = {.n = n, .saga = saga, .commit = c, .seq = seq, .arena = &n->scratch};
    int inv = strncmp(c->subject, "tix.inv.", 8) == 0;
    int wait = strncmp(c->subject, "tix.wait.", 9) == 0;
    if (!inv && !wait)
        return TS_OK;
    ts_status rc = TS_OK;
    for (uint32_t i = 0; i < c->n_events && rc == TS_OK; i++) {
        const evt_event_t *e = &c->events[i];
        int wanted = (inv && (e->type == EVT_BOOKING_CONFIRMED || e->type == EVT_REFUND_COMPLETED ||
                              (e->type == EVT_BOOKING_CANCELLED && e->u.booking_cancelled.reason &&
                               strcmp(e->u.booking_cancelled.reason, "event_cancelled") == 0))) ||
                     (wait && e->type == EVT_WAITLIST_OFFERED);
        if (!wanted)
            continue;
        if (!j.event_id && !(j.event_id = event_of(j.arena, c->subject)))
            return TS_OK;
        switch (e->type) {
        case EVT_BOOKING_CONFIRMED:
            rc = confirmed(&j, i, &e->u.booking_confirmed);
            break;
        case EVT_WAITLIST_OFFERED:
            rc = offered(&j, i, &e->u.waitlist);
            break;
        case EVT_REFUND_COMPLETED:
            rc = refunded(&j, i, &e->u.payment);
            break;
        case EVT_BOOKING_CANCELLED:
            rc = cancelled(&j, i, &e->u.booking_cancelled);
            break;
        default:
            break;
        }
    }
    return rc;
}

ts_status saga_notify_start(const saga_notify_config_t *cfg, saga_t **out)
{
    if (!cfg || !cfg->engine || !cfg->nats_url)
        return TS_ERR_INVALID;
    const char *stream = cfg->notify_stream ? cfg->notify_stream : NOTIFY_DEFAULT_STREAM;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    ts_status rc = TS_ERR_UNAVAILABLE;
    if (natsConnection_ConnectTo(&nc, cfg->nats_url) == NATS_OK &&
        natsConnection_JetStream(&js, nc, NULL) == NATS_OK)
        rc = stream_ensure(js, stream);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    if (rc != TS_OK)
        return rc;
    notify_t *n = calloc(1, sizeof(*n));
    if (!n || !(n->stream = strdup(stream))) {
        free(n);
        return TS_ERR_NOMEM;
    }
    n->e = cfg->engine;
    ts_arena_init(&n->scratch, 16384);
    /* In order, so that a mailer gets a user's news in the order they
     * happened; from the end: a notification is news or nothing. */
    saga_config_t sc = {.nats_url = cfg->nats_url,
                        .stream = cfg->stream,
                        .name = "saga_notify",
                        .filter = "tix.>",
                        .handler = on_commit,
                        .arg = n,
                        .arg_free = notify_free,
                        .ordered = 1,
                        .from_end = 1};
    rc = saga_start(&sc, out);
    if (rc != TS_OK)
        notify_free(n);
    return rc;
}
