/* Engine start-up and shutdown, the sweeper thread, log scans, readiness. */
#include "engine/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *sweeper_main(void *arg)
{
    eng_t *e = arg;
    int64_t last_sync = eng__now_ms();
    for (;;) {
        struct timespec ts = {e->cfg.sweep_interval_ms / 1000,
                              (long)(e->cfg.sweep_interval_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&e->mu);
        int stop = e->stopping;
        pthread_mutex_unlock(&e->mu);
        if (stop)
            break;
        int64_t now = eng__now_ms();
        eng__sweep(e, now);
        if (now - last_sync >= 1000) {
            eng__store_sync(&e->store);
            last_sync = now;
        }
    }
    return NULL;
}

/* RULE-HOLD-3: the sweeper looks at loaded lanes only, and after a restart
 * a shard is loaded by its first command. So that holds placed before the
 * restart expire on time even when no command comes, every inventory shard
 * of the log gets a sweep at start-up, which loads it and records what
 * expired meanwhile; from then on the sweeper sees it. */
static void sweep_all_shards(eng_t *e)
{
    jsOptions o;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = "tix.inv.>";
    if (js_GetStreamInfo(&si, e->log.js, e->log.stream, &o, &jerr) != NATS_OK) {
        fprintf(stderr,
                "engine: cannot list the inventory shards (%d); their holds expire when "
                "they are next used\n",
                (int)jerr);
        return;
    }
    for (int i = 0; si->State.Subjects && i < si->State.Subjects->Count; i++)
        eng__sweep_subject(e, si->State.Subjects->List[i].Subject);
    jsStreamInfo_Destroy(si);
}

ts_status eng_open(const eng_config_t *cfg, eng_t **out)
{
    ts_status rc;
    char *dir = NULL;
    eng_t *e = calloc(1, sizeof(*e));
    if (!e)
        return TS_ERR_NOMEM;
    e->cfg = *cfg;
    if (e->cfg.workers <= 0)
        e->cfg.workers = 16;
    if (e->cfg.snapshot_every <= 0)
        e->cfg.snapshot_every = 100;
    if (e->cfg.sweep_interval_ms <= 0)
        e->cfg.sweep_interval_ms = 500;
    if (!e->cfg.stream)
        e->cfg.stream = "TICKETS";
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->work_cv, NULL);
    pthread_cond_init(&e->idle_cv, NULL);
    ts_map_init(&e->lane_index);
    int serve = e->cfg.mode == ENG_MODE_SERVE;
    if ((rc = eng__log_open(&e->log, cfg->nats_url, e->cfg.stream, serve)) != TS_OK)
        goto done;
    if (e->cfg.mode == ENG_MODE_LOG)
        goto done;
    size_t n = strlen(cfg->data_dir) + 16;
    dir = malloc(n);
    if (!dir) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    snprintf(dir, n, "%s/engine", cfg->data_dir);
    if ((rc = eng__store_open(&e->store, dir)) != TS_OK)
        goto done;
    if (!serve)
        goto done; /* MAINTAIN: no workers, no sweeper, nothing appended */
    if ((rc = eng__lanes_start(e)) != TS_OK)
        goto done;
    sweep_all_shards(e);
    if (pthread_create(&e->sweeper, NULL, sweeper_main, e) != 0) {
        rc = TS_ERR_NOMEM;
        goto done;
    }
    e->sweeper_started = 1;
done:
    free(dir);
    if (rc != TS_OK) {
        eng_free(e);
        return rc;
    }
    *out = e;
    return TS_OK;
}

void eng_free(eng_t *e)
{
    if (!e)
        return;
    if (e->workers)
        eng__lanes_stop(e);
    else {
        pthread_mutex_lock(&e->mu);
        e->stopping = 1;
        pthread_mutex_unlock(&e->mu);
    }
    if (e->sweeper_started)
        pthread_join(e->sweeper, NULL);
    if (e->store.env)
        eng__store_close(&e->store);
    eng__log_close(&e->log);
    ts_map_deinit(&e->lane_index);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->work_cv);
    pthread_cond_destroy(&e->idle_cv);
    free(e);
}

