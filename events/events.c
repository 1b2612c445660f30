/* Event names, roles, policy defaults and seat ids: see events.h. */
#include "events/events.h"

#include <stdlib.h>
#include <string.h>

const char *evt_type_name(evt_type_t t)
{
    switch (t) {
#define EVT_TYPE_CASE(name, value, text)                                                           \
    case name:                                                                                     \
        return text;
        EVT_TYPE_LIST(EVT_TYPE_CASE)
#undef EVT_TYPE_CASE
    case EVT_NONE:
        break;
    }
    return "Unknown";
}

static const struct {
    uint32_t bit;
    const char *name;
} roles[] = {
    {EVT_ROLE_ATTENDEE, "attendee"},     {EVT_ROLE_ORGANIZER, "organizer"},
    {EVT_ROLE_BOX_OFFICE, "box_office"}, {EVT_ROLE_AUDITOR, "auditor"},
    {EVT_ROLE_ADMIN, "admin"},
};

uint32_t evt_role_parse(const char *name)
{
    for (size_t i = 0; name && i < TS_ARRAY_LEN(roles); i++)
        if (strcmp(roles[i].name, name) == 0)
            return roles[i].bit;
    return 0;
}

const char *evt_role_name(uint32_t bit)
{
    for (size_t i = 0; i < TS_ARRAY_LEN(roles); i++)
        if (roles[i].bit == bit)
            return roles[i].name;
    return NULL;
}

void evt_policy_defaults(evt_policy_t *p)
{
    static evt_refund_step_t steps[] = {{168, 100}, {24, 50}};
    p->max_per_order = 4;
    p->max_per_user = 8;
    p->hold_minutes = 20;
    p->transfer_cutoff_hours = 48;
    p->service_fee_bps = 600;
    p->vat_bps = 500;
    p->n_refund = 2;
    p->refund = steps;
}

void evt_section_copy(ts_arena_t *a, evt_section_t *dst, const evt_section_t *src)
{
    *dst = *src;
    dst->key = ts_arena_strdup(a, src->key);
    dst->name = ts_arena_strdup(a, src->name);
    dst->rows = src->n_rows ? ts_arena_alloc(a, src->n_rows * sizeof(evt_row_t)) : NULL;
    for (uint32_t i = 0; i < src->n_rows; i++) {
        const evt_row_t *r = &src->rows[i];
        dst->rows[i].label = ts_arena_strdup(a, r->label);
        dst->rows[i].seats = r->seats;
        dst->rows[i].n_accessible = r->n_accessible;
        dst->rows[i].accessible =
            r->n_accessible ? ts_arena_memdup(a, r->accessible, r->n_accessible * sizeof(uint32_t))
                            : NULL;
    }
}

int evt_seat_id_parse(ts_arena_t *a, const char *id, const char **section, const char **row,
                      uint32_t *number)
{
    const char *d1 = id ? strchr(id, '-') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    if (!d2 || strchr(d2 + 1, '-'))
        return -1;
    const char *num = d2 + 1;
    if (*num < '1' || *num > '9' || strlen(num) > 6)
        return -1;
    for (const char *p = num; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    char *sec = ts_arena_strndup(a, id, (size_t)(d1 - id));
    char *rw = ts_arena_strndup(a, d1 + 1, (size_t)(d2 - d1 - 1));
    if (!ts_key_valid(sec) || !ts_key_valid(rw))
        return -1;
    *section = sec;
    *row = rw;
    *number = (uint32_t)strtoul(num, NULL, 10);
    return 0;
}
