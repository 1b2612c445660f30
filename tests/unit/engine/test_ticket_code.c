/* engine/ticket_keys.c, ticket_code.c: event keys and signed ticket codes
 * (RULE-TKT-1). A code must verify with its event's public key and with
 * nothing else, and one changed byte anywhere must make it invalid. */
#include "engine/engine_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

typedef struct {
    char dir[64];
    ts_arena_t arena;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/ts-tkt-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    ts_arena_init(&f->arena, 4096);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    ts_arena_deinit(&f->arena);
    free(f);
    return 0;
}

static const eng_ticket_payload_t sample = {.ticket_id = "tk-ev1-A-0123456789abcdef",
                                            .event_id = "ev1",
                                            .seat = "A-1-7",
                                            .version = 1,
                                            .valid_from = 1797000000000,
                                            .valid_until = 1797789600000};

/* Signs sample (with event_id replaced) with the key of event_id. */
static const char *sign(fixture_t *f, const char *event_id, const char **public_key)
{
    eng_ticket_payload_t p = sample;
    p.event_id = event_id;
    EVP_PKEY *k = NULL;
    const char *code = NULL;
    assert_int_equal(eng__ticket_key_ensure(f->dir, event_id, &f->arena, public_key), TS_OK);
    assert_int_equal(eng__ticket_key_load(f->dir, event_id, &k), TS_OK);
    assert_int_equal(eng__ticket_code_sign(k, &p, &f->arena, &code), TS_OK);
    EVP_PKEY_free(k);
    return code;
}

static void round_trip(void **state)
{
    fixture_t *f = *state;
    const char *pub = NULL;
    const char *code = sign(f, "ev1", &pub);
    assert_int_equal(strlen(pub), 44);
    eng_ticket_payload_t got;
    assert_int_equal(eng_ticket_code_verify(code, pub, &f->arena, &got), TS_OK);
    assert_string_equal(got.ticket_id, sample.ticket_id);
    assert_string_equal(got.event_id, "ev1");
    assert_string_equal(got.seat, "A-1-7");
    assert_int_equal(got.version, 1);
    assert_int_equal(got.valid_from, sample.valid_from);
    assert_int_equal(got.valid_until, sample.valid_until);
    /* Ed25519 is deterministic: the code can be made again when served. */
    const char *again = sign(f, "ev1", &pub);
    assert_string_equal(again, code);
    /* The format of engine.h, as a gate reads it: no padding, one dot. */
    assert_null(strchr(code, '='));
    assert_non_null(strchr(code, '.'));
    assert_ptr_equal(strchr(code, '.'), strrchr(code, '.'));
}

static void standing_unit_has_null_seat(void **state)
{
    fixture_t *f = *state;
    const char *pub = NULL, *code = NULL;
    eng_ticket_payload_t p = sample, got;
    p.seat = NULL;
    EVP_PKEY *k = NULL;
    assert_int_equal(eng__ticket_key_ensure(f->dir, "ev1", &f->arena, &pub), TS_OK);
    assert_int_equal(eng__ticket_key_load(f->dir, "ev1", &k), TS_OK);
    assert_int_equal(eng__ticket_code_sign(k, &p, &f->arena, &code), TS_OK);
    EVP_PKEY_free(k);
    assert_int_equal(eng_ticket_code_verify(code, pub, &f->arena, &got), TS_OK);
    assert_null(got.seat);
    /* The payload is the documented JSON. */
    assert_int_equal(eng_ticket_code_peek(code, &f->arena, &got), TS_OK);
    const char *dot = strchr(code, '.');
    char b64[512] = {0};
    memcpy(b64, code, (size_t)(dot - code));
    for (char *c = b64; *c; c++)
        *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
    while (strlen(b64) % 4)
        strcat(b64, "=");
    unsigned char json[512] = {0};
    assert_true(EVP_DecodeBlock(json, (unsigned char *)b64, (int)strlen(b64)) > 0);
    assert_string_equal((char *)json,
                        "{\"fmt\":1,\"ticket\":\"tk-ev1-A-0123456789abcdef\",\"event\":\"ev1\","
                        "\"seat\":null,\"version\":1,\"valid_from\":1797000000,"
                        "\"valid_until\":1797789600}");
}

/* One byte changed anywhere, to any other value, is refused: either the
 * code no longer parses or the signature no longer verifies. */
