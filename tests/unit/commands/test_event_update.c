/*
 * PATCH /events/{id} as event_update_decide: EventUpdated carries the whole
 * new description. Details and times change while draft or published (ends
 * after starts); tiers and policy only while draft (RULE-EVT-1: the shards
 * were opened with them); organizers change their own events only
 * (RULE-AUTH-2).
 *
 * Fixture (given.h): event e1 "Derby" by org1 on venue v1, GIVEN_START ..
 * GIVEN_END, default policy; tiers floor (GA), std (A), vip (B).
 */
#include "given.h"

typedef struct {
    const char *name;
    int published;
    const char *actor; /* default org1 */
    int admin;
    void (*patch)(ts_arena_t *a, event_patch_t *p);
    const char *then;
} update_case_t;

static void title(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_TITLE;
    p->title = "Derby II";
}
static void same_title(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_TITLE | EVENT_PATCH_GENRE;
    p->title = "Derby";
    p->genre = "football";
}
static void empty_title(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_TITLE;
    p->title = "";
}
static void clear_description(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_DESCRIPTION;
    p->description = NULL;
}
static void move_both(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_STARTS_AT | EVENT_PATCH_ENDS_AT;
    p->starts_at = GIVEN_START + GIVEN_DAY;
    p->ends_at = GIVEN_END + GIVEN_DAY;
}
static void ends_before_starts(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_STARTS_AT | EVENT_PATCH_ENDS_AT;
    p->starts_at = GIVEN_START;
    p->ends_at = GIVEN_START - 1;
}
static void ends_at_starts(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_ENDS_AT;
    p->ends_at = GIVEN_START;
}
static void ends_1ms_after_starts(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_ENDS_AT;
    p->ends_at = GIVEN_START + 1;
}
static void starts_after_current_end(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_STARTS_AT;
    p->starts_at = GIVEN_END;
}
static void tiers_one(ts_arena_t *a, event_patch_t *p)
{
    p->fields = EVENT_PATCH_TIERS;
    p->n_tiers = 1;
    p->tiers = ts_arena_alloc(a, sizeof(evt_tier_t));
    p->tiers[0] = given__tier(a, "std", "Standard", 3000, "A");
}
static void tiers_unknown_section(ts_arena_t *a, event_patch_t *p)
{
    tiers_one(a, p);
    p->tiers[0].sections[0] = "Z";
}
static void policy_user_cap(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_POLICY;
    p->policy_fields = EVENT_POLICY_MAX_PER_USER;
    p->policy.max_per_user = 6;
}
static void policy_bad_order(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_POLICY;
    p->policy_fields = EVENT_POLICY_MAX_PER_ORDER;
    p->policy.max_per_order = 0;
}
static void policy_order_past_user_cap(ts_arena_t *a, event_patch_t *p)
{
    (void)a;
    p->fields = EVENT_PATCH_POLICY;
    p->policy_fields = EVENT_POLICY_MAX_PER_ORDER;
    p->policy.max_per_order = 9; /* the current max_per_user is 8 */
}

static const update_case_t updates[] = {
    {.name = "the title of a draft", .patch = title, .then = "EventUpdated(e1:Derby II)"},
    {.name = "the title of a published event",
     .published = 1,
     .patch = title,
     .then = "EventUpdated(e1:Derby II)"},
    {.name = "RULE-AUTH-2 another organizer may not",
     .actor = "org2",
     .patch = title,
     .then = "!forbidden"},
    {.name = "RULE-AUTH-2 an admin may",
     .actor = "adm",
     .admin = 1,
     .published = 1,
     .patch = title,
     .then = "EventUpdated(e1:Derby II)"},
    {.name = "nothing changes: nothing recorded", .patch = same_title, .then = ""},
    {.name = "an empty title", .patch = empty_title, .then = "!validation_failed field=title"},
    {.name = "the description cleared",
     .published = 1,
     .patch = clear_description,
     .then = "EventUpdated(e1:Derby)"},
    {.name = "both times moved on a published event",
     .published = 1,
     .patch = move_both,
     .then = "EventUpdated(e1:Derby)"},
    {.name = "ends before starts",
     .patch = ends_before_starts,
     .then = "!validation_failed field=ends_at"},
    {.name = "ends when it starts",
     .published = 1,
     .patch = ends_at_starts,
     .then = "!validation_failed field=ends_at"},
    {.name = "ends 1 ms after it starts",
     .published = 1,
     .patch = ends_1ms_after_starts,
     .then = "EventUpdated(e1:Derby)"},
    {.name = "starts at the current end: checked against the end it keeps",
     .patch = starts_after_current_end,
     .then = "!validation_failed field=ends_at"},
    {.name = "RULE-EVT-1 tiers of a draft", .patch = tiers_one, .then = "EventUpdated(e1:Derby)"},
    {.name = "RULE-EVT-1 tiers of a published event are frozen",
     .published = 1,
     .patch = tiers_one,
     .then = "!conflict field=tiers"},
    {.name = "tiers are validated as at create",
     .patch = tiers_unknown_section,
     .then = "!validation_failed field=tiers.sections"},
    {.name = "RULE-EVT-1 the policy of a draft, merged",
     .patch = policy_user_cap,
     .then = "EventUpdated(e1:Derby)"},
    {.name = "RULE-EVT-1 the policy of a published event is frozen",
     .published = 1,
     .patch = policy_user_cap,
     .then = "!conflict field=policy"},
    {.name = "the policy is validated as at create",
     .patch = policy_bad_order,
     .then = "!validation_failed field=policy.max_per_order"},
    {.name = "the merged policy is validated whole",
     .patch = policy_order_past_user_cap,
     .then = "!validation_failed field=policy.max_per_user"},
};

