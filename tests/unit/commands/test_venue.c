/*
 * The venue aggregate: venue_create_decide's validation of a layout, the
 * capacities it derives, and apply. Fixture (given.h): A seated, row 1 with
 * 10 seats (accessible 1, 2) and row 2 with 6; B seated, 1 row of 4; C
 * seated, 1 row of 2; GA standing, capacity 5.
 */
#include "given.h"

typedef struct {
    const char *name;
    void (*change)(ts_arena_t *a, evt_venue_created_t *v);
    const char *then;
} venue_case_t;

static evt_section_t *sec(evt_venue_created_t *v, const char *key)
{
    for (uint32_t i = 0; i < v->n_sections; i++)
        if (strcmp(v->sections[i].key, key) == 0)
            return &v->sections[i];
    fail_msg("no section %s", key);
    return NULL;
}

/* Row 1 of A (each case gets its own copy of the fixture). */
static evt_row_t *row_a1(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    return &sec(v, "A")->rows[0];
}

static void unchanged(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    (void)v;
}
static void no_name(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    v->name = "";
}
static void no_city(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    v->city = NULL;
}
static void three_letter_country(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    v->country = "HRV";
}
static void one_letter_country(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    v->country = "H";
}
static void no_sections(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    v->n_sections = 0;
}
static void empty_section_key(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "B")->key = "";
}
static void dash_in_section_key(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "B")->key = "B-1";
}
static void section_key_16(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "B")->key = "Sixteen_chars_12";
}
static void section_key_17(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "B")->key = "Seventeen_chars_1";
}
static void repeated_section_key(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "C")->key = "A";
}
static void case_differs_section_key(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "C")->key = "a";
}
static void repeated_row_label(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)row_a1(a, v);
    sec(v, "A")->rows[1].label = "1";
}
static void same_row_label_in_two_sections(ts_arena_t *a, evt_venue_created_t *v)
{
    /* B and C both have a row "1" in the fixture; that is fine. */
    (void)a;
    (void)v;
}
static void bad_row_label(ts_arena_t *a, evt_venue_created_t *v)
{
    row_a1(a, v)->label = "1.5";
}
static void empty_row_label(ts_arena_t *a, evt_venue_created_t *v)
{
    row_a1(a, v)->label = "";
}
static void zero_seats(ts_arena_t *a, evt_venue_created_t *v)
{
    evt_row_t *r = row_a1(a, v);
    r->seats = 0;
    r->n_accessible = 0;
}
static void most_seats(ts_arena_t *a, evt_venue_created_t *v)
{
    row_a1(a, v)->seats = 2000;
}
static void too_many_seats(ts_arena_t *a, evt_venue_created_t *v)
{
    row_a1(a, v)->seats = 2001;
}
static void accessible_zero(ts_arena_t *a, evt_venue_created_t *v)
{
    evt_row_t *r = row_a1(a, v);
    r->accessible = ts_arena_alloc(a, sizeof(uint32_t));
    r->accessible[0] = 0;
    r->n_accessible = 1;
}
static void accessible_last_seat(ts_arena_t *a, evt_venue_created_t *v)
{
    evt_row_t *r = row_a1(a, v);
    r->accessible = ts_arena_alloc(a, sizeof(uint32_t));
    r->accessible[0] = 10;
    r->n_accessible = 1;
}
static void accessible_past_the_row(ts_arena_t *a, evt_venue_created_t *v)
{
    evt_row_t *r = row_a1(a, v);
    r->accessible = ts_arena_alloc(a, 2 * sizeof(uint32_t));
    r->accessible[0] = 1;
    r->accessible[1] = 11;
    r->n_accessible = 2;
}
static void seated_without_rows(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "B")->n_rows = 0;
}
static void standing_capacity_0(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "GA")->capacity = 0;
}
static void standing_capacity_max(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "GA")->capacity = 200000 - 22; /* + 16 + 4 + 2 seats = 200000 */
}
static void venue_over_capacity(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "GA")->capacity = 200000 - 21; /* one over in total */
}
static void standing_capacity_too_large(ts_arena_t *a, evt_venue_created_t *v)
{
    (void)a;
    sec(v, "GA")->capacity = 200001;
}
static void standing_with_rows(ts_arena_t *a, evt_venue_created_t *v)
{
    evt_section_t *ga = sec(v, "GA");
    ga->n_rows = 1;
    ga->rows = ts_arena_memdup(a, sec(v, "B")->rows, sizeof(evt_row_t));
}

