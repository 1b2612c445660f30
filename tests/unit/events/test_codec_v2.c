/*
 * test_codec_v2 — the v2 events (issue 3) through events/codec.h: a round
 * trip of every type with every field set (samples_v2.h), optional v2 fields
 * left out, a group commit of a payment's events, and the JSON of each type.
 */
#include "samples_v2.h"

#include "events/codec.h"

#include <stdlib.h>
#include <string.h>

static void round_trip(const evt_commit_t *c)
{
    ts_buf_t buf;
    ts_arena_t a;
    evt_commit_t out;
    ts_buf_init(&buf);
    assert_int_equal(evt_commit_encode(c, &buf), TS_OK);
    ts_arena_init(&a, 0);
    assert_int_equal(evt_commit_decode(buf.data, buf.len, &a, &out), TS_OK);
    assert_v2_commit_same(c, &out);
    ts_arena_deinit(&a);
    ts_buf_deinit(&buf);
}

/* Every type, v1 ones with their v2 fields set. */
static void test_round_trip_every_type(void **state)
{
    (void)state;
    for (int t = 1; t <= EVT_TYPE_MAX; t++) {
        evt_event_t ev;
        evt_commit_t c = sample_v2_commit((evt_type_t)t, &ev);
        print_message("%s\n", evt_type_name((evt_type_t)t));
        round_trip(&c);
    }
}

/* The samples really set the v2 fields (else the round trip proves little). */
static void test_samples_are_populated(void **state)
{
    (void)state;
    evt_event_t e;
    sample_v2_body(EVT_INVENTORY_OPENED, &e);
    assert_int_equal(e.u.inventory_opened.n_refund, 3);
    assert_true(e.u.inventory_opened.starts_at > 0);
    sample_v2_body(EVT_HOLD_PLACED, &e);
    assert_non_null(e.u.hold_placed.promo_code);
    assert_non_null(e.u.hold_placed.offer_entry);
    sample_v2_body(EVT_HOLD_RELEASED, &e);
    assert_non_null(e.u.hold_ended.reason);
    sample_v2_body(EVT_EVENT_PUBLISHED, &e);
    assert_non_null(e.u.event_published.ticket_key);
    for (int t = EVT_EVENT_UPDATED; t <= EVT_TYPE_MAX; t++) {
        sample_v2_body((evt_type_t)t, &e);
        static const uint8_t zero[sizeof e.u] = {0};
        assert_true(memcmp(&e.u, zero, sizeof e.u) != 0);
    }
}

/* Optional v2 fields left out come back absent. */
static void test_round_trip_v2_optional_absent(void **state)
{
    (void)state;
    evt_event_t ev;
    evt_commit_t c = sample_v2_commit(EVT_HOLD_PLACED, &ev);
    ev.u.hold_placed.promo_code = NULL;
    ev.u.hold_placed.offer_entry = NULL;
    round_trip(&c);

    c = sample_v2_commit(EVT_HOLD_RELEASED, &ev);
    ev.u.hold_ended.reason = NULL;
    round_trip(&c);

    c = sample_v2_commit(EVT_INVENTORY_OPENED, &ev);
    ev.u.inventory_opened.n_refund = 0;
    ev.u.inventory_opened.refund = NULL;
    round_trip(&c);

    c = sample_v2_commit(EVT_PAYMENT_REQUESTED, &ev);
    ev.u.payment.provider_event_id = NULL;
    ev.u.payment.reason = NULL;
    round_trip(&c);

    /* A GA ticket has no seat. */
    static evt_ticket_t ga[] = {{.ticket_id = "tk-1", .holder_id = "usr_1", .version = 1}};
    c = sample_v2_commit(EVT_BOOKING_CONFIRMED, &ev);
    ev.u.booking_confirmed.tickets = ga;
    ev.u.booking_confirmed.n_tickets = 1;
    ev.u.booking_confirmed.reacquired = 0;
    ev.u.booking_confirmed.provider_event_id = NULL;
    round_trip(&c);

    c = sample_v2_commit(EVT_TICKET_CHECKED_IN, &ev);
    ev.u.ticket_checked_in.gate = NULL;
    ev.u.ticket_checked_in.nonce = NULL;
    round_trip(&c);

    /* A QuotaTaken written before Quota.user_id was appended. */
    c = sample_v2_commit(EVT_QUOTA_TAKEN, &ev);
    ev.u.quota.user_id = NULL;
    ev.u.quota.ticket_id = NULL;
    round_trip(&c);

    /* A booking's quota (no ticket, RULE-TKT-3); a user who left a list. */
    c = sample_v2_commit(EVT_QUOTA_RETURNED, &ev);
    ev.u.quota.ticket_id = NULL;
    round_trip(&c);
    c = sample_v2_commit(EVT_WAITLIST_LEFT, &ev);
    ev.u.waitlist.reason = NULL;
    round_trip(&c);
}

/* The events of one webhook in one commit: a failure and its release; then a
 * confirm and a check-in from another command. */
