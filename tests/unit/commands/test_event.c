/*
 * The event aggregate: event_create_decide's validation, event_publish_decide
 * (RULE-EVT-1: the layout of the sections a tier sells is frozen at publish,
 * in venue order) and inv_open_decide, which opens a shard only for a
 * published event.
 *
 * Fixture (given.h): venue v1 has sections A, B, C, GA in that order; event
 * e1's tiers are floor (GA), std (A), vip (B); C is sold by no tier.
 */
#include "given.h"

/* RULE-TKT-1: the engine's public key of e1 (base64 of 32 bytes). */
#define GIVEN_TICKET_KEY "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

/* ---- event_create_decide ---- */

typedef struct {
    const char *name;
    void (*change)(ts_arena_t *a, evt_event_created_t *e);
    const char *then;
} create_case_t;

static const char *one(ts_arena_t *a, const char *s)
{
    return ts_arena_strdup(a, s);
}

static void unchanged(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    (void)e;
}
static void no_title(ts_arena_t *a, evt_event_created_t *e)
{
    e->title = one(a, "");
}
static void ends_before_starts(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->ends_at = e->starts_at - 1;
}
static void ends_when_starts(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->ends_at = e->starts_at;
}
static void ends_1ms_after_start(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->ends_at = e->starts_at + 1;
}
static void no_start(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->starts_at = 0;
}
static void no_tiers(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->n_tiers = 0;
}
static void section_in_two_tiers(ts_arena_t *a, evt_event_created_t *e)
{
    /* vip sells B and also A, which std sells. */
    e->tiers[2].n_sections = 2;
    e->tiers[2].sections = ts_arena_alloc(a, 2 * sizeof(char *));
    e->tiers[2].sections[0] = "B";
    e->tiers[2].sections[1] = "A";
}
static void section_twice_in_one_tier(ts_arena_t *a, evt_event_created_t *e)
{
    e->tiers[2].n_sections = 2;
    e->tiers[2].sections = ts_arena_alloc(a, 2 * sizeof(char *));
    e->tiers[2].sections[0] = "B";
    e->tiers[2].sections[1] = "B";
}
static void two_sections_in_one_tier(ts_arena_t *a, evt_event_created_t *e)
{
    e->tiers[2].n_sections = 2;
    e->tiers[2].sections = ts_arena_alloc(a, 2 * sizeof(char *));
    e->tiers[2].sections[0] = "B";
    e->tiers[2].sections[1] = "C";
}
static void unknown_section(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[2].sections[0] = "Z";
}
static void tier_without_sections(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[1].n_sections = 0;
}
static void lowercase_currency(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    memcpy(e->tiers[0].price.currency, "eur", 4);
}
static void short_currency(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    memcpy(e->tiers[0].price.currency, "EU", 3);
}
static void empty_currency(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[0].price.currency[0] = '\0';
}
static void digit_currency(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    memcpy(e->tiers[0].price.currency, "EU1", 4);
}
static void mixed_currencies(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    memcpy(e->tiers[2].price.currency, "USD", 4);
}
static void all_in_usd(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    for (uint32_t i = 0; i < e->n_tiers; i++)
        memcpy(e->tiers[i].price.currency, "USD", 4);
}
static void negative_price(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[1].price.amount = -1;
}
static void free_tier(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[1].price.amount = 0;
}
static void largest_price(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[1].price.amount = 100000000;
}
static void price_too_large(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[1].price.amount = 100000001;
}
static void bad_tier_key(ts_arena_t *a, evt_event_created_t *e)
{
    e->tiers[1].key = one(a, "st d");
}
static void repeated_tier_key(ts_arena_t *a, evt_event_created_t *e)
{
    e->tiers[2].key = one(a, "std");
}
static void tier_without_name(ts_arena_t *a, evt_event_created_t *e)
{
    e->tiers[2].name = one(a, "");
}
static void sale_ends_at_start(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->tiers[1].sale_ends_at = e->tiers[1].sale_starts_at;
}
static void max_per_order_0(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.max_per_order = 0;
}
static void max_per_order_50(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.max_per_order = 50;
    e->policy.max_per_user = 50;
}
static void max_per_order_51(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.max_per_order = 51;
    e->policy.max_per_user = 51;
}
static void max_per_user_below_order(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.max_per_user = e->policy.max_per_order - 1;
}
static void hold_minutes_0(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.hold_minutes = 0;
}
static void hold_minutes_1440(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.hold_minutes = 1440;
}
static void hold_minutes_1441(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.hold_minutes = 1441;
}
static void fee_over_100_percent(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.service_fee_bps = 10001;
}
static void vat_over_100_percent(ts_arena_t *a, evt_event_created_t *e)
{
    (void)a;
    e->policy.vat_bps = 10001;
}
static void refund_over_100_percent(ts_arena_t *a, evt_event_created_t *e)
{
    e->policy.n_refund = 1;
    e->policy.refund = ts_arena_alloc(a, sizeof(evt_refund_step_t));
    e->policy.refund[0] = (evt_refund_step_t){.min_hours_before = 24, .percent = 101};
}

