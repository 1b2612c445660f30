/*
 * Ticket codes (RULE-TKT-1): base64url(payload) "." base64url(signature),
 * see engine.h for the format. Signing needs the event's private key
 * (ticket_keys.c); verifying needs only the published public key, so a gate
 * can do it offline with any Ed25519 library.
 *
 * base64url here is strict: no padding, only the URL-safe alphabet, and
 * canonical (the unused low bits of the last character are zero). A
 * non-canonical spelling would decode to the same bytes, so without that
 * check a code with one character changed could still verify.
 */
#include "engine/engine_int.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define CODE_MAX 2048
#define PAYLOAD_FMT 1

static char *b64url_encode(ts_arena_t *a, const uint8_t *p, size_t n)
{
    char *s = ts_arena_alloc(a, 4 * ((n + 2) / 3) + 1);
    int len = EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    while (len > 0 && s[len - 1] == '=')
        s[--len] = '\0';
    for (char *c = s; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return s;
}

/* Decodes the n characters at s; -1 unless they are canonical base64url. */
static int b64url_decode(ts_arena_t *a, const char *s, size_t n, uint8_t **out, size_t *out_len)
{
    if (n == 0 || n % 4 == 1 || n > CODE_MAX)
        return -1;
    size_t padded = (n + 3) / 4 * 4;
    char *std = ts_arena_alloc(a, padded + 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -1;
        std[i] = c;
    }
    memset(std + n, '=', padded - n);
    uint8_t *bytes = ts_arena_alloc(a, padded / 4 * 3 + 1);
    int got = EVP_DecodeBlock(bytes, (const unsigned char *)std, (int)padded);
    if (got < 0)
        return -1;
    size_t len = (size_t)got - (padded - n);
    /* Canonical: encoding the bytes again gives exactly the input. */
    const char *again = b64url_encode(a, bytes, len);
    if (strlen(again) != n || memcmp(again, s, n) != 0)
        return -1;
    *out = bytes;
    *out_len = len;
    return 0;
}

static char *payload_json(ts_arena_t *a, const eng_ticket_payload_t *p)
{
    json_t *j = json_pack("{s:i, s:s, s:s, s:o, s:I, s:I, s:I}", "fmt", PAYLOAD_FMT, "ticket",
                          p->ticket_id, "event", p->event_id, "seat",
                          p->seat ? json_string(p->seat) : json_null(), "version",
                          (json_int_t)p->version, "valid_from", (json_int_t)(p->valid_from / 1000),
                          "valid_until", (json_int_t)(p->valid_until / 1000));
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        return NULL;
    char *copy = ts_arena_strdup(a, s);
    free(s);
    return copy;
}

ts_status eng__ticket_code_sign(EVP_PKEY *k, const eng_ticket_payload_t *p, ts_arena_t *arena,
                                const char **code)
{
    if (!ts_id_valid(p->ticket_id) || !ts_id_valid(p->event_id))
        return TS_ERR_INVALID;
    const char *payload = payload_json(arena, p);
    if (!payload)
        return TS_ERR_INVALID;
    uint8_t sig[64];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* PureEdDSA: no digest, one-shot. */
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestSign(md, sig, &sig_len, (const uint8_t *)payload, strlen(payload)) == 1 &&
             sig_len == sizeof(sig);
    EVP_MD_CTX_free(md);
    if (!ok)
        return TS_ERR_IO;
    *code = ts_arena_printf(arena, "%s.%s",
                            b64url_encode(arena, (const uint8_t *)payload, strlen(payload)),
                            b64url_encode(arena, sig, sizeof(sig)));
    return TS_OK;
}

/* Splits and decodes a code; the payload comes back NUL-terminated. */
static int split(ts_arena_t *a, const char *code, uint8_t **payload, size_t *payload_len,
                 uint8_t **sig, size_t *sig_len)
{
    if (!code || strlen(code) > CODE_MAX)
        return -1;
    const char *dot = strchr(code, '.');
    if (!dot || strchr(dot + 1, '.'))
        return -1;
    if (b64url_decode(a, code, (size_t)(dot - code), payload, payload_len) != 0 ||
        b64url_decode(a, dot + 1, strlen(dot + 1), sig, sig_len) != 0)
        return -1;
    (*payload)[*payload_len] = '\0';
    return 0;
}

static int int_field(json_t *j, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

static ts_status parse_payload(ts_arena_t *a, const uint8_t *p, size_t n, eng_ticket_payload_t *out)
{
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
    ts_status rc = TS_ERR_CORRUPT;
    int64_t fmt, version, from, until;
    const char *ticket = json_string_value(json_object_get(j, "ticket"));
    const char *event = json_string_value(json_object_get(j, "event"));
    json_t *seat = json_object_get(j, "seat");
    if (!json_is_object(j) || json_object_size(j) != 7 ||
        int_field(j, "fmt", PAYLOAD_FMT, PAYLOAD_FMT, &fmt) != 0 ||
        int_field(j, "version", 1, UINT32_MAX, &version) != 0 ||
        int_field(j, "valid_from", 0, INT64_MAX / 1000, &from) != 0 ||
        int_field(j, "valid_until", 0, INT64_MAX / 1000, &until) != 0 || !ts_id_valid(ticket) ||
        !ts_id_valid(event) || !(json_is_null(seat) || json_is_string(seat)))
        goto done;
    eng_ticket_payload_t r = {.ticket_id = ts_arena_strdup(a, ticket),
                              .event_id = ts_arena_strdup(a, event),
                              .seat = ts_arena_strdup(a, json_string_value(seat)),
                              .version = (uint32_t)version,
                              .valid_from = from * 1000,
                              .valid_until = until * 1000};
    *out = r;
    rc = TS_OK;
done:
    json_decref(j);
    return rc;
}

ts_status eng_ticket_code_peek(const char *code, ts_arena_t *arena, eng_ticket_payload_t *out)
{
    uint8_t *payload, *sig;
    size_t payload_len, sig_len;
    if (split(arena, code, &payload, &payload_len, &sig, &sig_len) != 0 || sig_len != 64)
        return TS_ERR_CORRUPT;
    return parse_payload(arena, payload, payload_len, out);
}

ts_status eng_ticket_code_verify(const char *code, const char *public_key, ts_arena_t *arena,
                                 eng_ticket_payload_t *out)
{
    uint8_t *payload, *sig, *raw;
    size_t payload_len, sig_len, raw_len;
    if (split(arena, code, &payload, &payload_len, &sig, &sig_len) != 0 || sig_len != 64)
        return TS_ERR_CORRUPT;
    /* The public key is standard base64 (with padding) of 32 raw bytes. */
    if (!public_key || strlen(public_key) != 44 || public_key[43] != '=')
        return TS_ERR_INVALID;
    raw = ts_arena_alloc(arena, 34);
    if (EVP_DecodeBlock(raw, (const unsigned char *)public_key, 44) != 33)
        return TS_ERR_INVALID;
    raw_len = 32;
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, raw_len);
    EVP_MD_CTX *md = k ? EVP_MD_CTX_new() : NULL;
    int ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, payload, payload_len) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    if (!k)
        return TS_ERR_INVALID;
    if (!ok)
        return TS_ERR_AUTH;
    /* Only a signed payload is read as ours. */
    return parse_payload(arena, payload, payload_len, out);
}
