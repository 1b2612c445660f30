/*
 * ts_fill — a test tool that appends a large, realistic event log straight
 * to JetStream, for the rebuild benchmark (tests/bench/replay.sh). Never
 * part of the product.
 *
 *   ts_fill --nats URL [--stream TICKETS] --events N [--shows K]
 *           [--sections S] [--rows R] [--seats C] [--seed X]
 *
 * What it appends, through the real codec (events/codec.h), each subject a
 * well-formed hash chain (version 1, 2, ... and prev_hash) exactly as the
 * engine would write it:
 *   - one venue (tix.venue.<id>): S seated sections "S00".. of R rows of C
 *     seats (seats 1 and 2 of row 1 accessible) and a standing section "GA"
 *     of 2,000;
 *   - K events on it (tix.event.<id>): EventCreated (tiers "std" for the
 *     seated sections, "floor" for GA), then EventPublished;
 *   - one inventory shard per event and section (tix.inv.<event>.<section>):
 *     InventoryOpened, then commits of 1 to 4 events each (a group commit)
 *     until the log holds N events: HoldPlaced of 1..4 free seats (or GA
 *     units), HoldReleased or HoldExpired of a held booking. The holds
 *     follow the rules (RULE-HOLD-1: only free seats; only held bookings
 *     end), so folding the log gives a meaningful read model.
 * The stream is created as the engine creates it when missing. Publishing
 * is asynchronous (js_PublishAsync), acknowledged at the end.
 * Prints {"events", "commits", "holds", "ends", "shows", "seats",
 * "seconds", "last_seq"}. Exit status 0, 1 on failure, 2 on bad usage.
 */
#include "events/codec.h"

#include <inttypes.h>
#include <nats/nats.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    char subject[128];
    uint64_t version;
    uint8_t hash[32];
} chain_t;

typedef struct {
    uint32_t *seats; /* seat indexes held */
    uint32_t n;      /* seats, or GA units */
    char id[24];
} booking_t;

/* One inventory shard: its chain, its free seats and its held bookings. */
typedef struct {
    chain_t chain;
    const char *event_id;
    uint32_t section; /* index into the venue's sections */
    uint32_t *free;   /* seat indexes (seated) */
    uint32_t n_free;
    uint32_t ga_free; /* units (standing) */
    booking_t *held;
    uint32_t n_held, cap_held;
} shard_t;

typedef struct {
    const char *url, *stream;
    uint64_t events;
    uint32_t shows, sections, rows, seats;
    uint64_t seed;
    /* counters */
    uint64_t appended, commits, holds, ends;
    natsConnection *nc;
    jsCtx *js;
    ts_arena_t a; /* one commit's strings; reset per commit */
    int64_t now;  /* commit time, ms */
} fill_t;

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: reproducible for one --seed. */
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ull;
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

static const char *new_id(ts_arena_t *a, const char *prefix)
{
    return ts_arena_printf(a, "%s%016" PRIx64, prefix, rnd());
}

/* Encodes and publishes one commit of n events on chain c. */
static int append(fill_t *f, chain_t *c, evt_event_t *events, uint32_t n)
{
    evt_commit_t cm = {.subject = c->subject,
                       .version = c->version + 1,
                       .command_id = new_id(&f->a, "cmd_"),
                       .actor = "us_fill",
                       .time = f->now++,
                       .n_events = n,
                       .events = events};
    cm.correlation_id = cm.command_id;
    memcpy(cm.prev_hash, c->hash, 32);
    ts_buf_t b;
    ts_buf_init(&b);
    int rc = 1;
    if (evt_commit_encode(&cm, &b) != TS_OK) {
        fprintf(stderr, "ts_fill: encode failed on %s\n", c->subject);
        goto done;
    }
    natsStatus s = js_PublishAsync(f->js, c->subject, b.data, (int)b.len, NULL);
    if (s != NATS_OK) {
        fprintf(stderr, "ts_fill: publish: %s\n", natsStatus_GetText(s));
        goto done;
    }
    SHA256(b.data, b.len, c->hash);
    c->version++;
    f->appended += n;
    f->commits++;
    rc = 0;
done:
    ts_buf_deinit(&b);
    ts_arena_reset(&f->a);
    return rc;
}

