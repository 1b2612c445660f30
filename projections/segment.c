/* Hold segments (see proj__segment_t in proj_int.h): gathering holds and
 * turning them into the array parameters of PROJ_F_HOLDS_ENDED and
 * PROJ_F_HOLDS_PLACED. Pure: no I/O, so the merging rules are unit-tested
 * without a database. */
#include "projections/proj_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_num(ts_buf_t *b, int64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%" PRId64, v);
    proj__pg_array_add(b, tmp);
}

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static const char *slot_key(const proj__segment_t *g, int32_t v)
{
    return v > 0 ? g->placed[v - 1].h->booking_id : g->ended[-v - 1].booking_id;
}

/* The slot of booking_id: the one holding it, or the empty one where it
 * would go. */
static int32_t *slot_of(proj__segment_t *g, const char *booking_id)
{
    size_t mask = g->n_slots - 1, i = hash_id(booking_id) & mask;
    while (g->slots[i] && strcmp(slot_key(g, g->slots[i]), booking_id) != 0)
        i = (i + 1) & mask;
    return &g->slots[i];
}

/* Records value v (see proj__segment_t.slots) for a booking just appended,
 * growing and rehashing the index to stay at most half full. */
static void index_add(proj__segment_t *g, int32_t v)
{
    size_t used = g->n_placed + g->n_ended;
    if (2 * used > g->n_slots) {
        size_t n = g->n_slots ? 2 * g->n_slots : 256;
        while (2 * used > n)
            n *= 2;
        free(g->slots);
        g->slots = calloc(n, sizeof *g->slots);
        if (!g->slots)
            abort();
        g->n_slots = n;
        for (size_t i = 0; i < g->n_placed; i++)
            *slot_of(g, g->placed[i].h->booking_id) = (int32_t)i + 1;
        for (size_t i = 0; i < g->n_ended; i++)
            *slot_of(g, g->ended[i].booking_id) = -(int32_t)i - 1;
        return;
    }
    *slot_of(g, slot_key(g, v)) = v;
}

/* 0 when booking_id is not in the segment, else its slot value. */
static int32_t find(proj__segment_t *g, const char *booking_id)
{
    return g->n_slots ? *slot_of(g, booking_id) : 0;
}

/* Grows *arr (of *cap elements of size) to hold one more than n. */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    size_t want = *cap ? 2 * *cap : 64;
    void *p = realloc(arr, want * size);
    if (!p)
        abort(); /* as base.h: no recovery from out-of-memory */
    *cap = want;
    return p;
}

int proj__seg_place(proj__segment_t *g, const evt_hold_placed_t *h, uint64_t seq)
{
    if (find(g, h->booking_id))
        return 0;
    g->placed = grow(g->placed, g->n_placed, &g->cap_placed, sizeof *g->placed);
    g->placed[g->n_placed++] = (proj__placed_t){h, "held", seq, seq};
    index_add(g, (int32_t)g->n_placed);
    return 1;
}

void proj__seg_end(proj__segment_t *g, const char *booking_id, const char *status, uint64_t seq)
{
    int32_t v = find(g, booking_id);
    if (v > 0) {
        /* Placed in this segment: it is sent once, already ended. Only a
         * held booking ends; a second end is a no-op, as in the log. */
        proj__placed_t *p = &g->placed[v - 1];
        if (strcmp(p->status, "held") == 0) {
            p->status = status;
            p->updated_seq = seq;
        }
        return;
    }
    if (v < 0)
        return; /* ended twice: the second is a no-op */
    g->ended = grow(g->ended, g->n_ended, &g->cap_ended, sizeof *g->ended);
    g->ended[g->n_ended++] = (proj__ended_t){booking_id, status, seq};
    index_add(g, -(int32_t)g->n_ended);
}

int proj__seg_ended_params(proj__segment_t *g, const char *p[PROJ_ENDED_COLS], uint64_t *seq)
{
    ts_buf_t *c = g->cols;
    if (!g->n_ended)
        return 0;
    for (size_t i = 0; i < PROJ_ENDED_COLS; i++)
        c[i].len = 0;
    for (size_t i = 0; i < g->n_ended; i++) {
        proj__pg_array_add(&c[0], g->ended[i].booking_id);
        proj__pg_array_add(&c[1], g->ended[i].status);
        add_num(&c[2], (int64_t)g->ended[i].seq);
    }
    for (size_t i = 0; i < PROJ_ENDED_COLS; i++)
        p[i] = proj__pg_array_close(&c[i]);
    *seq = g->ended[g->n_ended - 1].seq;
    return 1;
}

