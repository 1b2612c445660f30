/*
 * test_fixtures — commits written by earlier versions of the codec still
 * decode, to exactly what was written (schema evolution, commit.fbs).
 *
 * tests/fixtures/commit_v1_<name>.bin are the bytes of the samples of
 * samples.h as the first codec wrote them. They are committed and never
 * regenerated: if the schema or the decoder stops reading them, this test
 * fails. A later schema version adds commit_v2_*.bin beside them (written by
 * `events_test_fixtures --write DIR` after adding the v2 names below) and
 * keeps every v1 file.
 *
 * Normal mode (ctest): TS_FIXTURES names the directory. Every expected file
 * must be there and decode to its sample field by field; any other
 * commit_v*.bin there must at least decode.
 * Writer mode: `events_test_fixtures --write DIR` writes the files of the
 * current version into DIR (refusing to overwrite one that exists).
 */
#include "samples.h"

#include "events/codec.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* EVT_NONE stands for the group commit of samples.h. */
static const struct {
    const char *file;
    evt_type_t type;
    const char *subject; /* literal copies: a check that does not trust samples.h */
    uint64_t version;
    uint32_t n_events;
} fixtures[] = {
    {"commit_v1_venue_created.bin", EVT_VENUE_CREATED, "tix.venue.ven_1", 41, 1},
    {"commit_v1_event_created.bin", EVT_EVENT_CREATED, "tix.event.evt_1", 42, 1},
    {"commit_v1_event_published.bin", EVT_EVENT_PUBLISHED, "tix.event.evt_1", 43, 1},
    {"commit_v1_inventory_opened.bin", EVT_INVENTORY_OPENED, "tix.inv.evt_1.A", 44, 1},
    {"commit_v1_hold_placed.bin", EVT_HOLD_PLACED, "tix.inv.evt_1.A", 45, 1},
    {"commit_v1_hold_released.bin", EVT_HOLD_RELEASED, "tix.inv.evt_1.A", 46, 1},
    {"commit_v1_hold_expired.bin", EVT_HOLD_EXPIRED, "tix.inv.evt_1.A", 47, 1},
    {"commit_v1_user_registered.bin", EVT_USER_REGISTERED, "tix.user.usr_1", 48, 1},
    {"commit_v1_claimed.bin", EVT_CLAIMED,
     "tix.claim.email.4b6d3bd2d1b5ec63c4cbcbcd8e8a4e2f0b04f2a5f1b7e6cf3d1e2a9c8b7d6e5f", 49, 1},
    {"commit_v1_group.bin", EVT_NONE, "tix.inv.evt_1.A", 1000, 3},
};

static evt_commit_t fixture_sample(size_t i, evt_event_t ev[3])
{
    if (fixtures[i].type == EVT_NONE)
        return sample_group_commit(ev);
    return sample_commit(fixtures[i].type, &ev[0]);
}

static const char *fixture_dir(void)
{
    const char *dir = getenv("TS_FIXTURES");
    if (!dir || !*dir)
        fail_msg("TS_FIXTURES is not set (ctest sets it to tests/fixtures)");
    return dir;
}

