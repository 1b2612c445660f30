/*
 * saga_cancel: "event cancelled → every booking refunded" (RULE-REF-1; see
 * sagas.h). Every step is a command decided against the current state, so
 * a message handled twice (a crash, a redelivery) finds the finished shards
 * with nothing left to do and only re-asks for refunds still due, which a
 * provider treats as the same refund (the refund.succeeded webhook of a
 * booking already refunded is a no-op on its shard).
 */
#include "sagas/sagas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SAGA_CANCEL_BATCH 200 /* DESIGN: at most 200 bookings per commit */

/* ---- refunds due on a shard ---- */

typedef struct {
    const char *payment_id;
    int64_t amount;
    char currency[4];
} due_t;

typedef struct {
    due_t *items; /* heap */
    uint32_t n, cap;
    ts_arena_t *arena;
} dues_t;

static void collect_dues(const void *state, void *arg)
{
    const inv_state_t *s = state;
    dues_t *d = arg;
    for (uint32_t i = 0; i < s->n_bookings; i++) {
        const inv_booking_t *b = &s->bookings[i];
        int64_t amount = b->refund; /* RULE-REF-1, RULE-PAY-2: what is due back */
        if (b->status != INV_REFUND_DUE || !b->payment_id || amount <= 0)
            continue;
        if (d->n == d->cap) {
            d->cap = d->cap ? 2 * d->cap : 16;
            d->items = realloc(d->items, d->cap * sizeof(*d->items));
            if (!d->items)
                abort();
        }
        due_t *x = &d->items[d->n++];
        /* The state's strings live in its arena: copy what outlives the lane. */
        x->payment_id = ts_arena_strdup(d->arena, b->payment_id);
        x->amount = amount;
        memcpy(x->currency, b->hold.unit_price.currency, sizeof(x->currency));
    }
}

int saga_refunds_due(eng_t *e, pay_provider_t *provider, const char *shard_subject)
{
    ts_arena_t arena;
    ts_arena_init(&arena, 4096);
    dues_t d = {.arena = &arena};
    int n = -1;
    if (eng_read(e, shard_subject, collect_dues, &d) == TS_OK) {
        n = 0;
        for (uint32_t i = 0; i < d.n; i++) {
            ts_status st =
                pay_refund(provider, d.items[i].payment_id, d.items[i].amount, d.items[i].currency);
            if (st == TS_OK)
                n++;
            else
                fprintf(stderr, "saga: refund of %s not requested: %s\n", d.items[i].payment_id,
                        ts_status_str(st));
        }
    }
    free(d.items);
    ts_arena_deinit(&arena);
    return n;
}

/* ---- start-up: every refund still due, on every shard ---- */

typedef struct {
    eng_t *engine;
    pay_provider_t *provider;
    saga_t *saga;
    int requested;
} sweep_t;

static void refund_shard(const char *subject, uint64_t commits, void *arg)
{
    (void)commits;
    sweep_t *w = arg;
    if (saga_stopping(w->saga))
        return;
    int n = saga_refunds_due(w->engine, w->provider, subject);
    if (n > 0)
        w->requested += n;
}

/* ---- EventCancelled ---- */

typedef struct {
    const cmd_aggregate_ops_t *ops;
    ts_buf_t buf;
    int failed;
} copy_t;

static void encode_event(const void *state, void *arg)
{
    copy_t *c = arg;
    c->failed = c->ops->encode(state, &c->buf) != TS_OK;
}

/* A private copy of the event's state (through the snapshot format, as the
 * API copies states); NULL when it cannot be read. */
static cmd_event_state_t *event_copy(eng_t *e, const char *event_id, ts_status *st)
{
    copy_t c = {.ops = cmd_aggregate_ops(CMD_AGG_EVENT)};
    char subject[160];
    snprintf(subject, sizeof subject, "tix.event.%s", event_id);
    ts_buf_init(&c.buf);
    *st = eng_read(e, subject, encode_event, &c);
    cmd_event_state_t *ev = NULL;
    if (*st == TS_OK && !c.failed)
        ev = c.ops->decode(c.buf.data, c.buf.len);
    if (*st == TS_OK && !ev)
        ev = c.ops->state_new(); /* an empty state encodes to nothing */
    ts_buf_deinit(&c.buf);
    return ev;
}