/* The venue's layout: S seated sections and GA. Lives as long as the tool. */
static evt_section_t *layout(fill_t *f, ts_arena_t *keep)
{
    evt_section_t *secs = ts_arena_alloc(keep, (f->sections + 1) * sizeof *secs);
    for (uint32_t s = 0; s < f->sections; s++) {
        evt_row_t *rows = ts_arena_alloc(keep, f->rows * sizeof *rows);
        for (uint32_t r = 0; r < f->rows; r++) {
            rows[r].label = ts_arena_printf(keep, "%u", r + 1);
            rows[r].seats = f->seats;
            if (r == 0 && f->seats >= 2) {
                rows[r].accessible = ts_arena_alloc(keep, 2 * sizeof(uint32_t));
                rows[r].accessible[0] = 1;
                rows[r].accessible[1] = 2;
                rows[r].n_accessible = 2;
            }
        }
        secs[s] = (evt_section_t){.key = ts_arena_printf(keep, "S%02u", s),
                                  .name = ts_arena_printf(keep, "Stand %u", s),
                                  .kind = EVT_SEATED,
                                  .capacity = f->rows * f->seats,
                                  .n_rows = f->rows,
                                  .rows = rows};
    }
    secs[f->sections] =
        (evt_section_t){.key = "GA", .name = "Floor", .kind = EVT_STANDING, .capacity = 2000};
    return secs;
}

static void price(evt_hold_placed_t *h, int64_t unit, uint32_t qty)
{
    h->unit_price = (ts_money_t){unit, "EUR"};
    h->quantity = qty;
    h->subtotal = unit * qty;
    h->service_fee = ts_bps_half_up(h->subtotal, 600);
    h->total = h->subtotal + h->service_fee;
    /* RULE-PRICE-1: VAT included = total * vat / (10000 + vat), half-up. */
    h->vat_included = (h->total * 500 * 2 + 10500) / (2 * 10500);
}

/* One hold event on shard x: a new booking, or the end of a held one. */
static void hold_event(fill_t *f, shard_t *x, const evt_section_t *sec, evt_event_t *ev)
{
    int seated = sec->kind == EVT_SEATED;
    uint32_t room = seated ? x->n_free : x->ga_free;
    memset(ev, 0, sizeof *ev);
    if (x->n_held && (room < 4 || below(100) < 45)) {
        uint32_t k = below(x->n_held);
        booking_t bk = x->held[k];
        x->held[k] = x->held[--x->n_held];
        ev->type = below(4) ? EVT_HOLD_RELEASED : EVT_HOLD_EXPIRED;
        ev->u.hold_ended.booking_id = ts_arena_strdup(&f->a, bk.id);
        if (seated)
            for (uint32_t i = 0; i < bk.n; i++)
                x->free[x->n_free++] = bk.seats[i];
        else
            x->ga_free += bk.n;
        free(bk.seats);
        f->ends++;
        return;
    }
    uint32_t want = 1 + below(4);
    if (want > room)
        want = room;
    if (x->n_held == x->cap_held) {
        x->cap_held = x->cap_held ? 2 * x->cap_held : 256;
        x->held = realloc(x->held, x->cap_held * sizeof *x->held);
        if (!x->held)
            abort();
    }
    booking_t *bk = &x->held[x->n_held++];
    snprintf(bk->id, sizeof bk->id, "bk_%016" PRIx64, rnd());
    bk->n = want;
    bk->seats = NULL;
    evt_hold_placed_t *h = &ev->u.hold_placed;
    ev->type = EVT_HOLD_PLACED;
    h->booking_id = ts_arena_strdup(&f->a, bk->id);
    h->event_id = x->event_id;
    h->section = sec->key;
    h->user_id = ts_arena_printf(&f->a, "us_%06u", below(20000));
    h->command_id = new_id(&f->a, "cmd_");
    h->tier_key = seated ? "std" : "floor";
    h->created_at = f->now;
    h->expires_at = f->now + 20 * 60 * 1000; /* RULE-HOLD-3 */
    if (seated) {
        bk->seats = malloc(want * sizeof *bk->seats);
        h->seats = ts_arena_alloc(&f->a, want * sizeof *h->seats);
        h->n_seats = want;
        for (uint32_t i = 0; i < want; i++) {
            /* RULE-HOLD-1: a free seat, taken out of the free list. */
            uint32_t k = below(x->n_free), seat = x->free[k];
            x->free[k] = x->free[--x->n_free];
            bk->seats[i] = seat;
            h->seats[i] = ts_arena_printf(&f->a, "%s-%u-%u", sec->key, seat / f->seats + 1,
                                          seat % f->seats + 1);
        }
        price(h, 2500, want);
    } else {
        x->ga_free -= want;
        price(h, 1500, want);
    }
    f->holds++;
}