/* Reads a whole file into buf (initialised by the caller); 0 on success. */
static int read_file(const char *dir, const char *name, ts_buf_t *buf)
{
    char path[4096];
    uint8_t chunk[4096];
    size_t n;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ts_buf_append(buf, chunk, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

static void test_v1_fixtures_decode_exactly(void **state)
{
    (void)state;
    const char *dir = fixture_dir();
    for (size_t i = 0; i < TS_ARRAY_LEN(fixtures); i++) {
        ts_buf_t buf;
        ts_arena_t a;
        evt_commit_t got, want;
        evt_event_t ev[3];
        ts_buf_init(&buf);
        ts_arena_init(&a, 0);
        if (read_file(dir, fixtures[i].file, &buf) != 0)
            fail_msg("%s/%s: %s", dir, fixtures[i].file, strerror(errno));
        ts_status st = evt_commit_decode(buf.data, buf.len, &a, &got);
        if (st != TS_OK)
            fail_msg("%s: %s", fixtures[i].file, ts_status_str(st));

        assert_string_equal(got.subject, fixtures[i].subject);
        assert_int_equal(got.version, fixtures[i].version);
        assert_int_equal(got.n_events, fixtures[i].n_events);
        assert_int_equal(got.time, 1793611800250);
        assert_string_equal(got.actor, "usr_1");
        assert_int_equal(got.prev_hash[0], 0xA0);
        assert_int_equal(got.prev_hash[31], 0xA0 + 31 * 3);
        if (fixtures[i].type != EVT_NONE)
            assert_int_equal(got.events[0].type, fixtures[i].type);

        want = fixture_sample(i, ev);
        assert_commit_same(&want, &got);
        ts_arena_deinit(&a);
        ts_buf_deinit(&buf);
    }
}

/* A few fields spelled out, so a change to samples.h cannot hide a change
 * to what the old bytes mean. */
static void test_v1_key_fields(void **state)
{
    (void)state;
    const char *dir = fixture_dir();
    ts_buf_t buf;
    ts_arena_t a;
    evt_commit_t c;
    ts_arena_init(&a, 0);

    ts_buf_init(&buf);
    assert_int_equal(read_file(dir, "commit_v1_group.bin", &buf), 0);
    assert_int_equal(evt_commit_decode(buf.data, buf.len, &a, &c), TS_OK);
    assert_int_equal(c.events[0].type, EVT_HOLD_PLACED);
    const evt_hold_placed_t *h = &c.events[0].u.hold_placed;
    assert_string_equal(h->booking_id, "bkg_1");
    assert_int_equal(h->n_seats, 2);
    assert_string_equal(h->seats[1], "A-1-2");
    assert_int_equal(h->expires_at, 1793613000000);
    assert_int_equal(h->unit_price.amount, 2500);
    assert_string_equal(h->unit_price.currency, "EUR");
    assert_int_equal(h->total, 4770);
    assert_int_equal(h->vat_included, 227);
    assert_null(c.events[0].command_id);
    assert_string_equal(c.events[1].command_id, "cmd_2");
    assert_string_equal(c.events[1].actor, "usr_2");
    assert_int_equal(c.events[2].type, EVT_HOLD_RELEASED);
    ts_buf_deinit(&buf);

    ts_buf_init(&buf);
    assert_int_equal(read_file(dir, "commit_v1_event_created.bin", &buf), 0);
    assert_int_equal(evt_commit_decode(buf.data, buf.len, &a, &c), TS_OK);
    const evt_event_created_t *e = &c.events[0].u.event_created;
    assert_int_equal(e->starts_at, 1797789600000);
    assert_int_equal(e->n_tiers, 2);
    assert_string_equal(e->tiers[1].sections[1], "GA");
    assert_int_equal(e->policy.refund[0].min_hours_before, 168);
    ts_buf_deinit(&buf);

    ts_buf_init(&buf);
    assert_int_equal(read_file(dir, "commit_v1_venue_created.bin", &buf), 0);
    assert_int_equal(evt_commit_decode(buf.data, buf.len, &a, &c), TS_OK);
    const evt_section_t *s = c.events[0].u.venue_created.sections;
    assert_int_equal(s[1].kind, EVT_STANDING);
    assert_int_equal(s[1].capacity, 2000);
    assert_int_equal(s[0].rows[0].accessible[1], 2);
    ts_buf_deinit(&buf);

    ts_buf_init(&buf);
    assert_int_equal(read_file(dir, "commit_v1_user_registered.bin", &buf), 0);
    assert_int_equal(evt_commit_decode(buf.data, buf.len, &a, &c), TS_OK);
    assert_string_equal(c.events[0].u.user_registered.password_hash,
                        "scrypt$16384$8$1$73616c747973616c74$9f86d081884c7d659a2feaa0c55ad015");
    assert_int_equal(c.events[0].u.user_registered.roles, EVT_ROLE_ATTENDEE | EVT_ROLE_ADMIN);
    ts_buf_deinit(&buf);
    ts_arena_deinit(&a);
}

/* Whatever commit_v*.bin lies in the directory (later versions too) decodes. */
static void test_every_fixture_decodes(void **state)
{
    (void)state;
    const char *dir = fixture_dir();
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t seen = 0;
    if (!d)
        fail_msg("%s: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (fnmatch("commit_v*.bin", de->d_name, 0) != 0)
            continue;
        ts_buf_t buf;
        ts_arena_t a;
        evt_commit_t c;
        ts_buf_init(&buf);
        ts_arena_init(&a, 0);
        assert_int_equal(read_file(dir, de->d_name, &buf), 0);
        ts_status st = evt_commit_decode(buf.data, buf.len, &a, &c);
        if (st != TS_OK)
            fail_msg("%s: %s", de->d_name, ts_status_str(st));
        assert_non_null(c.subject);
        assert_true(c.n_events >= 1);
        seen++;
        ts_arena_deinit(&a);
        ts_buf_deinit(&buf);
    }
    closedir(d);
    assert_true(seen >= TS_ARRAY_LEN(fixtures));
}

/* --write DIR: the one-off writer of this version's fixtures. */
static int write_fixtures(const char *dir)
{
    for (size_t i = 0; i < TS_ARRAY_LEN(fixtures); i++) {
        char path[4096];
        evt_event_t ev[3];
        evt_commit_t c = fixture_sample(i, ev);
        ts_buf_t buf;
        ts_buf_init(&buf);
        ts_status st = evt_commit_encode(&c, &buf);
        if (st != TS_OK) {
            fprintf(stderr, "%s: encode: %s\n", fixtures[i].file, ts_status_str(st));
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s", dir, fixtures[i].file);
        FILE *f = fopen(path, "wx"); /* never overwrite a committed fixture */
        if (!f) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            ts_buf_deinit(&buf);
            return 1;
        }
        int bad = fwrite(buf.data, 1, buf.len, f) != buf.len;
        bad |= fclose(f) != 0;
        printf("%s: %zu bytes\n", path, buf.len);
        ts_buf_deinit(&buf);
        if (bad)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0)
        return write_fixtures(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--write DIR]\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_fixtures_decode_exactly),
        cmocka_unit_test(test_v1_key_fields),
        cmocka_unit_test(test_every_fixture_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
