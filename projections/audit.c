/* The audit projector's loop (audit.h): fetch commits in stream order, turn
 * them into masked entries, ship them in batches (Loki push or the file),
 * move the checkpoint, then ack.
 *
 * A session is one NATS connection (consumer.c); any error ends it and the
 * next one starts a second later from the checkpoint. Shipping never ends a
 * session: a batch that cannot be shipped is retried with backoff until it
 * goes or the process is stopped, and while it waits its messages are told
 * to the server as in progress, so they are not redelivered meanwhile. */
#include "projections/audit_int.h"
#include "projections/proj_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define AUDIT_DEFAULT_STREAM "TICKETS"
#define AUDIT_DEFAULT_BATCH 500
#define AUDIT_FETCH_WAIT_MS 500
#define AUDIT_BACKOFF_FIRST_MS 250
#define AUDIT_BACKOFF_MAX_MS 10000
#define AUDIT_IN_PROGRESS_MS 10000 /* well inside the consumer's 30 s AckWait */
#define AUDIT_PROGRESS_MS 10000    /* at most one progress line per this */

typedef struct {
    const proj_audit_config_t *cfg;
    int batch;
    char *dir;      /* <data>/audit */
    char *log_path; /* <data>/audit/audit.log, file mode */
    proj__audit_key_t key;
    uint8_t *key_bytes;
    proj__loki_t *loki; /* NULL: file mode */
    proj__consumer_t cons;
    uint64_t checkpoint; /* as written to the checkpoint file */
    proj__audit_entries_t entries;
    ts_buf_t out; /* the body or the file records of one batch */
    /* Progress since the last progress line. */
    uint64_t shipped_events, shipped_commits;
    int64_t said_progress_ms;
} audit_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(const audit_t *a)
{
    return proj__stopping(a->cfg->stop);
}

static char *dup_printf(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s%s", a, b);
    return p;
}

/* ---- shipping one batch ---- */

/* One attempt. why gets the reason of a failure. */
static ts_status ship_once(audit_t *a, const proj__audit_entry_t *es, size_t n, char *why,
                           size_t why_n)
{
    a->out.len = 0;
    if (!a->loki) {
        proj__audit_file_records(es, n, &a->out);
        ts_status rc = proj__audit_file_append(a->log_path, a->out.data, a->out.len);
        if (rc != TS_OK)
            snprintf(why, why_n, "%s: %s", a->log_path, strerror(errno));
        return rc;
    }
    size_t len = 0;
    char *body = proj__audit_push_body(es, n, &len);
    long http = 0;
    ts_status rc = proj__loki_post(a->loki, body, len, &http, why, why_n);
    free(body);
    return rc;
}

/* Ships es[0..n) until it goes (TS_OK) or the process is stopped
 * (TS_ERR_SHUTDOWN), keeping msgs[0..n_msgs) in progress meanwhile. */
static ts_status ship(audit_t *a, const proj__audit_entry_t *es, size_t n, const proj__msg_t *msgs,
                      int n_msgs)
{
    int backoff = AUDIT_BACKOFF_FIRST_MS, attempts = 0;
    int64_t touched = now_ms();
    char why[320];
    for (;;) {
        why[0] = '\0';
        ts_status rc = ship_once(a, es, n, why, sizeof why);
        attempts++;
        if (rc == TS_OK) {
            if (attempts > 1)
                proj__log("audit: shipped seq %" PRIu64 "..%" PRIu64 " after %d attempts",
                          es[0].seq, es[n - 1].seq, attempts);
            return TS_OK;
        }
        /* Every failure is logged: an auditor's records are stuck, and a
         * 4xx other than 429 will not go away without someone's help. */
        proj__log("audit: %s seq %" PRIu64 "..%" PRIu64 " (%zu event%s) failed (attempt %d): %s%s; "
                  "retrying in %d ms",
                  a->loki ? "push of" : "append of", es[0].seq, es[n - 1].seq, n, n == 1 ? "" : "s",
                  attempts, why,
                  rc == TS_ERR_INVALID ? " (REFUSED: fix the cause; nothing is dropped)" : "",
                  backoff);
        proj__nap(a->cfg->stop, backoff);
        if (stopping(a))
            return TS_ERR_SHUTDOWN;
        backoff = backoff * 2 > AUDIT_BACKOFF_MAX_MS ? AUDIT_BACKOFF_MAX_MS : backoff * 2;
        if (now_ms() - touched >= AUDIT_IN_PROGRESS_MS) {
            for (int i = 0; i < n_msgs; i++)
                natsMsg_InProgress(msgs[i].msg, NULL);
            touched = now_ms();
        }
    }
}

