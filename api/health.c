/* Readiness, metrics and the lag of each projection behind the log.
 *
 * A projection is a fold of the stream that keeps its own position:
 *  - catalog: the checkpoint in PostgreSQL (proj_checkpoint_get);
 *  - every other one (audit, ...): a durable JetStream consumer named
 *    "proj_<projection>" on the stream, whose ack floor is its position
 *    (it acks after it has durably folded a commit).
 * Lag in events is the stream's last sequence minus the position; lag in
 * seconds is the age of the first commit after the position (0 when there
 * is none). A projection without its consumer (or, for catalog, without a
 * readable checkpoint) is not running: nothing says how far it got, so it
 * is reported as not running with the whole log as its lag, never as
 * healthy.
 *
 * Which projections are looked at: catalog, audit, and every durable named
 * proj_* found on the stream. /readyz fails on any of them that is behind
 * (more than ready_max_lag_s seconds, or ready_max_lag_events events when
 * set), and on those listed in ready_projections that are not running. */
#include "api/api_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAG_MAX 16
#define LAG_PREFIX "proj_"

typedef struct {
    char name[48];
    int running;
    uint64_t position; /* last stream sequence folded (or acked) */
    uint64_t lag_events;
    double lag_seconds;
} lag_t;

typedef struct {
    lag_t items[LAG_MAX];
    int n;
    uint64_t head; /* the stream's last sequence */
    int log_ok, pg_ok;
} lags_t;

static lag_t *lag_find(lags_t *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    if (l->n == LAG_MAX || strlen(name) >= sizeof l->items[0].name)
        return NULL;
    lag_t *x = &l->items[l->n++];
    memset(x, 0, sizeof *x);
    strcpy(x->name, name);
    return x;
}

static void on_consumer(const eng_consumer_t *c, void *arg)
{
    const char *name = c->name + strlen(LAG_PREFIX);
    /* The catalog's position is its checkpoint, not its consumer's. */
    if (strcmp(name, PROJ_CATALOG) == 0 || !*name)
        return;
    lag_t *x = lag_find(arg, name);
    if (!x)
        return;
    x->running = 1;
    x->position = c->ack_floor;
}

static int first_time(const eng_log_msg_t *m, void *arg)
{
    *(int64_t *)arg = m->time;
    return 1;
}

/* Fills l with every known projection and its lag. */
static void lags_measure(api_server_t *s, lags_t *l)
{
    memset(l, 0, sizeof *l);
    lag_t *cat = lag_find(l, PROJ_CATALOG);
    lag_find(l, "audit");
    l->log_ok = eng_log_last_seq(s->cfg.engine, &l->head) == TS_OK;
    if (proj_checkpoint_get(s->cfg.db, PROJ_CATALOG, &cat->position) == TS_OK)
        cat->running = 1;
    l->pg_ok = cat->running || proj_db_ping(s->cfg.db) == TS_OK;
    if (l->log_ok && eng_log_consumers(s->cfg.engine, LAG_PREFIX, on_consumer, l) != TS_OK)
        l->log_ok = 0;
    int64_t now = api__now_ms();
    for (int i = 0; i < l->n && l->log_ok; i++) {
        lag_t *x = &l->items[i];
        uint64_t from = x->running ? x->position : 0;
        /* A model made from another stream may be ahead of this one. */
        x->lag_events = l->head > from ? l->head - from : 0;
        if (!x->lag_events)
            continue;
        /* Seconds: the age of the oldest commit not yet folded. */
        int64_t t = 0;
        eng_log_scan(s->cfg.engine, ">", from + 1, 1, first_time, &t);
        if (t && now > t)
            x->lag_seconds = (double)(now - t) / 1000.0;
    }
}

/* 1 when name is listed in the comma-separated list. */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* "ok", "behind" or "not_running". */
static const char *lag_state(const api_server_t *s, const lag_t *x)
{
    if (!x->running)
        return "not_running";
    if (x->lag_seconds > s->cfg.ready_max_lag_s ||
        (s->cfg.ready_max_lag_events && x->lag_events > s->cfg.ready_max_lag_events))
        return "behind";
    return "ok";
}

