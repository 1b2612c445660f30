/*
 * sagas — reactors that run inside `turnstile serve`: they read the log and
 * issue commands, connecting aggregates that no single commit can (DESIGN.md
 * "Aggregates": "event cancelled → every booking refunded").
 *
 * A saga is a durable JetStream pull consumer on the stream, named
 * saga_<name>, with a subject filter. Each commit it receives is decoded and
 * handed to the saga's handler on the saga's own thread; when the handler
 * returns TS_OK the message is acked, otherwise it is nak'ed with a delay
 * and comes back. A handler must therefore be idempotent, and it is: every
 * command a saga issues is decided against the aggregate's current state,
 * and a repeated step finds nothing left to do. A message whose handler
 * runs long is kept from redelivery by saga_progress (an ack-wait
 * extension); a crashed serve leaves the message unacked, so the next serve
 * gets it again after the ack wait (10 s) and finishes the job: that is how
 * a cancellation resumes.
 *
 * The sagas of issue 3:
 *   saga_cancel (tix.event.>): on EventCancelled, every section shard of
 *     the event gets inv_cancel_all_decide in batches (InventoryCancelled,
 *     then BookingCancelled with refund = total for confirmed bookings and
 *     HoldReleased for held ones, RULE-REF-1), until nothing is left; then
 *     the provider is asked to refund every booking of the shard whose
 *     refund is due.
 *   at start-up, before its first message, the same saga asks the provider
 *     again for every refund still due on any shard (a refund requested just
 *     before a crash, or refused by a provider that was down), so a refund
 *     is never lost between the commit that owes it and the provider.
 *
 * In order. A saga that reacts to a stream of facts whose order matters
 * (saga_waitlist, saga_notify; saga_config_t.ordered) acks cumulatively
 * instead (AckAll: one ack covers every earlier message), only what its
 * handler has finished; its consumer is recreated at the start of every
 * session to deliver from its ack floor + 1, and a handler's failure ends
 * the session (what came before is acked) so that the next one starts at
 * the failed commit. Commits are then handled in stream order, each at
 * least once, also across restarts and crashes; a handler is idempotent.
 *
 *   saga_waitlist (tix.inv.>, in order; RULE-WL-1, waitlist.c): seats freed
 *     on a shard (HoldReleased, HoldExpired, BookingCancelled) go to the
 *     head of its tier's waitlist as a hold of offer_minutes in that user's
 *     name, with its quota (RULE-HOLD-4), then WaitlistOffered; a head whose
 *     user is blocked (RULE-AUTH-2) or at the cap is passed over and leaves;
 *     an offer booking confirmed fulfils its entry, expired or released it
 *     lapses and its seats pass on.
 *   saga_bookings (tix.>; RULE-HOLD-4, RULE-PROMO-1, bookings.c): a
 *     booking's quota and promo use follow its status on the shard (a
 *     waitlist offer's too); a ticket transferred moves its unit of quota
 *     to the recipient (RULE-TKT-3); a promo use whose hold never came is
 *     given back.
 *   saga_notify (every commit, in order; notify.c): e-mails for an external
 *     mailer as JSON on notify.email.<kind> in JetStream stream NOTIFY,
 *     with Nats-Msg-Id "<TICKETS seq>-<event index>"; a commit is acked
 *     only once NOTIFY acknowledged what it called for.
 *
 * Threading: each saga has one thread and its own NATS connection; the
 * engine and the provider are thread-safe. saga_stop joins the thread.
 */
#ifndef TS_SAGAS_H
#define TS_SAGAS_H

#include "base/base.h"
#include "engine/engine.h"
#include "events/events.h"
#include "payments/payments.h"

typedef struct saga saga_t;

/* Handles one decoded commit (valid during the call). TS_OK: done, acked.
 * Any error: redelivered after a delay. */
typedef ts_status (*saga_handler_t)(saga_t *s, const evt_commit_t *commit, uint64_t seq, void *arg);

typedef struct {
    const char *nats_url;
    const char *stream; /* "TICKETS" */
    const char *name;   /* the durable: "saga_cancel" */
    const char *filter; /* subject filter: "tix.event.>" */
    saga_handler_t handler;
    void (*on_start)(saga_t *s, void *arg); /* may be NULL; once, before consuming */
    void *arg;
    void (*arg_free)(void *arg); /* may be NULL; called by saga_stop */
    int ordered; /* in stream order, acked cumulatively (see the top of this file) */
    /* A durable created for the first time delivers what is appended from
     * then on, not the stream's history (a notification is news or nothing);
     * saga_start then returns once the durable exists (or after 5 s), so
     * commits appended after it returns are the saga's. */
    int from_end;
} saga_config_t;

