/* Private to commands/: the per-aggregate ops tables and snapshot helpers. */
#ifndef TS_COMMANDS_INT_H
#define TS_COMMANDS_INT_H

#include "commands/commands.h"
#include "events/codec.h"

extern const cmd_aggregate_ops_t cmd__venue_ops;
extern const cmd_aggregate_ops_t cmd__event_ops;
extern const cmd_aggregate_ops_t cmd__inv_ops;
extern const cmd_aggregate_ops_t cmd__user_ops;
extern const cmd_aggregate_ops_t cmd__claim_ops;
extern const cmd_aggregate_ops_t cmd__quota_ops;
extern const cmd_aggregate_ops_t cmd__wait_ops;

/* Encodes events as a snapshot (nothing for an empty state). */
ts_status cmd__snapshot_encode(const evt_event_t *events, uint32_t n, ts_buf_t *out);
/* A fresh state with the snapshot's events applied; NULL when corrupt. */
void *cmd__snapshot_decode(const cmd_aggregate_ops_t *ops, const void *data, size_t len);

/* Deep copies into an arena, used by apply(). */
void cmd__copy_tiers(ts_arena_t *a, evt_tier_t **dst, const evt_tier_t *src, uint32_t n);
void cmd__copy_policy(ts_arena_t *a, evt_policy_t *dst, const evt_policy_t *src);

#endif
