/* What the audit projector ships (audit.h "Push" and "File"): the Loki push
 * body, the file records, and the POST through libcurl. */
#include "projections/audit_int.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the push body (pure) ---- */

/* An entry's place in the body: its stream (by first appearance) and its
 * position in the batch, the tie-break that keeps the log's order. */
typedef struct {
    size_t stream, pos;
    int64_t ns;
} slot_t;

static int slot_cmp(const void *a, const void *b)
{
    const slot_t *x = a, *y = b;
    if (x->stream != y->stream)
        return x->stream < y->stream ? -1 : 1;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int same_labels(const proj__audit_entry_t *a, const proj__audit_entry_t *b)
{
    return strcmp(a->aggregate, b->aggregate) == 0 && strcmp(a->event_type, b->event_type) == 0;
}

static json_t *jstr(const char *s)
{
    json_t *v = json_string(s);
    return v ? v : json_null();
}

static json_t *ns_json(int64_t ns)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, ns);
    return json_string(buf);
}

char *proj__audit_push_body(const proj__audit_entry_t *es, size_t n, size_t *len)
{
    slot_t *slots = calloc(n ? n : 1, sizeof *slots);
    size_t *firsts = calloc(n ? n : 1, sizeof *firsts); /* entry that opened each stream */
    size_t n_streams = 0;
    if (!slots || !firsts)
        abort();
    /* A batch holds few label sets (aggregate kinds x event types), so a
     * linear search over the streams seen so far is enough. */
    for (size_t i = 0; i < n; i++) {
        size_t s = 0;
        while (s < n_streams && !same_labels(&es[firsts[s]], &es[i]))
            s++;
        if (s == n_streams)
            firsts[n_streams++] = i;
        slots[i] = (slot_t){.stream = s, .pos = i, .ns = es[i].ns};
    }
    qsort(slots, n, sizeof *slots, slot_cmp);

    json_t *streams = json_array();
    json_t *values = NULL;
    for (size_t i = 0; i < n; i++) {
        const proj__audit_entry_t *e = &es[slots[i].pos];
        if (i == 0 || slots[i].stream != slots[i - 1].stream) {
            values = json_array();
            json_array_append_new(streams,
                                  json_pack("{s:{s:s, s:o, s:o}, s:o}", "stream", "app",
                                            PROJ_AUDIT_APP, "aggregate", jstr(e->aggregate),
                                            "event_type", jstr(e->event_type), "values", values));
        }
        json_array_append_new(values, json_pack("[o, o]", ns_json(e->ns), jstr(e->line)));
    }
    json_t *body = json_pack("{s:o}", "streams", streams);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    free(slots);
    free(firsts);
    if (!text)
        abort();
    if (len)
        *len = strlen(text);
    return text;
}

void proj__audit_file_records(const proj__audit_entry_t *es, size_t n, ts_buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const proj__audit_entry_t *e = &es[i];
        json_t *r = json_pack("{s:o, s:s, s:o, s:o, s:o}", "ts", ns_json(e->ns), "app",
                              PROJ_AUDIT_APP, "aggregate", jstr(e->aggregate), "event_type",
                              jstr(e->event_type), "line", jstr(e->line));
        char *text = json_dumps(r, JSON_COMPACT);
        json_decref(r);
        if (!text)
            abort();
        ts_buf_append(out, text, strlen(text));
        ts_buf_put_u8(out, '\n');
        free(text);
    }
}

/* ---- the POST ---- */

#define LOKI_PUSH_PATH "/loki/api/v1/push"
#define LOKI_CONNECT_TIMEOUT_MS 5000L
#define LOKI_TIMEOUT_MS 30000L
#define LOKI_ANSWER_KEEP 200 /* bytes of an error answer kept for the log */

struct proj__loki {
    volatile int *stop;
    CURL *curl;
    struct curl_slist *headers;
    char *url;
    char answer[LOKI_ANSWER_KEEP + 1];
    size_t answer_len;
    char error[CURL_ERROR_SIZE];
};

