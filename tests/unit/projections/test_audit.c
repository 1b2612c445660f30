/*
 * test_audit — the audit projector's pure parts (projections/audit_line.c,
 * audit_push.c) and its files (audit_store.c): masking, one commit into
 * entries, the Loki push body and the file records byte for byte, the
 * checkpoint, the key, the lock and the torn-line repair.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "events/codec.h"
#include "projections/audit_int.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const proj__audit_key_t KEY = {(const uint8_t *)"test-key", 8};

static char *hmac(const char *s, int lower)
{
    static char out[4][65];
    static int next;
    char *o = out[next++ % 4];
    proj__audit_hmac(&KEY, s, strlen(s), lower, o);
    return o;
}

static void assert_dump(json_t *j, const char *want)
{
    char *got = json_dumps(j, JSON_COMPACT);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("got  %s\nwant %s", got, want);
    free(got);
    json_decref(j);
}

/* ---- HMAC ---- */

static void test_hmac(void **state)
{
    (void)state;
    /* RFC 4231-style check against a published HMAC-SHA256 value. */
    proj__audit_key_t k = {(const uint8_t *)"key", 3};
    char out[65];
    const char *msg = "The quick brown fox jumps over the lazy dog";
    proj__audit_hmac(&k, msg, strlen(msg), 0, out);
    assert_string_equal(out, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    /* lower: one address, one hash, whatever its case (RULE-AUTH-1). */
    assert_string_equal(hmac("Alice@Example.COM", 1), hmac("alice@example.com", 0));
    assert_string_not_equal(hmac("Alice@Example.COM", 0), hmac("alice@example.com", 0));
    /* Another key, another hash. */
    proj__audit_hmac(&k, "alice@example.com", 17, 0, out);
    assert_string_not_equal(out, hmac("alice@example.com", 0));
}

/* ---- masking ---- */

static void test_mask_email_any_depth_in_place(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"ticket_id\":\"t1\",\"to_email\":\"Bob@X.org\",\"n\":3,"
                           "\"nested\":{\"email\":\"c@d.e\",\"list\":[{\"recipient_email\":"
                           "\"e@f.g\"},\"plain\"]},\"email\":null,\"email_verified\":true,"
                           "\"emails\":[\"H@i.j\",7],\"email_address\":{\"x\":1},"
                           "\"name\":\"Main Stand\"}",
                           0, NULL);
    assert_non_null(v);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"ticket_id\":\"t1\",\"to_email_hash\":\"%s\",\"n\":3,\"nested\":{"
             "\"email_hash\":\"%s\",\"list\":[{\"recipient_email_hash\":\"%s\"},\"plain\"]},"
             "\"email_hash\":null,\"email_verified\":true,\"emails_hash\":[\"%s\",null],"
             "\"email_address_hash\":null,\"name\":\"Main Stand\"}",
             hmac("bob@x.org", 0), hmac("c@d.e", 0), hmac("e@f.g", 0), hmac("h@i.j", 0));
    /* Not a user aggregate: a name (of a stand) stays. */
    assert_dump(proj__audit_mask(&KEY, v, 0), want);
    json_decref(v);
}

static void test_mask_person_names_and_secrets(void **state)
{
    (void)state;
    json_t *v = json_loads("{\"user_id\":\"u1\",\"email\":\"A@B.C\",\"name\":\"Ana Horvat\","
                           "\"display_name\":\"ana\",\"password_hash\":\"scrypt$x\","
                           "\"mobile_phone\":\"+385 1\",\"roles\":[\"attendee\"]}",
                           0, NULL);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"user_id\":\"u1\",\"email_hash\":\"%s\",\"name_hash\":\"%s\","
             "\"display_name_hash\":\"%s\",\"mobile_phone_hash\":\"%s\",\"roles\":[\"attendee\"]}",
             hmac("a@b.c", 0), hmac("Ana Horvat", 0), hmac("ana", 0), hmac("+385 1", 0));
    /* A user aggregate's event: names are a person's. */
    assert_dump(proj__audit_mask(&KEY, v, 1), want);
    /* Elsewhere only the person-name keys are masked, and a secret never
     * leaves. */
    json_decref(v);
    v = json_loads("{\"name\":\"Floor\",\"holder_name\":\"Ivo\",\"client_secret\":\"s\","
                   "\"tier_name\":\"Std\"}",
                   0, NULL);
    snprintf(want, sizeof want,
             "{\"name\":\"Floor\",\"holder_name_hash\":\"%s\",\"tier_name\":"
             "\"Std\"}",
             hmac("Ivo", 0));
    assert_dump(proj__audit_mask(&KEY, v, 0), want);
    json_decref(v);
    assert_null(proj__audit_mask(&KEY, NULL, 0));
}