int proj__seg_placed_params(proj__segment_t *g, const char *p[PROJ_PLACED_COLS], uint64_t *seq)
{
    ts_buf_t *c = g->cols;
    if (!g->n_placed)
        return 0;
    for (size_t i = 0; i < PROJ_PLACED_COLS; i++)
        c[i].len = 0;
    *seq = 0;
    ts_buf_t items;
    ts_buf_init(&items);
    for (size_t i = 0; i < g->n_placed; i++) {
        const proj__placed_t *r = &g->placed[i];
        const evt_hold_placed_t *h = r->h;
        items.len = 0;
        proj__items_text(&items, h);
        proj__pg_array_add(&c[0], h->booking_id);
        proj__pg_array_add(&c[1], h->event_id);
        proj__pg_array_add(&c[2], h->section);
        proj__pg_array_add(&c[3], h->user_id);
        proj__pg_array_add(&c[4], h->tier_key);
        add_num(&c[5], h->quantity);
        add_num(&c[6], h->expires_at);
        proj__pg_array_add(&c[7], (const char *)items.data);
        add_num(&c[8], h->subtotal);
        add_num(&c[9], h->discount);
        add_num(&c[10], h->service_fee);
        add_num(&c[11], h->total);
        add_num(&c[12], h->vat_included);
        proj__pg_array_add(&c[13], h->unit_price.currency);
        add_num(&c[14], (int64_t)r->created_seq);
        proj__pg_array_add(&c[15], r->status);
        add_num(&c[16], (int64_t)r->updated_seq);
        if (r->updated_seq > *seq)
            *seq = r->updated_seq;
        /* Held then freed within the segment: the seats end as they were,
         * so they are not sent at all. */
        if (strcmp(r->status, "held") != 0)
            continue;
        for (uint32_t k = 0; k < h->n_seats; k++) {
            if (!h->seats[k])
                continue;
            proj__pg_array_add(&c[17], h->event_id);
            proj__pg_array_add(&c[18], h->seats[k]);
            proj__pg_array_add(&c[19], h->booking_id);
        }
    }
    ts_buf_deinit(&items);
    for (size_t i = 0; i < PROJ_PLACED_COLS; i++)
        p[i] = proj__pg_array_close(&c[i]);
    return 1;
}

/* ---- COPY rows for a build's staging tables ---- */

/* One field of COPY's text format: \N for NULL, and the four characters
 * that would end a field or row escaped. */
static void copy_field(ts_buf_t *b, const char *s, int last)
{
    if (!s) {
        ts_buf_append(b, "\\N", 2);
    } else {
        for (const char *p = s; *p;) {
            size_t run = strcspn(p, "\\\t\n\r");
            ts_buf_append(b, p, run);
            p += run;
            if (!*p)
                break;
            ts_buf_put_u8(b, '\\');
            ts_buf_put_u8(b, *p == '\\' ? '\\' : *p == '\t' ? 't' : *p == '\n' ? 'n' : 'r');
            p++;
        }
    }
    ts_buf_put_u8(b, last ? '\n' : '\t');
}

/* An integer, digits only (no escaping needed): snprintf costs more than
 * the rest of a row. */
void proj__json_num(ts_buf_t *b, int64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    ts_buf_append(b, tmp + n, sizeof tmp - n);
}

static void copy_num(ts_buf_t *b, int64_t v, int last)
{
    proj__json_num(b, v);
    ts_buf_put_u8(b, last ? '\n' : '\t');
}

/* A JSON string (null for NULL): '"', '\\' and control characters
 * escaped, every other byte as it is. Bytes that are not UTF-8 make
 * PostgreSQL refuse the row, and the build then starts again exact, folding
 * as the projector does (build.c). */
void proj__json_str(ts_buf_t *b, const char *s)
{
    if (!s) {
        ts_buf_append(b, "null", 4);
        return;
    }
    ts_buf_put_u8(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            ts_buf_put_u8(b, '\\');
            ts_buf_put_u8(b, *p);
        } else if (*p < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            ts_buf_append(b, esc, 6);
        } else {
            ts_buf_put_u8(b, *p);
        }
    }
    ts_buf_put_u8(b, '"');
}

void proj__items_text(ts_buf_t *b, const evt_hold_placed_t *h)
{
    /* As proj__items_json: one entry per seat, or per GA unit with a null
     * seat (API.md). */
    uint32_t n = h->n_seats ? h->n_seats : h->quantity;
    ts_buf_put_u8(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        ts_buf_append(b, i ? ",{\"seat\":" : "{\"seat\":", i ? 9 : 8);
        proj__json_str(b, h->n_seats ? h->seats[i] : NULL);
        ts_buf_append(b, ",\"tier\":", 8);
        proj__json_str(b, h->tier_key);
        ts_buf_append(b, ",\"price\":{\"amount\":", 19);
        proj__json_num(b, h->unit_price.amount);
        ts_buf_append(b, ",\"currency\":", 12);
        proj__json_str(b, h->unit_price.currency);
        ts_buf_append(b, "}}", 2);
    }
    ts_buf_put_u8(b, ']');
    ts_buf_put_u8(b, '\0');
    b->len--;
}