void api_h_readyz(api_req_t *r)
{
    api_server_t *s = r->srv;
    lags_t l;
    int js = eng_ready(s->cfg.engine) == TS_OK;
    lags_measure(s, &l);
    int pg = l.pg_ok;
    int ready = js && pg;
    json_t *projections = json_object();
    json_t *failing = json_array();
    for (int i = 0; i < l.n; i++) {
        const lag_t *x = &l.items[i];
        const char *state = l.log_ok ? lag_state(s, x) : "unknown";
        int required = listed(s->cfg.ready_projections, x->name);
        json_t *p = json_pack("{s:s, s:b}", "status", state, "required", required);
        if (x->running)
            json_object_set_new(p, "position", json_integer((json_int_t)x->position));
        if (l.log_ok) {
            json_object_set_new(p, "lag_events", json_integer((json_int_t)x->lag_events));
            json_object_set_new(p, "lag_seconds", json_real(x->lag_seconds));
        }
        json_object_set_new(projections, x->name, p);
        if (strcmp(state, "behind") == 0 || (strcmp(state, "not_running") == 0 && required)) {
            ready = 0;
            json_array_append_new(failing, json_string(x->name));
        }
    }
    if (!ready)
        r->retry_after = "1";
    api_reply_json(r, ready ? 200 : 503,
                   json_pack("{s:b, s:{s:s, s:s}, s:o, s:o, s:i}", "ready", ready, "checks",
                             "jetstream_lmdb", js ? "ok" : "unavailable", "postgres",
                             pg ? "ok" : "unavailable", "projections", projections, "lagging",
                             failing, "max_lag_seconds", s->cfg.ready_max_lag_s));
    r->out_type = "application/json";
}

void api_h_metrics(api_req_t *r)
{
    api_server_t *s = r->srv;
    lags_t l;
    ts_buf_t b;
    ts_buf_init(&b);
    eng_metrics_render(s->cfg.engine, &b);
    lags_measure(s, &l);
    if (l.log_ok) {
        static const char head[] =
            "# HELP turnstile_projection_lag_events Commits in the log not yet folded by the "
            "projection (the whole log when it is not running).\n"
            "# TYPE turnstile_projection_lag_events gauge\n";
        ts_buf_append(&b, head, strlen(head));
        for (int i = 0; i < l.n; i++) {
            char *line = ts_arena_printf(
                &r->arena, "turnstile_projection_lag_events{projection=\"%s\"} %" PRIu64 "\n",
                l.items[i].name, l.items[i].lag_events);
            ts_buf_append(&b, line, strlen(line));
        }
        static const char secs[] =
            "# HELP turnstile_projection_lag_seconds Age of the oldest commit the projection "
            "has not folded yet (0 when none).\n"
            "# TYPE turnstile_projection_lag_seconds gauge\n";
        ts_buf_append(&b, secs, strlen(secs));
        for (int i = 0; i < l.n; i++) {
            char *line = ts_arena_printf(
                &r->arena, "turnstile_projection_lag_seconds{projection=\"%s\"} %.3f\n",
                l.items[i].name, l.items[i].lag_seconds);
            ts_buf_append(&b, line, strlen(line));
        }
        char *last = ts_arena_printf(&r->arena,
                                     "# HELP turnstile_log_last_seq The stream's last sequence.\n"
                                     "# TYPE turnstile_log_last_seq gauge\n"
                                     "turnstile_log_last_seq %" PRIu64 "\n",
                                     l.head);
        ts_buf_append(&b, last, strlen(last));
    }
    static const char up[] =
        "# HELP turnstile_projection_running 1 when the projection's checkpoint (catalog) or "
        "durable consumer proj_<name> exists.\n"
        "# TYPE turnstile_projection_running gauge\n";
    ts_buf_append(&b, up, strlen(up));
    for (int i = 0; i < l.n; i++) {
        char *line =
            ts_arena_printf(&r->arena, "turnstile_projection_running{projection=\"%s\"} %d\n",
                            l.items[i].name, l.items[i].running);
        ts_buf_append(&b, line, strlen(line));
    }
    ts_buf_append(&b, "", 1);
    free(r->out);
    r->out = (char *)b.data; /* ownership passes to the answer */
    r->status = 200;
    r->out_type = "text/plain; version=0.0.4";
}
