/*
 * The waitlist aggregate (RULE-WL-1). Skeleton: state, apply and decide come with
 * issue 3's waitlist work (see commands.h).
 */
#include "commands/commands_int.h"

#include <stdlib.h>

typedef struct {
    int exists;
} waitlist_state_t;

static void *waitlist_new(void)
{
    waitlist_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    return s;
}

static void waitlist_free(void *p)
{
    free(p);
}

static void waitlist_apply(void *p, const evt_event_t *e)
{
    (void)p;
    (void)e;
}

static ts_status waitlist_encode(const void *p, ts_buf_t *out)
{
    (void)p;
    (void)out;
    return TS_OK;
}

static void *waitlist_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__wait_ops, data, len);
}

const cmd_aggregate_ops_t cmd__wait_ops = {
    .kind = CMD_AGG_WAIT,
    .name = "wait",
    .format_version = 1,
    .state_new = waitlist_new,
    .state_free = waitlist_free,
    .apply = waitlist_apply,
    .encode = waitlist_encode,
    .decode = waitlist_decode,
};
