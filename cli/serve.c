/* turnstile serve: the engine and the REST API in one process. */
#include "api/api.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "payments/payments.h"
#include "projections/projections.h"
#include "sagas/sagas.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
    "Usage: turnstile serve [options]\n"
    "\n"
    "Runs the write side (per-aggregate lanes over JetStream, LMDB snapshots\n"
    "under DIR/engine) and the REST API at http://BIND:PORT/api/v1.\n"
    "Stops cleanly on SIGTERM or SIGINT.\n"
    "\n"
    "Options:\n"
    "  --port N          HTTP port                    [TURNSTILE_HTTP_PORT, 8080]\n"
    "  --bind ADDR       HTTP address                 [TURNSTILE_BIND, 127.0.0.1]\n"
    "  --workers N       lanes decided in parallel    [TURNSTILE_WORKERS, 16]\n"
    "  --offer-minutes N how long a waitlist offer holds its seats\n"
    "                                                 [TURNSTILE_OFFER_MINUTES, 15]\n"
    "%s"
    "\n"
    "Environment only:\n"
    "  TURNSTILE_JWT_ALG         HS256 (default), RS256 or ES256\n"
    "  TURNSTILE_JWT_SECRET      HS256 secret; else DIR/jwt.secret (created once)\n"
    "  TURNSTILE_JWT_PRIVATE_KEY,\n"
    "  TURNSTILE_JWT_PUBLIC_KEY  RS256/ES256: PEM files of the key pair that signs\n"
    "                            and verifies access tokens\n"
    "  TURNSTILE_WEBHOOK_SECRET  payment webhook secret (RULE-PAY-1); else\n"
    "                            DIR/webhook.secret (created once)\n"
    "  TURNSTILE_PAYMENT_PROVIDER  simulated (the default and only one)\n"
    "  TURNSTILE_WEBHOOK_URL     where the simulated provider sends its webhooks;\n"
    "                            else http://BIND:PORT/api/v1/webhooks/payments\n"
    "  TURNSTILE_ADMIN_EMAIL,\n"
    "  TURNSTILE_ADMIN_PASSWORD  create this admin at start-up when missing\n"
    "  TURNSTILE_READY_MAX_LAG_SECONDS  /readyz fails while a projection's oldest\n"
    "                            unfolded commit is older than this (30)\n"
    "  TURNSTILE_READY_MAX_LAG_EVENTS   ... or it lags by more events (0: no limit)\n"
    "  TURNSTILE_READY_PROJECTIONS      projections whose absence fails /readyz\n"
    "                            (comma-separated, default catalog; e.g. catalog,audit)\n";

/* A secret (the HS256 key, the webhook secret): from the environment
 * variable env, or a random one kept in the data directory file name so
 * that it survives a restart. */
static int load_secret(const char *data_dir, const char *env_name, const char *name, char *out,
                       size_t cap)
{
    const char *env = getenv(env_name);
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return strlen(env) >= 16 ? 0 : -1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    FILE *f = fopen(path, "r");
    if (f) {
        int ok = fgets(out, (int)cap, f) != NULL;
        fclose(f);
        out[strcspn(out, "\r\n")] = '\0';
        return ok && strlen(out) >= 16 ? 0 : -1;
    }
    uint8_t raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1 || cap < 65)
        return -1;
    ts_hex(raw, sizeof(raw), out);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, out, 64) == 64;
    close(fd);
    return ok ? 0 : -1;
}