static void progress(audit_t *a, int force)
{
    int64_t now = now_ms();
    if (a->shipped_events == 0 || (!force && now - a->said_progress_ms < AUDIT_PROGRESS_MS))
        return;
    proj__log("audit: shipped %" PRIu64 " events of %" PRIu64 " commits; checkpoint %" PRIu64,
              a->shipped_events, a->shipped_commits, a->checkpoint);
    a->shipped_events = a->shipped_commits = 0;
    a->said_progress_ms = now;
}

/* ---- the loop ---- */

/* Ships msgs[0..n) (in stream order) in batches of at most a->batch events
 * (whole commits), each: ship, checkpoint, ack. */
static ts_status ship_msgs(audit_t *a, const proj__msg_t *msgs, int n)
{
    int i = 0;
    while (i < n) {
        int start = i;
        uint64_t commits = 0, last = a->checkpoint;
        proj__audit_entries_reset(&a->entries);
        while (i < n) {
            /* At or below the checkpoint: shipped before (a redelivery).
             * It is acked with the batch. */
            if (msgs[i].seq <= a->checkpoint) {
                i++;
                continue;
            }
            natsMsg *m = msgs[i].msg;
            size_t before = a->entries.n;
            proj__audit_add_commit(&a->entries, &a->key, msgs[i].seq, natsMsg_GetSubject(m),
                                   natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
                                   msgs[i].ns);
            if (a->entries.n > (size_t)a->batch && before > 0) {
                a->entries.n = before; /* this commit opens the next batch */
                break;
            }
            commits++;
            last = msgs[i].seq > last ? msgs[i].seq : last;
            i++;
        }
        if (a->entries.n > 0) {
            ts_status rc = ship(a, a->entries.v, a->entries.n, msgs + start, i - start);
            if (rc != TS_OK)
                return rc;
            /* The checkpoint moves before the ack: a crash in between sends
             * this batch again (at-least-once), never skips it. */
            if ((rc = proj__audit_checkpoint_write(a->dir, last)) != TS_OK)
                return rc;
            a->checkpoint = last;
            a->shipped_events += a->entries.n;
            a->shipped_commits += commits;
        }
        for (int k = start; k < i; k++)
            natsMsg_Ack(msgs[k].msg, NULL);
    }
    progress(a, 0);
    return TS_OK;
}

/* Fetches and ships until stop or an error. */
static ts_status pump(audit_t *a)
{
    proj__msg_t *msgs = calloc((size_t)a->batch, sizeof *msgs);
    ts_status rc = msgs ? TS_OK : TS_ERR_NOMEM;
    while (rc == TS_OK && !stopping(a)) {
        natsMsgList list = {0};
        int n = 0, gap = 0;
        rc = proj__consumer_fetch(&a->cons, a->batch, AUDIT_FETCH_WAIT_MS, a->checkpoint, &list,
                                  msgs, &n, &gap, NULL);
        if (rc == TS_OK && n > 0)
            rc = ship_msgs(a, msgs, n);
        else if (rc == TS_OK)
            progress(a, 1); /* idle: say where we are */
        natsMsgList_Destroy(&list);
        if (rc == TS_OK && gap)
            rc = TS_ERR_LOG;
    }
    free(msgs);
    return rc;
}

/* ---- start-up ---- */

static ts_status make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return TS_OK;
    proj__log("audit: cannot create %s: %s", path, strerror(errno));
    return TS_ERR_IO;
}