static void test_round_trip_group(void **state)
{
    (void)state;
    evt_event_t ev[4];
    evt_commit_t c = sample_v2_commit(EVT_PAYMENT_FAILED, &ev[0]);
    sample_v2_body(EVT_HOLD_RELEASED, &ev[1]);
    sample_v2_body(EVT_BOOKING_CONFIRMED, &ev[2]);
    sample_v2_body(EVT_TICKET_CHECKED_IN, &ev[3]);
    ev[3].command_id = "cmd_scan";
    ev[3].actor = "usr_gate";
    c.n_events = 4;
    round_trip(&c);
}

/* Required v2 fields missing: the encoder refuses. */
static void test_required_v2_fields(void **state)
{
    (void)state;
    evt_event_t ev;
    ts_buf_t buf;
    ts_buf_init(&buf);
    evt_commit_t c = sample_v2_commit(EVT_PAYMENT_REQUESTED, &ev);
    ev.u.payment.payment_id = NULL;
    assert_int_not_equal(evt_commit_encode(&c, &buf), TS_OK);
    c = sample_v2_commit(EVT_TICKET_TRANSFERRED, &ev);
    ev.u.ticket_transferred.new_ticket_id = NULL;
    assert_int_not_equal(evt_commit_encode(&c, &buf), TS_OK);
    ts_buf_deinit(&buf);
}

/* ---- JSON ---- */

static json_t *data_of(evt_type_t type, json_t **whole)
{
    evt_event_t ev;
    sample_v2_body(type, &ev);
    *whole = evt_event_to_json(&ev);
    assert_string_equal(json_string_value(json_object_get(*whole, "type")), evt_type_name(type));
    json_t *d = json_object_get(*whole, "data");
    assert_true(json_is_object(d));
    return d;
}

static const char *s_of(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v)
        fail_msg("no string at %s", key);
    return v;
}

static json_int_t i_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("no integer at %s", key);
    return json_integer_value(v);
}

/* Every type renders its name and a data object with its own keys. */
static void test_json_every_v2_type(void **state)
{
    (void)state;
    static const struct {
        evt_type_t type;
        const char *key;
    } expect[] = {
        {EVT_EVENT_UPDATED, "organizer_id"},
        {EVT_EVENT_CANCELLED, "reason"},
        {EVT_PROMO_CREATED, "max_uses"},
        {EVT_PROMO_USED, "code"},
        {EVT_PROMO_RELEASED, "booking_id"},
        {EVT_PAYMENT_REQUESTED, "payment_id"},
        {EVT_PAYMENT_FAILED, "provider_event_id"},
        {EVT_BOOKING_CONFIRMED, "tickets"},
        {EVT_BOOKING_REFUND_DUE, "amount"},
        {EVT_BOOKING_CANCELLED, "refund"},
        {EVT_REFUND_COMPLETED, "amount"},
        {EVT_TICKET_CHECKED_IN, "gate"},
        {EVT_TICKET_TRANSFERRED, "new_ticket_id"},
        {EVT_INVENTORY_CANCELLED, "reason"},
        {EVT_INVENTORY_RESCHEDULED, "starts_at"},
        {EVT_LOGIN_FAILED, "reason"},
        {EVT_ROLES_CHANGED, "roles"},
        {EVT_USER_BLOCKED, "at"},
        {EVT_USER_UNBLOCKED, "user_id"},
        {EVT_REFRESH_ISSUED, "family_id"},
        {EVT_REFRESH_ROTATED, "expires_at"},
        {EVT_REFRESH_REVOKED, "reason"},
        {EVT_QUOTA_TAKEN, "quantity"},
        {EVT_QUOTA_CONFIRMED, "booking_id"},
        {EVT_QUOTA_RETURNED, "expires_at"},
        {EVT_WAITLIST_JOINED, "entry_id"},
        {EVT_WAITLIST_LEFT, "user_id"},
        {EVT_WAITLIST_OFFERED, "expires_at"},
        {EVT_WAITLIST_OFFER_LAPSED, "booking_id"},
        {EVT_WAITLIST_FULFILLED, "tier"},
    };
    assert_int_equal(TS_ARRAY_LEN(expect), EVT_TYPE_MAX - EVT_EVENT_UPDATED + 1);
    for (size_t i = 0; i < TS_ARRAY_LEN(expect); i++) {
        json_t *j;
        json_t *d = data_of(expect[i].type, &j);
        if (!json_object_get(d, expect[i].key))
            fail_msg("%s has no %s", evt_type_name(expect[i].type), expect[i].key);
        json_decref(j);
    }
}

