/* Webhook signatures (RULE-PAY-1): HMAC-SHA256 over "<t>.<raw body>", hex in
 * the Payment-Signature header, compared in constant time, 300 s tolerance. */
#include "payments/payments.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *pay_sig_result_str(pay_sig_result_t r)
{
    switch (r) {
    case PAY_SIG_OK:
        return "ok";
    case PAY_SIG_MALFORMED:
        return "malformed";
    case PAY_SIG_MISMATCH:
        return "mismatch";
    case PAY_SIG_STALE:
        return "stale";
    }
    return "unknown";
}

/* HMAC-SHA256(secret, "<t>.<body>"). 0 on success. */
static int mac(const uint8_t *secret, size_t secret_len, const char *t, size_t t_len,
               const void *body, size_t len, uint8_t out[32])
{
    int rc = -1;
    size_t out_len = 0;
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    /* An empty key is legal HMAC, but OpenSSL wants a non-NULL pointer. */
    static const uint8_t empty[1];
    if (ctx && EVP_MAC_init(ctx, secret_len ? secret : empty, secret_len, params) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)t, t_len) == 1 &&
        EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
        (len == 0 || EVP_MAC_update(ctx, body, len) == 1) &&
        EVP_MAC_final(ctx, out, &out_len, 32) == 1 && out_len == 32)
        rc = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    return rc;
}

void pay_signature_header(const uint8_t *secret, size_t secret_len, int64_t t, const void *body,
                          size_t len, char out[PAY_SIG_HEADER_MAX])
{
    char ts[24], hex[65];
    uint8_t digest[32];
    int n = snprintf(ts, sizeof ts, "%" PRId64, t);
    if (mac(secret, secret_len, ts, (size_t)n, body, len, digest) != 0) {
        /* No HMAC (OpenSSL broken): a header no receiver accepts. */
        snprintf(out, PAY_SIG_HEADER_MAX, "t=%s", ts);
        return;
    }
    ts_hex(digest, 32, hex);
    snprintf(out, PAY_SIG_HEADER_MAX, "t=%s,v1=%s", ts, hex);
}

static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 64 hex digits into 32 bytes; 0 on success. */
static int unhex32(const char *p, size_t n, uint8_t out[32])
{
    if (n != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_val((unsigned char)p[2 * i]), lo = hex_val((unsigned char)p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

pay_sig_result_t pay_signature_verify(const uint8_t *secret, size_t secret_len, const char *header,
                                      const void *body, size_t len, int64_t now_s,
                                      int64_t tolerance_s)
{
    const char *t = NULL;
    size_t t_len = 0;
    uint8_t want[32], got[8][32];
    int n_v1 = 0;

    if (!header || strlen(header) > 1024)
        return PAY_SIG_MALFORMED;
    /* Comma-separated key=value pairs; the first t wins, as in Stripe's
     * scheme; at most 8 v1 values are looked at. */
    for (const char *p = header; *p;) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq) {
            size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
            if (klen == 1 && p[0] == 't' && !t) {
                t = eq + 1;
                t_len = vlen;
            } else if (klen == 2 && p[0] == 'v' && p[1] == '1' && n_v1 < 8 &&
                       unhex32(eq + 1, vlen, got[n_v1]) == 0) {
                n_v1++;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (!t || t_len == 0 || t_len > 18 || n_v1 == 0)
        return PAY_SIG_MALFORMED;
    for (size_t i = 0; i < t_len; i++)
        if (!isdigit((unsigned char)t[i]))
            return PAY_SIG_MALFORMED;
    int64_t ts = strtoll(t, NULL, 10);
    /* The MAC covers t exactly as sent. */
    if (mac(secret, secret_len, t, t_len, body, len, want) != 0)
        return PAY_SIG_MISMATCH;
    int match = 0;
    for (int i = 0; i < n_v1; i++)
        match |= CRYPTO_memcmp(want, got[i], 32) == 0;
    if (!match)
        return PAY_SIG_MISMATCH;
    int64_t age = now_s - ts;
    if (age > tolerance_s || age < -tolerance_s)
        return PAY_SIG_STALE;
    return PAY_SIG_OK;
}
