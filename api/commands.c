/* Running commands from handlers, state copies, and the booking shape. */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t api__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void as_caller(api_req_t *r, eng_cmd_t *cmd)
{
    cmd->actor = r->user_id;
    cmd->actor_is_admin = (r->roles & EVT_ROLE_ADMIN) != 0;
    if (!cmd->command_id)
        cmd->command_id = r->command_id ? r->command_id : eng_new_id(&r->arena, "cmd-");
}

static void record(api_req_t *r, eng_cmd_type_t t, ts_status st, const eng_outcome_t *out,
                   double seconds)
{
    const char *outcome = st != TS_OK     ? "error"
                          : out->reject   ? "rejected"
                          : out->n_events ? "ok"
                                          : "repeated";
    eng_metrics_command(r->srv->cfg.engine, t, outcome, seconds);
}

ts_status api_execute_raw(api_req_t *r, eng_cmd_t *cmd, eng_outcome_t *out)
{
    as_caller(r, cmd);
    double t0 = mono_s();
    ts_status st = eng_execute(r->srv->cfg.engine, cmd, &r->arena, out);
    record(r, cmd->type, st, out, mono_s() - t0);
    return st;
}

ts_status api_execute_then(api_req_t *r, eng_cmd_t *first, eng_cmd_t *then,
                           eng_outcome_t *first_out, eng_outcome_t *then_out, int *ran_then)
{
    as_caller(r, first);
    as_caller(r, then);
    double t0 = mono_s(), first_s = 0;
    ts_status st = eng_execute_then(r->srv->cfg.engine, first, then, &r->arena, first_out, then_out,
                                    ran_then, &first_s);
    double all_s = mono_s() - t0;
    if (!*ran_then) {
        record(r, first->type, st, first_out, all_s);
        return st;
    }
    /* Each command's time from its enqueueing to its answer. */
    record(r, first->type, TS_OK, first_out, first_s);
    record(r, then->type, st, then_out, all_s - first_s);
    return st;
}

int api_execute(api_req_t *r, eng_cmd_t *cmd, eng_outcome_t *out)
{
    ts_status st = api_execute_raw(r, cmd, out);
    if (st != TS_OK) {
        api_reply_status(r, st);
        return -1;
    }
    if (out->reject) {
        api_reply_reject(r, out->reject);
        return -1;
    }
    return 0;
}

typedef struct {
    const cmd_aggregate_ops_t *ops;
    ts_buf_t buf;
    int failed;
} copy_t;

static void encode_state(const void *state, void *arg)
{
    copy_t *c = arg;
    c->failed = c->ops->encode(state, &c->buf) != TS_OK;
}

ts_status api_state_copy(api_req_t *r, const char *subject, void **out)
{
    int kind = cmd_aggregate_of_subject(subject);
    if (kind < 0)
        return TS_ERR_INVALID;
    copy_t c = {.ops = cmd_aggregate_ops(kind)};
    ts_buf_init(&c.buf);
    /* Encode under the lane, decode outside it: a deep copy through the
     * snapshot format, so there is one way to copy a state. */
    ts_status st = eng_read(r->srv->cfg.engine, subject, encode_state, &c);
    if (st == TS_OK && c.failed)
        st = TS_ERR_CORRUPT;
    if (st == TS_OK) {
        *out = c.ops->decode(c.buf.data, c.buf.len);
        if (!*out)
            st = TS_ERR_CORRUPT;
    }
    ts_buf_deinit(&c.buf);
    return st;
}

int api_event_copy(api_req_t *r, const char *event_id, cmd_event_state_t **out)
{
    void *copy = NULL;
    ts_status st = api_state_copy(r, ts_arena_printf(&r->arena, "tix.event.%s", event_id), &copy);
    if (st != TS_OK) {
        api_reply_status(r, st);
        return -1;
    }
    cmd_event_state_t *ev = copy;
    if (!ev->exists) {
        cmd_aggregate_ops(CMD_AGG_EVENT)->state_free(copy);
        api_problem(r, 404, "not_found", "no such event", NULL);
        return -1;
    }
    *out = ev;
    return 0;
}

int api_shard_of_id(api_req_t *r, const char *id, const char *prefix, const char **event,
                    const char **section)
{
    size_t pl = strlen(prefix);
    if (!id || !ts_id_valid(id) || strncmp(id, prefix, pl) != 0)
        return -1;
    const char *e = id + pl, *d1 = strchr(e, '-');
    const char *d2 = d1 ? strchr(d1 + 1, '-') : NULL;
    if (!d1 || !d2 || d1 == e || strchr(d2 + 1, '-') || !d2[1])
        return -1;
    *event = ts_arena_strndup(&r->arena, e, (size_t)(d1 - e));
    *section = ts_arena_strndup(&r->arena, d1 + 1, (size_t)(d2 - d1 - 1));
    return api_event_id_valid(*event) && ts_key_valid(*section) ? 0 : -1;
}

static json_t *money(int64_t amount, const char *currency)
{
    return json_pack("{s:I, s:s}", "amount", (json_int_t)amount, "currency", currency);
}

void api_hold_copy(ts_arena_t *a, const evt_hold_placed_t *from, evt_hold_placed_t *to)
{
    *to = *from;
    to->booking_id = ts_arena_strdup(a, from->booking_id);
    to->event_id = ts_arena_strdup(a, from->event_id);
    to->section = ts_arena_strdup(a, from->section);
    to->tier_key = ts_arena_strdup(a, from->tier_key);
    to->user_id = ts_arena_strdup(a, from->user_id);
    to->seats = ts_arena_alloc(a, (from->n_seats + 1) * sizeof(char *));
    for (uint32_t i = 0; i < from->n_seats; i++)
        to->seats[i] = ts_arena_strdup(a, from->seats[i]);
    to->command_id = NULL;
    to->promo_code = ts_arena_strdup(a, from->promo_code);
    to->offer_entry = NULL;
}

json_t *api_booking_json(const evt_hold_placed_t *h, const char *status, uint64_t commit_seq)
{
    char expires[32];
    ts_time_format(h->expires_at, expires);
    const char *cur = h->unit_price.currency;
    json_t *items = json_array();
    for (uint32_t i = 0; i < h->quantity; i++)
        json_array_append_new(
            items, json_pack("{s:o, s:s, s:o}", "seat",
                             i < h->n_seats ? json_string(h->seats[i]) : json_null(), "tier",
                             h->tier_key, "price", money(h->unit_price.amount, cur)));
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:[], s:I}", "booking_id",
                     h->booking_id, "event_id", h->event_id, "status", status, "expires_at",
                     expires, "items", items, "subtotal", money(h->subtotal, cur), "discount",
                     money(h->discount, cur), "service_fee", money(h->service_fee, cur), "total",
                     money(h->total, cur), "vat_included", money(h->vat_included, cur), "tickets",
                     "commit_seq", (json_int_t)commit_seq);
}