static void one_byte_changed_is_invalid(void **state)
{
    fixture_t *f = *state;
    const char *pub = NULL;
    const char *code = sign(f, "ev1", &pub);
    size_t n = strlen(code);
    char *bad = ts_arena_strdup(&f->arena, code);
    uint32_t tried = 0;
    for (size_t i = 0; i < n; i++) {
        for (int v = 1; v < 256; v++) {
            if (v == (unsigned char)code[i])
                continue;
            bad[i] = (char)v;
            ts_arena_t a;
            ts_arena_init(&a, 1024);
            eng_ticket_payload_t got;
            ts_status st = eng_ticket_code_verify(bad, pub, &a, &got);
            ts_arena_deinit(&a);
            if (st == TS_OK)
                fail_msg("byte %zu changed to %d still verifies", i, v);
            assert_true(st == TS_ERR_CORRUPT || st == TS_ERR_AUTH);
            tried++;
        }
        bad[i] = code[i];
    }
    assert_int_equal(tried, n * 254);
    /* Cut short, extended, or with the halves swapped: refused too. */
    eng_ticket_payload_t got;
    bad[n - 1] = '\0';
    assert_int_not_equal(eng_ticket_code_verify(bad, pub, &f->arena, &got), TS_OK);
    const char *longer = ts_arena_printf(&f->arena, "%sA", code);
    assert_int_not_equal(eng_ticket_code_verify(longer, pub, &f->arena, &got), TS_OK);
    const char *dot = strchr(code, '.');
    const char *swapped = ts_arena_printf(&f->arena, "%s.%.*s", dot + 1, (int)(dot - code), code);
    assert_int_not_equal(eng_ticket_code_verify(swapped, pub, &f->arena, &got), TS_OK);
    assert_int_equal(eng_ticket_code_verify("", pub, &f->arena, &got), TS_ERR_CORRUPT);
    assert_int_equal(eng_ticket_code_verify("a.b.c", pub, &f->arena, &got), TS_ERR_CORRUPT);
}

/* A code signed with another event's key does not verify with this one,
 * even when its payload names this event. */
static void another_events_key_is_invalid(void **state)
{
    fixture_t *f = *state;
    const char *pub1 = NULL, *pub2 = NULL;
    const char *code1 = sign(f, "ev1", &pub1);
    (void)sign(f, "ev2", &pub2);
    assert_string_not_equal(pub1, pub2);
    eng_ticket_payload_t got;
    assert_int_equal(eng_ticket_code_verify(code1, pub2, &f->arena, &got), TS_ERR_AUTH);
    /* Forge: ev1's payload signed with ev2's key. */
    EVP_PKEY *k2 = NULL;
    const char *forged = NULL;
    assert_int_equal(eng__ticket_key_load(f->dir, "ev2", &k2), TS_OK);
    assert_int_equal(eng__ticket_code_sign(k2, &sample, &f->arena, &forged), TS_OK);
    EVP_PKEY_free(k2);
    assert_int_equal(eng_ticket_code_verify(forged, pub1, &f->arena, &got), TS_ERR_AUTH);
    assert_int_equal(eng_ticket_code_verify(code1, "not a key", &f->arena, &got), TS_ERR_INVALID);
}

/* The private key stays in DATA/keys/<event>.pem, 0600 in a 0700
 * directory, and a second ensure keeps it (a retried publish). */
static void key_file_is_private_and_kept(void **state)
{
    fixture_t *f = *state;
    const char *pub1 = NULL, *pub2 = NULL;
    assert_int_equal(eng__ticket_key_ensure(f->dir, "ev9", &f->arena, &pub1), TS_OK);
    assert_int_equal(eng__ticket_key_ensure(f->dir, "ev9", &f->arena, &pub2), TS_OK);
    assert_string_equal(pub1, pub2);
    struct stat st;
    char path[128];
    snprintf(path, sizeof(path), "%s/keys", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof(path), "%s/keys/ev9.pem", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* No temporary files are left behind. */
    snprintf(path, sizeof(path), "ls -A '%s/keys' | grep -c . | grep -qx 1", f->dir);
    assert_int_equal(system(path), 0);
    /* A missing file is reported, never silently made again by load. */
    EVP_PKEY *k = NULL;
    assert_int_equal(eng__ticket_key_load(f->dir, "ev404", &k), TS_ERR_NOT_FOUND);
    assert_null(k);
    assert_int_equal(eng__ticket_key_load(f->dir, "../x", &k), TS_ERR_INVALID);
}

static void payload_must_be_complete(void **state)
{
    fixture_t *f = *state;
    eng_ticket_payload_t got;
    /* base64url of {"fmt":1} with a 64-byte signature of zeros. */
    const char *sig =
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const char *code = ts_arena_printf(&f->arena, "eyJmbXQiOjF9.%s", sig);
    assert_int_equal(eng_ticket_code_peek(code, &f->arena, &got), TS_ERR_CORRUPT);
    /* A padded signature is not canonical base64url. */
    const char *pub = NULL;
    const char *good = sign(f, "ev1", &pub);
    const char *padded = ts_arena_printf(&f->arena, "%s==", good);
    assert_int_equal(eng_ticket_code_verify(padded, pub, &f->arena, &got), TS_ERR_CORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(standing_unit_has_null_seat, setup, teardown),
        cmocka_unit_test_setup_teardown(one_byte_changed_is_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(another_events_key_is_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(key_file_is_private_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(payload_must_be_complete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