void proj__seg_copy_ended(const proj__segment_t *g, ts_buf_t *out, uint64_t *seq)
{
    for (size_t i = 0; i < g->n_ended; i++) {
        copy_field(out, g->ended[i].booking_id, 0);
        copy_field(out, g->ended[i].status, 0);
        copy_num(out, (int64_t)g->ended[i].seq, 1);
        *seq = g->ended[i].seq;
    }
}

void proj__seg_copy_placed(const proj__segment_t *g, size_t from, size_t to, ts_buf_t *placed,
                           ts_buf_t *seats, uint64_t *seq)
{
    ts_buf_t items;
    ts_buf_init(&items);
    for (size_t i = from; i < to && i < g->n_placed; i++) {
        const proj__placed_t *r = &g->placed[i];
        const evt_hold_placed_t *h = r->h;
        items.len = 0;
        proj__items_text(&items, h);
        /* The columns of seg_placed, in the order of PROJ_F_HOLDS_PLACED. */
        copy_field(placed, h->booking_id, 0);
        copy_field(placed, h->event_id, 0);
        copy_field(placed, h->section, 0);
        copy_field(placed, h->user_id, 0);
        copy_field(placed, h->tier_key, 0);
        copy_num(placed, h->quantity, 0);
        copy_num(placed, h->expires_at, 0);
        copy_field(placed, (const char *)items.data, 0);
        copy_num(placed, h->subtotal, 0);
        copy_num(placed, h->discount, 0);
        copy_num(placed, h->service_fee, 0);
        copy_num(placed, h->total, 0);
        copy_num(placed, h->vat_included, 0);
        copy_field(placed, h->unit_price.currency, 0);
        copy_num(placed, (int64_t)r->created_seq, 0);
        copy_field(placed, r->status, 0);
        copy_num(placed, (int64_t)r->updated_seq, 1);
        if (r->updated_seq > *seq)
            *seq = r->updated_seq;
        /* As proj__seg_placed_params: only the still held take seats. */
        if (strcmp(r->status, "held") != 0)
            continue;
        for (uint32_t k = 0; k < h->n_seats; k++) {
            if (!h->seats[k])
                continue;
            copy_field(seats, h->event_id, 0);
            copy_field(seats, h->seats[k], 0);
            copy_field(seats, h->booking_id, 1);
        }
    }
    ts_buf_deinit(&items);
}

/* A deep copy of h in a (the fields the segment sends). */
static const evt_hold_placed_t *copy_hold(ts_arena_t *a, const evt_hold_placed_t *h)
{
    evt_hold_placed_t *c = ts_arena_memdup(a, h, sizeof *h);
    c->booking_id = ts_arena_strdup(a, h->booking_id);
    c->event_id = ts_arena_strdup(a, h->event_id);
    c->section = ts_arena_strdup(a, h->section);
    c->user_id = ts_arena_strdup(a, h->user_id);
    c->command_id = ts_arena_strdup(a, h->command_id);
    c->tier_key = ts_arena_strdup(a, h->tier_key);
    if (h->n_seats) {
        const char **seats = ts_arena_alloc(a, h->n_seats * sizeof *seats);
        for (uint32_t i = 0; i < h->n_seats; i++)
            seats[i] = ts_arena_strdup(a, h->seats[i]);
        c->seats = seats;
    }
    return c;
}

void proj__seg_own(proj__segment_t *g)
{
    if (!g->own.block_size)
        ts_arena_init(&g->own, 1 << 20);
    for (; g->n_own_placed < g->n_placed; g->n_own_placed++)
        g->placed[g->n_own_placed].h = copy_hold(&g->own, g->placed[g->n_own_placed].h);
    for (; g->n_own_ended < g->n_ended; g->n_own_ended++)
        g->ended[g->n_own_ended].booking_id =
            ts_arena_strdup(&g->own, g->ended[g->n_own_ended].booking_id);
}

size_t proj__seg_size(const proj__segment_t *g)
{
    return g->n_placed + g->n_ended;
}

void proj__seg_reset(proj__segment_t *g)
{
    g->n_placed = g->n_ended = 0;
    g->n_own_placed = g->n_own_ended = 0;
    if (g->slots)
        memset(g->slots, 0, g->n_slots * sizeof *g->slots);
    if (g->own.block_size)
        ts_arena_reset(&g->own);
}

void proj__seg_deinit(proj__segment_t *g)
{
    free(g->placed);
    free(g->ended);
    free(g->slots);
    for (size_t i = 0; i < PROJ_PLACED_COLS; i++)
        ts_buf_deinit(&g->cols[i]);
    ts_arena_deinit(&g->own);
    memset(g, 0, sizeof *g);
}