static const create_case_t creates[] = {
    {"the fixture event", unchanged, "EventCreated(n1)"},
    {"no title", no_title, "!validation_failed field=title"},
    {"ends before it starts", ends_before_starts, "!validation_failed field=ends_at"},
    {"ends when it starts", ends_when_starts, "!validation_failed field=ends_at"},
    {"ends 1 ms after it starts", ends_1ms_after_start, "EventCreated(n1)"},
    {"no start", no_start, "!validation_failed field=ends_at"},
    {"no tiers", no_tiers, "!validation_failed field=tiers"},
    {"a section in two tiers", section_in_two_tiers, "!validation_failed field=tiers.sections"},
    {"a section twice in one tier", section_twice_in_one_tier,
     "!validation_failed field=tiers.sections"},
    {"two sections in one tier", two_sections_in_one_tier, "EventCreated(n1)"},
    {"a section not in the venue", unknown_section, "!validation_failed field=tiers.sections"},
    {"a tier without sections", tier_without_sections, "!validation_failed field=tiers.sections"},
    {"RULE-PRICE-1 currency in lower case", lowercase_currency,
     "!validation_failed field=tiers.price"},
    {"RULE-PRICE-1 a two-letter currency", short_currency, "!validation_failed field=tiers.price"},
    {"RULE-PRICE-1 no currency", empty_currency, "!validation_failed field=tiers.price"},
    {"RULE-PRICE-1 a digit in the currency", digit_currency,
     "!validation_failed field=tiers.price"},
    {"RULE-PRICE-1 tiers in two currencies", mixed_currencies,
     "!validation_failed field=tiers.price"},
    {"RULE-PRICE-1 every tier in USD", all_in_usd, "EventCreated(n1)"},
    {"RULE-PRICE-1 a negative price", negative_price, "!validation_failed field=tiers.price"},
    {"RULE-PRICE-1 a free tier", free_tier, "EventCreated(n1)"},
    {"RULE-PRICE-1 the largest price", largest_price, "EventCreated(n1)"},
    {"RULE-PRICE-1 a price too large", price_too_large, "!validation_failed field=tiers.price"},
    {"a tier key with a space", bad_tier_key, "!validation_failed field=tiers.key"},
    {"a repeated tier key", repeated_tier_key, "!validation_failed field=tiers.key"},
    {"a tier without a name", tier_without_name, "!validation_failed field=tiers.name"},
    {"a sale that ends when it starts", sale_ends_at_start,
     "!validation_failed field=tiers.sale_ends_at"},
    {"max_per_order 0", max_per_order_0, "!validation_failed field=policy.max_per_order"},
    {"max_per_order 50", max_per_order_50, "EventCreated(n1)"},
    {"max_per_order 51", max_per_order_51, "!validation_failed field=policy.max_per_order"},
    {"max_per_user below max_per_order", max_per_user_below_order,
     "!validation_failed field=policy.max_per_user"},
    {"hold_minutes 0", hold_minutes_0, "!validation_failed field=policy.hold_minutes"},
    {"hold_minutes 1440", hold_minutes_1440, "EventCreated(n1)"},
    {"hold_minutes 1441", hold_minutes_1441, "!validation_failed field=policy.hold_minutes"},
    {"a fee over 100 %", fee_over_100_percent, "!validation_failed field=policy"},
    {"VAT over 100 %", vat_over_100_percent, "!validation_failed field=policy"},
    {"a refund over 100 %", refund_over_100_percent, "!validation_failed field=policy.refund"},
};

