/* Rejections, event emission, and the table of aggregate kinds. */
#include "commands/commands_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cmd_reject(cmd_result_t *r, const cmd_ctx_t *ctx, const char *code, const char *field,
               const char *fmt, ...)
{
    cmd_reject_t *rj = ts_arena_alloc(ctx->arena, sizeof(*rj));
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    rj->code = code;
    rj->field = field;
    rj->detail = ts_arena_strdup(ctx->arena, buf);
    r->reject = rj;
    r->n_events = 0;
    return 0;
}

evt_event_t *cmd_emit(cmd_result_t *r, evt_type_t t)
{
    /* Decisions bound their output (CMD_MAX_EVENTS); running past it is a
     * programmer error. */
    if (r->n_events >= CMD_MAX_EVENTS)
        return NULL;
    evt_event_t *e = &r->events[r->n_events++];
    memset(e, 0, sizeof(*e));
    e->type = t;
    return e;
}

const cmd_aggregate_ops_t *cmd_aggregate_ops(cmd_agg_kind_t kind)
{
    switch (kind) {
    case CMD_AGG_VENUE:
        return &cmd__venue_ops;
    case CMD_AGG_EVENT:
        return &cmd__event_ops;
    case CMD_AGG_INV:
        return &cmd__inv_ops;
    case CMD_AGG_USER:
        return &cmd__user_ops;
    case CMD_AGG_CLAIM:
        return &cmd__claim_ops;
    case CMD_AGG_QUOTA:
        return &cmd__quota_ops;
    case CMD_AGG_WAIT:
        return &cmd__wait_ops;
    case CMD_AGG_COUNT:
        break;
    }
    return NULL;
}

int cmd_aggregate_of_subject(const char *subject)
{
    static const char *prefixes[CMD_AGG_COUNT] = {"tix.venue.", "tix.event.", "tix.inv.",
                                                  "tix.user.",  "tix.claim.", "tix.quota.",
                                                  "tix.wait."};
    for (int k = 0; k < CMD_AGG_COUNT; k++)
        if (subject && strncmp(subject, prefixes[k], strlen(prefixes[k])) == 0)
            return k;
    return -1;
}

/* ---- snapshots as compacted event lists ----
 *
 * A snapshot of any aggregate is the shortest list of events that rebuilds
 * its state, encoded with the commit codec. Decoding is therefore verified
 * like any commit from the log, and apply() is the only code that builds
 * state: there is no second path that could disagree with replay. */

ts_status cmd__snapshot_encode(const evt_event_t *events, uint32_t n, ts_buf_t *out)
{
    static const uint8_t zero[32];
    evt_commit_t c = {0};
    c.subject = "snapshot";
    c.command_id = "snapshot";
    c.correlation_id = "snapshot";
    c.actor = "system";
    c.n_events = n;
    c.events = (evt_event_t *)events;
    memcpy(c.prev_hash, zero, 32);
    if (n == 0)
        return TS_OK;
    return evt_commit_encode(&c, out);
}

void *cmd__snapshot_decode(const cmd_aggregate_ops_t *ops, const void *data, size_t len)
{
    ts_arena_t scratch;
    ts_arena_init(&scratch, 1 << 16);
    evt_commit_t c;
    void *state = ops->state_new();
    if (len > 0) {
        if (evt_commit_decode(data, len, &scratch, &c) != TS_OK) {
            ops->state_free(state);
            state = NULL;
        } else {
            for (uint32_t i = 0; i < c.n_events; i++)
                ops->apply(state, &c.events[i]);
        }
    }
    ts_arena_deinit(&scratch);
    return state;
}
