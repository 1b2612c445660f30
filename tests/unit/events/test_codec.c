/*
 * test_codec — events/codec.h: FlatBuffers round trips of every event type,
 * refusal of truncated, corrupted and garbage bytes, and the JSON shape.
 */
#include "samples.h"

#include "events/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static void encode_ok(const evt_commit_t *c, ts_buf_t *out)
{
    ts_buf_init(out);
    ts_status st = evt_commit_encode(c, out);
    assert_int_equal(st, TS_OK);
    assert_true(out->len > 8);
}

/* Decodes and expects st; on failure *out must be left as it was. */
static void decode_expect(const void *p, size_t n, ts_status want)
{
    ts_arena_t a;
    evt_commit_t out, before;
    ts_arena_init(&a, 0);
    memset(&out, 0x5A, sizeof out);
    before = out;
    ts_status st = evt_commit_decode(p, n, &a, &out);
    if (st != want)
        fail_msg("decode of %zu bytes: got '%s', want '%s'", n, ts_status_str(st),
                 ts_status_str(want));
    if (st != TS_OK)
        assert_memory_equal(&out, &before, sizeof out);
    ts_arena_deinit(&a);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* The FlatBuffers layout, read by hand so the tests can damage one field of
 * an otherwise valid buffer: the table an offset at pos points to, and the
 * position of field `index` of the table at t (0 when absent). */
static size_t target(const uint8_t *b, size_t pos)
{
    return pos + rd32(b + pos);
}

static uint8_t *vtable_entry(uint8_t *b, size_t t, unsigned index)
{
    size_t vt = t - (size_t)(int32_t)rd32(b + t);
    assert_true(4 + 2 * index < rd16(b + vt));
    return b + vt + 4 + 2 * index;
}

static size_t field(uint8_t *b, size_t t, unsigned index)
{
    uint16_t off = rd16(vtable_entry(b, t, index));
    return off ? t + off : 0;
}

enum { COMMIT_SUBJECT = 0, COMMIT_PREV_HASH = 6, COMMIT_EVENTS = 7 };
enum { EVENT_BODY_TYPE = 2, EVENT_BODY = 3 };

/* Position of the first Event table of the commit in b. */
static size_t first_event(uint8_t *b)
{
    size_t root = target(b, 0);
    size_t vec = target(b, field(b, root, COMMIT_EVENTS));
    return target(b, vec + 4);
}

/* ---- round trips ---- */

static void round_trip(const evt_commit_t *c)
{
    ts_buf_t buf;
    ts_arena_t a;
    evt_commit_t out;
    encode_ok(c, &buf);
    ts_arena_init(&a, 0);
    assert_int_equal(evt_commit_decode(buf.data, buf.len, &a, &out), TS_OK);
    assert_commit_same(c, &out);
    ts_arena_deinit(&a);
    ts_buf_deinit(&buf);
}

static void test_round_trip_type(void **state)
{
    evt_type_t type = (evt_type_t)(intptr_t)*state;
    evt_event_t ev;
    evt_commit_t c = sample_commit(type, &ev);
    round_trip(&c);
}

static void test_round_trip_group_commit(void **state)
{
    (void)state;
    evt_event_t ev[3];
    evt_commit_t c = sample_group_commit(ev);
    round_trip(&c);
}

static void test_round_trip_optional_fields_absent(void **state)
{
    (void)state;
    /* NULL optional strings, empty arrays and a zero hash come back as such. */
    evt_event_t ev;
    evt_commit_t c = sample_commit(EVT_HOLD_PLACED, &ev);
    c.command_id = c.correlation_id = c.actor = NULL;
    c.time = 0;
    memset(c.prev_hash, 0, sizeof c.prev_hash);
    ev.u.hold_placed.command_id = ev.u.hold_placed.tier_key = NULL;
    ev.u.hold_placed.n_seats = 0;
    ev.u.hold_placed.seats = NULL;
    ev.u.hold_placed.unit_price = (ts_money_t){0, ""};
    round_trip(&c);
}

static void test_encode_appends(void **state)
{
    (void)state;
    evt_event_t ev;
    evt_commit_t c = sample_commit(EVT_CLAIMED, &ev);
    ts_buf_t buf;
    ts_arena_t a;
    evt_commit_t out;
    ts_buf_init(&buf);
    ts_buf_append(&buf, "HDR", 3);
    assert_int_equal(evt_commit_encode(&c, &buf), TS_OK);
    assert_memory_equal(buf.data, "HDR", 3);
    /* The encoded part starts at an odd address: decode copes with that. */
    ts_arena_init(&a, 0);
    assert_int_equal(evt_commit_decode(buf.data + 3, buf.len - 3, &a, &out), TS_OK);
    assert_commit_same(&c, &out);
    ts_arena_deinit(&a);
    ts_buf_deinit(&buf);
}

static void test_encode_rejects_invalid(void **state)
{
    (void)state;
    evt_event_t ev;
    evt_commit_t c;
    ts_buf_t buf;
    ts_buf_init(&buf);

    c = sample_commit(EVT_HOLD_PLACED, &ev);
    c.subject = NULL;
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);

    c = sample_commit(EVT_HOLD_PLACED, &ev);
    c.n_events = 0;
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);

    c = sample_commit(EVT_HOLD_PLACED, &ev);
    ev.type = EVT_NONE;
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);
    ev.type = (evt_type_t)99;
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);

    c = sample_commit(EVT_HOLD_PLACED, &ev);
    ev.u.hold_placed.booking_id = NULL;
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);

    c = sample_commit(EVT_HOLD_PLACED, &ev);
    memcpy(ev.u.hold_placed.unit_price.currency, "EURO", 4); /* not NUL-terminated */
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);

    c = sample_commit(EVT_HOLD_PLACED, &ev);
    ev.u.hold_placed.seats = NULL; /* n_seats is 2 */
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);

    c = sample_commit(EVT_VENUE_CREATED, &ev);
    evt_section_t bad = ev.u.venue_created.sections[0];
    bad.key = NULL;
    ev.u.venue_created.n_sections = 1;
    ev.u.venue_created.sections = &bad;
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);
    bad.key = "A";
    bad.kind = (evt_section_kind_t)7;
    assert_int_equal(evt_commit_encode(&c, &buf), TS_ERR_INVALID);

    /* Nothing was appended by any refused encode. */
    assert_int_equal(buf.len, 0);
    ts_buf_deinit(&buf);
}