static void test_event_update_table(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    for (size_t i = 0; i < TS_ARRAY_LEN(updates); i++) {
        const update_case_t *c = &updates[i];
        cmd_event_state_t *s = given_event(c->published);
        given_t *g = given_new();
        event_patch_t p = {0};
        c->patch(&g->arena, &p);
        given_when(g, GIVEN_T0, c->actor ? c->actor : "org1");
        g->ctx.actor_is_admin = c->admin;
        event_update_decide(s, venue, &p, &g->ctx, &g->out);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_EVENT, s);
    }
    given_state_free(CMD_AGG_VENUE, venue);
}

/* EventUpdated is the whole description: identity kept, every other field
 * present, and applying it changes the state but not the frozen layout. */
static void test_event_update_whole_description(void **state)
{
    (void)state;
    cmd_event_state_t *s = given_event(1);
    given_t *g = given_new();
    event_patch_t p = {0};
    move_both(&g->arena, &p);
    p.fields |= EVENT_PATCH_GENRE;
    p.genre = "derby";
    given_when(g, GIVEN_T0, "org1");
    event_update_decide(s, NULL, &p, &g->ctx, &g->out);
    then_line(g, "EventUpdated(e1:Derby)");
    then_ref(g, "e1");
    const evt_event_created_t *u = &g->out.events[0].u.event_created;
    assert_string_equal(u->event_id, "e1");
    assert_string_equal(u->venue_id, "v1");
    assert_string_equal(u->organizer_id, "org1");
    assert_string_equal(u->city, "Zagreb");
    assert_string_equal(u->description, "The city derby");
    assert_string_equal(u->genre, "derby");
    assert_int_equal(u->starts_at, GIVEN_START + GIVEN_DAY);
    assert_int_equal(u->ends_at, GIVEN_END + GIVEN_DAY);
    assert_int_equal(u->n_tiers, 3);
    assert_string_equal(u->tiers[1].key, "std");
    assert_int_equal(u->policy.max_per_user, 8);
    assert_int_equal(u->policy.n_refund, 2);

    given_apply_out(CMD_AGG_EVENT, s, g);
    given_free(g);
    assert_int_equal(s->status, CMD_EVENT_PUBLISHED);
    assert_string_equal(s->ev.genre, "derby");
    assert_int_equal(s->ev.starts_at, GIVEN_START + GIVEN_DAY);
    assert_string_equal(s->ev.organizer_id, "org1");
    assert_int_equal(s->published.n_sections, 3);
    assert_string_equal(s->published.sections[0].key, "A");
    given_state_free(CMD_AGG_EVENT, s);
}

/* A draft's policy PATCH keeps what it does not name (API.md defaults). */
static void test_event_update_policy_merge(void **state)
{
    (void)state;
    cmd_event_state_t *s = given_event(0);
    given_t *g = given_new();
    event_patch_t p = {0};
    policy_user_cap(&g->arena, &p);
    p.policy_fields |= EVENT_POLICY_VAT;
    p.policy.vat_bps = 2500;
    given_when(g, GIVEN_T0, "org1");
    event_update_decide(s, NULL, &p, &g->ctx, &g->out);
    then_line(g, "EventUpdated(e1:Derby)");
    const evt_policy_t *pol = &g->out.events[0].u.event_created.policy;
    assert_int_equal(pol->max_per_order, 4);
    assert_int_equal(pol->max_per_user, 6);
    assert_int_equal(pol->hold_minutes, 20);
    assert_int_equal(pol->transfer_cutoff_hours, 48);
    assert_int_equal(pol->service_fee_bps, 600);
    assert_int_equal(pol->vat_bps, 2500);
    assert_int_equal(pol->n_refund, 2);
    assert_int_equal(pol->refund[0].min_hours_before, 168);
    assert_int_equal(pol->refund[0].percent, 100);
    assert_int_equal(pol->refund[1].min_hours_before, 24);
    assert_int_equal(pol->refund[1].percent, 50);
    given_free(g);
    given_state_free(CMD_AGG_EVENT, s);
}

static void test_event_update_missing(void **state)
{
    (void)state;
    cmd_event_state_t *none = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    given_t *g = given_new();
    event_patch_t p = {0};
    title(&g->arena, &p);
    given_when(g, GIVEN_T0, "org1");
    event_update_decide(none, NULL, &p, &g->ctx, &g->out);
    then_line(g, "!not_found");
    given_free(g);
    given_state_free(CMD_AGG_EVENT, none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_update_table),
        cmocka_unit_test(test_event_update_whole_description),
        cmocka_unit_test(test_event_update_policy_merge),
        cmocka_unit_test(test_event_update_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