/* A whole PEM file (malloc'd, NUL-terminated), or NULL. */
static char *read_pem(const char *path, size_t *len)
{
    FILE *f = path && *path ? fopen(path, "rb") : NULL;
    if (!f)
        return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    int ok = buf && n > 0 && feof(f) && !ferror(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The access-token keys (RULE-AUTH-1): an HS256 secret by default, or an
 * RS256/ES256 key pair from PEM files. Fills the jwt_* fields of ac; *pem
 * holds what must be freed. -1 after saying what is wrong. */
static int load_jwt(const char *data_dir, char *secret, size_t cap, api_config_t *ac, char *pem[2])
{
    const char *alg = getenv("TURNSTILE_JWT_ALG");
    if (!alg || !*alg || strcmp(alg, "HS256") == 0) {
        if (load_secret(data_dir, "TURNSTILE_JWT_SECRET", "jwt.secret", secret, cap) != 0) {
            fprintf(stderr, "turnstile serve: no usable JWT secret (TURNSTILE_JWT_SECRET must be "
                            "at least 16 characters; or DIR/jwt.secret must be writable)\n");
            return -1;
        }
        ac->jwt_alg = "HS256";
        ac->jwt_key = (const uint8_t *)secret;
        ac->jwt_key_len = strlen(secret);
        return 0;
    }
    if (strcmp(alg, "RS256") != 0 && strcmp(alg, "ES256") != 0) {
        fprintf(stderr, "turnstile serve: TURNSTILE_JWT_ALG must be HS256, RS256 or ES256\n");
        return -1;
    }
    const char *priv = getenv("TURNSTILE_JWT_PRIVATE_KEY");
    const char *pub = getenv("TURNSTILE_JWT_PUBLIC_KEY");
    size_t priv_len = 0, pub_len = 0;
    pem[0] = read_pem(priv, &priv_len);
    pem[1] = read_pem(pub, &pub_len);
    if (!pem[0] || !pem[1]) {
        fprintf(stderr,
                "turnstile serve: %s needs TURNSTILE_JWT_PRIVATE_KEY and "
                "TURNSTILE_JWT_PUBLIC_KEY, readable PEM files (cannot read %s)\n",
                alg, !pem[0] ? (priv ? priv : "(unset)") : (pub ? pub : "(unset)"));
        return -1;
    }
    ac->jwt_alg = alg;
    ac->jwt_key = (const uint8_t *)pem[0];
    ac->jwt_key_len = priv_len;
    ac->jwt_public_key = (const uint8_t *)pem[1];
    ac->jwt_public_key_len = pub_len;
    return 0;
}

static void ensure_admin(eng_t *e)
{
    const char *email = getenv("TURNSTILE_ADMIN_EMAIL");
    const char *password = getenv("TURNSTILE_ADMIN_PASSWORD");
    if (!email || !*email || !password || !*password)
        return;
    ts_arena_t a;
    ts_arena_init(&a, 4096);
    eng_user_t u;
    ts_status st =
        eng_user_create(e, email, password, "Administrator",
                        EVT_ROLE_ADMIN | EVT_ROLE_ORGANIZER | EVT_ROLE_ATTENDEE, &a, &u, NULL);
    if (st == TS_OK)
        fprintf(stderr, "serve: created admin %s (%s)\n", u.email, u.user_id);
    else if (st != TS_ERR_CONFLICT)
        fprintf(stderr, "serve: cannot create admin %s: %s\n", email, ts_status_str(st));
    ts_arena_deinit(&a);
}

int cli_serve(int argc, char **argv)
{
    cli_settings_t s;
    cli_settings_from_env(&s);
    const char *offer_env = getenv("TURNSTILE_OFFER_MINUTES");
    int offer_minutes = offer_env && *offer_env ? atoi(offer_env) : 15;
    for (int i = 1; i < argc; i++) {
        int r = cli_settings_option(&s, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == CLI_OPT_HELP) {
            printf(help, cli_settings_help);
            return 0;
        }
        if (r)
            continue;
        if ((strcmp(argv[i], "--port") == 0 || strcmp(argv[i], "--bind") == 0 ||
             strcmp(argv[i], "--workers") == 0 || strcmp(argv[i], "--offer-minutes") == 0) &&
            i + 1 < argc) {
            if (strcmp(argv[i], "--bind") == 0)
                s.bind = argv[++i];
            else if (strcmp(argv[i], "--port") == 0)
                s.port = atoi(argv[++i]);
            else if (strcmp(argv[i], "--offer-minutes") == 0)
                offer_minutes = atoi(argv[++i]);
            else
                s.workers = atoi(argv[++i]);
            continue;
        }
        fprintf(stderr, "turnstile serve: unknown option '%s' (see --help)\n", argv[i]);
        return 2;
    }
    if (s.port <= 0 || s.port > 65535) {
        fprintf(stderr, "turnstile serve: the port must be 1..65535\n");
        return 2;
    }
    /* RULE-WL-1: offer_minutes, 15 by default; at most a day. */
    if (offer_minutes < 1 || offer_minutes > 1440) {
        fprintf(stderr, "turnstile serve: the offer minutes must be 1..1440\n");
        return 2;
    }
    if (cli_mkdirs(s.data_dir) != 0) {
        fprintf(stderr, "turnstile serve: cannot create %s: %s\n", s.data_dir, strerror(errno));
        return 1;
    }
    char secret[512], webhook_secret[512];
    char *pem[2] = {NULL, NULL};
    api_config_t ac = {.bind = s.bind, .port = (uint16_t)s.port};
    if (load_jwt(s.data_dir, secret, sizeof(secret), &ac, pem) != 0) {
        free(pem[0]);
        free(pem[1]);
        return 1;
    }
    if (load_secret(s.data_dir, "TURNSTILE_WEBHOOK_SECRET", "webhook.secret", webhook_secret,
                    sizeof(webhook_secret)) != 0) {
        fprintf(stderr, "turnstile serve: no usable webhook secret (TURNSTILE_WEBHOOK_SECRET must "
                        "be at least 16 characters; or DIR/webhook.secret must be writable)\n");
        free(pem[0]);
        free(pem[1]);
        return 1;
    }
    const char *provider_name = getenv("TURNSTILE_PAYMENT_PROVIDER");
    if (provider_name && *provider_name && strcmp(provider_name, "simulated") != 0) {
        fprintf(stderr,
                "turnstile serve: unknown payment provider '%s' (simulated is the only "
                "one)\n",
                provider_name);
        free(pem[0]);
        free(pem[1]);
        return 2;
    }

    /* Signals are taken by sigwait below; every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    eng_t *e = NULL;
    saga_t *waitlist_saga = NULL, *notify_saga = NULL;
    proj_db_t *db = NULL;
    api_server_t *srv = NULL;
    pay_provider_t *provider = NULL;
    saga_t *cancel_saga = NULL, *bookings_saga = NULL;
    eng_config_t ec = {
        .nats_url = s.nats_url, .stream = s.stream, .data_dir = s.data_dir, .workers = s.workers};
    ts_status st = eng_open(&ec, &e);
    if (st != TS_OK) {
        fprintf(stderr, "serve: engine: %s\n", ts_status_str(st));
        goto done;
    }
    if ((st = proj_db_open(s.pg_conninfo, 16, &db)) != TS_OK ||
        (st = proj_schema_ensure(db)) != TS_OK) {
        fprintf(stderr, "serve: PostgreSQL: %s\n", ts_status_str(st));
        goto done;
    }
    ensure_admin(e);
    /* The simulated provider posts its webhooks to this very server, the
     * way a remote provider would. */
    char url[512];
    const char *url_env = getenv("TURNSTILE_WEBHOOK_URL");
    if (url_env && *url_env)
        snprintf(url, sizeof url, "%s", url_env);
    else
        snprintf(url, sizeof url, "http://%s:%d/api/v1/webhooks/payments",
                 strcmp(s.bind, "0.0.0.0") == 0 ? "127.0.0.1" : s.bind, s.port);
    pay_simulated_config_t pc = {.webhook_url = url,
                                 .secret = (const uint8_t *)webhook_secret,
                                 .secret_len = strlen(webhook_secret)};
    if ((st = pay_simulated_new(&pc, &provider)) != TS_OK) {
        fprintf(stderr, "serve: payment provider: %s\n", ts_status_str(st));
        goto done;
    }
    /* Test knobs: an event's cancellation in smaller, slower steps. */
    const char *batch_env = getenv("TURNSTILE_CANCEL_BATCH");
    const char *pause_env = getenv("TURNSTILE_CANCEL_PAUSE_MS");
    uint32_t cancel_batch = batch_env ? (uint32_t)strtoul(batch_env, NULL, 10) : 0;
    ac.engine = e;
    ac.db = db;
    ac.provider = provider;
    ac.webhook_secret = (const uint8_t *)webhook_secret;
    ac.webhook_secret_len = strlen(webhook_secret);
    ac.cancel_batch = cancel_batch;
    /* The waitlist and notification sagas start from the end of the log
     * the first time they run: before the API, so no command slips in
     * between. */
    saga_waitlist_config_t wc = {.nats_url = s.nats_url,
                                 .stream = s.stream,
                                 .engine = e,
                                 .offer_minutes = (uint32_t)offer_minutes};
    if ((st = saga_waitlist_start(&wc, &waitlist_saga)) != TS_OK) {
        fprintf(stderr, "serve: saga_waitlist: %s\n", ts_status_str(st));
        goto done;
    }
    saga_notify_config_t nc = {.nats_url = s.nats_url, .stream = s.stream, .engine = e};
    if ((st = saga_notify_start(&nc, &notify_saga)) != TS_OK) {
        fprintf(stderr, "serve: saga_notify: %s\n", ts_status_str(st));
        goto done;
    }
    /* /readyz: how far behind a projection may be (health.c). */
    const char *v = getenv("TURNSTILE_READY_MAX_LAG_SECONDS");
    ac.ready_max_lag_s = v ? atoi(v) : 0;
    v = getenv("TURNSTILE_READY_MAX_LAG_EVENTS");
    ac.ready_max_lag_events = v ? strtoull(v, NULL, 10) : 0;
    v = getenv("TURNSTILE_READY_PROJECTIONS");
    ac.ready_projections = v && *v ? v : NULL;
    if ((st = api_start(&ac, &srv)) != TS_OK)
        goto done;
    saga_cancel_config_t cc = {.nats_url = s.nats_url,
                               .stream = s.stream,
                               .engine = e,
                               .provider = provider,
                               .batch = cancel_batch,
                               .pause_ms = pause_env ? atoi(pause_env) : 0};
    if ((st = saga_cancel_start(&cc, &cancel_saga)) != TS_OK) {
        fprintf(stderr, "serve: saga_cancel: %s\n", ts_status_str(st));
        goto done;
    }
    /* Quota and promo uses follow their bookings (RULE-HOLD-4, RULE-PROMO-1). */
    saga_bookings_config_t bc = {.nats_url = s.nats_url, .stream = s.stream, .engine = e};
    if ((st = saga_bookings_start(&bc, &bookings_saga)) != TS_OK) {
        fprintf(stderr, "serve: saga_bookings: %s\n", ts_status_str(st));
        goto done;
    }
    fprintf(stderr, "serve: listening on http://%s:%d (NATS %s, data %s)\n", s.bind, s.port,
            s.nats_url, s.data_dir);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "serve: signal %d, stopping\n", sig);
    rc = 0;
done:
    /* The saga and the API use the provider and the engine: they stop
     * first. Webhooks not yet sent are dropped (refunds are asked for again
     * at the next start). */
    saga_stop(cancel_saga);
    saga_stop(waitlist_saga);
    saga_stop(notify_saga);
    saga_stop(bookings_saga);
    api_stop(srv);
    pay_provider_free(provider);
    eng_free(e);
    proj_db_free(db);
    free(pem[0]);
    free(pem[1]);
    return rc;
}