static void pause_ms(int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Opens the shard if it never was, as the event was published: a shard
 * left unopened (a crash right after publish) would otherwise be opened by
 * the next hold from a cached copy of the published event, and sell. Opened,
 * it records its cancellation like the others. */
static ts_status open_shard(eng_t *e, const cmd_event_state_t *published, const char *section,
                            const char *subject)
{
    ts_arena_t arena;
    ts_arena_init(&arena, 4096);
    eng_cmd_t cmd = {.type = ENG_INV_OPEN, .dep = published, .subject = subject};
    cmd.actor = "system";
    cmd.command_id = ts_arena_printf(&arena, "open-%s-%s", published->ev.event_id, section);
    cmd.u.hold.section = section;
    eng_outcome_t o;
    ts_status st = eng_execute(e, &cmd, &arena, &o);
    ts_arena_deinit(&arena);
    return st;
}

/* Cancels the bookings of one shard, batch by batch: at most rounds commits
 * (0: until none is left). */
static ts_status cancel_shard(eng_t *e, const char *event_id, const char *subject,
                              const saga_cancel_opts_t *o)
{
    for (int round = 0; o->rounds == 0 || round < o->rounds; round++) {
        if (o->saga && saga_stopping(o->saga))
            return TS_ERR_SHUTDOWN;
        if (round)
            pause_ms(o->pause_ms);
        ts_arena_t arena;
        ts_arena_init(&arena, 16384);
        eng_cmd_t cmd = {.type = ENG_INV_CANCEL_ALL, .subject = subject, .actor = "system"};
        cmd.command_id = eng_new_id(&arena, "cancel-");
        cmd.correlation_id = ts_arena_printf(&arena, "cancel-%s", event_id);
        cmd.u.cancel.reason = "event_cancelled";
        cmd.u.cancel.max = o->batch ? o->batch : SAGA_CANCEL_BATCH;
        eng_outcome_t out;
        ts_status st = eng_execute(e, &cmd, &arena, &out);
        uint32_t n = st == TS_OK && !out.reject ? out.n_events : 0;
        if (st == TS_OK && out.reject)
            /* Nothing a retry could change: say so and go on. */
            fprintf(stderr, "cancel: %s refused: %s (%s)\n", subject, out.reject->code,
                    out.reject->detail ? out.reject->detail : "");
        ts_arena_deinit(&arena);
        if (st != TS_OK)
            return st;
        if (n == 0)
            return TS_OK;
        if (o->saga)
            saga_progress(o->saga);
    }
    return TS_OK;
}

ts_status saga_cancel_event(eng_t *e, pay_provider_t *provider, const char *event_id,
                            const saga_cancel_opts_t *o)
{
    ts_status st;
    cmd_event_state_t *ev = event_copy(e, event_id, &st);
    if (!ev)
        return st;
    /* The frozen layout names the shards; the copy poses as published so
     * that an unopened shard can be opened to be cancelled (open_shard). */
    int published = ev->published.event_id != NULL;
    ev->status = CMD_EVENT_PUBLISHED;
    char subject[160];
    for (uint32_t k = 0; published && st == TS_OK && k < ev->published.n_sections; k++) {
        const char *section = ev->published.sections[k].key;
        snprintf(subject, sizeof subject, "tix.inv.%s.%s", event_id, section);
        st = open_shard(e, ev, section, subject);
        if (st == TS_OK)
            st = cancel_shard(e, event_id, subject, o);
        /* RULE-REF-1: everything back. Refunds are asked for once a shard
         * is done; a first pass leaves them to the saga. */
        if (st == TS_OK && o->rounds == 0 && provider && saga_refunds_due(e, provider, subject) < 0)
            st = TS_ERR_UNAVAILABLE;
    }
    cmd_aggregate_ops(CMD_AGG_EVENT)->state_free(ev);
    return st;
}

typedef struct {
    eng_t *engine;
    pay_provider_t *provider;
    uint32_t batch;
    int pause_ms;
} cancel_t;

static ts_status on_commit(saga_t *saga, const evt_commit_t *commit, uint64_t seq, void *arg)
{
    (void)seq;
    cancel_t *c = arg;
    for (uint32_t i = 0; i < commit->n_events; i++) {
        const evt_event_t *e = &commit->events[i];
        if (e->type != EVT_EVENT_CANCELLED || !e->u.event_cancelled.event_id)
            continue;
        saga_cancel_opts_t o = {
            .batch = c->batch, .pause_ms = c->pause_ms, .rounds = 0, .saga = saga};
        ts_status st = saga_cancel_event(c->engine, c->provider, e->u.event_cancelled.event_id, &o);
        if (st != TS_OK)
            return st;
        fprintf(stderr, "saga_cancel: event %s cancelled on every shard, refunds requested\n",
                e->u.event_cancelled.event_id);
    }
    return TS_OK;
}

static void on_start(saga_t *s, void *arg)
{
    cancel_t *c = arg;
    sweep_t w = {.engine = c->engine, .provider = c->provider, .saga = s};
    ts_status st = eng_log_subjects(c->engine, "tix.inv.>", refund_shard, &w);
    if (st != TS_OK)
        fprintf(stderr, "saga_cancel: cannot list the shards for pending refunds: %s\n",
                ts_status_str(st));
    else if (w.requested)
        fprintf(stderr, "saga_cancel: %d refund(s) still due requested again\n", w.requested);
}

static ts_status cancel_cfg_check(const saga_cancel_config_t *cfg)
{
    return cfg && cfg->nats_url && cfg->engine && cfg->provider ? TS_OK : TS_ERR_INVALID;
}

ts_status saga_cancel_start(const saga_cancel_config_t *cfg, saga_t **out)
{
    if (cancel_cfg_check(cfg) != TS_OK)
        return TS_ERR_INVALID;
    cancel_t *c = calloc(1, sizeof(*c));
    if (!c)
        return TS_ERR_NOMEM;
    c->engine = cfg->engine;
    c->provider = cfg->provider;
    c->batch = cfg->batch ? cfg->batch : SAGA_CANCEL_BATCH;
    c->pause_ms = cfg->pause_ms;
    saga_config_t sc = {.nats_url = cfg->nats_url,
                        .stream = cfg->stream,
                        .name = "saga_cancel",
                        .filter = "tix.event.>",
                        .handler = on_commit,
                        .on_start = on_start,
                        .arg = c,
                        .arg_free = free};
    ts_status st = saga_start(&sc, out);
    if (st != TS_OK)
        free(c);
    return st;
}
