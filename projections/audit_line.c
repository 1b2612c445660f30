/* The audit projector's entries: one commit into one masked log line per
 * event, with its labels and timestamp (audit.h). Pure: no I/O, no clock. */
#include "events/codec.h"
#include "projections/audit_int.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

void proj__audit_hmac(const proj__audit_key_t *k, const char *s, size_t n, int lower, char out[65])
{
    char small[256];
    char *buf = n <= sizeof small ? small : malloc(n);
    uint8_t mac[32];
    unsigned int mac_len = 0;
    if (!buf)
        abort(); /* allocation failure is fatal (base.h) */
    for (size_t i = 0; i < n; i++)
        buf[i] = lower && s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    HMAC(EVP_sha256(), k->key, (int)k->len, (const unsigned char *)buf, n, mac, &mac_len);
    ts_hex(mac, sizeof mac, out);
    if (buf != small)
        free(buf);
}

/* ---- masking ---- */

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && memcmp(s + n - m, tail, m) == 0;
}

typedef enum { KEEP, DROP, HASH, HASH_LOWER } rule_t;

/* The rule for a key (audit.h "Masking"). */
static rule_t rule_of(const char *key, int person_names)
{
    static const char *const people[] = {"full_name",      "first_name",   "last_name",
                                         "display_name",   "holder_name",  "attendee_name",
                                         "recipient_name", "customer_name"};
    if (strstr(key, "password") || strstr(key, "secret"))
        return DROP;
    /* Any key that speaks of an e-mail or a phone: to_email, email_address,
     * emails, recipient_phone... (a flag such as email_verified keeps its
     * value: see hashed below). */
    if (strstr(key, "email"))
        return HASH_LOWER;
    if (strstr(key, "phone"))
        return HASH;
    if (person_names && (strcmp(key, "name") == 0 || ends_with(key, "_name")))
        return HASH;
    for (size_t i = 0; i < TS_ARRAY_LEN(people); i++)
        if (strcmp(key, people[i]) == 0)
            return HASH;
    return KEEP;
}

/* The masked form of x under a HASH rule: a string's keyed hash, an array
 * of them (null for an element that is not a string), null for null or an
 * object. NULL for a boolean or a number, which stays as it is: a flag or a
 * count about an address is not the address. */
static json_t *hashed(const proj__audit_key_t *k, const json_t *x, int lower)
{
    char hex[65];
    if (json_is_string(x)) {
        proj__audit_hmac(k, json_string_value(x), json_string_length(x), lower, hex);
        return json_string(hex);
    }
    if (json_is_array(x)) {
        json_t *a = json_array();
        size_t i;
        const json_t *e;
        json_array_foreach(x, i, e)
            json_array_append_new(a, json_is_string(e) ? hashed(k, e, lower) : json_null());
        return a;
    }
    if (json_is_null(x) || json_is_object(x))
        return json_null();
    return NULL;
}

json_t *proj__audit_mask(const proj__audit_key_t *k, const json_t *v, int person_names)
{
    if (!v)
        return NULL;
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(a, proj__audit_mask(k, x, person_names));
        return a;
    }
    if (!json_is_object(v))
        return json_deep_copy(v);
    /* A new object, keys in the same order (jansson keeps insertion order),
     * the masked value under "<key>_hash" where the clear one was. */
    json_t *o = json_object();
    const char *key;
    const json_t *x;
    json_object_foreach((json_t *)v, key, x)
    {
        rule_t r = rule_of(key, person_names);
        if (r == KEEP) {
            json_object_set_new(o, key, proj__audit_mask(k, x, person_names));
            continue;
        }
        if (r == DROP)
            continue;
        json_t *h = hashed(k, x, r == HASH_LOWER);
        if (!h) {
            json_object_set_new(o, key, json_deep_copy(x));
            continue;
        }
        char *name = malloc(strlen(key) + sizeof "_hash");
        if (!name)
            abort();
        strcpy(name, key);
        strcat(name, "_hash");
        json_object_set_new(o, name, h);
        free(name);
    }
    return o;
}

/* ---- entries ---- */

void proj__audit_entries_init(proj__audit_entries_t *es)
{
    memset(es, 0, sizeof *es);
    ts_arena_init(&es->arena, 64 * 1024);
}

void proj__audit_entries_reset(proj__audit_entries_t *es)
{
    es->n = 0;
    ts_arena_reset(&es->arena);
}

void proj__audit_entries_deinit(proj__audit_entries_t *es)
{
    free(es->v);
    ts_arena_deinit(&es->arena);
    memset(es, 0, sizeof *es);
}

static proj__audit_entry_t *entry_add(proj__audit_entries_t *es)
{
    if (es->n == es->cap) {
        size_t cap = es->cap ? es->cap * 2 : 256;
        proj__audit_entry_t *v = realloc(es->v, cap * sizeof *v);
        if (!v)
            abort();
        es->v = v;
        es->cap = cap;
    }
    proj__audit_entry_t *e = &es->v[es->n++];
    memset(e, 0, sizeof *e);
    return e;
}

/* The subject's parts: aggregate (second token, "unknown" when there is
 * none), id (what follows tix.<aggregate>.) and the subject as shipped,
 * with a claim's value replaced by its keyed hash. Strings in arena. */
typedef struct {
    const char *aggregate, *id, *subject;
} subject_t;