/* ---- entries ---- */

/* Encodes c into a heap buffer. */
static ts_buf_t encode(const evt_commit_t *c)
{
    ts_buf_t b;
    ts_buf_init(&b);
    assert_int_equal(evt_commit_encode(c, &b), TS_OK);
    return b;
}

#define COMMIT_MS 1793611800250LL /* 2026-11-02T09:30:00.250Z */

static void test_entries_user_registered(void **state)
{
    (void)state;
    evt_event_t ev = {.type = EVT_USER_REGISTERED};
    ev.u.user_registered = (evt_user_registered_t){.user_id = "us1",
                                                   .email = "Ana@Example.com",
                                                   .name = "Ana Horvat",
                                                   .password_hash = "scrypt$1$2$3$aa$bb",
                                                   .roles = EVT_ROLE_ATTENDEE};
    evt_commit_t c = {.subject = "tix.user.us1",
                      .version = 1,
                      .command_id = "cmd-1",
                      .correlation_id = "corr-1",
                      .actor = "system",
                      .time = COMMIT_MS,
                      .n_events = 1,
                      .events = &ev};
    ts_buf_t b = encode(&c);
    proj__audit_entries_t es;
    proj__audit_entries_init(&es);
    assert_int_equal(proj__audit_add_commit(&es, &KEY, 42, c.subject, b.data, b.len, 7), 1);
    assert_int_equal(es.n, 1);
    const proj__audit_entry_t *e = &es.v[0];
    assert_int_equal(e->seq, 42);
    assert_int_equal(e->index, 0);
    assert_true(e->ns == COMMIT_MS * 1000000);
    assert_string_equal(e->aggregate, "user");
    assert_string_equal(e->event_type, "UserRegistered");

    /* The line, byte for byte (audit.h): hash is the SHA-256 of the bytes. */
    char want[2048];
    char zeros[65];
    memset(zeros, '0', 64);
    zeros[64] = '\0';
    /* The payload hash, the way replay/item.c computes it for the API. */
    unsigned char h[32];
    char hex[65];
    SHA256(b.data, b.len, h);
    ts_hex(h, 32, hex);
    snprintf(want, sizeof want,
             "{\"seq\":42,\"subject\":\"tix.user.us1\",\"aggregate\":\"user\",\"id\":\"us1\","
             "\"version\":1,\"time\":\"2026-11-02T09:30:00.250Z\",\"actor\":\"system\","
             "\"command_id\":\"cmd-1\",\"correlation_id\":\"corr-1\",\"hash\":\"%s\","
             "\"prev_hash\":\"%s\",\"index\":0,\"n_events\":1,\"type\":\"UserRegistered\","
             "\"data\":{\"user_id\":\"us1\",\"email_hash\":\"%s\",\"name_hash\":\"%s\","
             "\"roles\":[\"attendee\"]}}",
             hex, zeros, hmac("ana@example.com", 0), hmac("Ana Horvat", 0));
    assert_string_equal(e->line, want);
    /* Nothing personal in clear. */
    assert_null(strstr(e->line, "Example.com"));
    assert_null(strstr(e->line, "example.com"));
    assert_null(strstr(e->line, "Horvat"));
    assert_null(strstr(e->line, "scrypt"));
    proj__audit_entries_deinit(&es);
    ts_buf_deinit(&b);
}

