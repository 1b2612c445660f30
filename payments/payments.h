/*
 * payments — the payment provider seam (RULE-PAY-1, RULE-PAY-2).
 *
 * What it is for. A booking is paid through a provider: the engine asks it
 * for a payment intent (an id the customer's app pays against, plus a client
 * secret for that app), and the provider tells us what happened through
 * signed webhooks (POST /api/v1/webhooks/payments): payment.succeeded,
 * payment.failed, refund.succeeded. Refunds go the same way: we ask, the
 * provider answers later with a webhook. Nothing here decides anything about
 * bookings: the webhook becomes a command on the booking's shard
 * (inv_webhook_decide).
 *
 * Signatures (RULE-PAY-1). A webhook carries
 *     Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * Several v1 entries may appear (a provider rotating its secret signs with
 * both); one matching is enough. Unknown keys are ignored. A signature is
 * accepted when a v1 matches, compared in constant time, and |now - t| is at
 * most the tolerance (300 s): a captured webhook cannot be replayed later,
 * and one replayed within the window is caught by its provider event id,
 * which the booking's shard remembers (a duplicate is a no-op).
 *
 * Providers. pay_provider_t is an interface (a table of functions); the only
 * implementation today is `simulated` (pay_simulated_new), the default. It
 * creates intents locally and, when asked (POST /payments/{id}/simulate, or
 * a refund), sends REAL signed webhooks over HTTP (libcurl) to the server's
 * own webhook endpoint, from a background thread with retries, exactly as a
 * remote provider would: the webhook path is the same for both.
 *
 * Threading. The signature functions are pure and thread-safe. A provider is
 * thread-safe; pay_provider_free must not race with other calls on it.
 */
#ifndef TS_PAYMENTS_H
#define TS_PAYMENTS_H

#include "base/base.h"

#include <stddef.h>
#include <stdint.h>

/* ---- webhook signatures (pure) ---- */

/* RULE-PAY-1: the most a webhook's timestamp may differ from now. */
#define PAY_SIG_TOLERANCE_S 300
/* Room for "t=<20 digits>,v1=<64 hex>" and its NUL. */
#define PAY_SIG_HEADER_MAX 96

typedef enum {
    PAY_SIG_OK = 0,
    PAY_SIG_MALFORMED, /* no header, no t, t not a number, no well-formed v1 */
    PAY_SIG_MISMATCH,  /* no v1 matches the body: forged or altered */
    PAY_SIG_STALE,     /* authentic, but |now - t| > tolerance: replayed late */
} pay_sig_result_t;

/* "ok", "malformed", "mismatch", "stale". */
const char *pay_sig_result_str(pay_sig_result_t r);

/* Writes the header value signing body (len bytes) at unix time t. */
void pay_signature_header(const uint8_t *secret, size_t secret_len, int64_t t, const void *body,
                          size_t len, char out[PAY_SIG_HEADER_MAX]);

/* Verifies header (may be NULL: malformed) against body at unix time now_s.
 * The HMAC is compared before the time, so PAY_SIG_STALE means the webhook
 * is authentic but too old (or too far in the future). */
pay_sig_result_t pay_signature_verify(const uint8_t *secret, size_t secret_len, const char *header,
                                      const void *body, size_t len, int64_t now_s,
                                      int64_t tolerance_s);

/* ---- providers ---- */

typedef struct pay_provider pay_provider_t;

/* The webhook event types (API.md). */
#define PAY_EVT_SUCCEEDED "payment.succeeded"
#define PAY_EVT_FAILED "payment.failed"
#define PAY_EVT_REFUNDED "refund.succeeded"

typedef struct {
    const char *name; /* "simulated" */
    /* Creates the intent for payment_id (our id, made by the engine) of
     * amount minor units; *client_secret goes into arena. */
    ts_status (*intent_create)(pay_provider_t *p, const char *payment_id, int64_t amount,
                               const char *currency, ts_arena_t *arena, const char **client_secret);
    /* Asks for amount to go back; the answer comes as a refund.succeeded
     * webhook. Returns once the request is accepted (queued). */
    ts_status (*refund)(pay_provider_t *p, const char *payment_id, int64_t amount,
                        const char *currency);
    /* Test providers only (NULL otherwise): make the provider report
     * outcome ("succeeded" | "failed") for the payment by webhook.
     * *provider_event_id (in arena) names the webhook. */
    ts_status (*simulate)(pay_provider_t *p, const char *payment_id, const char *outcome,
                          int64_t amount, const char *currency, ts_arena_t *arena,
                          const char **provider_event_id);
    void (*free)(pay_provider_t *p);
} pay_provider_ops_t;

struct pay_provider {
    const pay_provider_ops_t *ops;
};

/* Thin wrappers over ops. pay_simulate answers TS_ERR_INVALID when the
 * provider cannot simulate. pay_provider_free accepts NULL. */
const char *pay_provider_name(const pay_provider_t *p);
ts_status pay_intent_create(pay_provider_t *p, const char *payment_id, int64_t amount,
                            const char *currency, ts_arena_t *arena, const char **client_secret);
ts_status pay_refund(pay_provider_t *p, const char *payment_id, int64_t amount,
                     const char *currency);
ts_status pay_simulate(pay_provider_t *p, const char *payment_id, const char *outcome,
                       int64_t amount, const char *currency, ts_arena_t *arena,
                       const char **provider_event_id);
void pay_provider_free(pay_provider_t *p);

/* ---- the simulated provider ---- */

typedef struct {
    const char *webhook_url; /* "http://127.0.0.1:8080/api/v1/webhooks/payments" (copied) */
    const uint8_t *secret;   /* the webhook secret (copied) */
    size_t secret_len;
    int max_attempts;   /* per webhook; 0 picks 12 (about two minutes of retries) */
    int first_retry_ms; /* doubled after each failure up to 30 s; 0 picks 250 */
} pay_simulated_config_t;

/* Starts the sender thread. Webhooks are sent in the order they become due;
 * a connection error, 429 or 5xx is retried later, any other answer ends
 * the webhook (a 4xx is logged: the receiver refused it for good).
 * pay_provider_free stops the thread and drops what was not sent (logged):
 * a refund lost so is requested again at the next start (sagas/). Errors:
 * TS_ERR_INVALID (no URL or secret), TS_ERR_NOMEM. */
ts_status pay_simulated_new(const pay_simulated_config_t *cfg, pay_provider_t **out);

/* The body of a provider webhook, as the simulated provider sends it
 * (compact JSON, NUL-terminated, malloc'd): {"id", "type", "data":
 * {"payment_id", "amount", "currency"}}. NULL when out of memory. */
char *pay_webhook_body(const char *event_id, const char *type, const char *payment_id,
                       int64_t amount, const char *currency);

#endif