/* An aggregate kind fit for a label: [A-Za-z0-9_-]{1,32}. Anything else
 * (never written by the engine) is labelled "unknown", so that a stray
 * subject can neither make a label Loki refuses nor a stream per id. */
static int label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static subject_t subject_parts(ts_arena_t *a, const proj__audit_key_t *k, const char *subject)
{
    subject_t s = {"unknown", "", subject};
    const char *dot = strchr(subject, '.');
    if (!dot || !dot[1])
        return s;
    const char *agg = dot + 1;
    const char *end = strchr(agg, '.');
    if (!end) {
        if (label_ok(agg, strlen(agg)))
            s.aggregate = ts_arena_strdup(a, agg);
        return s;
    }
    if (!label_ok(agg, (size_t)(end - agg)))
        return s;
    s.aggregate = ts_arena_strndup(a, agg, (size_t)(end - agg));
    s.id = end + 1;
    /* tix.claim.<kind>.<value>: the value is what is unique about someone
     * (the SHA-256 of an e-mail), which a dictionary reverses. */
    const char *value = strcmp(s.aggregate, "claim") == 0 ? strchr(s.id, '.') : NULL;
    if (value && value[1]) {
        char hex[65];
        value++;
        proj__audit_hmac(k, value, strlen(value), 0, hex);
        s.subject = ts_arena_printf(a, "%.*s%s", (int)(value - subject), subject, hex);
        s.id = s.subject + (s.id - subject);
    }
    return s;
}

/* A string from the log, or null when it is not UTF-8 (NATS does not check
 * subjects for it). */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s);
    return v ? v : json_null();
}

static const char *dump(ts_arena_t *a, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    if (!text)
        abort(); /* only on allocation failure: our values are all valid */
    const char *copy = ts_arena_strdup(a, text);
    free(text);
    json_decref(o);
    return copy;
}

static void add_undecodable(proj__audit_entries_t *es, const subject_t *s, uint64_t seq,
                            const char *hash, int64_t msg_ns)
{
    proj__audit_entry_t *e = entry_add(es);
    e->seq = seq;
    e->ns = msg_ns;
    e->aggregate = s->aggregate;
    e->event_type = "Undecodable";
    e->line =
        dump(&es->arena, json_pack("{s:I, s:o, s:o, s:o, s:s, s:s}", "seq", (json_int_t)seq,
                                   "subject", jstr(s->subject), "aggregate", jstr(s->aggregate),
                                   "id", jstr(s->id), "hash", hash, "error", "undecodable"));
}

/* The event's own value of key (a group commit's events carry their
 * command's), else the commit's. New reference. */
static json_t *own_or(const json_t *ev, const json_t *commit, const char *key)
{
    json_t *v = json_object_get(ev, key);
    return json_incref(v ? v : json_object_get(commit, key));
}

size_t proj__audit_add_commit(proj__audit_entries_t *es, const proj__audit_key_t *k, uint64_t seq,
                              const char *subject, const void *data, size_t len, int64_t msg_ns)
{
    ts_arena_t scratch;
    evt_commit_t c;
    uint8_t h[32];
    char hash[65];
    SHA256(data, len, h);
    ts_hex(h, sizeof h, hash);
    subject_t s = subject_parts(&es->arena, k, subject);

    ts_arena_init(&scratch, 8192);
    if (evt_commit_decode(data, len, &scratch, &c) != TS_OK) {
        ts_arena_deinit(&scratch);
        add_undecodable(es, &s, seq, hash, msg_ns);
        return 1;
    }
    json_t *cj = evt_commit_to_json(&c);
    json_t *events = json_object_get(cj, "events");
    int users = strcmp(s.aggregate, "user") == 0;
    int64_t base = c.time ? c.time * 1000000 : msg_ns;
    for (uint32_t i = 0; i < c.n_events; i++) {
        const json_t *ev = json_array_get(events, i);
        proj__audit_entry_t *e = entry_add(es);
        e->seq = seq;
        e->index = i;
        e->ns = base + i;
        e->aggregate = s.aggregate;
        e->event_type = ts_arena_strdup(&es->arena, evt_type_name(c.events[i].type));
        json_t *line = json_object();
        json_object_set_new(line, "seq", json_integer((json_int_t)seq));
        json_object_set_new(line, "subject", jstr(s.subject));
        json_object_set_new(line, "aggregate", jstr(s.aggregate));
        json_object_set_new(line, "id", jstr(s.id));
        json_object_set(line, "version", json_object_get(cj, "version"));
        json_object_set(line, "time", json_object_get(cj, "time"));
        json_object_set_new(line, "actor", own_or(ev, cj, "actor"));
        json_object_set_new(line, "command_id", own_or(ev, cj, "command_id"));
        json_object_set(line, "correlation_id", json_object_get(cj, "correlation_id"));
        json_object_set_new(line, "hash", json_string(hash));
        json_object_set(line, "prev_hash", json_object_get(cj, "prev_hash"));
        json_object_set_new(line, "index", json_integer(i));
        json_object_set_new(line, "n_events", json_integer(c.n_events));
        json_object_set(line, "type", json_object_get(ev, "type"));
        json_object_set_new(line, "data", proj__audit_mask(k, json_object_get(ev, "data"), users));
        e->line = dump(&es->arena, line);
    }
    json_decref(cj);
    ts_arena_deinit(&scratch);
    return c.n_events;
}
