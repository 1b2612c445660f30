/* turnstile serve: the engine and the REST API in one process. */
#include "api/api.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "projections/projections.h"

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
    "%s"
    "\n"
    "Environment only:\n"
    "  TURNSTILE_JWT_SECRET      HS256 secret; else DIR/jwt.secret (created once)\n"
    "  TURNSTILE_ADMIN_EMAIL,\n"
    "  TURNSTILE_ADMIN_PASSWORD  create this admin at start-up when missing\n"
    "  TURNSTILE_READY_MAX_LAG_SECONDS  /readyz fails while a projection's oldest\n"
    "                            unfolded commit is older than this (30)\n"
    "  TURNSTILE_READY_MAX_LAG_EVENTS   ... or it lags by more events (0: no limit)\n"
    "  TURNSTILE_READY_PROJECTIONS      projections whose absence fails /readyz\n"
    "                            (comma-separated, default catalog; e.g. catalog,audit)\n";

/* The HS256 secret: from the environment, or a random one kept in the data
 * directory so tokens survive a restart. */
static int load_secret(const char *data_dir, char *out, size_t cap)
{
    const char *env = getenv("TURNSTILE_JWT_SECRET");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return strlen(env) >= 16 ? 0 : -1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/jwt.secret", data_dir);
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
             strcmp(argv[i], "--workers") == 0) &&
            i + 1 < argc) {
            if (strcmp(argv[i], "--bind") == 0)
                s.bind = argv[++i];
            else if (strcmp(argv[i], "--port") == 0)
                s.port = atoi(argv[++i]);
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
    if (cli_mkdirs(s.data_dir) != 0) {
        fprintf(stderr, "turnstile serve: cannot create %s: %s\n", s.data_dir, strerror(errno));
        return 1;
    }
    char secret[512];
    if (load_secret(s.data_dir, secret, sizeof(secret)) != 0) {
        fprintf(stderr, "turnstile serve: no usable JWT secret (TURNSTILE_JWT_SECRET must be at "
                        "least 16 characters; or DIR/jwt.secret must be writable)\n");
        return 1;
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
    proj_db_t *db = NULL;
    api_server_t *srv = NULL;
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
    api_config_t ac = {.bind = s.bind,
                       .port = (uint16_t)s.port,
                       .jwt_key = (const uint8_t *)secret,
                       .jwt_key_len = strlen(secret),
                       .engine = e,
                       .db = db};
    const char *v = getenv("TURNSTILE_READY_MAX_LAG_SECONDS");
    ac.ready_max_lag_s = v ? atoi(v) : 0;
    v = getenv("TURNSTILE_READY_MAX_LAG_EVENTS");
    ac.ready_max_lag_events = v ? strtoull(v, NULL, 10) : 0;
    v = getenv("TURNSTILE_READY_PROJECTIONS");
    ac.ready_projections = v && *v ? v : NULL;
    if ((st = api_start(&ac, &srv)) != TS_OK)
        goto done;
    fprintf(stderr, "serve: listening on http://%s:%d (NATS %s, data %s)\n", s.bind, s.port,
            s.nats_url, s.data_dir);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "serve: signal %d, stopping\n", sig);
    rc = 0;
done:
    api_stop(srv);
    eng_free(e);
    proj_db_free(db);
    return rc;
}
