/*
 * test_chain — replay/chain.c and item.c without a server: commits are
 * encoded here, chained like the engine chains them, fed to the verifier in
 * "stream order" and tampered with the ways an auditor must catch (altered
 * and re-encoded, damaged, removed, swapped, moved to another subject).
 * The integration test test_audit_verify.py does the same over JetStream.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "events/codec.h"
#include "replay/replay.h"

#include <openssl/sha.h>
#include <string.h>

#define MAX_LOG 16

/* One message of a pretend stream. */
typedef struct {
    const char *subject;
    ts_buf_t data;
} msg_t;

typedef struct {
    msg_t m[MAX_LOG];
    int n;
    /* per subject "A" / "B": the chain as the engine keeps it */
    uint64_t version[2];
    uint8_t hash[2][32];
} log_t;

/* Appends a well-chained commit on subject (tix.inv.e.A or .B) whose one
 * event releases booking; actor and time are fixed. */
static void append(log_t *l, const char *subject, const char *booking, int64_t time)
{
    int k = subject[strlen(subject) - 1] == 'A' ? 0 : 1;
    evt_event_t ev = {.type = EVT_HOLD_RELEASED};
    ev.u.hold_ended.booking_id = booking;
    evt_commit_t c = {.subject = subject,
                      .version = l->version[k] + 1,
                      .command_id = "cmd-1",
                      .correlation_id = "cmd-1",
                      .actor = "us-alice",
                      .time = time,
                      .n_events = 1,
                      .events = &ev};
    memcpy(c.prev_hash, l->hash[k], 32);
    msg_t *m = &l->m[l->n++];
    m->subject = subject;
    ts_buf_init(&m->data);
    assert_int_equal(evt_commit_encode(&c, &m->data), TS_OK);
    SHA256(m->data.data, m->data.len, l->hash[k]);
    l->version[k]++;
}

/* A: 4 commits, B: 3, interleaved A A B A B B A (stream seqs 1..7). */
static void build(log_t *l)
{
    memset(l, 0, sizeof(*l));
    const char *order = "AABABBA";
    for (int i = 0; order[i]; i++)
        append(l, order[i] == 'A' ? "tix.inv.e.A" : "tix.inv.e.B", order[i] == 'A' ? "b-a" : "b-b",
               1000 * (i + 1));
}

static void release(log_t *l)
{
    for (int i = 0; i < l->n; i++)
        ts_buf_deinit(&l->m[i].data);
}

/* Feeds messages in array order with sequences 1..n; returns the result. */
static rpl_verify_t run(const log_t *l, rpl_chain_t *c)
{
    rpl_chain_init(c);
    for (int i = 0; i < l->n; i++)
        rpl_chain_add(c, (uint64_t)i + 1, l->m[i].subject, l->m[i].data.data, l->m[i].data.len);
    return c->result;
}

static void assert_first_bad(const log_t *l, const char *subject, uint64_t seq, const char *reason)
{
    rpl_chain_t c;
    rpl_verify_t v = run(l, &c);
    assert_false(v.ok);
    assert_string_equal(v.first_bad.subject, subject);
    assert_int_equal(v.first_bad.seq, seq);
    assert_string_equal(v.first_bad.reason, reason);
    rpl_chain_deinit(&c);
}

static void test_intact(void **state)
{
    (void)state;
    log_t l;
    build(&l);
    rpl_chain_t c;
    rpl_verify_t v = run(&l, &c);
    assert_true(v.ok);
    assert_int_equal(v.subjects, 2);
    assert_int_equal(v.commits, 7);
    assert_int_equal(v.broken, 0);
    assert_null(v.first_bad.subject);
    json_t *j = rpl_verify_json(&v);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"broken\":0,\"commits\":7,\"ok\":true,\"subjects\":2}");
    free(s);
    json_decref(j);
    rpl_chain_deinit(&c);
    release(&l);
}

/* Re-encoded with another actor: decodes, right version, right prev_hash;
 * the next commit on A (seq 4) points at the original bytes. */
static void test_altered(void **state)
{
    (void)state;
    log_t l;
    build(&l);
    ts_arena_t a;
    ts_arena_init(&a, 4096);
    evt_commit_t c;
    assert_int_equal(evt_commit_decode(l.m[1].data.data, l.m[1].data.len, &a, &c), TS_OK);
    c.actor = "us-mallory";
    ts_buf_t b;
    ts_buf_init(&b);
    assert_int_equal(evt_commit_encode(&c, &b), TS_OK);
    ts_buf_deinit(&l.m[1].data);
    l.m[1].data = b;
    assert_first_bad(&l, "tix.inv.e.A", 4, "prev_hash_mismatch");
    /* Reported once: the chain goes on from what is there, so later
     * commits of A fit again. */
    append(&l, "tix.inv.e.A", "b-a", 8000);
    rpl_chain_t ch;
    rpl_verify_t v = run(&l, &ch);
    assert_int_equal(v.broken, 1);
    assert_int_equal(v.commits, 8);
    assert_int_equal(v.first_bad.seq, 4);
    rpl_chain_deinit(&ch);
    ts_arena_deinit(&a);
    release(&l);
}

