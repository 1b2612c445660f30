/*
 * The quota aggregate (RULE-HOLD-4). Skeleton: state, apply and decide come with
 * issue 3's quota work (see commands.h).
 */
#include "commands/commands_int.h"

#include <stdlib.h>

typedef struct {
    int exists;
} quota_state_t;

static void *quota_new(void)
{
    quota_state_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    return s;
}

static void quota_free(void *p)
{
    free(p);
}

static void quota_apply(void *p, const evt_event_t *e)
{
    (void)p;
    (void)e;
}

static ts_status quota_encode(const void *p, ts_buf_t *out)
{
    (void)p;
    (void)out;
    return TS_OK;
}

static void *quota_decode(const void *data, size_t len)
{
    return cmd__snapshot_decode(&cmd__quota_ops, data, len);
}

const cmd_aggregate_ops_t cmd__quota_ops = {
    .kind = CMD_AGG_QUOTA,
    .name = "quota",
    .format_version = 1,
    .state_new = quota_new,
    .state_free = quota_free,
    .apply = quota_apply,
    .encode = quota_encode,
    .decode = quota_decode,
};
