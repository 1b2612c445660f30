/*
 * The `simulated` provider: intents made locally, webhooks sent for real.
 *
 * A client secret is derived, not stored: "<payment id>_secret_<hex>" with
 * the hex an HMAC of the payment id under the webhook secret, so asking
 * twice for the same intent gives the same answer and nothing needs
 * remembering.
 *
 * Webhooks wait in a list ordered by when they are due; one sender thread
 * takes the earliest due, signs it with the time of sending (a retried
 * webhook is signed anew, as real providers do, so it stays inside the
 * receiver's tolerance) and POSTs it with libcurl. Failures that may pass
 * (no connection, 429, 5xx) are retried with doubling delays.
 */
#include "payments/payments.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIM_MAX_DELAY_MS 30000
#define SIM_HTTP_TIMEOUT_S 10L

typedef struct sim_job {
    char *body;       /* the webhook, as signed */
    char *what;       /* for logs: "payment.succeeded pay-..." */
    int attempts;     /* made so far */
    int64_t due_ms;   /* CLOCK_MONOTONIC */
    int64_t delay_ms; /* before the next attempt */
    struct sim_job *next;
} sim_job_t;

typedef struct {
    pay_provider_t base;
    char *url;
    uint8_t *secret;
    size_t secret_len;
    int max_attempts;
    int first_retry_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sim_job_t *head; /* sorted by due_ms */
    int stopping;
    pthread_t thread;
    int started;
} sim_t;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void job_free(sim_job_t *j)
{
    if (!j)
        return;
    free(j->body);
    free(j->what);
    free(j);
}

/* Inserts j by due time (mu held). */
static void queue_put(sim_t *s, sim_job_t *j)
{
    sim_job_t **p = &s->head;
    while (*p && (*p)->due_ms <= j->due_ms)
        p = &(*p)->next;
    j->next = *p;
    *p = j;
    pthread_cond_signal(&s->cv);
}

/* The answer's body is not needed (curl would print it otherwise). */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* Sends one attempt. 1: done (delivered, or refused for good); 0: retry. */
static int send_once(sim_t *s, CURL *curl, sim_job_t *j)
{
    char sig[PAY_SIG_HEADER_MAX], header[PAY_SIG_HEADER_MAX + 32];
    pay_signature_header(s->secret, s->secret_len, (int64_t)time(NULL), j->body, strlen(j->body),
                         sig);
    snprintf(header, sizeof header, "Payment-Signature: %s", sig);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, header);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, s->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(j->body));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, SIM_HTTP_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        fprintf(stderr, "payments: webhook %s (attempt %d): %s\n", j->what, j->attempts,
                curl_easy_strerror(rc));
        return 0;
    }
    if (status >= 200 && status < 300)
        return 1;
    if (status == 429 || status >= 500) {
        fprintf(stderr, "payments: webhook %s (attempt %d): HTTP %ld, retrying\n", j->what,
                j->attempts, status);
        return 0;
    }
    fprintf(stderr, "payments: webhook %s refused: HTTP %ld\n", j->what, status);
    return 1;
}

static void *sender_main(void *arg)
{
    sim_t *s = arg;
    CURL *curl = curl_easy_init();
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (!s->head) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        int64_t now = mono_ms();
        if (s->head->due_ms > now) {
            int64_t wait = s->head->due_ms - now;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
            continue;
        }
        sim_job_t *j = s->head;
        s->head = j->next;
        pthread_mutex_unlock(&s->mu);
        j->attempts++;
        int done = curl ? send_once(s, curl, j) : 0;
        pthread_mutex_lock(&s->mu);
        if (done || j->attempts >= s->max_attempts) {
            if (!done)
                fprintf(stderr, "payments: webhook %s given up after %d attempts\n", j->what,
                        j->attempts);
            job_free(j);
            continue;
        }
        j->due_ms = mono_ms() + j->delay_ms;
        j->delay_ms = j->delay_ms * 2 > SIM_MAX_DELAY_MS ? SIM_MAX_DELAY_MS : j->delay_ms * 2;
        queue_put(s, j);
    }
    int dropped = 0;
    while (s->head) {
        sim_job_t *j = s->head;
        s->head = j->next;
        job_free(j);
        dropped++;
    }
    pthread_mutex_unlock(&s->mu);
    if (dropped)
        fprintf(stderr, "payments: %d webhook(s) not sent at shutdown\n", dropped);
    curl_easy_cleanup(curl);
    return NULL;
}

/* Queues a webhook of a fresh provider event id; *event_id (may be NULL)
 * gets that id in arena. */