/* Starts the saga's thread (it connects, and reconnects, by itself).
 * Strings of cfg are copied; arg is the saga's from then on (arg_free),
 * and stays the caller's on an error. Errors: TS_ERR_INVALID,
 * TS_ERR_NOMEM. */
ts_status saga_start(const saga_config_t *cfg, saga_t **out);
/* 1 once saga_stop was called: a long handler should return an error
 * (the message comes back to the next serve). */
int saga_stopping(const saga_t *s);
/* Tells the server the current message is still being worked on. */
void saga_progress(saga_t *s);
/* Stops and joins the thread. Accepts NULL. */
void saga_stop(saga_t *s);
/* Publishes data on subject into JetStream stream (the saga's connection)
 * with Nats-Msg-Id msg_id, and waits for the stream's ack. From a handler.
 * Errors: TS_ERR_UNAVAILABLE (no ack: NATS down, no such stream). */
ts_status saga_publish(saga_t *s, const char *stream, const char *subject, const char *msg_id,
                       const void *data, size_t len);

/* ---- saga_waitlist (waitlist.c) ---- */

typedef struct {
    const char *nats_url;
    const char *stream;
    eng_t *engine;          /* borrowed */
    uint32_t offer_minutes; /* RULE-WL-1: how long an offer holds; 0 picks 15 */
} saga_waitlist_config_t;

ts_status saga_waitlist_start(const saga_waitlist_config_t *cfg, saga_t **out);

/* ---- saga_bookings (bookings.c) ---- */

typedef struct {
    const char *nats_url;
    const char *stream;
    eng_t *engine; /* borrowed */
} saga_bookings_config_t;

/* RULE-HOLD-4, RULE-PROMO-1: eng_booking_settle for every booking a shard
 * commit confirms, releases, expires, cancels, refunds or whose payment
 * fails, so its quota and promo use follow it; eng_transfer_settle for
 * every ticket it transfers (RULE-TKT-3). Errors: TS_ERR_INVALID,
 * TS_ERR_NOMEM. */
ts_status saga_bookings_start(const saga_bookings_config_t *cfg, saga_t **out);

/* ---- saga_notify (notify.c) ---- */

typedef struct {
    const char *nats_url;
    const char *stream;        /* TICKETS */
    const char *notify_stream; /* NULL picks "NOTIFY" */
    eng_t *engine;             /* borrowed */
} saga_notify_config_t;

/* Creates the notification stream (subjects notify.>) when missing, then
 * starts the saga. Errors: TS_ERR_INVALID, TS_ERR_UNAVAILABLE (NATS),
 * TS_ERR_LOG (the stream cannot be made), TS_ERR_NOMEM. */
ts_status saga_notify_start(const saga_notify_config_t *cfg, saga_t **out);

/* ---- saga_cancel (cancel.c) ---- */

typedef struct {
    const char *nats_url;
    const char *stream;
    eng_t *engine;            /* borrowed */
    pay_provider_t *provider; /* borrowed */
    uint32_t batch;           /* bookings per commit; 0 picks 200 */
    int pause_ms;             /* between commits; 0 in production (tests slow it down) */
} saga_cancel_config_t;

ts_status saga_cancel_start(const saga_cancel_config_t *cfg, saga_t **out);

typedef struct {
    uint32_t batch; /* bookings per commit; 0 picks 200 */
    int pause_ms;   /* between two commits on a shard (tests slow it down) */
    int rounds;     /* commits per shard at most; 0: until done, then refunds */
    saga_t *saga;   /* the calling saga (progress, stop), or NULL */
} saga_cancel_opts_t;

/* The work of saga_cancel for one event whose EventCancelled is in the log:
 * on every section shard of its frozen layout, opens the shard if it never
 * was (then it records its cancellation and no hold can open it later),
 * then inv_cancel_all_decide until nothing is left (or o->rounds commits),
 * then, when run to the end, asks provider (may be NULL) for the refunds
 * due. The API runs one round itself so that every shard refuses holds
 * before it answers. Errors: as eng_execute; TS_ERR_SHUTDOWN when the saga
 * stops. */
ts_status saga_cancel_event(eng_t *e, pay_provider_t *provider, const char *event_id,
                            const saga_cancel_opts_t *o);

/* Asks the provider to refund every booking of one shard whose refund is
 * due (RULE-REF-1, RULE-PAY-2). Returns the number requested, or -1 when
 * the shard could not be read. */
int saga_refunds_due(eng_t *e, pay_provider_t *provider, const char *shard_subject);

#endif