/* Takes the data directory's lock, waiting as a standby while another
 * audit projector holds it. *fd is -1 when stopped meanwhile. */
static ts_status take_lock(audit_t *a, int *fd)
{
    int said = 0;
    *fd = -1;
    while (!stopping(a)) {
        ts_status rc = proj__audit_lock(a->dir, fd);
        if (rc != TS_ERR_CONFLICT)
            return rc;
        if (!said)
            proj__log("audit: another audit projector holds %s/lock; standing by", a->dir);
        said = 1;
        proj__nap(a->cfg->stop, 1000);
    }
    return TS_OK;
}

static ts_status setup(audit_t *a)
{
    ts_status rc = proj__audit_key_load(a->dir, a->cfg->mask_key, &a->key_bytes, &a->key.len);
    if (rc != TS_OK)
        return rc;
    a->key.key = a->key_bytes;
    if ((rc = proj__audit_checkpoint_read(a->dir, &a->checkpoint)) != TS_OK)
        return rc;
    if (a->cfg->loki_url && a->cfg->loki_url[0]) {
        if ((rc = proj__loki_new(a->cfg->loki_url, a->cfg->stop, &a->loki)) != TS_OK)
            return rc;
        proj__log("audit: pushing to %s, batches of up to %d events, checkpoint %" PRIu64,
                  proj__loki_url(a->loki), a->batch, a->checkpoint);
        return TS_OK;
    }
    size_t cut = 0;
    if (proj__audit_file_repair(a->log_path, &cut) != TS_OK) {
        proj__log("audit: cannot check %s: %s", a->log_path, strerror(errno));
        return TS_ERR_IO;
    }
    if (cut)
        proj__log("audit: cut a torn last line (%zu bytes) off %s", cut, a->log_path);
    proj__log("audit: no LOKI_URL; appending to %s, checkpoint %" PRIu64, a->log_path,
              a->checkpoint);
    return TS_OK;
}

ts_status proj_audit_run(const proj_audit_config_t *cfg)
{
    audit_t a = {0};
    int lock_fd = -1;
    ts_status rc;

    if (!cfg || !cfg->nats_url || !cfg->data_dir || !cfg->data_dir[0] || !cfg->stop ||
        cfg->batch < 0)
        return TS_ERR_INVALID;
    a.cfg = cfg;
    a.batch = cfg->batch ? cfg->batch : AUDIT_DEFAULT_BATCH;
    a.dir = dup_printf(cfg->data_dir, "/" PROJ_AUDIT);
    a.log_path = dup_printf(a.dir, "/audit.log");
    a.cons = (proj__consumer_t){.nats_url = cfg->nats_url,
                                .stream = cfg->stream ? cfg->stream : AUDIT_DEFAULT_STREAM,
                                .durable = PROJ_AUDIT_DURABLE,
                                .client_name = "turnstile-audit",
                                .what = "audit projector",
                                .stop = cfg->stop};
    proj__audit_entries_init(&a.entries);
    ts_buf_init(&a.out);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    rc = make_dir(cfg->data_dir);
    if (rc == TS_OK)
        rc = make_dir(a.dir);
    if (rc == TS_OK)
        rc = take_lock(&a, &lock_fd);
    if (rc == TS_OK && lock_fd >= 0)
        rc = setup(&a);
    while (rc == TS_OK && lock_fd >= 0 && !stopping(&a)) {
        ts_status s = proj__consumer_open(&a.cons, a.checkpoint);
        if (s == TS_OK)
            s = pump(&a);
        proj__consumer_close(&a.cons);
        if (s == TS_ERR_IO)
            proj__log("audit: cannot move the checkpoint; starting over from it");
        if (!stopping(&a))
            proj__nap(cfg->stop, 1000);
    }
    progress(&a, 1);
    if (lock_fd >= 0)
        close(lock_fd);
    proj__loki_free(a.loki);
    curl_global_cleanup();
    ts_buf_deinit(&a.out);
    proj__audit_entries_deinit(&a.entries);
    free(a.key_bytes);
    free(a.dir);
    free(a.log_path);
    return rc;
}