static void test_event_create_validation(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    cmd_event_state_t *none = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    for (size_t i = 0; i < TS_ARRAY_LEN(creates); i++) {
        given_t *g = given_new();
        evt_event_created_t in;
        given_event_input(&g->arena, &in);
        creates[i].change(&g->arena, &in);
        given_when(g, GIVEN_T0, "org1");
        assert_int_equal(event_create_decide(none, venue, &in, &g->ctx, &g->out), 0);
        then_case(g, creates[i].name, creates[i].then);
        given_free(g);
    }
    given_state_free(CMD_AGG_EVENT, none);
    given_state_free(CMD_AGG_VENUE, venue);
}

static void test_event_create_unknown_venue(void **state)
{
    (void)state;
    cmd_venue_state_t *no_venue = cmd_aggregate_ops(CMD_AGG_VENUE)->state_new();
    cmd_event_state_t *none = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    given_t *g = given_new();
    evt_event_created_t in;
    given_event_input(&g->arena, &in);

    given_when(g, GIVEN_T0, "org1");
    event_create_decide(none, no_venue, &in, &g->ctx, &g->out);
    then_line(g, "!validation_failed field=venue_id");
    given_when(g, GIVEN_T0, "org1");
    event_create_decide(none, NULL, &in, &g->ctx, &g->out);
    then_line(g, "!validation_failed field=venue_id");

    given_free(g);
    given_state_free(CMD_AGG_EVENT, none);
    given_state_free(CMD_AGG_VENUE, no_venue);
}

/* The created event: new id, organizer = actor, the venue's city. */
static void test_event_create_fields(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    cmd_event_state_t *s = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    given_t *g = given_new();
    evt_event_created_t in;
    given_event_input(&g->arena, &in);
    in.event_id = "ignored";
    in.organizer_id = "ignored";
    given_when(g, GIVEN_T0, "org7");
    g->ctx.new_id = "e7";
    event_create_decide(s, venue, &in, &g->ctx, &g->out);
    then_line(g, "EventCreated(e7)");
    then_ref(g, "e7");
    const evt_event_created_t *c = &g->out.events[0].u.event_created;
    assert_string_equal(c->organizer_id, "org7");
    assert_string_equal(c->city, "Zagreb");
    assert_string_equal(c->venue_id, "v1");
    assert_int_equal(c->n_tiers, 3);

    /* Applied, the state is a draft that owns copies of everything. */
    given_apply_out(CMD_AGG_EVENT, s, g);
    given_free(g);
    assert_true(s->exists);
    assert_int_equal(s->status, CMD_EVENT_DRAFT);
    assert_string_equal(s->ev.event_id, "e7");
    assert_string_equal(s->ev.organizer_id, "org7");
    assert_string_equal(s->ev.title, "Derby");
    assert_string_equal(s->ev.tiers[1].key, "std");
    assert_string_equal(s->ev.tiers[1].sections[0], "A");
    assert_int_equal(s->ev.tiers[1].price.amount, 2500);
    assert_int_equal(s->ev.policy.max_per_order, 4);
    assert_int_equal(s->ev.policy.refund[1].percent, 50);
    assert_string_equal(event_tier_of_section(s, "GA")->key, "floor");
    assert_string_equal(event_tier_of_section(s, "B")->key, "vip");
    assert_null(event_tier_of_section(s, "C"));

    /* Creating it again is a conflict. */
    g = given_new();
    given_event_input(&g->arena, &in);
    given_when(g, GIVEN_T0, "org7");
    event_create_decide(s, venue, &in, &g->ctx, &g->out);
    then_line(g, "!conflict");
    given_free(g);
    given_state_free(CMD_AGG_EVENT, s);
    given_state_free(CMD_AGG_VENUE, venue);
}

/* ---- event_publish_decide (RULE-EVT-1) ---- */

typedef struct {
    const char *name;
    int published; /* given EventPublished too */
    const char *actor;
    int admin;
    const char *then;
} publish_case_t;