static int usage(void)
{
    fprintf(stderr, "usage: ts_fill --nats URL [--stream S] --events N [--shows K] "
                    "[--sections S] [--rows R] [--seats C] [--seed X]\n");
    return 2;
}

static int create_stream(fill_t *f)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, f->js, f->stream, NULL, &jerr) == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return 0;
    }
    /* As engine/log.c creates it. */
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = {"tix.>"};
    cfg.Name = f->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.AllowDirect = true;
    cfg.Duplicates = (int64_t)120 * 1000 * 1000 * 1000;
    cfg.MaxMsgSize = 8 * 1024 * 1024;
    natsStatus s = js_AddStream(&si, f->js, &cfg, NULL, &jerr);
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
        fprintf(stderr, "ts_fill: create stream: %s (%d)\n", natsStatus_GetText(s), (int)jerr);
        return 1;
    }
    return 0;
}

static int fill(fill_t *f)
{
    ts_arena_t keep;
    ts_arena_init(&keep, 1 << 16);
    evt_section_t *secs = layout(f, &keep);
    uint32_t n_secs = f->sections + 1;
    const char *venue_id = new_id(&keep, "vn_");
    chain_t venue = {0};
    snprintf(venue.subject, sizeof venue.subject, "tix.venue.%s", venue_id);
    evt_event_t ev[4];
    memset(ev, 0, sizeof ev);
    ev[0].type = EVT_VENUE_CREATED;
    ev[0].u.venue_created = (evt_venue_created_t){.venue_id = venue_id,
                                                  .name = "Benchmark Arena",
                                                  .city = "Zagreb",
                                                  .country = "HR",
                                                  .n_sections = n_secs,
                                                  .sections = secs};
    if (append(f, &venue, ev, 1))
        return 1;

    const char **std_keys = ts_arena_alloc(&keep, f->sections * sizeof *std_keys);
    for (uint32_t s = 0; s < f->sections; s++)
        std_keys[s] = secs[s].key;
    static const char *ga_key[] = {"GA"};
    evt_tier_t tiers[2] = {{.key = "std",
                            .name = "Standard",
                            .price = {2500, "EUR"},
                            .n_sections = f->sections,
                            .sections = std_keys},
                           {.key = "floor",
                            .name = "Floor",
                            .price = {1500, "EUR"},
                            .n_sections = 1,
                            .sections = ga_key}};
    uint32_t n_shards = f->shows * n_secs;
    shard_t *sh = calloc(n_shards, sizeof *sh);
    for (uint32_t k = 0; k < f->shows; k++) {
        const char *event_id = new_id(&keep, "ev_");
        chain_t chain = {0};
        snprintf(chain.subject, sizeof chain.subject, "tix.event.%s", event_id);
        memset(ev, 0, sizeof ev);
        ev[0].type = EVT_EVENT_CREATED;
        evt_event_created_t *ec = &ev[0].u.event_created;
        *ec = (evt_event_created_t){.event_id = event_id,
                                    .venue_id = venue_id,
                                    .organizer_id = "us_fill",
                                    .title = ts_arena_printf(&f->a, "Benchmark show %u", k + 1),
                                    .description = "tests/bench/replay.sh",
                                    .genre = "concert",
                                    .city = "Zagreb",
                                    .starts_at = f->now + (int64_t)(30 + k) * 86400000,
                                    .ends_at = f->now + (int64_t)(30 + k) * 86400000 + 7200000,
                                    .n_tiers = 2,
                                    .tiers = tiers};
        evt_policy_defaults(&ec->policy);
        if (append(f, &chain, ev, 1))
            return 1;
        memset(ev, 0, sizeof ev);
        ev[0].type = EVT_EVENT_PUBLISHED;
        ev[0].u.event_published =
            (evt_event_published_t){.event_id = event_id, .n_sections = n_secs, .sections = secs};
        if (append(f, &chain, ev, 1))
            return 1;
        for (uint32_t s = 0; s < n_secs; s++) {
            shard_t *x = &sh[k * n_secs + s];
            x->event_id = event_id;
            x->section = s;
            snprintf(x->chain.subject, sizeof x->chain.subject, "tix.inv.%s.%s", event_id,
                     secs[s].key);
            if (secs[s].kind == EVT_SEATED) {
                x->n_free = secs[s].capacity;
                x->free = malloc(x->n_free * sizeof *x->free);
                for (uint32_t i = 0; i < x->n_free; i++)
                    x->free[i] = i;
            } else {
                x->ga_free = secs[s].capacity;
            }
            memset(ev, 0, sizeof ev);
            ev[0].type = EVT_INVENTORY_OPENED;
            ev[0].u.inventory_opened =
                (evt_inventory_opened_t){.event_id = event_id,
                                         .section = secs[s],
                                         .tier_key = tiers[s < f->sections ? 0 : 1].key,
                                         .price = tiers[s < f->sections ? 0 : 1].price,
                                         .max_per_order = 4,
                                         .hold_minutes = 20,
                                         .service_fee_bps = 600,
                                         .vat_bps = 500};
            if (append(f, &x->chain, ev, 1))
                return 1;
        }
    }
    /* The holds, a group commit of 1..4 events on a random shard at a time. */
    while (f->appended < f->events) {
        shard_t *x = &sh[below(n_shards)];
        uint32_t n = 1 + below(4);
        if (n > f->events - f->appended)
            n = (uint32_t)(f->events - f->appended);
        for (uint32_t i = 0; i < n; i++)
            hold_event(f, x, &secs[x->section], &ev[i]);
        if (append(f, &x->chain, ev, n))
            return 1;
    }
    for (uint32_t i = 0; i < n_shards; i++) {
        for (uint32_t k = 0; k < sh[i].n_held; k++)
            free(sh[i].held[k].seats);
        free(sh[i].held);
        free(sh[i].free);
    }
    free(sh);
    ts_arena_deinit(&keep);
    return 0;
}

