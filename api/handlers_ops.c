/* Operations (health, readiness, metrics), the audit log, its verification
 * and the contract. The audit views themselves are made in replay/. */
#include "api/api_int.h"
#include "replay/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void api_h_healthz(api_req_t *r)
{
    api_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void api_h_readyz(api_req_t *r)
{
    int js = eng_ready(r->srv->cfg.engine) == TS_OK;
    int pg = proj_db_ping(r->srv->cfg.db) == TS_OK;
    if (!js || !pg)
        r->retry_after = "1";
    api_reply_json(r, js && pg ? 200 : 503,
                   json_pack("{s:b, s:{s:s, s:s}}", "ready", js && pg, "checks", "jetstream_lmdb",
                             js ? "ok" : "unavailable", "postgres", pg ? "ok" : "unavailable"));
    if (!(js && pg))
        r->out_type = "application/json";
}

static int first_time(const eng_log_msg_t *m, void *arg)
{
    *(int64_t *)arg = m->time;
    return 1;
}

void api_h_metrics(api_req_t *r)
{
    ts_buf_t b;
    ts_buf_init(&b);
    eng_metrics_render(r->srv->cfg.engine, &b);
    uint64_t head = 0, done = 0;
    if (eng_log_last_seq(r->srv->cfg.engine, &head) == TS_OK &&
        proj_checkpoint_get(r->srv->cfg.db, "catalog", &done) == TS_OK) {
        uint64_t lag = head > done ? head - done : 0;
        double lag_s = 0;
        if (lag) {
            /* Seconds: the age of the oldest commit not yet projected. */
            int64_t t = 0;
            eng_log_scan(r->srv->cfg.engine, ">", done + 1, 1, first_time, &t);
            if (t)
                lag_s = (double)(api__now_ms() - t) / 1000.0;
        }
        char *s = ts_arena_printf(
            &r->arena,
            "# HELP turnstile_projection_lag_events Commits in the log not yet projected.\n"
            "# TYPE turnstile_projection_lag_events gauge\n"
            "turnstile_projection_lag_events{projection=\"catalog\"} %llu\n"
            "# HELP turnstile_projection_lag_seconds Age of the oldest unprojected commit.\n"
            "# TYPE turnstile_projection_lag_seconds gauge\n"
            "turnstile_projection_lag_seconds{projection=\"catalog\"} %.3f\n"
            "# TYPE turnstile_log_last_seq gauge\nturnstile_log_last_seq %llu\n",
            (unsigned long long)lag, lag_s, (unsigned long long)head);
        ts_buf_append(&b, s, strlen(s));
    }
    ts_buf_append(&b, "", 1);
    free(r->out);
    r->out = (char *)b.data; /* ownership passes to the answer */
    r->status = 200;
    r->out_type = "text/plain; version=0.0.4";
}

/* ---- GET /audit/events ---- */

#define AUDIT_SCAN_WINDOW 5000

typedef struct {
    json_t *items;
    rpl_filter_t filter;
    int limit;
    uint64_t next;
    uint32_t scanned;
    int full;
} audit_scan_t;

static int audit_one(const eng_log_msg_t *m, void *arg)
{
    audit_scan_t *a = arg;
    if ((int)json_array_size(a->items) >= a->limit) {
        a->full = 1;
        a->next = m->seq;
        return 1;
    }
    a->next = m->seq + 1;
    a->scanned++;
    json_t *item = rpl_commit_json(m, &a->filter);
    if (item)
        json_array_append_new(a->items, item);
    return 0;
}

static int subject_filter_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 256 || strncmp(s, "tix.", 4) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ?subject= (default every subject); NULL after replying 400. */
static const char *audit_subject(api_req_t *r)
{
    const char *subject = api_query(r, "subject");
    if (!subject)
        return "tix.>";
    if (!subject_filter_valid(subject)) {
        api_problem_validation(r, "subject", "a subject filter starting with tix.");
        return NULL;
    }
    return subject;
}

void api_h_audit_events(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_AUDITOR) != 0)
        return;
    audit_scan_t a = {0};
    const char *subject = audit_subject(r);
    if (!subject)
        return;
    a.filter.type = api_query(r, "type");
    const char *v;
    uint64_t from = 1;
    if ((v = api_query(r, "from_seq")) || (v = api_query(r, "cursor"))) {
        char *end = NULL;
        errno = 0;
        from = strtoull(v, &end, 10);
        if (!*v || *end || errno || v[0] == '-')
            return api_problem_validation(r, "from_seq", "a positive integer");
    }
    if (((v = api_query(r, "from_time")) && ts_time_parse(v, &a.filter.from_time) != TS_OK) ||
        ((v = api_query(r, "to_time")) && ts_time_parse(v, &a.filter.to_time) != TS_OK))
        return api_problem_validation(r, "from_time", "RFC 3339 times");
    if ((a.limit = api__limit(r)) < 0)
        return;
    a.items = json_array();
    /* Filters by type or time may skip commits: scan a bounded window and
     * hand back a cursor to go on from. */
    ts_status st =
        eng_log_scan(r->srv->cfg.engine, subject, from, AUDIT_SCAN_WINDOW, audit_one, &a);
    if (st != TS_OK) {
        json_decref(a.items);
        return api_reply_status(r, st);
    }
    json_t *next = a.full || a.scanned == AUDIT_SCAN_WINDOW
                       ? json_sprintf("%llu", (unsigned long long)a.next)
                       : json_null();
    api_reply_json(r, 200, json_pack("{s:o, s:o}", "items", a.items, "next_cursor", next));
}

/* ---- GET /audit/verify ---- */

/* Reads every commit of the matching subjects once, in order (a full pass:
 * about a second per 100,000 commits). A broken chain is an answer, not an
 * error: 200 with ok false and the first break. */
void api_h_audit_verify(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_AUDITOR) != 0)
        return;
    const char *subject = audit_subject(r);
    if (!subject)
        return;
    rpl_verify_t v;
    ts_status st = rpl_verify(r->srv->cfg.engine, subject, &r->arena, &v);
    if (st != TS_OK)
        return api_reply_status(r, st);
    api_reply_json(r, 200, rpl_verify_json(&v));
}

void api_h_openapi(api_req_t *r)
{
    extern const char api__openapi_json[];
    free(r->out);
    r->out = strdup(api__openapi_json);
    r->status = 200;
    r->out_type = "application/json";
}