static const publish_case_t publishes[] = {
    {"RULE-EVT-1 the organizer publishes: sold sections frozen in venue order", 0, "org1", 0,
     "EventPublished(e1:A,B,GA)"},
    {"RULE-AUTH-2 another organizer may not publish", 0, "org2", 0, "!forbidden"},
    {"RULE-AUTH-2 an admin may publish", 0, "admin1", 1, "EventPublished(e1:A,B,GA)"},
    {"RULE-EVT-1 publishing twice is a conflict", 1, "org1", 0, "!conflict"},
    {"RULE-EVT-1 publishing twice is a conflict for an admin too", 1, "admin1", 1, "!conflict"},
    {"RULE-AUTH-2 forbidden comes before conflict", 1, "org2", 0, "!forbidden"},
};

static void test_rule_evt_1_publish(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    for (size_t i = 0; i < TS_ARRAY_LEN(publishes); i++) {
        const publish_case_t *c = &publishes[i];
        cmd_event_state_t *s = given_event(c->published);
        given_t *g = given_new();
        given_when(g, GIVEN_T0, c->actor);
        g->ctx.actor_is_admin = c->admin;
        assert_int_equal(event_publish_decide(s, venue, GIVEN_TICKET_KEY, &g->ctx, &g->out), 0);
        then_case(g, c->name, c->then);
        given_free(g);
        given_state_free(CMD_AGG_EVENT, s);
    }
    given_state_free(CMD_AGG_VENUE, venue);
}

static void test_rule_evt_1_publish_missing(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    cmd_venue_state_t *no_venue = cmd_aggregate_ops(CMD_AGG_VENUE)->state_new();
    cmd_event_state_t *none = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    cmd_event_state_t *draft = given_event(0);
    given_t *g = given_new();

    given_when(g, GIVEN_T0, "org1");
    event_publish_decide(none, venue, GIVEN_TICKET_KEY, &g->ctx, &g->out);
    then_line(g, "!not_found");
    given_when(g, GIVEN_T0, "org1");
    event_publish_decide(draft, no_venue, GIVEN_TICKET_KEY, &g->ctx, &g->out);
    then_line(g, "!conflict");
    given_when(g, GIVEN_T0, "org1");
    event_publish_decide(draft, NULL, GIVEN_TICKET_KEY, &g->ctx, &g->out);
    then_line(g, "!conflict");

    given_free(g);
    given_state_free(CMD_AGG_EVENT, draft);
    given_state_free(CMD_AGG_EVENT, none);
    given_state_free(CMD_AGG_VENUE, no_venue);
    given_state_free(CMD_AGG_VENUE, venue);
}

/* RULE-TKT-1: EventPublished carries the ticket key the engine made, the
 * state keeps it, and a publish without a proper key is refused. */
static void test_rule_tkt_1_publish_carries_key(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    cmd_event_state_t *s = given_event(0);
    given_t *g = given_new();
    static const char *bad[] = {NULL, "", "not a key",
                                "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo", /* no padding */
                                "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcH.Ro="};
    for (size_t i = 0; i < TS_ARRAY_LEN(bad); i++) {
        given_when(g, GIVEN_T0, "org1");
        event_publish_decide(s, venue, bad[i], &g->ctx, &g->out);
        then_line(g, "!validation_failed field=ticket_key");
    }
    given_when(g, GIVEN_T0, "org1");
    event_publish_decide(s, venue, GIVEN_TICKET_KEY, &g->ctx, &g->out);
    then_line(g, "EventPublished(e1:A,B,GA)");
    assert_string_equal(g->out.events[0].u.event_published.ticket_key, GIVEN_TICKET_KEY);
    cmd_aggregate_ops(CMD_AGG_EVENT)->apply(s, &g->out.events[0]);
    given_free(g);
    assert_string_equal(s->published.ticket_key, GIVEN_TICKET_KEY);
    /* The state owns its copy, also through a snapshot. */
    ts_buf_t b;
    ts_buf_init(&b);
    assert_int_equal(cmd_aggregate_ops(CMD_AGG_EVENT)->encode(s, &b), TS_OK);
    cmd_event_state_t *copy = cmd_aggregate_ops(CMD_AGG_EVENT)->decode(b.data, b.len);
    ts_buf_deinit(&b);
    assert_non_null(copy);
    assert_string_equal(copy->published.ticket_key, GIVEN_TICKET_KEY);
    given_state_free(CMD_AGG_EVENT, copy);
    given_state_free(CMD_AGG_EVENT, s);
    given_state_free(CMD_AGG_VENUE, venue);
}

