/* Operations (liveness), the audit log, its verification and the contract.
 * Readiness and metrics are in health.c; the audit views themselves are made
 * in replay/. */
#include "api/api_int.h"
#include "replay/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void api_h_healthz(api_req_t *r)
{
    api_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
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
    api_reply_json(r, 200, api__openapi());
}
