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

/* Event validation shared by create and PATCH (event.c). Each returns 0, or
 * fills out with a validation_failed rejection and returns -1. Details:
 * title, times (ends_at > starts_at); sale: tiers against the venue; policy:
 * its ranges. */
int cmd__event_check_details(const evt_event_created_t *e, const cmd_ctx_t *ctx, cmd_result_t *out);
int cmd__event_check_sale(const evt_event_created_t *e, const cmd_venue_state_t *venue,
                          const cmd_ctx_t *ctx, cmd_result_t *out);
int cmd__event_check_policy(const evt_policy_t *p, const cmd_ctx_t *ctx, cmd_result_t *out);

/* The promo part of the event state (promo.c): apply of PromoCreated,
 * PromoUsed and PromoReleased (other events are ignored), the snapshot's
 * events for it (appended at events[*n], at most cmd__promo_snapshot_count),
 * and freeing its heap memory. */
void cmd__promo_apply(cmd_event_state_t *s, const evt_event_t *e);
uint32_t cmd__promo_snapshot_count(const cmd_event_state_t *s);
void cmd__promo_snapshot(const cmd_event_state_t *s, evt_event_t *events, uint32_t *n);
void cmd__promo_deinit(cmd_event_state_t *s);

/* Deep copies into an arena, used by apply(). */
void cmd__copy_tiers(ts_arena_t *a, evt_tier_t **dst, const evt_tier_t *src, uint32_t n);
void cmd__copy_policy(ts_arena_t *a, evt_policy_t *dst, const evt_policy_t *src);

/* The inventory shard (inventory_state.c, inventory_snapshot.c). */
void *cmd__inv_state_new(void);
void cmd__inv_state_free(void *state);
void cmd__inv_apply(void *state, const evt_event_t *e);

/* Shared by the inventory decisions (inventory.c). */
/* A booking still takes its seats at time now (held before its expiry,
 * confirmed). RULE-HOLD-3: a hold is free at exactly its expires_at. */
int inv__booking_active(const inv_booking_t *b, int64_t now);
/* Held in the state but past its expiry (HoldExpired not yet recorded). */
int inv__hold_lapsed(const inv_booking_t *b, int64_t now);
/* Standing units held or sold at time now. */
uint64_t inv__ga_taken_now(const inv_state_t *s, int64_t now);
/* Appends HoldExpired for at most max holds lapsed at ctx->now, in booking
 * order; returns how many. */
uint32_t inv__emit_expiries(const inv_state_t *s, uint32_t max, const cmd_ctx_t *ctx,
                            cmd_result_t *out);

#endif