/* RULE-EVT-1: the frozen layout is the venue's, and once applied the event
 * owns it: freeing the venue and the decision changes nothing. */
static void test_rule_evt_1_layout_frozen(void **state)
{
    (void)state;
    cmd_venue_state_t *venue = given_venue();
    cmd_event_state_t *s = given_event(0);
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "org1");
    event_publish_decide(s, venue, GIVEN_TICKET_KEY, &g->ctx, &g->out);
    then_line(g, "EventPublished(e1:A,B,GA)");
    then_ref(g, "e1");
    const evt_event_published_t *p = &g->out.events[0].u.event_published;
    assert_string_equal(p->event_id, "e1");
    assert_int_equal(p->sections[0].kind, EVT_SEATED);
    assert_int_equal(p->sections[0].capacity, 16);
    assert_int_equal(p->sections[0].n_rows, 2);
    assert_int_equal(p->sections[2].kind, EVT_STANDING);
    assert_int_equal(p->sections[2].capacity, 5);

    given_apply_out(CMD_AGG_EVENT, s, g);
    given_free(g);
    given_state_free(CMD_AGG_VENUE, venue);

    assert_int_equal(s->status, CMD_EVENT_PUBLISHED);
    assert_int_equal(s->published.n_sections, 3);
    assert_string_equal(s->published.event_id, "e1");
    const evt_section_t *a = &s->published.sections[0];
    assert_string_equal(a->key, "A");
    assert_string_equal(a->name, "North");
    assert_string_equal(a->rows[0].label, "1");
    assert_int_equal(a->rows[0].seats, 10);
    assert_int_equal(a->rows[0].n_accessible, 2);
    assert_int_equal(a->rows[0].accessible[1], 2);
    assert_string_equal(a->rows[1].label, "2");
    assert_int_equal(a->rows[1].seats, 6);
    assert_string_equal(s->published.sections[1].key, "B");
    assert_string_equal(s->published.sections[2].key, "GA");
    given_state_free(CMD_AGG_EVENT, s);
}

/* ---- inv_open_decide ---- */

static void test_rule_evt_1_open_needs_published_event(void **state)
{
    (void)state;
    inv_state_t *shard = cmd_aggregate_ops(CMD_AGG_INV)->state_new();
    cmd_event_state_t *none = cmd_aggregate_ops(CMD_AGG_EVENT)->state_new();
    cmd_event_state_t *draft = given_event(0);
    cmd_event_state_t *published = given_event(1);
    given_t *g = given_new();
    static const struct {
        const char *name;
        int which; /* 0 none, 1 draft, 2 published */
        const char *section;
        const char *then;
    } cases[] = {
        {"RULE-EVT-1 no such event", 0, "A", "!not_on_sale"},
        {"RULE-EVT-1 a draft does not sell", 1, "A", "!not_on_sale"},
        {"RULE-EVT-1 a draft does not sell standing room either", 1, "GA", "!not_on_sale"},
        {"RULE-EVT-1 a section no tier sells", 2, "C", "!not_on_sale field=section"},
        {"RULE-EVT-1 a section not in the venue", 2, "Z", "!not_on_sale field=section"},
        {"RULE-EVT-1 a seated section of a published event", 2, "A", "InventoryOpened(e1/A)"},
        {"RULE-EVT-1 the standing section", 2, "GA", "InventoryOpened(e1/GA)"},
    };
    const cmd_event_state_t *events[] = {none, draft, published};
    for (size_t i = 0; i < TS_ARRAY_LEN(cases); i++) {
        given_when(g, GIVEN_T0, "system");
        assert_int_equal(
            inv_open_decide(shard, events[cases[i].which], cases[i].section, &g->ctx, &g->out), 0);
        then_case(g, cases[i].name, cases[i].then);
    }
    given_free(g);
    given_state_free(CMD_AGG_EVENT, published);
    given_state_free(CMD_AGG_EVENT, draft);
    given_state_free(CMD_AGG_EVENT, none);
    given_state_free(CMD_AGG_INV, shard);
}

/* InventoryOpened carries the tier and policy a hold decides with; the given
 * shards of the other tests are exactly these. A tier without sale_ends_at
 * sells until the event starts. */