/* ---- damaged bytes ---- */

static void test_truncated_rejected(void **state)
{
    (void)state;
    evt_event_t ev[3];
    evt_commit_t c = sample_group_commit(ev);
    ts_buf_t buf;
    encode_ok(&c, &buf);
    /* Every proper prefix, each in a buffer of exactly that size so ASan sees
     * any read past the end. The first object FlatBuffers writes (it ends up
     * last) is a string padded to 4 bytes, so losing up to 3 trailing bytes
     * can lose only padding: such a prefix may decode, but then to the very
     * same commit. */
    for (size_t n = 0; n < buf.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, buf.data, n);
        if (n + 3 < buf.len) {
            decode_expect(p, n, TS_ERR_CORRUPT);
        } else {
            ts_arena_t a;
            evt_commit_t out;
            ts_arena_init(&a, 0);
            if (evt_commit_decode(p, n, &a, &out) == TS_OK)
                assert_commit_same(&c, &out);
            ts_arena_deinit(&a);
        }
        free(p);
    }
    decode_expect(buf.data, buf.len, TS_OK);
    ts_buf_deinit(&buf);
}

/* A decode that succeeds on damaged bytes must still hand out a commit that
 * keeps the promises of codec.h. */
static void check_decoded_sane(const evt_commit_t *c)
{
    assert_non_null(c->subject);
    assert_true(c->n_events >= 1);
    for (uint32_t i = 0; i < c->n_events; i++) {
        assert_true(c->events[i].type >= EVT_VENUE_CREATED && c->events[i].type <= EVT_TYPE_MAX);
        json_t *j = evt_event_to_json(&c->events[i]);
        assert_non_null(j);
        json_decref(j);
    }
}