static void test_garbled(void **state)
{
    (void)state;
    log_t l;
    build(&l);
    l.m[3].data.data[4] ^= 0xff; /* A's third commit, seq 4 */
    assert_first_bad(&l, "tix.inv.e.A", 4, "undecodable");
    release(&l);
}

static void test_removed_and_swapped(void **state)
{
    (void)state;
    log_t l;
    build(&l);
    msg_t gone = l.m[2]; /* B's first commit, seq 3 */
    memmove(&l.m[2], &l.m[3], (size_t)(l.n - 3) * sizeof(msg_t));
    l.n--;
    /* B's second commit now at seq 4 (was 5) has version 2 first. */
    assert_first_bad(&l, "tix.inv.e.B", 4, "version_gap");
    l.m[l.n++] = gone;
    release(&l);

    build(&l);
    msg_t t = l.m[4]; /* B's second and third commits (seqs 5 and 6) */
    l.m[4] = l.m[5];
    l.m[5] = t;
    assert_first_bad(&l, "tix.inv.e.B", 5, "version_gap");
    release(&l);
}

static void test_first_in_stream_order_and_subject(void **state)
{
    (void)state;
    log_t l;
    build(&l);
    l.m[6].data.data[4] ^= 0xff; /* A, seq 7 */
    l.m[5].data.data[4] ^= 0xff; /* B, seq 6: earlier */
    rpl_chain_t c;
    rpl_verify_t v = run(&l, &c);
    assert_int_equal(v.broken, 2);
    assert_string_equal(v.first_bad.subject, "tix.inv.e.B");
    assert_int_equal(v.first_bad.seq, 6);
    rpl_chain_deinit(&c);
    release(&l);

    /* A commit of A published on another subject. */
    build(&l);
    l.m[6].subject = "tix.inv.e.C";
    assert_first_bad(&l, "tix.inv.e.C", 7, "subject_mismatch");
    release(&l);
}

static void test_items(void **state)
{
    (void)state;
    log_t l;
    build(&l);
    eng_log_msg_t m = {
        .seq = 2, .subject = l.m[1].subject, .data = l.m[1].data.data, .len = l.m[1].data.len};
    json_t *j = rpl_commit_json(&m, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "actor")), "us-alice");
    const char *hash = json_string_value(json_object_get(j, "hash"));
    assert_int_equal(strlen(hash), 64);
    json_decref(j);
    /* The next commit of A (seq 4) names this one's hash as its prev_hash. */
    eng_log_msg_t m4 = {
        .seq = 4, .subject = l.m[3].subject, .data = l.m[3].data.data, .len = l.m[3].data.len};
    json_t *next = rpl_commit_json(&m4, NULL);
    j = rpl_commit_json(&m, NULL);
    assert_string_equal(json_string_value(json_object_get(next, "prev_hash")),
                        json_string_value(json_object_get(j, "hash")));
    json_decref(next);
    json_decref(j);

    /* Filters: time is [from, to), type is any event of the commit. */
    rpl_filter_t f = {.from_time = 2000, .to_time = 3000};
    assert_null(rpl_commit_json(&m4, &f)); /* time 4000 */
    f.to_time = 4000;
    assert_null(rpl_commit_json(&m4, &f)); /* to_time is exclusive */
    f.to_time = 4001;
    assert_non_null(j = rpl_commit_json(&m4, &f));
    json_decref(j);
    f = (rpl_filter_t){.from_time = 2000, .to_time = 3000};
    assert_non_null(j = rpl_commit_json(&m, &f)); /* time 2000 */
    json_decref(j);
    f = (rpl_filter_t){.type = "HoldPlaced"};
    assert_null(rpl_commit_json(&m, &f));
    f.type = "HoldReleased";
    assert_non_null(j = rpl_commit_json(&m, &f));
    json_decref(j);

    /* Undecodable: shown anyway, whatever the filter. */
    l.m[1].data.data[4] ^= 0xff;
    f.type = "HoldPlaced";
    assert_non_null(j = rpl_commit_json(&m, &f));
    assert_string_equal(json_string_value(json_object_get(j, "error")), "undecodable");
    assert_string_equal(json_string_value(json_object_get(j, "subject")), "tix.inv.e.A");
    json_decref(j);
    release(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact),
        cmocka_unit_test(test_altered),
        cmocka_unit_test(test_garbled),
        cmocka_unit_test(test_removed_and_swapped),
        cmocka_unit_test(test_first_in_stream_order_and_subject),
        cmocka_unit_test(test_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
