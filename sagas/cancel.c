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

typedef struct {
    eng_t *engine;
    pay_provider_t *provider;
    uint32_t batch;
    int pause_ms;
} cancel_t;

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
        int64_t amount = b->refund > 0 ? b->refund : b->paid_amount;
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
    cancel_t *c;
    saga_t *saga;
    int requested;
} sweep_t;

static void refund_shard(const char *subject, uint64_t commits, void *arg)
{
    (void)commits;
    sweep_t *w = arg;
    if (saga_stopping(w->saga))
        return;
    int n = saga_refunds_due(w->c->engine, w->c->provider, subject);
    if (n > 0)
        w->requested += n;
}

static void on_start(saga_t *s, void *arg)
{
    sweep_t w = {.c = arg, .saga = s};
    ts_status st = eng_log_subjects(w.c->engine, "tix.inv.>", refund_shard, &w);
    if (st != TS_OK)
        fprintf(stderr, "saga_cancel: cannot list the shards for pending refunds: %s\n",
                ts_status_str(st));
    else if (w.requested)
        fprintf(stderr, "saga_cancel: %d refund(s) still due requested again\n", w.requested);
}

/* ---- EventCancelled ---- */

typedef struct {
    const char **sections;
    uint32_t n;
    int cancelled;
    ts_arena_t *arena;
} layout_t;

static void copy_layout(const void *state, void *arg)
{
    const cmd_event_state_t *ev = state;
    layout_t *l = arg;
    l->cancelled = ev->exists && ev->status == CMD_EVENT_CANCELLED;
    l->n = ev->published.n_sections;
    l->sections = ts_arena_alloc(l->arena, (l->n + 1) * sizeof(char *));
    for (uint32_t i = 0; i < l->n; i++)
        l->sections[i] = ts_arena_strdup(l->arena, ev->published.sections[i].key);
}

static void pause_ms(int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Cancels every booking of one shard, batch by batch, then asks for the
 * refunds due there. */
static ts_status cancel_shard(cancel_t *c, saga_t *saga, const char *event_id, const char *subject)
{
    for (uint32_t round = 0;; round++) {
        if (saga_stopping(saga))
            return TS_ERR_SHUTDOWN;
        ts_arena_t arena;
        ts_arena_init(&arena, 16384);
        eng_cmd_t cmd = {.type = ENG_INV_CANCEL_ALL, .subject = subject, .actor = "system"};
        cmd.command_id = eng_new_id(&arena, "saga-cancel-");
        cmd.correlation_id = ts_arena_printf(&arena, "cancel-%s", event_id);
        cmd.u.cancel.reason = "event_cancelled";
        cmd.u.cancel.max = c->batch;
        eng_outcome_t o;
        ts_status st = eng_execute(c->engine, &cmd, &arena, &o);
        uint32_t n = st == TS_OK && !o.reject ? o.n_events : 0;
        if (st == TS_OK && o.reject)
            /* Nothing this saga can change by retrying: say so and go on. */
            fprintf(stderr, "saga_cancel: %s refused: %s (%s)\n", subject, o.reject->code,
                    o.reject->detail ? o.reject->detail : "");
        ts_arena_deinit(&arena);
        if (st != TS_OK)
            return st;
        if (n == 0)
            break;
        saga_progress(saga);
        pause_ms(c->pause_ms);
    }
    if (saga_refunds_due(c->engine, c->provider, subject) < 0)
        return TS_ERR_UNAVAILABLE;
    return TS_OK;
}

static ts_status on_commit(saga_t *saga, const evt_commit_t *commit, uint64_t seq, void *arg)
{
    (void)seq;
    cancel_t *c = arg;
    for (uint32_t i = 0; i < commit->n_events; i++) {
        const evt_event_t *e = &commit->events[i];
        if (e->type != EVT_EVENT_CANCELLED || !e->u.event_cancelled.event_id)
            continue;
        const char *event_id = e->u.event_cancelled.event_id;
        ts_arena_t arena;
        ts_arena_init(&arena, 4096);
        layout_t l = {.arena = &arena};
        ts_status st =
            eng_read(c->engine, ts_arena_printf(&arena, "tix.event.%s", event_id), copy_layout, &l);
        for (uint32_t k = 0; st == TS_OK && k < l.n; k++)
            st = cancel_shard(c, saga, event_id,
                              ts_arena_printf(&arena, "tix.inv.%s.%s", event_id, l.sections[k]));
        if (st == TS_OK)
            fprintf(stderr, "saga_cancel: event %s: %u shard(s) cancelled and refunded\n", event_id,
                    l.n);
        ts_arena_deinit(&arena);
        if (st != TS_OK)
            return st;
    }
    return TS_OK;
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
