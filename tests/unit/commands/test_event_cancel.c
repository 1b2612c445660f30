/*
 * event_cancel_decide (RULE-REF-1: the organizer cancelling an event refunds
 * everything; RULE-AUTH-2: organizers act on their own events only). A draft
 * or a published event is cancelled by its organizer or an admin; anyone
 * else is forbidden; twice is a conflict. A cancelled event opens no shard
 * (RULE-EVT-1: only published events sell), keeps its frozen layout (the
 * cancellation saga walks its shards) and survives a snapshot as such.
 */
#include "given.h"

typedef struct {
    const char *name;
    int exists;
    int published;
    int cancelled_before;
    const char *actor;
    int admin;
    const char *then; /* "EventCancelled" or "!code" */
} cancel_case_t;

static const cancel_case_t cases[] = {
    {"no such event", 0, 0, 0, "org1", 0, "!not_found"},
    {"draft by its organizer", 1, 0, 0, "org1", 0, "EventCancelled"},
    {"published by its organizer", 1, 1, 0, "org1", 0, "EventCancelled"},
    {"published by an admin", 1, 1, 0, "adm", 1, "EventCancelled"},
    {"another organizer", 1, 1, 0, "org2", 0, "!forbidden"},
    {"an attendee", 1, 0, 0, "u1", 0, "!forbidden"},
    {"already cancelled", 1, 1, 1, "org1", 0, "!conflict"},
    {"already cancelled, admin", 1, 0, 1, "adm", 1, "!conflict"},
};

static cmd_event_state_t *event_state(const cancel_case_t *c)
{
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t es[3] = {
        given_event_created(&a), given_event_published(&a), {.type = EVT_EVENT_CANCELLED}};
    es[2].u.event_cancelled.event_id = "e1";
    uint32_t n = 0;
    evt_event_t chosen[3];
    if (c->exists)
        chosen[n++] = es[0];
    if (c->exists && c->published)
        chosen[n++] = es[1];
    if (c->exists && c->cancelled_before)
        chosen[n++] = es[2];
    cmd_event_state_t *s = given_state(CMD_AGG_EVENT, chosen, n);
    ts_arena_deinit(&a);
    return s;
}

static void test_cancel_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        const cancel_case_t *c = &cases[i];
        given_t *g = given_new();
        cmd_event_state_t *s = event_state(c);
        cmd_result_t *out = given_when(g, GIVEN_T0, c->actor);
        g->ctx.actor_is_admin = c->admin;
        event_cancel_decide(s, NULL, &g->ctx, out);
        char got[128] = "";
        if (out->reject)
            snprintf(got, sizeof got, "!%s", out->reject->code);
        else if (out->n_events == 1 && out->events[0].type == EVT_EVENT_CANCELLED)
            snprintf(got, sizeof got, "EventCancelled");
        else
            snprintf(got, sizeof got, "%u events", out->n_events);
        if (strcmp(got, c->then) != 0)
            print_message("case: %s\n", c->name);
        assert_string_equal(got, c->then);
        if (!out->reject) {
            assert_string_equal(out->events[0].u.event_cancelled.event_id, "e1");
            assert_string_equal(out->events[0].u.event_cancelled.reason, "organizer");
            given_apply_out(CMD_AGG_EVENT, s, g);
            assert_int_equal(s->status, CMD_EVENT_CANCELLED);
        }
        given_state_free(CMD_AGG_EVENT, s);
        given_free(g);
    }
}

static void test_cancelled_event_opens_no_shard_and_keeps_its_layout(void **state)
{
    (void)state;
    cancel_case_t c = {"published, cancelled", 1, 1, 1, "org1", 0, NULL};
    cmd_event_state_t *s = event_state(&c);
    assert_int_equal(s->status, CMD_EVENT_CANCELLED);
    assert_int_equal(s->published.n_sections, 3);
    assert_string_equal(s->published.sections[0].key, "A");

    /* RULE-EVT-1: a shard is opened only for a published event. */
    given_t *g = given_new();
    inv_state_t *inv = given_state(CMD_AGG_INV, NULL, 0);
    cmd_result_t *out = given_when(g, GIVEN_T0, "system");
    inv_open_decide(inv, s, "A", &g->ctx, out);
    assert_non_null(out->reject);
    assert_string_equal(out->reject->code, "not_on_sale");

    /* A snapshot keeps the status and the layout. */
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_EVENT);
    ts_buf_t b;
    ts_buf_init(&b);
    assert_int_equal(ops->encode(s, &b), TS_OK);
    cmd_event_state_t *copy = ops->decode(b.data, b.len);
    assert_non_null(copy);
    assert_int_equal(copy->status, CMD_EVENT_CANCELLED);
    assert_int_equal(copy->published.n_sections, 3);
    assert_string_equal(copy->ev.title, "Derby");
    ops->state_free(copy);

    /* A cancelled draft has no layout, and none appears from a snapshot. */
    cancel_case_t d = {"draft, cancelled", 1, 0, 1, "org1", 0, NULL};
    cmd_event_state_t *draft = event_state(&d);
    b.len = 0;
    assert_int_equal(ops->encode(draft, &b), TS_OK);
    copy = ops->decode(b.data, b.len);
    assert_non_null(copy);
    assert_int_equal(copy->status, CMD_EVENT_CANCELLED);
    assert_int_equal(copy->published.n_sections, 0);
    assert_null(copy->published.event_id);
    ops->state_free(copy);

    ts_buf_deinit(&b);
    given_state_free(CMD_AGG_EVENT, draft);
    given_state_free(CMD_AGG_INV, inv);
    given_state_free(CMD_AGG_EVENT, s);
    given_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_table),
        cmocka_unit_test(test_cancelled_event_opens_no_shard_and_keeps_its_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