static const venue_case_t venues[] = {
    {"the fixture venue", unchanged, "VenueCreated(n1)"},
    {"no name", no_name, "!validation_failed field=name"},
    {"no city", no_city, "!validation_failed field=city"},
    {"a three-letter country", three_letter_country, "!validation_failed field=country"},
    {"a one-letter country", one_letter_country, "!validation_failed field=country"},
    {"no sections", no_sections, "!validation_failed field=sections"},
    {"an empty section key", empty_section_key, "!validation_failed field=sections.key"},
    {"a dash in a section key", dash_in_section_key, "!validation_failed field=sections.key"},
    {"a 16-character section key", section_key_16, "VenueCreated(n1)"},
    {"a 17-character section key", section_key_17, "!validation_failed field=sections.key"},
    {"a repeated section key", repeated_section_key, "!validation_failed field=sections.key"},
    {"section keys that differ in case are different", case_differs_section_key,
     "VenueCreated(n1)"},
    {"a repeated row label", repeated_row_label, "!validation_failed field=sections.rows.label"},
    {"the same row label in two sections", same_row_label_in_two_sections, "VenueCreated(n1)"},
    {"a dot in a row label", bad_row_label, "!validation_failed field=sections.rows.label"},
    {"an empty row label", empty_row_label, "!validation_failed field=sections.rows.label"},
    {"a row of 0 seats", zero_seats, "!validation_failed field=sections.rows.seats"},
    {"a row of 2000 seats", most_seats, "VenueCreated(n1)"},
    {"a row of 2001 seats", too_many_seats, "!validation_failed field=sections.rows.seats"},
    {"accessible seat 0", accessible_zero, "!validation_failed field=sections.rows.accessible"},
    {"the last seat accessible", accessible_last_seat, "VenueCreated(n1)"},
    {"an accessible seat past the row", accessible_past_the_row,
     "!validation_failed field=sections.rows.accessible"},
    {"a seated section without rows", seated_without_rows,
     "!validation_failed field=sections.rows"},
    {"standing capacity 0", standing_capacity_0, "!validation_failed field=sections.capacity"},
    {"a venue of exactly 200000", standing_capacity_max, "VenueCreated(n1)"},
    {"a venue of 200001", venue_over_capacity, "!validation_failed field=sections"},
    {"standing capacity 200001", standing_capacity_too_large,
     "!validation_failed field=sections.capacity"},
    {"a standing section with rows", standing_with_rows,
     "!validation_failed field=sections.capacity"},
};

static void test_venue_create_validation(void **state)
{
    (void)state;
    cmd_venue_state_t *none = cmd_aggregate_ops(CMD_AGG_VENUE)->state_new();
    for (size_t i = 0; i < TS_ARRAY_LEN(venues); i++) {
        given_t *g = given_new();
        evt_venue_created_t in;
        given_venue_input(&g->arena, &in);
        venues[i].change(&g->arena, &in);
        given_when(g, GIVEN_T0, "org1");
        assert_int_equal(venue_create_decide(none, &in, &g->ctx, &g->out), 0);
        then_case(g, venues[i].name, venues[i].then);
        given_free(g);
    }
    given_state_free(CMD_AGG_VENUE, none);
}

/* Seated capacities are derived from the rows, whatever the input says;
 * standing capacities are kept; the id is ctx->new_id. */
static void test_venue_capacity_derived(void **state)
{
    (void)state;
    cmd_venue_state_t *s = cmd_aggregate_ops(CMD_AGG_VENUE)->state_new();
    given_t *g = given_new();
    evt_venue_created_t in;
    given_venue_input(&g->arena, &in);
    in.venue_id = "ignored";
    in.sections[0].capacity = 999; /* A: really 10 + 6 */
    in.sections[1].capacity = 1;   /* B: really 4 */
    given_when(g, GIVEN_T0, "org1");
    g->ctx.new_id = "v9";
    venue_create_decide(s, &in, &g->ctx, &g->out);
    then_line(g, "VenueCreated(v9)");
    then_ref(g, "v9");
    const evt_venue_created_t *v = &g->out.events[0].u.venue_created;
    assert_int_equal(v->n_sections, 4);
    assert_int_equal(v->sections[0].capacity, 16);
    assert_int_equal(v->sections[1].capacity, 4);
    assert_int_equal(v->sections[2].capacity, 2);
    assert_int_equal(v->sections[3].capacity, 5);
    /* The input is left as it was. */
    assert_int_equal(in.sections[0].capacity, 999);

    /* Applied, the state owns a copy; creating it again is a conflict. */
    given_apply_out(CMD_AGG_VENUE, s, g);
    given_free(g);
    assert_true(s->exists);
    assert_string_equal(s->v.venue_id, "v9");
    assert_string_equal(s->v.name, "Arena");
    assert_string_equal(s->v.city, "Zagreb");
    assert_string_equal(s->v.country, "HR");
    assert_string_equal(s->v.sections[0].key, "A");
    assert_int_equal(s->v.sections[0].capacity, 16);
    assert_string_equal(s->v.sections[0].rows[1].label, "2");
    assert_int_equal(s->v.sections[0].rows[0].accessible[0], 1);
    assert_int_equal(s->v.sections[3].kind, EVT_STANDING);
    assert_int_equal(s->v.sections[3].n_rows, 0);

    g = given_new();
    given_venue_input(&g->arena, &in);
    given_when(g, GIVEN_T0, "org1");
    venue_create_decide(s, &in, &g->ctx, &g->out);
    then_line(g, "!conflict");
    given_free(g);
    given_state_free(CMD_AGG_VENUE, s);
}

/* apply ignores events of other aggregates. */
static void test_venue_apply_ignores_others(void **state)
{
    (void)state;
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t e = given_event_created(&a);
    cmd_venue_state_t *s = given_state(CMD_AGG_VENUE, &e, 1);
    assert_false(s->exists);
    assert_int_equal(s->v.n_sections, 0);
    given_state_free(CMD_AGG_VENUE, s);
    ts_arena_deinit(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_venue_create_validation),
        cmocka_unit_test(test_venue_capacity_derived),
        cmocka_unit_test(test_venue_apply_ignores_others),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