static void test_entries_group_commit_and_claim(void **state)
{
    (void)state;
    evt_event_t evs[2] = {{.type = EVT_HOLD_RELEASED}, {.type = EVT_HOLD_EXPIRED}};
    evs[0].u.hold_ended.booking_id = "bk1";
    evs[1].u.hold_ended.booking_id = "bk2";
    /* The second event came from another command in the same group commit. */
    evs[1].command_id = "cmd-2";
    evs[1].actor = "sweeper";
    evt_commit_t c = {.subject = "tix.inv.ev1.A",
                      .version = 3,
                      .command_id = "cmd-1",
                      .correlation_id = "corr-1",
                      .actor = "us1",
                      .time = COMMIT_MS,
                      .n_events = 2,
                      .events = evs};
    c.prev_hash[0] = 0xab;
    ts_buf_t b = encode(&c);
    proj__audit_entries_t es;
    proj__audit_entries_init(&es);
    assert_int_equal(proj__audit_add_commit(&es, &KEY, 9, c.subject, b.data, b.len, 0), 2);
    assert_string_equal(es.v[0].aggregate, "inv");
    assert_string_equal(es.v[0].event_type, "HoldReleased");
    assert_string_equal(es.v[1].event_type, "HoldExpired");
    /* Timestamps: the commit's ms in ns, plus the index. */
    assert_true(es.v[0].ns == COMMIT_MS * 1000000);
    assert_true(es.v[1].ns == COMMIT_MS * 1000000 + 1);
    assert_int_equal(es.v[1].index, 1);
    assert_non_null(strstr(es.v[0].line, "\"id\":\"ev1.A\",\"version\":3,"));
    assert_non_null(strstr(es.v[0].line, "\"actor\":\"us1\",\"command_id\":\"cmd-1\","));
    assert_non_null(strstr(es.v[1].line, "\"actor\":\"sweeper\",\"command_id\":\"cmd-2\","));
    assert_non_null(strstr(es.v[1].line, "\"prev_hash\":\"ab00"));
    assert_non_null(strstr(es.v[1].line, "\"index\":1,\"n_events\":2,\"type\":\"HoldExpired\","
                                         "\"data\":{\"booking_id\":\"bk2\"}}"));
    ts_buf_deinit(&b);

    /* A claim's value (the SHA-256 of an e-mail) is masked in subject and id. */
    const char *digest = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char subject[128];
    snprintf(subject, sizeof subject, "tix.claim.email.%s", digest);
    evt_event_t cl = {.type = EVT_CLAIMED};
    cl.u.claimed = (evt_claimed_t){.kind = "email", .owner = "us1"};
    evt_commit_t cc = {
        .subject = subject, .version = 1, .time = COMMIT_MS, .n_events = 1, .events = &cl};
    b = encode(&cc);
    proj__audit_entries_reset(&es);
    assert_int_equal(proj__audit_add_commit(&es, &KEY, 10, subject, b.data, b.len, 0), 1);
    char want[256];
    snprintf(want, sizeof want,
             "\"subject\":\"tix.claim.email.%s\",\"aggregate\":\"claim\","
             "\"id\":\"email.%s\",",
             hmac(digest, 0), hmac(digest, 0));
    assert_non_null(strstr(es.v[0].line, want));
    assert_null(strstr(es.v[0].line, digest));
    assert_string_equal(es.v[0].aggregate, "claim");
    ts_buf_deinit(&b);
    proj__audit_entries_deinit(&es);
}