static void test_corrupted_bytes(void **state)
{
    (void)state;
    static const uint8_t masks[] = {0xFF, 0x01, 0x02, 0x04, 0x10, 0x80};
    evt_event_t ev[3];
    evt_commit_t c = sample_group_commit(ev);
    ts_buf_t buf;
    encode_ok(&c, &buf);
    uint8_t *p = malloc(buf.len);
    size_t accepted = 0, total = 0;
    for (size_t off = 0; off < buf.len; off++) {
        for (size_t m = 0; m < TS_ARRAY_LEN(masks); m++) {
            memcpy(p, buf.data, buf.len);
            p[off] ^= masks[m];
            ts_arena_t a;
            evt_commit_t out;
            ts_arena_init(&a, 0);
            ts_status st = evt_commit_decode(p, buf.len, &a, &out);
            total++;
            if (off < 8) {
                /* Bytes 0..3 are the root offset, 4..7 the file identifier
                 * "TSC1": damage there is always refused. */
                if (st != TS_ERR_CORRUPT)
                    fail_msg("flip 0x%02x at %zu accepted", masks[m], off);
            } else if (st == TS_OK) {
                /* A flip in a string's bytes or a scalar still verifies. */
                check_decoded_sane(&out);
                accepted++;
            } else {
                assert_int_equal(st, TS_ERR_CORRUPT);
            }
            ts_arena_deinit(&a);
        }
    }
    /* Both outcomes occur: the test really exercised the verifier. */
    assert_true(accepted > 0 && accepted < total);
    free(p);
    ts_buf_deinit(&buf);
}

static void test_garbage_rejected(void **state)
{
    (void)state;
    uint8_t junk[512];
    uint32_t x = 2463534242u; /* xorshift32: deterministic noise */
    decode_expect(NULL, 0, TS_ERR_CORRUPT);
    decode_expect("", 0, TS_ERR_CORRUPT);
    decode_expect("TSC1", 4, TS_ERR_CORRUPT);
    memset(junk, 0, sizeof junk);
    decode_expect(junk, sizeof junk, TS_ERR_CORRUPT);
    memset(junk, 0xFF, sizeof junk);
    decode_expect(junk, sizeof junk, TS_ERR_CORRUPT);
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk[i] = (uint8_t)x;
        }
        /* With and without the right identifier, at many lengths. */
        if (round % 2)
            memcpy(junk + 4, "TSC1", 4);
        decode_expect(junk, 8 + (size_t)round * 2, TS_ERR_CORRUPT);
    }
}

static void test_wrong_identifier_rejected(void **state)
{
    (void)state;
    evt_event_t ev;
    evt_commit_t c = sample_commit(EVT_HOLD_RELEASED, &ev);
    ts_buf_t buf;
    encode_ok(&c, &buf);
    assert_memory_equal(buf.data + 4, "TSC1", 4);
    buf.data[7] = '2';
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    ts_buf_deinit(&buf);
}