ts_status eng_log_scan(eng_t *e, const char *filter, uint64_t from_seq, uint32_t limit,
                       int (*fn)(const eng_log_msg_t *m, void *arg), void *arg)
{
    uint64_t next = from_seq ? from_seq : 1;
    for (uint32_t i = 0; i < limit; i++) {
        natsMsg *m = NULL;
        uint64_t seq = 0;
        ts_status rc = eng__log_next(&e->log, filter, next, &m, &seq);
        if (rc == TS_ERR_NOT_FOUND)
            return TS_OK;
        if (rc != TS_OK)
            return rc;
        eng_log_msg_t lm = {.seq = seq,
                            .subject = natsMsg_GetSubject(m),
                            .data = natsMsg_GetData(m),
                            .len = (size_t)natsMsg_GetDataLength(m),
                            .time = 0};
        const char *ts = NULL;
        if (natsMsgHeader_Get(m, "Nats-Time-Stamp", &ts) == NATS_OK && ts) {
            int64_t ms;
            if (ts_time_parse(ts, &ms) == TS_OK)
                lm.time = ms;
        }
        int stop = fn(&lm, arg);
        natsMsg_Destroy(m);
        if (stop)
            break;
        next = seq + 1;
    }
    return TS_OK;
}

ts_status eng_log_read(eng_t *e, const char *filter, uint64_t from_seq,
                       int (*fn)(const eng_log_msg_t *m, void *arg), void *arg)
{
    return eng__log_read(&e->log, filter, from_seq ? from_seq : 1, fn, arg);
}

ts_status eng_log_last_seq(eng_t *e, uint64_t *seq)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, e->log.js, e->log.stream, NULL, &jerr) != NATS_OK)
        return TS_ERR_UNAVAILABLE;
    *seq = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return TS_OK;
}

ts_status eng_log_subjects(eng_t *e, const char *filter,
                           void (*fn)(const char *subject, uint64_t commits, void *arg), void *arg)
{
    return eng__log_subjects(&e->log, filter, fn, arg);
}

ts_status eng_log_consumers(eng_t *e, const char *prefix,
                            void (*fn)(const eng_consumer_t *c, void *arg), void *arg)
{
    jsConsumerInfoList *list = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_Consumers(&list, e->log.js, e->log.stream, NULL, &jerr);
    if (s == NATS_NOT_FOUND)
        return TS_OK; /* no consumer at all */
    if (s != NATS_OK)
        return jerr ? TS_ERR_LOG : TS_ERR_UNAVAILABLE;
    size_t n = prefix ? strlen(prefix) : 0;
    for (int i = 0; i < list->Count; i++) {
        const jsConsumerInfo *ci = list->List[i];
        if (!ci || !ci->Name || strncmp(ci->Name, prefix ? prefix : "", n) != 0)
            continue;
        eng_consumer_t c = {.name = ci->Name,
                            .ack_floor = ci->AckFloor.Stream,
                            .delivered = ci->Delivered.Stream,
                            .num_pending = ci->NumPending};
        fn(&c, arg);
    }
    jsConsumerInfoList_Destroy(list);
    return TS_OK;
}

ts_status eng_ready(eng_t *e)
{
    uint64_t seq;
    if (eng_log_last_seq(e, &seq) != TS_OK)
        return TS_ERR_UNAVAILABLE;
    MDB_txn *txn = NULL;
    if (!e->store.env)
        return TS_OK; /* LOG mode has no LMDB */
    if (mdb_txn_begin(e->store.env, NULL, MDB_RDONLY, &txn) != 0)
        return TS_ERR_IO;
    mdb_txn_abort(txn);
    return TS_OK;
}