static size_t on_answer(char *p, size_t size, size_t n, void *arg)
{
    proj__loki_t *l = arg;
    size_t len = size * n, room = LOKI_ANSWER_KEEP - l->answer_len;
    size_t take = len < room ? len : room;
    memcpy(l->answer + l->answer_len, p, take);
    l->answer_len += take;
    l->answer[l->answer_len] = '\0';
    return len;
}

/* A stop ends a push at once instead of after the timeout: a Loki that
 * hangs must not keep the process past its SIGTERM. */
static int on_progress(void *arg, curl_off_t dl_total, curl_off_t dl, curl_off_t ul_total,
                       curl_off_t ul)
{
    (void)dl_total, (void)dl, (void)ul_total, (void)ul;
    const proj__loki_t *l = arg;
    return l->stop && *l->stop != 0;
}

ts_status proj__loki_new(const char *base_url, volatile int *stop, proj__loki_t **out)
{
    size_t n = base_url ? strlen(base_url) : 0;
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    if (n == 0)
        return TS_ERR_INVALID;
    proj__loki_t *l = calloc(1, sizeof *l);
    if (!l)
        return TS_ERR_NOMEM;
    l->url = malloc(n + sizeof LOKI_PUSH_PATH);
    l->curl = curl_easy_init();
    /* No "Expect: 100-continue": it costs a round trip (or a second's wait
     * for a server that does not answer it) on every larger batch. */
    l->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (l->headers)
        l->headers = curl_slist_append(l->headers, "Expect:");
    if (!l->url || !l->curl || !l->headers) {
        proj__loki_free(l);
        return TS_ERR_NOMEM;
    }
    l->stop = stop;
    memcpy(l->url, base_url, n);
    memcpy(l->url + n, LOKI_PUSH_PATH, sizeof LOKI_PUSH_PATH);
    curl_easy_setopt(l->curl, CURLOPT_URL, l->url);
    curl_easy_setopt(l->curl, CURLOPT_HTTPHEADER, l->headers);
    curl_easy_setopt(l->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(l->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(l->curl, CURLOPT_CONNECTTIMEOUT_MS, LOKI_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(l->curl, CURLOPT_TIMEOUT_MS, LOKI_TIMEOUT_MS);
    curl_easy_setopt(l->curl, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(l->curl, CURLOPT_WRITEDATA, l);
    curl_easy_setopt(l->curl, CURLOPT_ERRORBUFFER, l->error);
    curl_easy_setopt(l->curl, CURLOPT_USERAGENT, "turnstile-audit");
    curl_easy_setopt(l->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(l->curl, CURLOPT_XFERINFODATA, l);
    curl_easy_setopt(l->curl, CURLOPT_NOPROGRESS, 0L);
    *out = l;
    return TS_OK;
}

void proj__loki_free(proj__loki_t *l)
{
    if (!l)
        return;
    if (l->curl)
        curl_easy_cleanup(l->curl);
    curl_slist_free_all(l->headers);
    free(l->url);
    free(l);
}

const char *proj__loki_url(const proj__loki_t *l)
{
    return l->url;
}

ts_status proj__loki_post(proj__loki_t *l, const char *body, size_t len, long *http, char *why,
                          size_t n)
{
    long code = 0;
    l->answer_len = 0;
    l->answer[0] = '\0';
    l->error[0] = '\0';
    curl_easy_setopt(l->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(l->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode cc = curl_easy_perform(l->curl);
    if (cc == CURLE_OK)
        curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &code);
    *http = code;
    if (cc != CURLE_OK) {
        snprintf(why, n, "%s", l->error[0] ? l->error : curl_easy_strerror(cc));
        return TS_ERR_UNAVAILABLE;
    }
    if (code >= 200 && code < 300)
        return TS_OK;
    /* Keep the answer on one line in the log. */
    for (size_t i = 0; i < l->answer_len; i++)
        if (l->answer[i] == '\n' || l->answer[i] == '\r')
            l->answer[i] = ' ';
    snprintf(why, n, "HTTP %ld: %s", code, l->answer);
    return code == 429 || code >= 500 ? TS_ERR_UNAVAILABLE : TS_ERR_INVALID;
}
