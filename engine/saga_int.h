/*
 * Private to engine/: the saga runner and the sagas that run on it.
 *
 * A saga is a reactor on the log: a thread of `turnstile serve` that reads
 * the stream through a durable JetStream pull consumer named saga_<name>
 * and turns commits into commands (eng_execute) or messages (NATS). Its
 * position is the consumer's ack floor: messages are handled in stream order
 * and acked (AckAll: an ack covers every earlier message) only once their
 * handler has finished, so what a saga did survives a restart and what it
 * had not finished is done again. Handlers must therefore be idempotent:
 * deterministic command ids, decisions that are no-ops when repeated, and
 * Nats-Msg-Id on what they publish.
 *
 * Sessions. A session is one NATS connection. At its start the durable is
 * recreated to deliver from its ack floor + 1 (or, the first time ever,
 * from the end of the stream: a saga reacts to what happens after it is
 * deployed, never to the history), so redelivery is always in order. A
 * handler that fails (the log or a dependency unreachable) ends the session
 * after acking what came before; the next one starts a second later at the
 * failed commit.
 *
 * Threading: one thread per saga; a handler runs on it, with the engine
 * (thread-safe) and its own arena.
 */
#ifndef TS_SAGA_INT_H
#define TS_SAGA_INT_H

#include "engine/engine_int.h"

/* One commit, as the handler sees it. Everything lives until the handler
 * returns. */
typedef struct {
    uint64_t seq; /* stream sequence */
    const char *subject;
    const evt_commit_t *commit;
    ts_arena_t *arena; /* scratch, reset for each commit */
    jsCtx *js;         /* the saga's connection, for what it publishes */
} eng_saga_msg_t;

typedef struct {
    const char *name;   /* the durable is saga_<name> */
    const char *filter; /* subject filter; NULL: every commit */
    /* TS_OK: done (the commit is acked). Anything else: the session ends
     * and the commit is handled again later. */
    ts_status (*handle)(void *ctx, const eng_saga_msg_t *m);
    void *ctx;
} eng_saga_def_t;

typedef struct eng_saga eng_saga_t;

/* Starts the saga's thread. Errors: TS_ERR_NOMEM. */
ts_status eng__saga_start(eng_t *e, const eng_saga_def_t *def, eng_saga_t **out);
/* Stops after the batch in hand (acked as far as handled). Accepts NULL. */
void eng__saga_stop(eng_saga_t *s);

/* ---- the sagas (saga_waitlist.c, saga_notify.c) ---- */

typedef struct eng_saga_waitlist eng_saga_waitlist_t;
/* RULE-WL-1: seats freed on a shard go to the head of the tier's waitlist
 * as a hold of offer_minutes in that user's name; offer bookings confirmed
 * fulfil their entry, expired or released ones lapse and pass on. */
eng_saga_waitlist_t *eng__saga_waitlist_new(eng_t *e, uint32_t offer_minutes);
void eng__saga_waitlist_free(eng_saga_waitlist_t *w);
ts_status eng__saga_waitlist_handle(void *ctx, const eng_saga_msg_t *m);

typedef struct eng_saga_notify eng_saga_notify_t;
/* E-mail notifications as JSON on notify.email.<kind>, published into
 * stream (with Nats-Msg-Id "<seq>-<event index>"). */
eng_saga_notify_t *eng__saga_notify_new(eng_t *e, const char *stream);
void eng__saga_notify_free(eng_saga_notify_t *n);
ts_status eng__saga_notify_handle(void *ctx, const eng_saga_msg_t *m);
/* Creates the stream (subjects notify.>) when missing. */
ts_status eng__notify_stream_ensure(jsCtx *js, const char *stream);

#endif