static void test_entries_undecodable(void **state)
{
    (void)state;
    proj__audit_entries_t es;
    proj__audit_entries_init(&es);
    /* An auditor must see that it is there: one entry at the stream's time. */
    assert_int_equal(
        proj__audit_add_commit(&es, &KEY, 5, "tix.venue.v1", "garbage", 7, 1700000000123456789LL),
        1);
    assert_string_equal(es.v[0].event_type, "Undecodable");
    assert_string_equal(es.v[0].aggregate, "venue");
    assert_true(es.v[0].ns == 1700000000123456789LL);
    assert_non_null(strstr(es.v[0].line, "{\"seq\":5,\"subject\":\"tix.venue.v1\",\"aggregate\":"
                                         "\"venue\",\"id\":\"v1\",\"hash\":\""));
    assert_non_null(strstr(es.v[0].line, "\"error\":\"undecodable\"}"));
    /* A subject without a usable aggregate token is labelled "unknown". */
    proj__audit_add_commit(&es, &KEY, 6, "tix.a b.x", "", 0, 1);
    proj__audit_add_commit(&es, &KEY, 7, "loose", "", 0, 1);
    assert_string_equal(es.v[1].aggregate, "unknown");
    assert_string_equal(es.v[2].aggregate, "unknown");
    proj__audit_entries_deinit(&es);
}

/* ---- what is shipped ---- */

static void test_push_body(void **state)
{
    (void)state;
    /* Three label sets; within a stream the values go by timestamp, ties in
     * the batch's order; streams in the order of their first entry. */
    proj__audit_entry_t es[] = {
        {.seq = 1, .ns = 3000, .aggregate = "inv", .event_type = "HoldPlaced", .line = "a"},
        {.seq = 2,
         .ns = 1000,
         .aggregate = "user",
         .event_type = "UserRegistered",
         .line = "{\"q\":\"x\\\\y\"}"},
        {.seq = 3, .ns = 2000, .aggregate = "inv", .event_type = "HoldPlaced", .line = "b"},
        {.seq = 4, .ns = 2000, .aggregate = "inv", .event_type = "HoldPlaced", .line = "c"},
        {.seq = 5, .ns = 1500, .aggregate = "inv", .event_type = "HoldExpired", .line = "d"},
    };
    size_t len = 0;
    char *body = proj__audit_push_body(es, 5, &len);
    const char *want =
        "{\"streams\":["
        "{\"stream\":{\"app\":\"turnstile\",\"aggregate\":\"inv\",\"event_type\":\"HoldPlaced\"},"
        "\"values\":[[\"2000\",\"b\"],[\"2000\",\"c\"],[\"3000\",\"a\"]]},"
        "{\"stream\":{\"app\":\"turnstile\",\"aggregate\":\"user\",\"event_type\":"
        "\"UserRegistered\"},\"values\":[[\"1000\",\"{\\\"q\\\":\\\"x\\\\\\\\y\\\"}\"]]},"
        "{\"stream\":{\"app\":\"turnstile\",\"aggregate\":\"inv\",\"event_type\":\"HoldExpired\"},"
        "\"values\":[[\"1500\",\"d\"]]}]}";
    assert_string_equal(body, want);
    assert_int_equal(len, strlen(want));
    free(body);
    body = proj__audit_push_body(es, 0, &len);
    assert_string_equal(body, "{\"streams\":[]}");
    free(body);
}

static void test_file_records(void **state)
{
    (void)state;
    proj__audit_entry_t es[] = {
        {.seq = 1,
         .ns = 1793611800250000001LL,
         .aggregate = "inv",
         .event_type = "HoldPlaced",
         .line = "{\"seq\":1}"},
        {.seq = 2, .ns = 5, .aggregate = "user", .event_type = "UserRegistered", .line = "x"},
    };
    ts_buf_t b;
    ts_buf_init(&b);
    proj__audit_file_records(es, 2, &b);
    ts_buf_put_u8(&b, 0);
    assert_string_equal((const char *)b.data,
                        "{\"ts\":\"1793611800250000001\",\"app\":\"turnstile\",\"aggregate\":"
                        "\"inv\",\"event_type\":\"HoldPlaced\",\"line\":\"{\\\"seq\\\":1}\"}\n"
                        "{\"ts\":\"5\",\"app\":\"turnstile\",\"aggregate\":\"user\","
                        "\"event_type\":\"UserRegistered\",\"line\":\"x\"}\n");
    ts_buf_deinit(&b);
}