static ts_status enqueue(sim_t *s, const char *type, const char *payment_id, int64_t amount,
                         const char *currency, ts_arena_t *arena, const char **event_id)
{
    uint8_t raw[12];
    char hex[25], id[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return TS_ERR_IO;
    ts_hex(raw, sizeof raw, hex);
    snprintf(id, sizeof id, "evt_%s", hex);
    sim_job_t *j = calloc(1, sizeof(*j));
    if (!j)
        return TS_ERR_NOMEM;
    j->body = pay_webhook_body(id, type, payment_id, amount, currency);
    size_t wl = strlen(type) + strlen(payment_id) + 2;
    j->what = malloc(wl);
    if (!j->body || !j->what) {
        job_free(j);
        return TS_ERR_NOMEM;
    }
    snprintf(j->what, wl, "%s %s", type, payment_id);
    j->delay_ms = s->first_retry_ms;
    j->due_ms = mono_ms();
    pthread_mutex_lock(&s->mu);
    int stopping = s->stopping;
    if (!stopping)
        queue_put(s, j);
    pthread_mutex_unlock(&s->mu);
    if (stopping) {
        job_free(j);
        return TS_ERR_SHUTDOWN;
    }
    if (event_id && arena)
        *event_id = ts_arena_strdup(arena, id);
    return TS_OK;
}

static ts_status sim_intent_create(pay_provider_t *p, const char *payment_id, int64_t amount,
                                   const char *currency, ts_arena_t *arena,
                                   const char **client_secret)
{
    (void)amount;
    (void)currency;
    sim_t *s = (sim_t *)p;
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    /* A domain of its own ("intent:"), so this MAC is never a webhook's. */
    char msg[160];
    snprintf(msg, sizeof msg, "intent:%s", payment_id);
    if (!HMAC(EVP_sha256(), s->secret, (int)s->secret_len, (const unsigned char *)msg, strlen(msg),
              digest, &n))
        return TS_ERR_IO;
    ts_hex(digest, 12, hex);
    *client_secret = ts_arena_printf(arena, "%s_secret_%s", payment_id, hex);
    return TS_OK;
}

static ts_status sim_refund(pay_provider_t *p, const char *payment_id, int64_t amount,
                            const char *currency)
{
    return enqueue((sim_t *)p, PAY_EVT_REFUNDED, payment_id, amount, currency, NULL, NULL);
}

static ts_status sim_simulate(pay_provider_t *p, const char *payment_id, const char *outcome,
                              int64_t amount, const char *currency, ts_arena_t *arena,
                              const char **provider_event_id)
{
    const char *type = strcmp(outcome, "succeeded") == 0 ? PAY_EVT_SUCCEEDED
                       : strcmp(outcome, "failed") == 0  ? PAY_EVT_FAILED
                                                         : NULL;
    if (!type)
        return TS_ERR_INVALID;
    return enqueue((sim_t *)p, type, payment_id, amount, currency, arena, provider_event_id);
}

static void sim_free(pay_provider_t *p)
{
    sim_t *s = (sim_t *)p;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    if (s->secret)
        OPENSSL_cleanse(s->secret, s->secret_len);
    free(s->secret);
    free(s->url);
    free(s);
}

static const pay_provider_ops_t sim_ops = {
    .name = "simulated",
    .intent_create = sim_intent_create,
    .refund = sim_refund,
    .simulate = sim_simulate,
    .free = sim_free,
};

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

ts_status pay_simulated_new(const pay_simulated_config_t *cfg, pay_provider_t **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!cfg || !cfg->webhook_url || !cfg->secret || cfg->secret_len == 0)
        return TS_ERR_INVALID;
    pthread_once(&once, curl_init_once);
    sim_t *s = calloc(1, sizeof(*s));
    if (!s)
        return TS_ERR_NOMEM;
    s->base.ops = &sim_ops;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->url = strdup(cfg->webhook_url);
    s->secret = malloc(cfg->secret_len);
    s->secret_len = cfg->secret_len;
    s->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 12;
    s->first_retry_ms = cfg->first_retry_ms > 0 ? cfg->first_retry_ms : 250;
    if (!s->url || !s->secret) {
        sim_free(&s->base);
        return TS_ERR_NOMEM;
    }
    memcpy(s->secret, cfg->secret, cfg->secret_len);
    if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
        sim_free(&s->base);
        return TS_ERR_NOMEM;
    }
    s->started = 1;
    *out = &s->base;
    return TS_OK;
}
