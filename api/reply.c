/* Answers: JSON, RFC 7807 problems, and the shared query parameters. */
#include "api/api_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void api_reply_json(api_req_t *r, int status, json_t *body)
{
    free(r->out);
    r->status = status;
    r->out = json_dumps(body, JSON_COMPACT);
    r->out_type = status >= 400 ? "application/problem+json" : "application/json";
    json_decref(body);
}

static const char *title_of(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

void api_problem(api_req_t *r, int status, const char *code, const char *detail, json_t *extra)
{
    json_t *p =
        json_pack("{s:s+, s:s, s:i, s:s, s:s}", "type", "/problems/", code, "title",
                  title_of(status), "status", status, "detail", detail ? detail : "", "code", code);
    if (extra) {
        json_object_update(p, extra);
        json_decref(extra);
    }
    api_reply_json(r, status, p);
}

void api_reply_empty(api_req_t *r, int status)
{
    free(r->out);
    r->status = status;
    r->out = strdup("");
    r->out_type = NULL;
}

void api_problem_validation(api_req_t *r, const char *field, const char *message)
{
    json_t *errors = json_pack("{s:[{s:s, s:s}]}", "errors", "field", field, "message", message);
    api_problem(r, 400, "validation_failed", message, errors);
}

void api_reply_reject(api_req_t *r, const cmd_reject_t *rj)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {
        {"validation_failed", 400}, {"unauthorized", 401},    {"forbidden", 403},
        {"not_found", 404},         {"conflict", 409},        {"seat_unavailable", 409},
        {"sold_out", 409},          {"hold_expired", 409},    {"limit_exceeded", 422},
        {"not_on_sale", 422},       {"transfer_closed", 422}, {"idempotency_key_reused", 422},
        {"rate_limited", 429},
    };
    int status = 409;
    for (size_t i = 0; i < TS_ARRAY_LEN(map); i++)
        if (strcmp(map[i].code, rj->code) == 0)
            status = map[i].status;
    if (strcmp(rj->code, "validation_failed") == 0)
        return api_problem_validation(r, rj->field ? rj->field : "body", rj->detail);
    json_t *extra = json_object();
    if (strcmp(rj->code, "seat_unavailable") == 0) {
        json_t *seats = json_array();
        for (uint32_t i = 0; i < rj->n_seats; i++)
            json_array_append_new(seats, json_string(rj->seats[i]));
        json_object_set_new(extra, "seats", seats);
    }
    if (strcmp(rj->code, "limit_exceeded") == 0)
        json_object_set_new(extra, "limit", json_integer(rj->limit));
    /* Which field the rule is about (a PATCH of tiers on a published event,
     * a promo code used up, ...). */
    if (rj->field)
        json_object_set_new(extra, "field", json_string(rj->field));
    api_problem(r, status, rj->code, rj->detail, extra);
}

void api_reply_status(api_req_t *r, ts_status st)
{
    switch (st) {
    case TS_ERR_NOT_FOUND:
        return api_problem(r, 404, "not_found", "no such resource", NULL);
    case TS_ERR_INVALID:
        return api_problem_validation(r, "path", "malformed identifier");
    case TS_ERR_UNAVAILABLE:
    case TS_ERR_LOG:
    case TS_ERR_TIMEOUT:
    case TS_ERR_DB:
    case TS_ERR_SHUTDOWN:
        r->retry_after = "1";
        return api_problem(r, 503, "unavailable", ts_status_str(st), NULL);
    default:
        return api_problem(r, 500, "internal", ts_status_str(st), NULL);
    }
}

const char *api_query(api_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *api_body_json(api_req_t *r)
{
    json_error_t err;
    json_t *j = json_loadb((const char *)r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        char *msg = ts_arena_printf(&r->arena, "malformed JSON: %s (line %d, column %d)", err.text,
                                    err.line, err.column);
        api_problem_validation(r, "body", msg);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        api_problem_validation(r, "body", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

json_t *api_event_body(api_req_t *r, int (*auth)(api_req_t *r))
{
    if (auth(r) != 0)
        return NULL;
    if (!api_event_id_valid(r->params[0])) {
        api_problem(r, 404, "not_found", "no such event", NULL);
        return NULL;
    }
    return api_body_json(r);
}

int api_wait_min_seq(api_req_t *r)
{
    const char *v = api_query(r, "min_seq");
    if (!v)
        return 0;
    /* Digits only: strtoull alone would take " 7", "+7" and "-7". */
    char *end = NULL;
    errno = 0;
    unsigned long long n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
    if (!end || *end || errno) {
        api_problem_validation(r, "min_seq", "a non-negative integer (a commit_seq)");
        return -1;
    }
    r->min_seq = n;
    ts_status st = proj_wait_seq(r->srv->cfg.db, PROJ_CATALOG, n, r->srv->cfg.min_seq_wait_ms);
    if (st == TS_ERR_TIMEOUT) {
        r->retry_after = "1";
        api_problem(r, 503, "projection_lagging",
                    "the read model has not reached min_seq yet; retry shortly", NULL);
        return -1;
    }
    if (st != TS_OK) {
        api_reply_status(r, st);
        return -1;
    }
    return 0;
}

void api_reply_user_list(api_req_t *r, api_user_list_fn list)
{
    if (api_authenticate(r) != 0 || api_wait_min_seq(r) != 0)
        return;
    int limit = api__limit(r);
    if (limit < 0)
        return;
    json_t *out = NULL;
    ts_status st = list(r->srv->cfg.db, r->user_id, limit, api_query(r, "cursor"), &out);
    if (st == TS_ERR_INVALID)
        return api_problem_validation(r, "cursor", "not a cursor from this API");
    if (st != TS_OK)
        return api_reply_status(r, st);
    api_reply_json(r, 200, out);
}