/* ---- files ---- */

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/ts-audit-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_checkpoint(void **state)
{
    (void)state;
    char *dir = tmpdir();
    uint64_t seq = 99;
    assert_int_equal(proj__audit_checkpoint_read(dir, &seq), TS_OK);
    assert_int_equal(seq, 0);
    assert_int_equal(proj__audit_checkpoint_write(dir, 12345678901234ULL), TS_OK);
    assert_int_equal(proj__audit_checkpoint_read(dir, &seq), TS_OK);
    assert_true(seq == 12345678901234ULL);
    assert_int_equal(proj__audit_checkpoint_write(dir, 7), TS_OK);
    assert_int_equal(proj__audit_checkpoint_read(dir, &seq), TS_OK);
    assert_int_equal(seq, 7);
    write_file(dir, "checkpoint", "twelve\n");
    assert_int_equal(proj__audit_checkpoint_read(dir, &seq), TS_ERR_CORRUPT);
    write_file(dir, "checkpoint", "-1\n");
    assert_int_equal(proj__audit_checkpoint_read(dir, &seq), TS_ERR_CORRUPT);
    rm_rf(dir);
    free(dir);
}

static void test_key(void **state)
{
    (void)state;
    char *dir = tmpdir();
    uint8_t *k1 = NULL, *k2 = NULL;
    size_t n1 = 0, n2 = 0;
    /* The environment's key wins, as given. */
    assert_int_equal(proj__audit_key_load(dir, "s3cret", &k1, &n1), TS_OK);
    assert_int_equal(n1, 6);
    assert_memory_equal(k1, "s3cret", 6);
    free(k1);
    /* Else a key is generated once (64 hex digits, 0600) and then reused. */
    assert_int_equal(proj__audit_key_load(dir, NULL, &k1, &n1), TS_OK);
    assert_int_equal(proj__audit_key_load(dir, "", &k2, &n2), TS_OK);
    assert_int_equal(n1, 64);
    assert_int_equal(n2, 64);
    assert_memory_equal(k1, k2, 64);
    for (size_t i = 0; i < n1; i++)
        assert_non_null(strchr("0123456789abcdef", k1[i]));
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/mask.key", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(k1);
    free(k2);
    write_file(dir, "mask.key", "\n");
    assert_int_equal(proj__audit_key_load(dir, NULL, &k1, &n1), TS_ERR_CORRUPT);
    rm_rf(dir);
    free(dir);
}

static void test_lock(void **state)
{
    (void)state;
    char *dir = tmpdir();
    int a = -1, b = -1;
    assert_int_equal(proj__audit_lock(dir, &a), TS_OK);
    assert_int_equal(proj__audit_lock(dir, &b), TS_ERR_CONFLICT);
    close(a);
    assert_int_equal(proj__audit_lock(dir, &b), TS_OK);
    close(b);
    rm_rf(dir);
    free(dir);
}

static void test_file_append_and_repair(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[512];
    size_t cut = 1;
    snprintf(path, sizeof path, "%s/audit.log", dir);
    assert_int_equal(proj__audit_file_repair(path, &cut), TS_OK); /* missing: nothing */
    assert_int_equal(cut, 0);
    assert_int_equal(proj__audit_file_append(path, "{\"a\":1}\n", 8), TS_OK);
    assert_int_equal(proj__audit_file_append(path, "{\"b\":2}\n{\"c\"", 12), TS_OK);
    assert_int_equal(proj__audit_file_repair(path, &cut), TS_OK);
    assert_int_equal(cut, 4);
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, sizeof buf - 1, f), 16);
    fclose(f);
    assert_string_equal(buf, "{\"a\":1}\n{\"b\":2}\n");
    /* A whole file without a newline is all torn. */
    write_file(dir, "audit.log", "partial");
    assert_int_equal(proj__audit_file_repair(path, &cut), TS_OK);
    assert_int_equal(cut, 7);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_mask_email_any_depth_in_place),
        cmocka_unit_test(test_mask_person_names_and_secrets),
        cmocka_unit_test(test_entries_user_registered),
        cmocka_unit_test(test_entries_group_commit_and_claim),
        cmocka_unit_test(test_entries_undecodable),
        cmocka_unit_test(test_push_body),
        cmocka_unit_test(test_file_records),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_file_append_and_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
