/* The venue aggregate: create, with validation of the layout. */
#include "commands/commands_int.h"

#include <stdlib.h>
#include <string.h>

#define VENUE_MAX_CAPACITY 200000u
#define VENUE_MAX_ROW_SEATS 2000u

static int str_nonempty(const char *s, size_t max)
{
    return s && s[0] && strlen(s) <= max;
}

int venue_create_decide(const cmd_venue_state_t *s, const evt_venue_created_t *v,
                        const cmd_ctx_t *ctx, cmd_result_t *out)
{
    if (s->exists)
        return cmd_reject(out, ctx, "conflict", NULL, "venue already exists");
    if (!str_nonempty(v->name, 200))
        return cmd_reject(out, ctx, "validation_failed", "name", "name is required (1..200)");
    if (!str_nonempty(v->city, 100))
        return cmd_reject(out, ctx, "validation_failed", "city", "city is required (1..100)");
    if (!str_nonempty(v->country, 2) || strlen(v->country) != 2)
        return cmd_reject(out, ctx, "validation_failed", "country",
                          "country is an ISO 3166 two-letter code");
    if (v->n_sections == 0 || v->n_sections > 500)
        return cmd_reject(out, ctx, "validation_failed", "sections", "1..500 sections");
    uint64_t capacity = 0;
    for (uint32_t i = 0; i < v->n_sections; i++) {
        const evt_section_t *sec = &v->sections[i];
        if (!ts_key_valid(sec->key))
            return cmd_reject(out, ctx, "validation_failed", "sections.key",
                              "section %u: key must match [A-Za-z0-9_]{1,16}", i);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(v->sections[j].key, sec->key) == 0)
                return cmd_reject(out, ctx, "validation_failed", "sections.key",
                                  "section key %s is repeated", sec->key);
        if (sec->kind == EVT_STANDING) {
            if (sec->capacity == 0 || sec->capacity > VENUE_MAX_CAPACITY || sec->n_rows)
                return cmd_reject(out, ctx, "validation_failed", "sections.capacity",
                                  "standing section %s needs a capacity of 1..%u and no rows",
                                  sec->key, VENUE_MAX_CAPACITY);
            capacity += sec->capacity;
            continue;
        }
        if (sec->n_rows == 0 || sec->n_rows > 1000)
            return cmd_reject(out, ctx, "validation_failed", "sections.rows",
                              "seated section %s needs 1..1000 rows", sec->key);
        for (uint32_t r = 0; r < sec->n_rows; r++) {
            const evt_row_t *row = &sec->rows[r];
            if (!ts_key_valid(row->label))
                return cmd_reject(out, ctx, "validation_failed", "sections.rows.label",
                                  "section %s row %u: label must match [A-Za-z0-9_]{1,16}",
                                  sec->key, r);
            for (uint32_t q = 0; q < r; q++)
                if (strcmp(sec->rows[q].label, row->label) == 0)
                    return cmd_reject(out, ctx, "validation_failed", "sections.rows.label",
                                      "section %s: row %s is repeated", sec->key, row->label);
            if (row->seats == 0 || row->seats > VENUE_MAX_ROW_SEATS)
                return cmd_reject(out, ctx, "validation_failed", "sections.rows.seats",
                                  "section %s row %s: 1..%u seats", sec->key, row->label,
                                  VENUE_MAX_ROW_SEATS);
            for (uint32_t k = 0; k < row->n_accessible; k++)
                if (row->accessible[k] == 0 || row->accessible[k] > row->seats)
                    return cmd_reject(out, ctx, "validation_failed", "sections.rows.accessible",
                                      "section %s row %s: accessible seat %u does not exist",
                                      sec->key, row->label, row->accessible[k]);
            capacity += row->seats;
        }
    }
    if (capacity > VENUE_MAX_CAPACITY)
        return cmd_reject(out, ctx, "validation_failed", "sections", "capacity %llu exceeds %u",
                          (unsigned long long)capacity, VENUE_MAX_CAPACITY);

    evt_event_t *e = cmd_emit(out, EVT_VENUE_CREATED);
    e->u.venue_created = *v;
    e->u.venue_created.venue_id = ctx->new_id;
    /* Seated capacities are derived, so the event always carries them. */
    evt_section_t *secs =
        ts_arena_memdup(ctx->arena, v->sections, v->n_sections * sizeof(evt_section_t));
    for (uint32_t i = 0; i < v->n_sections; i++) {
        if (secs[i].kind == EVT_SEATED) {
            secs[i].capacity = 0;
            for (uint32_t r = 0; r < secs[i].n_rows; r++)
                secs[i].capacity += secs[i].rows[r].seats;
        }
    }
    e->u.venue_created.sections = secs;
    out->ref = ctx->new_id;
    return 0;
}

/* ---- state ---- */

static void *venue_new(void)
{
    cmd_venue_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    ts_arena_init(&s->arena, 4096);
    return s;
}

static void venue_free(void *p)
{
    cmd_venue_state_t *s = p;
    if (!s)
        return;
    ts_arena_deinit(&s->arena);
    free(s);
}

static void venue_apply(void *p, const evt_event_t *e)
{
    cmd_venue_state_t *s = p;
    if (e->type != EVT_VENUE_CREATED)
        return;
    const evt_venue_created_t *v = &e->u.venue_created;
    ts_arena_t *a = &s->arena;
    s->exists = 1;
    s->v.venue_id = ts_arena_strdup(a, v->venue_id);
    s->v.name = ts_arena_strdup(a, v->name);
    s->v.city = ts_arena_strdup(a, v->city);
    s->v.country = ts_arena_strdup(a, v->country);
    s->v.n_sections = v->n_sections;
    s->v.sections = ts_arena_alloc(a, v->n_sections * sizeof(evt_section_t));
    for (uint32_t i = 0; i < v->n_sections; i++)
        evt_section_copy(a, &s->v.sections[i], &v->sections[i]);
}

static ts_status venue_encode(const void *p, ts_buf_t *out)
{
    const cmd_venue_state_t *s = p;
    evt_event_t e = {.type = EVT_VENUE_CREATED};
    e.u.venue_created = s->v;
    return cmd__snapshot_encode(&e, s->exists ? 1 : 0, out);
}

static void *venue_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__venue_ops, data, len);
}

const cmd_aggregate_ops_t cmd__venue_ops = {
    .kind = CMD_AGG_VENUE,
    .name = "venue",
    .format_version = 1,
    .state_new = venue_new,
    .state_free = venue_free,
    .apply = venue_apply,
    .encode = venue_encode,
    .decode = venue_decode,
};