/* Verified buffers that break a promise the verifier does not check. */
static void test_required_fields_checked(void **state)
{
    (void)state;
    evt_event_t ev[3];
    evt_commit_t c = sample_group_commit(ev);
    ts_buf_t good, buf;
    encode_ok(&c, &good);
    ts_buf_init(&buf);
    ts_buf_append(&buf, good.data, good.len);
#define RESET() memcpy(buf.data, good.data, good.len)
    size_t root = target(buf.data, 0);

    /* The subject, or the events, missing. */
    memset(vtable_entry(buf.data, root, COMMIT_SUBJECT), 0, 2);
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();
    memset(vtable_entry(buf.data, root, COMMIT_EVENTS), 0, 2);
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();

    /* An empty events vector. */
    size_t events = target(buf.data, field(buf.data, root, COMMIT_EVENTS));
    memset(buf.data + events, 0, 4);
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();

    /* A prev_hash of 16 bytes, or none at all (then it reads as zeros). */
    size_t hash = target(buf.data, field(buf.data, root, COMMIT_PREV_HASH));
    assert_int_equal(rd32(buf.data + hash), 32);
    buf.data[hash] = 16;
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();
    memset(vtable_entry(buf.data, root, COMMIT_PREV_HASH), 0, 2);
    decode_expect(buf.data, buf.len, TS_OK);
    RESET();

    /* A NUL inside the subject. */
    size_t subject = target(buf.data, field(buf.data, root, COMMIT_SUBJECT));
    buf.data[subject + 4 + 3] = 0;
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();

    /* An event without a body, of type NONE, or of a type from the future. */
    size_t e0 = first_event(buf.data);
    memset(vtable_entry(buf.data, e0, EVENT_BODY), 0, 2);
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();
    buf.data[field(buf.data, e0, EVENT_BODY_TYPE)] = 0;
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();
    buf.data[field(buf.data, e0, EVENT_BODY_TYPE)] = 10;
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    RESET();
    /* A known type that is not what was written: that still verifies, and
     * then its required booking_id (field 0 of every hold body) is read. */
    buf.data[field(buf.data, e0, EVENT_BODY_TYPE)] = EVT_HOLD_EXPIRED;
    decode_expect(buf.data, buf.len, TS_OK);
    RESET();
#undef RESET
    ts_buf_deinit(&buf);
    ts_buf_deinit(&good);
}

static void test_section_kind_from_the_future(void **state)
{
    (void)state;
    evt_event_t ev;
    evt_commit_t c = sample_commit(EVT_INVENTORY_OPENED, &ev);
    ev.u.inventory_opened.section = sample_sections()[1]; /* standing: kind is written */
    ts_buf_t buf;
    encode_ok(&c, &buf);
    size_t body = target(buf.data, field(buf.data, first_event(buf.data), EVENT_BODY));
    size_t section = target(buf.data, field(buf.data, body, 1));
    size_t kind = field(buf.data, section, 2);
    assert_int_equal(buf.data[kind], EVT_STANDING);
    decode_expect(buf.data, buf.len, TS_OK);
    buf.data[kind] = 2;
    decode_expect(buf.data, buf.len, TS_ERR_CORRUPT);
    ts_buf_deinit(&buf);
}

/* ---- JSON ---- */