int main(int argc, char **argv)
{
    fill_t f = {
        .stream = "TICKETS", .shows = 20, .sections = 12, .rows = 40, .seats = 50, .seed = 1};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--nats"))
            f.url = v;
        else if (!strcmp(a, "--stream"))
            f.stream = v;
        else if (!strcmp(a, "--events"))
            f.events = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--shows"))
            f.shows = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--sections"))
            f.sections = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--rows"))
            f.rows = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seats"))
            f.seats = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seed"))
            f.seed = strtoull(v, NULL, 10);
        else
            return usage();
    }
    if (!f.url || !f.events || !f.shows || !f.sections || f.sections > 100 || !f.rows || !f.seats ||
        f.rows > 999 || f.seats > 999)
        return usage();
    rnd_state ^= f.seed * 0x2545F4914F6CDD1Dull;
    ts_arena_init(&f.a, 1 << 16);
    f.now = (int64_t)time(NULL) * 1000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = 1;
    natsStatus s = natsConnection_ConnectTo(&f.nc, f.url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(&f.js, f.nc, NULL);
    if (s != NATS_OK) {
        fprintf(stderr, "ts_fill: %s: %s\n", f.url, natsStatus_GetText(s));
        goto done;
    }
    if (create_stream(&f) || fill(&f))
        goto done;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 120000;
    s = js_PublishAsyncComplete(f.js, &po);
    if (s != NATS_OK) {
        fprintf(stderr, "ts_fill: waiting for the acks: %s\n", natsStatus_GetText(s));
        goto done;
    }
    jsStreamInfo *si = NULL;
    if (js_GetStreamInfo(&si, f.js, f.stream, NULL, NULL) != NATS_OK)
        goto done;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("{\"events\": %" PRIu64 ", \"commits\": %" PRIu64 ", \"holds\": %" PRIu64
           ", \"ends\": %" PRIu64 ", \"shows\": %u, \"seats\": %" PRIu64
           ", \"seconds\": %.3f, \"last_seq\": %" PRIu64 "}\n",
           f.appended, f.commits, f.holds, f.ends, f.shows,
           (uint64_t)f.shows * f.sections * f.rows * f.seats,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
           si->State.LastSeq);
    jsStreamInfo_Destroy(si);
    rc = 0;
done:
    jsCtx_Destroy(f.js);
    natsConnection_Destroy(f.nc);
    ts_arena_deinit(&f.a);
    nats_Close();
    return rc;
}