/* The v2 fields of v1 types, and the values of the inventory's v2 events. */
static void test_json_values(void **state)
{
    (void)state;
    json_t *j, *d;

    d = data_of(EVT_EVENT_PUBLISHED, &j);
    assert_string_equal(s_of(d, "ticket_key"), SAMPLE_TICKET_KEY);
    json_decref(j);

    d = data_of(EVT_INVENTORY_OPENED, &j);
    assert_string_equal(s_of(d, "starts_at"), "2026-12-20T18:00:00Z");
    assert_string_equal(s_of(d, "ends_at"), "2026-12-20T20:00:00Z");
    assert_int_equal(i_of(d, "max_per_user"), 8);
    assert_int_equal(i_of(d, "transfer_cutoff_hours"), 48);
    json_t *refund = json_object_get(d, "refund");
    assert_int_equal(json_array_size(refund), 3);
    assert_int_equal(i_of(json_array_get(refund, 2), "percent"), 5);
    assert_int_equal(i_of(json_array_get(refund, 0), "min_hours_before"), 168);
    json_decref(j);

    d = data_of(EVT_HOLD_PLACED, &j);
    assert_string_equal(s_of(d, "promo_code"), "SPRING10");
    assert_string_equal(s_of(d, "offer_entry"), "wl-evt_1-std-7");
    json_decref(j);

    d = data_of(EVT_HOLD_RELEASED, &j);
    assert_string_equal(s_of(d, "reason"), "payment_failed");
    json_decref(j);

    d = data_of(EVT_PAYMENT_REQUESTED, &j);
    assert_string_equal(s_of(d, "booking_id"), "bk-evt_1-A-1");
    assert_string_equal(s_of(d, "payment_id"), "pay-evt_1-A-9");
    assert_string_equal(s_of(d, "provider"), "simulated");
    json_t *amount = json_object_get(d, "amount");
    assert_int_equal(i_of(amount, "amount"), 4770);
    assert_string_equal(s_of(amount, "currency"), "EUR");
    assert_string_equal(s_of(d, "at"), "2026-11-02T09:35:00Z");
    json_decref(j);

    d = data_of(EVT_BOOKING_CONFIRMED, &j);
    assert_true(json_is_true(json_object_get(d, "reacquired")));
    json_t *tickets = json_object_get(d, "tickets");
    assert_int_equal(json_array_size(tickets), 2);
    json_t *t1 = json_array_get(tickets, 1);
    assert_string_equal(s_of(t1, "ticket_id"), "tk-evt_1-A-2");
    assert_string_equal(s_of(t1, "seat"), "A-1-2");
    assert_string_equal(s_of(t1, "holder_id"), "usr_1");
    assert_int_equal(i_of(t1, "version"), 3);
    json_decref(j);

    d = data_of(EVT_BOOKING_CANCELLED, &j);
    assert_int_equal(i_of(d, "refund"), 2250);
    assert_string_equal(s_of(d, "reason"), "holder");
    json_decref(j);

    d = data_of(EVT_TICKET_CHECKED_IN, &j);
    assert_string_equal(s_of(d, "at"), "2026-12-20T17:30:00Z");
    assert_string_equal(s_of(d, "gate"), "N1");
    assert_string_equal(s_of(d, "nonce"), "n-42");
    json_decref(j);

    d = data_of(EVT_TICKET_TRANSFERRED, &j);
    assert_string_equal(s_of(d, "to_user_id"), "usr_2");
    assert_int_equal(i_of(d, "version"), 2);
    json_decref(j);

    d = data_of(EVT_INVENTORY_RESCHEDULED, &j);
    assert_string_equal(s_of(d, "starts_at"), "2026-12-20T18:00:00Z");
    json_decref(j);

    d = data_of(EVT_ROLES_CHANGED, &j);
    json_t *roles = json_object_get(d, "roles");
    assert_int_equal(json_array_size(roles), 2);
    assert_string_equal(json_string_value(json_array_get(roles, 1)), "box_office");
    json_decref(j);

    d = data_of(EVT_QUOTA_TAKEN, &j);
    assert_string_equal(s_of(d, "user_id"), "usr_1");
    assert_int_equal(i_of(d, "quantity"), 2);
    assert_string_equal(s_of(d, "ticket_id"), "tk-evt_1-A-9");
    json_decref(j);

    d = data_of(EVT_WAITLIST_LEFT, &j);
    assert_string_equal(s_of(d, "reason"), "limit_exceeded");
    json_decref(j);
}

/* A refresh token's hash is not for JSON (nor Loki). */
static void test_json_never_shows_token_hash(void **state)
{
    (void)state;
    for (evt_type_t t = EVT_REFRESH_ISSUED; t <= EVT_REFRESH_REVOKED; t++) {
        evt_event_t ev;
        evt_commit_t c = sample_v2_commit(t, &ev);
        json_t *j = evt_commit_to_json(&c);
        char *text = json_dumps(j, JSON_SORT_KEYS);
        assert_non_null(text);
        assert_null(strstr(text, "token_hash"));
        assert_null(
            strstr(text, "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"));
        assert_non_null(strstr(text, "fam_1"));
        free(text);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_are_populated),
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_round_trip_v2_optional_absent),
        cmocka_unit_test(test_round_trip_group),
        cmocka_unit_test(test_required_v2_fields),
        cmocka_unit_test(test_json_every_v2_type),
        cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_json_never_shows_token_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