static void test_json_hold_placed(void **state)
{
    (void)state;
    evt_event_t ev[3];
    evt_commit_t c = sample_group_commit(ev);
    json_t *j = evt_commit_to_json(&c);
    assert_non_null(j);

    assert_string_equal(json_string_value(json_object_get(j, "subject")), "tix.inv.evt_1.A");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1000);
    assert_string_equal(json_string_value(json_object_get(j, "time")), "2026-11-02T09:30:00.250Z");
    assert_string_equal(json_string_value(json_object_get(j, "actor")), "usr_1");
    assert_string_equal(json_string_value(json_object_get(j, "command_id")), "cmd_1");
    assert_string_equal(json_string_value(json_object_get(j, "correlation_id")), "cor_1");
    const char *hash = json_string_value(json_object_get(j, "prev_hash"));
    assert_non_null(hash);
    assert_int_equal(strlen(hash), 64);
    assert_memory_equal(hash, "a0a3a6a9acafb2b5", 16);

    json_t *events = json_object_get(j, "events");
    assert_int_equal(json_array_size(events), 3);
    json_t *e0 = json_array_get(events, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "type")), "HoldPlaced");
    /* The commit's own command: the event does not repeat it. */
    assert_null(json_object_get(e0, "command_id"));
    assert_null(json_object_get(e0, "actor"));

    json_t *d = json_object_get(e0, "data");
    assert_string_equal(json_string_value(json_object_get(d, "booking_id")), "bkg_1");
    assert_string_equal(json_string_value(json_object_get(d, "event_id")), "evt_1");
    assert_string_equal(json_string_value(json_object_get(d, "section")), "A");
    assert_string_equal(json_string_value(json_object_get(d, "user_id")), "usr_1");
    assert_string_equal(json_string_value(json_object_get(d, "tier_key")), "std");
    assert_string_equal(json_string_value(json_object_get(d, "created_at")),
                        "2026-11-02T09:30:00Z");
    assert_string_equal(json_string_value(json_object_get(d, "expires_at")),
                        "2026-11-02T09:50:00Z");
    json_t *seats = json_object_get(d, "seats");
    assert_true(json_is_array(seats));
    assert_int_equal(json_array_size(seats), 2);
    assert_string_equal(json_string_value(json_array_get(seats, 0)), "A-1-1");
    assert_string_equal(json_string_value(json_array_get(seats, 1)), "A-1-2");
    assert_int_equal(json_integer_value(json_object_get(d, "quantity")), 2);
    json_t *price = json_object_get(d, "unit_price");
    assert_int_equal(json_integer_value(json_object_get(price, "amount")), 2500);
    assert_string_equal(json_string_value(json_object_get(price, "currency")), "EUR");
    static const struct {
        const char *key;
        int64_t amount;
    } sums[] = {{"subtotal", 5000},
                {"discount", 500},
                {"service_fee", 270},
                {"total", 4770},
                {"vat_included", 227}};
    for (size_t i = 0; i < TS_ARRAY_LEN(sums); i++) {
        json_t *m = json_object_get(d, sums[i].key);
        assert_int_equal(json_integer_value(json_object_get(m, "amount")), sums[i].amount);
        assert_string_equal(json_string_value(json_object_get(m, "currency")), "EUR");
    }

    /* The group-commit event names its own command and actor. */
    json_t *e1 = json_array_get(events, 1);
    assert_string_equal(json_string_value(json_object_get(e1, "command_id")), "cmd_2");
    assert_string_equal(json_string_value(json_object_get(e1, "actor")), "usr_2");
    json_t *e2 = json_array_get(events, 2);
    assert_string_equal(json_string_value(json_object_get(e2, "type")), "HoldReleased");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e2, "data"), "booking_id")), "bkg_1");
    json_decref(j);
}

static void test_json_zero_time_is_null(void **state)
{
    (void)state;
    evt_event_t ev;
    sample_body(EVT_EVENT_CREATED, &ev);
    ev.u.event_created.tiers[0].sale_starts_at = 0;
    ev.u.event_created.organizer_id = NULL;
    json_t *j = evt_event_to_json(&ev);
    json_t *d = json_object_get(j, "data");
    json_t *tier = json_array_get(json_object_get(d, "tiers"), 0);
    assert_true(json_is_null(json_object_get(tier, "sale_starts_at")));
    assert_string_equal(json_string_value(json_object_get(tier, "sale_ends_at")),
                        "2026-12-20T16:00:00Z");
    assert_true(json_is_null(json_object_get(d, "organizer_id")));
    assert_string_equal(json_string_value(json_object_get(d, "starts_at")), "2026-12-20T18:00:00Z");
    json_t *refund = json_object_get(json_object_get(d, "policy"), "refund");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(refund, 1), "percent")), 50);
    json_decref(j);
}