static void test_open_fields(void **state)
{
    (void)state;
    cmd_event_state_t *published = given_event(1);
    static const char *sections[] = {"A", "B", "GA"};
    for (size_t i = 0; i < TS_ARRAY_LEN(sections); i++) {
        inv_state_t *shard = cmd_aggregate_ops(CMD_AGG_INV)->state_new();
        given_t *g = given_new();
        given_when(g, GIVEN_T0, "system");
        inv_open_decide(shard, published, sections[i], &g->ctx, &g->out);
        assert_null(g->out.reject);
        assert_int_equal(g->out.n_events, 1);
        evt_event_t want = given_inventory_opened(&g->arena, sections[i]);
        given_assert_opened_equal(&g->out.events[0].u.inventory_opened, &want.u.inventory_opened);

        /* Applied, the shard is open; opening it again does nothing. */
        given_apply_out(CMD_AGG_INV, shard, g);
        assert_true(shard->opened);
        given_when(g, GIVEN_T0, "system");
        inv_open_decide(shard, published, sections[i], &g->ctx, &g->out);
        then_line(g, "");
        given_free(g);
        given_state_free(CMD_AGG_INV, shard);
    }
    given_state_free(CMD_AGG_EVENT, published);
}

/* A policy other than the defaults reaches the shard. */
static void test_open_custom_policy(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t es[2] = {given_event_created(&a), given_event_published(&a)};
    es[0].u.event_created.policy.max_per_order = 2;
    es[0].u.event_created.policy.hold_minutes = 7;
    es[0].u.event_created.policy.service_fee_bps = 0;
    es[0].u.event_created.policy.vat_bps = 2500;
    cmd_event_state_t *ev = given_state(CMD_AGG_EVENT, es, 2);
    ts_arena_deinit(&a);

    inv_state_t *shard = cmd_aggregate_ops(CMD_AGG_INV)->state_new();
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "system");
    inv_open_decide(shard, ev, "B", &g->ctx, &g->out);
    then_line(g, "InventoryOpened(e1/B)");
    const evt_inventory_opened_t *o = &g->out.events[0].u.inventory_opened;
    assert_int_equal(o->max_per_order, 2);
    assert_int_equal(o->hold_minutes, 7);
    assert_int_equal(o->service_fee_bps, 0);
    assert_int_equal(o->vat_bps, 2500);
    assert_int_equal(o->sale_starts_at, 0);
    assert_int_equal(o->sale_ends_at, GIVEN_START);
    given_apply_out(CMD_AGG_INV, shard, g);

    /* The shard decides with them: 3 seats is over the limit of 2, and a
     * hold lasts 7 minutes. */
    const char *three[] = {"B-1-1", "B-1-2", "B-1-3"};
    inv_hold_cmd_t cmd = {.event_id = "e1", .section = "B", .seats = three, .n_seats = 3};
    given_when(g, GIVEN_T0, "u1");
    inv_hold_decide(shard, &cmd, &g->ctx, &g->out);
    then_line(g, "!limit_exceeded field=seats limit=2");
    cmd.n_seats = 2;
    given_when(g, GIVEN_T0, "u1");
    inv_hold_decide(shard, &cmd, &g->ctx, &g->out);
    then_line(g, "HoldPlaced(n1:B-1-1,B-1-2 x2)");
    assert_int_equal(g->out.events[0].u.hold_placed.expires_at, GIVEN_T0 + 7 * GIVEN_MIN);
    /* 2 x 9000 = 18000, no fee; VAT 18000 * 2500 / 12500 = 3600 exactly. */
    assert_int_equal(g->out.events[0].u.hold_placed.total, 18000);
    assert_int_equal(g->out.events[0].u.hold_placed.vat_included, 3600);

    given_free(g);
    given_state_free(CMD_AGG_INV, shard);
    given_state_free(CMD_AGG_EVENT, ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_create_validation),
        cmocka_unit_test(test_event_create_unknown_venue),
        cmocka_unit_test(test_event_create_fields),
        cmocka_unit_test(test_rule_evt_1_publish),
        cmocka_unit_test(test_rule_evt_1_publish_missing),
        cmocka_unit_test(test_rule_evt_1_layout_frozen),
        cmocka_unit_test(test_rule_tkt_1_publish_carries_key),
        cmocka_unit_test(test_rule_evt_1_open_needs_published_event),
        cmocka_unit_test(test_open_fields),
        cmocka_unit_test(test_open_custom_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