static void test_json_never_shows_password_hash(void **state)
{
    (void)state;
    evt_event_t ev;
    evt_commit_t c = sample_commit(EVT_USER_REGISTERED, &ev);
    json_t *j = evt_commit_to_json(&c);
    char *text = json_dumps(j, JSON_SORT_KEYS);
    assert_non_null(text);
    assert_null(strstr(text, "password_hash"));
    assert_null(strstr(text, "scrypt"));
    assert_null(strstr(text, "9f86d081884c7d659a2feaa0c55ad015"));
    json_t *d = json_object_get(json_array_get(json_object_get(j, "events"), 0), "data");
    assert_string_equal(json_string_value(json_object_get(d, "email")), "Ana@Example.org");
    json_t *roles = json_object_get(d, "roles");
    assert_int_equal(json_array_size(roles), 2);
    assert_string_equal(json_string_value(json_array_get(roles, 0)), "attendee");
    assert_string_equal(json_string_value(json_array_get(roles, 1)), "admin");
    free(text);
    json_decref(j);
}

/* Every sample renders, with its type name and the snake_case keys. */
static void test_json_every_type(void **state)
{
    (void)state;
    static const struct {
        evt_type_t type;
        const char *key;
    } expect[] = {
        {EVT_VENUE_CREATED, "country"},
        {EVT_EVENT_CREATED, "organizer_id"},
        {EVT_EVENT_PUBLISHED, "sections"},
        {EVT_INVENTORY_OPENED, "tier_key"},
        {EVT_HOLD_PLACED, "vat_included"},
        {EVT_HOLD_RELEASED, "booking_id"},
        {EVT_HOLD_EXPIRED, "booking_id"},
        {EVT_USER_REGISTERED, "user_id"},
        {EVT_CLAIMED, "owner"},
    };
    for (size_t i = 0; i < TS_ARRAY_LEN(expect); i++) {
        evt_event_t ev;
        sample_body(expect[i].type, &ev);
        json_t *j = evt_event_to_json(&ev);
        assert_string_equal(json_string_value(json_object_get(j, "type")),
                            evt_type_name(expect[i].type));
        assert_non_null(json_object_get(json_object_get(j, "data"), expect[i].key));
        json_decref(j);
    }
    evt_event_t venue;
    sample_body(EVT_VENUE_CREATED, &venue);
    json_t *j = evt_event_to_json(&venue);
    json_t *a = json_array_get(json_object_get(json_object_get(j, "data"), "sections"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "kind")), "seated");
    json_t *row = json_array_get(json_object_get(a, "rows"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "label")), "1");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(row, "accessible"), 1)), 2);
    json_decref(j);
}

/* One named case per event type: "round_trip_EVT_HOLD_PLACED" etc. */
#define TYPE_TEST(t)                                                                               \
    {                                                                                              \
        "round_trip_" #t, test_round_trip_type, NULL, NULL, (void *)(intptr_t)(t)                  \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        TYPE_TEST(EVT_VENUE_CREATED),
        TYPE_TEST(EVT_EVENT_CREATED),
        TYPE_TEST(EVT_EVENT_PUBLISHED),
        TYPE_TEST(EVT_INVENTORY_OPENED),
        TYPE_TEST(EVT_HOLD_PLACED),
        TYPE_TEST(EVT_HOLD_RELEASED),
        TYPE_TEST(EVT_HOLD_EXPIRED),
        TYPE_TEST(EVT_USER_REGISTERED),
        TYPE_TEST(EVT_CLAIMED),
        cmocka_unit_test(test_round_trip_group_commit),
        cmocka_unit_test(test_round_trip_optional_fields_absent),
        cmocka_unit_test(test_encode_appends),
        cmocka_unit_test(test_encode_rejects_invalid),
        cmocka_unit_test(test_truncated_rejected),
        cmocka_unit_test(test_corrupted_bytes),
        cmocka_unit_test(test_garbage_rejected),
        cmocka_unit_test(test_wrong_identifier_rejected),
        cmocka_unit_test(test_required_fields_checked),
        cmocka_unit_test(test_section_kind_from_the_future),
        cmocka_unit_test(test_json_hold_placed),
        cmocka_unit_test(test_json_zero_time_is_null),
        cmocka_unit_test(test_json_never_shows_password_hash),
        cmocka_unit_test(test_json_every_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
