/*
 * The waitlist aggregate as tables (RULE-WL-1): FIFO order and positions,
 * one entry per user, quantity bounds, offers to the head, an offer's
 * expiry instant, lapsed offers passing to the next entry, fulfilment,
 * leaving, and the snapshot round trip.
 *
 * A given list is a string of steps, one per entry in join order:
 *   "u1"            u1 joined (entry w1 for the first step, w2 ...), quantity 1
 *   "u1x3"          quantity 3
 *   "u1>b1@T"       u1 joined and was offered booking b1, open until GIVEN_T0 + T min
 *   "u1-"           u1 joined and left
 *   "u1-blocked"    u1 joined and was passed over for that reason (RULE-AUTH-2)
 *   "u1>b1@T~"      offered, then the offer lapsed
 *   "u1>b1@T+"      offered, then fulfilled
 * Entries join one minute apart from GIVEN_T0 - 1 h.
 */
#include "given.h"

#define WL_EVENT "e1"
#define WL_TIER "std"
#define WL_MAX 4 /* the default max_per_order */

/* ---- rendering ---- */

static void render_event(char *buf, size_t n, const evt_event_t *e)
{
    const evt_waitlist_entry_t *w = &e->u.waitlist;
    switch (e->type) {
    case EVT_WAITLIST_JOINED:
        given__cat(buf, n, "WaitlistJoined(%s:%s x%u)", w->entry_id, w->user_id, w->quantity);
        break;
    case EVT_WAITLIST_OFFERED:
        given__cat(buf, n, "WaitlistOffered(%s:%s until %+lldmin)", w->entry_id, w->booking_id,
                   (long long)((w->expires_at - GIVEN_T0) / GIVEN_MIN));
        break;
    case EVT_WAITLIST_LEFT:
    case EVT_WAITLIST_OFFER_LAPSED:
    case EVT_WAITLIST_FULFILLED:
        given__cat(buf, n, "%s(%s", evt_type_name(e->type), w->entry_id);
        if (w->booking_id)
            given__cat(buf, n, ":%s", w->booking_id);
        if (w->reason)
            given__cat(buf, n, " %s", w->reason);
        given__cat(buf, n, ")");
        break;
    default:
        given__cat(buf, n, "Unknown(%d)", (int)e->type);
        break;
    }
}

/* The outcome as one line, in given.h's notation. */
static const char *render(given_t *g)
{
    char *buf = g->line;
    size_t n = sizeof(g->line);
    buf[0] = '\0';
    if (g->out.reject) {
        given__cat(buf, n, "!%s", g->out.reject->code);
        if (g->out.reject->field)
            given__cat(buf, n, " field=%s", g->out.reject->field);
        if (g->out.reject->limit)
            given__cat(buf, n, " limit=%lld", (long long)g->out.reject->limit);
        if (g->out.n_events)
            given__cat(buf, n, " events=%u", g->out.n_events);
        return buf;
    }
    for (uint32_t i = 0; i < g->out.n_events; i++) {
        if (i)
            given__cat(buf, n, " ");
        render_event(buf, n, &g->out.events[i]);
    }
    return buf;
}

static void then_is(given_t *g, const char *label, const char *expected, int line)
{
    const char *got = render(g);
    if (strcmp(got, expected) != 0) {
        print_message("case: %s\n", label);
        if (g->out.reject)
            print_message("rejected: %s: %s\n", g->out.reject->code, g->out.reject->detail);
        print_message("expected: \"%s\"\n     got: \"%s\"\n", expected, got);
    }
    _assert_string_equal(got, expected, __FILE__, line);
}

/* ---- given lists ---- */

static evt_event_t wl_event(evt_type_t t, const char *entry, const char *user, uint32_t qty,
                            int64_t at)
{
    evt_event_t e = {.type = t, .actor = "system"};
    e.u.waitlist = (evt_waitlist_entry_t){.event_id = WL_EVENT,
                                          .tier = WL_TIER,
                                          .entry_id = entry,
                                          .user_id = user,
                                          .quantity = qty,
                                          .at = at};
    return e;
}

/* Builds the state of a list of steps (see the top of this file). */
static wait_state_t *given_list(const char *const *steps)
{
    ts_arena_t a;
    ts_arena_init(&a, 0);
    wait_state_t *s = given_state(CMD_AGG_WAIT, NULL, 0);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_WAIT);
    for (uint32_t i = 0; steps && steps[i]; i++) {
        const char *p = steps[i];
        size_t ulen = strcspn(p, "x>-");
        const char *user = ts_arena_strndup(&a, p, ulen);
        const char *entry = ts_arena_printf(&a, "w%u", i + 1);
        p += ulen;
        uint32_t qty = 1;
        if (*p == 'x')
            qty = (uint32_t)strtoul(p + 1, (char **)&p, 10);
        int64_t at = GIVEN_T0 - GIVEN_HOUR + (int64_t)i * GIVEN_MIN;
        evt_event_t e = wl_event(EVT_WAITLIST_JOINED, entry, user, qty, at);
        ops->apply(s, &e);
        if (*p == '>') {
            size_t blen = strcspn(p + 1, "@");
            e = wl_event(EVT_WAITLIST_OFFERED, entry, user, qty, at);
            e.u.waitlist.booking_id = ts_arena_strndup(&a, p + 1, blen);
            p += 1 + blen + 1;
            e.u.waitlist.expires_at = GIVEN_T0 + strtoll(p, (char **)&p, 10) * GIVEN_MIN;
            ops->apply(s, &e);
            assert_int_equal(s->entries[i].status, WAIT_OFFERED);
        }
        if (*p == '-' || *p == '~' || *p == '+') {
            evt_type_t t = *p == '-'   ? EVT_WAITLIST_LEFT
                           : *p == '~' ? EVT_WAITLIST_OFFER_LAPSED
                                       : EVT_WAITLIST_FULFILLED;
            e = wl_event(t, entry, user, qty, at);
            e.u.waitlist.booking_id = s->entries[i].booking_id;
            if (*p == '-' && p[1])
                e.u.waitlist.reason = p + 1;
            ops->apply(s, &e);
        }
    }
    ts_arena_deinit(&a); /* apply copies: the state must not borrow */
    return s;
}

/* ---- join ---- */

typedef struct {
    const char *name;
    const char *given[8];
    const char *actor;
    int64_t at; /* from GIVEN_T0 */
    uint32_t quantity;
    const char *then;
} join_case_t;

static const join_case_t joins[] = {
    {.name = "RULE-WL-1 the first entry of a list",
     .actor = "u1",
     .quantity = 2,
     .then = "WaitlistJoined(n1:u1 x2)"},
    {.name = "RULE-WL-1 a later entry joins the end",
     .given = {"u1", "u2"},
     .actor = "u3",
     .quantity = 1,
     .then = "WaitlistJoined(n1:u3 x1)"},
    {.name = "RULE-WL-1 quantity 0 is refused",
     .actor = "u1",
     .quantity = 0,
     .then = "!validation_failed field=quantity"},
    {.name = "RULE-WL-1 quantity 1 is the least",
     .actor = "u1",
     .quantity = 1,
     .then = "WaitlistJoined(n1:u1 x1)"},
    {.name = "RULE-WL-1 quantity max_per_order is accepted",
     .actor = "u1",
     .quantity = WL_MAX,
     .then = "WaitlistJoined(n1:u1 x4)"},
    {.name = "RULE-WL-1 quantity max_per_order + 1 is refused with the limit",
     .actor = "u1",
     .quantity = WL_MAX + 1,
     .then = "!limit_exceeded field=quantity limit=4"},
    {.name = "RULE-WL-1 one entry per user: waiting",
     .given = {"u1", "u2"},
     .actor = "u1",
     .quantity = 1,
     .then = "!conflict"},
    {.name = "RULE-WL-1 one entry per user: holding an open offer (1 ms before its expiry)",
     .given = {"u1>b1@15", "u2"},
     .actor = "u1",
     .at = 15 * GIVEN_MIN - 1,
     .quantity = 1,
     .then = "!conflict"},
    {.name = "RULE-WL-1 at the offer's expiry instant the user is off the list and may join again",
     .given = {"u1>b1@15", "u2"},
     .actor = "u1",
     .at = 15 * GIVEN_MIN,
     .quantity = 1,
     .then = "WaitlistJoined(n1:u1 x1)"},
    {.name = "RULE-WL-1 after leaving, a user may join again (at the end)",
     .given = {"u1-", "u2"},
     .actor = "u1",
     .quantity = 1,
     .then = "WaitlistJoined(n1:u1 x1)"},
    {.name = "RULE-WL-1 after a lapsed offer, a user may join again",
     .given = {"u1>b1@15~"},
     .actor = "u1",
     .quantity = 3,
     .then = "WaitlistJoined(n1:u1 x3)"},
    {.name = "RULE-WL-1 after a fulfilled offer, a user may join again",
     .given = {"u1>b1@15+"},
     .actor = "u1",
     .quantity = 1,
     .then = "WaitlistJoined(n1:u1 x1)"},
};

static void test_rule_wl_1_join_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(joins); i++) {
        const join_case_t *k = &joins[i];
        wait_state_t *s = given_list(k->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + k->at, k->actor);
        wait_cmd_t c = {.event_id = WL_EVENT,
                        .tier = WL_TIER,
                        .quantity = k->quantity,
                        .max_per_order = WL_MAX};
        wait_join_decide(s, &c, &g->ctx, &g->out);
        then_is(g, k->name, k->then, __LINE__);
        if (!g->out.reject)
            then_ref(g, "n1");
        given_free(g);
        given_state_free(CMD_AGG_WAIT, s);
    }
}

/* RULE-WL-1: the same command (its entry id already on the list) again
 * answers with the entry it made and appends nothing. */
static void test_rule_wl_1_join_repeated_command(void **state)
{
    (void)state;
    const char *given[] = {"u1", "u2", NULL};
    wait_state_t *s = given_list(given);
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "u2");
    g->ctx.new_id = "w2";
    wait_cmd_t c = {.event_id = WL_EVENT, .tier = WL_TIER, .quantity = 1, .max_per_order = WL_MAX};
    wait_join_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "repeated join", "", __LINE__);
    then_ref(g, "w2");
    given_free(g);
    given_state_free(CMD_AGG_WAIT, s);
}

/* ---- FIFO order and positions ---- */

typedef struct {
    const char *name;
    const char *given[8];
    int64_t at;
    const char *positions; /* of w1, w2, ... in order; 0 = off the list */
    const char *head;      /* entry id of wait_head, "-" for none */
} position_case_t;

static const position_case_t positions[] = {
    {.name = "RULE-WL-1 positions are the join order",
     .given = {"u1", "u2x2", "u3"},
     .positions = "1 2 3",
     .head = "w1"},
    {.name = "RULE-WL-1 an entry that left makes room: later ones move up",
     .given = {"u1", "u2-", "u3", "u4"},
     .positions = "1 0 2 3",
     .head = "w1"},
    {.name = "RULE-WL-1 the head is the first entry without an open offer",
     .given = {"u1>b1@15", "u2", "u3"},
     .positions = "1 2 3",
     .head = "w2"},
    {.name = "RULE-WL-1 1 ms before the offer expires its entry keeps its place",
     .given = {"u1>b1@15", "u2", "u3"},
     .at = 15 * GIVEN_MIN - 1,
     .positions = "1 2 3",
     .head = "w2"},
    {.name = "RULE-WL-1 at the offer's expiry instant its entry is off the list",
     .given = {"u1>b1@15", "u2", "u3"},
     .at = 15 * GIVEN_MIN,
     .positions = "0 1 2",
     .head = "w2"},
    {.name = "RULE-WL-1 a lapsed offer's entry has left; the next one is the head",
     .given = {"u1>b1@15~", "u2", "u3"},
     .positions = "0 1 2",
     .head = "w2"},
    {.name = "RULE-WL-1 a fulfilled entry has left the list",
     .given = {"u1>b1@15+", "u2>b2@20", "u3"},
     .positions = "0 1 2",
     .head = "w3"},
    {.name = "RULE-WL-1 every entry offered: no head",
     .given = {"u1>b1@15", "u2>b2@16"},
     .positions = "1 2",
     .head = "-"},
    {.name = "RULE-WL-1 an empty list has no head", .positions = "", .head = "-"},
    {.name = "RULE-WL-1 a user who left and joined again is at the end",
     .given = {"u1-", "u2", "u1"},
     .positions = "0 1 2",
     .head = "w2"},
};

static void test_rule_wl_1_fifo_positions(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(positions); i++) {
        const position_case_t *k = &positions[i];
        wait_state_t *s = given_list(k->given);
        char got[128] = "";
        for (uint32_t e = 0; e < s->n_entries; e++)
            given__cat(got, sizeof(got), "%s%u", e ? " " : "",
                       wait_position(s, s->entries[e].entry_id, GIVEN_T0 + k->at));
        const wait_entry_t *h = wait_head(s);
        if (strcmp(got, k->positions) != 0 || strcmp(h ? h->entry_id : "-", k->head) != 0)
            print_message("case: %s\n  positions \"%s\" (expected \"%s\"), head %s (expected "
                          "%s)\n",
                          k->name, got, k->positions, h ? h->entry_id : "-", k->head);
        assert_string_equal(got, k->positions);
        assert_string_equal(h ? h->entry_id : "-", k->head);
        assert_int_equal(wait_position(s, "nope", GIVEN_T0), 0);
        given_state_free(CMD_AGG_WAIT, s);
    }
}

/* ---- offer, lapse, fulfil, leave ---- */

typedef enum { OFFER, LAPSE, FULFIL, LEAVE, PASS } op_t;

typedef struct {
    const char *name;
    const char *given[8];
    op_t op;
    const char *actor;
    int admin;
    int64_t at;
    const char *entry;
    const char *booking;
    int64_t expires_min; /* offer: from GIVEN_T0 */
    const char *reason;  /* pass */
    const char *then;
} op_case_t;

static const op_case_t ops_table[] = {
    /* offer */
    {.name = "RULE-WL-1 the head gets the offer: a hold in its name, open until its expiry",
     .given = {"u1", "u2"},
     .op = OFFER,
     .entry = "w1",
     .booking = "b9",
     .expires_min = 15,
     .then = "WaitlistOffered(w1:b9 until +15min)"},
    {.name = "RULE-WL-1 the same offer again (a redelivery) is a no-op",
     .given = {"u1>b9@15", "u2"},
     .op = OFFER,
     .entry = "w1",
     .booking = "b9",
     .expires_min = 15,
     .then = ""},
    {.name = "RULE-WL-1 the same offer again after its entry left with it is a no-op",
     .given = {"u1>b9@15-"},
     .op = OFFER,
     .entry = "w1",
     .booking = "b9",
     .expires_min = 15,
     .then = ""},
    {.name = "RULE-WL-1 the same offer again after it lapsed is a no-op",
     .given = {"u1>b9@15~"},
     .op = OFFER,
     .entry = "w1",
     .booking = "b9",
     .expires_min = 15,
     .then = ""},
    {.name = "RULE-WL-1 a second offer to an entry with an open offer is refused",
     .given = {"u1>b9@15", "u2"},
     .op = OFFER,
     .entry = "w1",
     .booking = "b10",
     .expires_min = 15,
     .then = "!conflict"},
    {.name = "RULE-WL-1 an entry that left gets no offer",
     .given = {"u1-", "u2"},
     .op = OFFER,
     .entry = "w1",
     .booking = "b9",
     .expires_min = 15,
     .then = "!conflict"},
    {.name = "RULE-WL-1 a lapsed entry gets no offer again",
     .given = {"u1>b1@15~", "u2"},
     .op = OFFER,
     .entry = "w1",
     .booking = "b9",
     .expires_min = 30,
     .then = "!conflict"},
    {.name = "RULE-WL-1 an unknown entry gets no offer",
     .given = {"u1"},
     .op = OFFER,
     .entry = "w7",
     .booking = "b9",
     .expires_min = 15,
     .then = "!conflict"},
    {.name = "RULE-WL-1 an offer names its hold",
     .given = {"u1"},
     .op = OFFER,
     .entry = "w1",
     .booking = "",
     .expires_min = 15,
     .then = "!validation_failed field=booking_id"},
    /* lapse */
    {.name = "RULE-WL-1 an expired or released offer lapses: the entry leaves",
     .given = {"u1>b1@15", "u2"},
     .op = LAPSE,
     .at = 15 * GIVEN_MIN,
     .entry = "w1",
     .booking = "b1",
     .then = "WaitlistOfferLapsed(w1:b1)"},
    {.name = "RULE-WL-1 a declined offer lapses before its expiry too",
     .given = {"u1>b1@15"},
     .op = LAPSE,
     .at = GIVEN_MIN,
     .entry = "w1",
     .booking = "b1",
     .then = "WaitlistOfferLapsed(w1:b1)"},
    {.name = "RULE-WL-1 a lapse recorded already is a no-op",
     .given = {"u1>b1@15~"},
     .op = LAPSE,
     .entry = "w1",
     .booking = "b1",
     .then = ""},
    {.name = "RULE-WL-1 a lapse of another booking is a no-op",
     .given = {"u1>b1@15"},
     .op = LAPSE,
     .entry = "w1",
     .booking = "b2",
     .then = ""},
    {.name = "RULE-WL-1 an entry that left keeps no offer to lapse",
     .given = {"u1>b1@15-"},
     .op = LAPSE,
     .entry = "w1",
     .booking = "b1",
     .then = ""},
    /* fulfil */
    {.name = "RULE-WL-1 the offer booking confirmed: the entry is fulfilled",
     .given = {"u1>b1@15", "u2"},
     .op = FULFIL,
     .at = 5 * GIVEN_MIN,
     .entry = "w1",
     .booking = "b1",
     .then = "WaitlistFulfilled(w1:b1)"},
    {.name = "RULE-WL-1 a confirm after the expiry instant, before the lapse, still fulfils",
     .given = {"u1>b1@15"},
     .op = FULFIL,
     .at = 16 * GIVEN_MIN,
     .entry = "w1",
     .booking = "b1",
     .then = "WaitlistFulfilled(w1:b1)"},
    {.name = "RULE-WL-1 a fulfilled entry again is a no-op",
     .given = {"u1>b1@15+"},
     .op = FULFIL,
     .entry = "w1",
     .booking = "b1",
     .then = ""},
    {.name = "RULE-WL-1 a lapsed offer is not fulfilled",
     .given = {"u1>b1@15~"},
     .op = FULFIL,
     .entry = "w1",
     .booking = "b1",
     .then = ""},
    /* leave */
    {.name = "RULE-WL-1 the owner leaves",
     .given = {"u1", "u2"},
     .op = LEAVE,
     .actor = "u2",
     .entry = "w2",
     .then = "WaitlistLeft(w2)"},
    {.name = "RULE-WL-1 another user cannot remove an entry",
     .given = {"u1", "u2"},
     .op = LEAVE,
     .actor = "u1",
     .entry = "w2",
     .then = "!forbidden"},
    {.name = "RULE-WL-1 an admin may remove any entry",
     .given = {"u1", "u2"},
     .op = LEAVE,
     .actor = "adm",
     .admin = 1,
     .entry = "w2",
     .then = "WaitlistLeft(w2)"},
    {.name = "RULE-WL-1 an unknown entry is not found",
     .given = {"u1"},
     .op = LEAVE,
     .actor = "u1",
     .entry = "w9",
     .then = "!not_found"},
    {.name = "RULE-WL-1 an entry that left is not found",
     .given = {"u1-"},
     .op = LEAVE,
     .actor = "u1",
     .entry = "w1",
     .then = "!not_found"},
    {.name = "RULE-WL-1 leaving with an open offer: the entry leaves, the offer is kept",
     .given = {"u1>b1@15"},
     .op = LEAVE,
     .actor = "u1",
     .at = 15 * GIVEN_MIN - 1,
     .entry = "w1",
     .then = "WaitlistLeft(w1:b1)"},
    {.name = "RULE-WL-1 at its offer's expiry instant the entry is off the list already",
     .given = {"u1>b1@15"},
     .op = LEAVE,
     .actor = "u1",
     .at = 15 * GIVEN_MIN,
     .entry = "w1",
     .then = "!not_found"},
    /* pass: no offer can be made to the entry's user (RULE-AUTH-2, RULE-HOLD-4) */
    {.name = "RULE-WL-1 + RULE-AUTH-2 a blocked head is passed over: it leaves, with why",
     .given = {"u1", "u2"},
     .op = PASS,
     .entry = "w1",
     .reason = WAIT_PASS_BLOCKED,
     .then = "WaitlistLeft(w1 blocked)"},
    {.name = "RULE-WL-1 + RULE-HOLD-4 a head at its cap is passed over: it leaves, with why",
     .given = {"u1x2", "u2"},
     .op = PASS,
     .entry = "w1",
     .reason = WAIT_PASS_LIMIT_EXCEEDED,
     .then = "WaitlistLeft(w1 limit_exceeded)"},
    {.name = "RULE-WL-1 a pass of a later waiting entry (the head took no offer)",
     .given = {"u1", "u2", "u3"},
     .op = PASS,
     .entry = "w2",
     .reason = WAIT_PASS_BLOCKED,
     .then = "WaitlistLeft(w2 blocked)"},
    {.name = "RULE-WL-1 the same pass again (a redelivery) is a no-op",
     .given = {"u1-blocked", "u2"},
     .op = PASS,
     .entry = "w1",
     .reason = WAIT_PASS_BLOCKED,
     .then = ""},
    {.name = "RULE-WL-1 an entry its user left is not passed over",
     .given = {"u1-", "u2"},
     .op = PASS,
     .entry = "w1",
     .reason = WAIT_PASS_LIMIT_EXCEEDED,
     .then = ""},
    {.name = "RULE-WL-1 an entry holding an offer is not passed over",
     .given = {"u1>b1@15", "u2"},
     .op = PASS,
     .entry = "w1",
     .reason = WAIT_PASS_BLOCKED,
     .then = ""},
    {.name = "RULE-WL-1 an entry whose offer lapsed is not passed over again",
     .given = {"u1>b1@15~", "u2"},
     .op = PASS,
     .at = 16 * GIVEN_MIN,
     .entry = "w1",
     .reason = WAIT_PASS_BLOCKED,
     .then = ""},
    {.name = "RULE-WL-1 an unknown entry: nothing to pass",
     .given = {"u1"},
     .op = PASS,
     .entry = "w9",
     .reason = WAIT_PASS_BLOCKED,
     .then = ""},
    {.name = "RULE-WL-1 a pass names its reason",
     .given = {"u1"},
     .op = PASS,
     .entry = "w1",
     .reason = "",
     .then = "!validation_failed field=reason"},
};

static void test_rule_wl_1_offer_lapse_fulfil_leave(void **state)
{
    (void)state;
    for (size_t i = 0; i < TS_ARRAY_LEN(ops_table); i++) {
        const op_case_t *k = &ops_table[i];
        wait_state_t *s = given_list(k->given);
        given_t *g = given_new();
        given_when(g, GIVEN_T0 + k->at, k->actor ? k->actor : "system");
        g->ctx.actor_is_admin = k->admin;
        wait_cmd_t c = {.event_id = WL_EVENT,
                        .tier = WL_TIER,
                        .entry_id = k->entry,
                        .booking_id = k->booking,
                        .expires_at = GIVEN_T0 + k->expires_min * GIVEN_MIN,
                        .reason = k->reason};
        switch (k->op) {
        case OFFER:
            wait_offer_decide(s, &c, &g->ctx, &g->out);
            break;
        case LAPSE:
            wait_lapse_decide(s, &c, &g->ctx, &g->out);
            break;
        case FULFIL:
            wait_fulfil_decide(s, &c, &g->ctx, &g->out);
            break;
        case LEAVE:
            wait_leave_decide(s, &c, &g->ctx, &g->out);
            break;
        case PASS:
            wait_pass_decide(s, &c, &g->ctx, &g->out);
            break;
        }
        then_is(g, k->name, k->then, __LINE__);
        /* Every event describes its entry in full (the read model folds
         * them one by one). */
        for (uint32_t e = 0; e < g->out.n_events; e++) {
            const evt_waitlist_entry_t *w = &g->out.events[e].u.waitlist;
            assert_string_equal(w->event_id, WL_EVENT);
            assert_string_equal(w->tier, WL_TIER);
            assert_non_null(w->user_id);
            assert_true(w->quantity >= 1);
            assert_int_equal(w->at, GIVEN_T0 + k->at);
        }
        given_free(g);
        given_state_free(CMD_AGG_WAIT, s);
    }
}

/* RULE-WL-1 end to end in the aggregate: one seat is freed and offered to
 * the head; the offer lapses unclaimed and passes to the next entry; that
 * one is fulfilled; the list is then empty. */
static void test_rule_wl_1_lapsed_offer_passes_to_the_next(void **state)
{
    (void)state;
    const char *given[] = {"u1", "u2x2", "u3", NULL};
    wait_state_t *s = given_list(given);
    given_t *g = given_new();
    wait_cmd_t c = {.event_id = WL_EVENT, .tier = WL_TIER};

    const wait_entry_t *h = wait_head(s);
    assert_string_equal(h->entry_id, "w1");
    c.entry_id = h->entry_id;
    c.booking_id = "b1";
    c.expires_at = GIVEN_T0 + 15 * GIVEN_MIN;
    given_when(g, GIVEN_T0, "system");
    wait_offer_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "offer to w1", "WaitlistOffered(w1:b1 until +15min)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);
    /* While w1's offer is open, u2 is second and the head of the list. */
    assert_int_equal(wait_position(s, "w2", GIVEN_T0 + 15 * GIVEN_MIN - 1), 2);
    assert_string_equal(wait_head(s)->entry_id, "w2");

    /* The hold expires unclaimed: the sweeper's HoldExpired makes the saga
     * record the lapse, and the same seats go to the next head. */
    given_when(g, GIVEN_T0 + 15 * GIVEN_MIN + 1500, "system");
    wait_lapse_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "w1 lapses", "WaitlistOfferLapsed(w1:b1)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);
    assert_int_equal(wait_position(s, "w1", g->ctx.now), 0);
    assert_int_equal(wait_position(s, "w2", g->ctx.now), 1);
    h = wait_head(s);
    assert_string_equal(h->entry_id, "w2");
    assert_int_equal(h->quantity, 2);
    c.entry_id = "w2";
    c.booking_id = "b2";
    c.expires_at = g->ctx.now + 15 * GIVEN_MIN;
    given_when(g, g->ctx.now, "system");
    wait_offer_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "offer to w2", "WaitlistOffered(w2:b2 until +30min)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);
    assert_string_equal(wait_head(s)->entry_id, "w3");

    /* A redelivered lapse of w1 changes nothing. */
    c.entry_id = "w1";
    c.booking_id = "b1";
    given_when(g, g->ctx.now, "system");
    wait_lapse_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "w1 lapses again", "", __LINE__);

    c.entry_id = "w2";
    c.booking_id = "b2";
    given_when(g, g->ctx.now, "system");
    wait_fulfil_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "w2 fulfilled", "WaitlistFulfilled(w2:b2)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);
    assert_int_equal(wait_position(s, "w3", g->ctx.now), 1);
    assert_int_equal(s->head, 2); /* w1 and w2 have left for good */
    given_free(g);
    given_state_free(CMD_AGG_WAIT, s);
}

/* RULE-WL-1 with RULE-AUTH-2 and RULE-HOLD-4, as the offer saga runs it:
 * seats are freed; the head's user is blocked, so the head is passed over
 * and leaves; the next head is at the cap and is passed over too; the
 * third gets the offer. The passed users keep nothing on the list and may
 * join again, at the end. */
static void test_rule_wl_1_passed_over_heads_leave_and_the_next_is_offered(void **state)
{
    (void)state;
    const char *given[] = {"u1", "u2x2", "u3", "u4", NULL};
    wait_state_t *s = given_list(given);
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "system");
    wait_cmd_t c = {.event_id = WL_EVENT, .tier = WL_TIER};

    c.entry_id = wait_head(s)->entry_id;
    c.reason = WAIT_PASS_BLOCKED;
    wait_pass_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "blocked u1 passed over", "WaitlistLeft(w1 blocked)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);
    assert_string_equal(wait_head(s)->entry_id, "w2");
    assert_int_equal(wait_position(s, "w1", GIVEN_T0), 0);
    assert_int_equal(wait_position(s, "w3", GIVEN_T0), 2);
    assert_string_equal(wait_entry_find(s, "w1")->end_reason, WAIT_PASS_BLOCKED);

    c.entry_id = wait_head(s)->entry_id;
    c.reason = WAIT_PASS_LIMIT_EXCEEDED;
    given_when(g, GIVEN_T0, "system");
    wait_pass_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "u2 at the cap passed over", "WaitlistLeft(w2 limit_exceeded)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);

    c.entry_id = wait_head(s)->entry_id;
    assert_string_equal(c.entry_id, "w3");
    c.booking_id = "b3";
    c.expires_at = GIVEN_T0 + 15 * GIVEN_MIN;
    given_when(g, GIVEN_T0, "system");
    wait_offer_decide(s, &c, &g->ctx, &g->out);
    then_is(g, "u3 offered", "WaitlistOffered(w3:b3 until +15min)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);
    assert_string_equal(wait_head(s)->entry_id, "w4");
    assert_int_equal(s->head, 2); /* w1 and w2 have left for good */

    /* A passed user may join again, at the end of the list. */
    given_when(g, GIVEN_T0 + GIVEN_MIN, "u1");
    g->ctx.new_id = "w5";
    wait_cmd_t j = {.event_id = WL_EVENT, .tier = WL_TIER, .quantity = 1, .max_per_order = WL_MAX};
    wait_join_decide(s, &j, &g->ctx, &g->out);
    then_is(g, "u1 joins again", "WaitlistJoined(w5:u1 x1)", __LINE__);
    given_apply_out(CMD_AGG_WAIT, s, g);
    assert_int_equal(wait_position(s, "w5", GIVEN_T0 + GIVEN_MIN), 3);
    given_free(g);
    given_state_free(CMD_AGG_WAIT, s);
}

/* ---- snapshots ---- */

static void test_waitlist_snapshot_round_trip(void **state)
{
    (void)state;
    const char *given[] = {"u1>b1@15~", "u2x2", "u3-",  "u4>b4@20",          "u5>b5@20+",
                           "u6>b6@25-", "u1x3", "u7x2", "u8-limit_exceeded", NULL};
    wait_state_t *s = given_list(given);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_WAIT);
    ts_buf_t a, b;
    ts_buf_init(&a);
    ts_buf_init(&b);
    assert_int_equal(ops->encode(s, &a), TS_OK);
    wait_state_t *copy = ops->decode(a.data, a.len);
    assert_non_null(copy);
    assert_int_equal(ops->encode(copy, &b), TS_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_string_equal(copy->event_id, WL_EVENT);
    assert_string_equal(copy->tier, WL_TIER);
    assert_int_equal(copy->n_entries, s->n_entries);
    assert_int_equal(copy->head, s->head);
    for (uint32_t i = 0; i < s->n_entries; i++) {
        const wait_entry_t *x = &s->entries[i], *y = &copy->entries[i];
        assert_string_equal(x->entry_id, y->entry_id);
        assert_string_equal(x->user_id, y->user_id);
        assert_int_equal(x->quantity, y->quantity);
        assert_int_equal(x->joined_at, y->joined_at);
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->offer_expires_at, y->offer_expires_at);
        if (x->booking_id)
            assert_string_equal(x->booking_id, y->booking_id);
        else
            assert_null(y->booking_id);
        if (x->end_reason)
            assert_string_equal(x->end_reason, y->end_reason);
        else
            assert_null(y->end_reason);
        assert_int_equal(wait_position(s, x->entry_id, GIVEN_T0),
                         wait_position(copy, y->entry_id, GIVEN_T0));
    }
    assert_string_equal(wait_head(copy)->entry_id, "w2");
    /* The user index survives: u1's newest entry is w7, on the list. */
    given_t *g = given_new();
    given_when(g, GIVEN_T0, "u1");
    wait_cmd_t c = {.quantity = 1, .max_per_order = WL_MAX};
    wait_join_decide(copy, &c, &g->ctx, &g->out);
    then_is(g, "u1 again after the round trip", "!conflict", __LINE__);
    given_free(g);

    /* An empty list has an empty snapshot, which decodes to an empty list. */
    wait_state_t *empty = given_list(NULL);
    ts_buf_t e;
    ts_buf_init(&e);
    assert_int_equal(ops->encode(empty, &e), TS_OK);
    assert_int_equal(e.len, 0);
    wait_state_t *back = ops->decode(e.data, e.len);
    assert_non_null(back);
    assert_int_equal(back->n_entries, 0);
    assert_null(ops->decode("garbage", 7));
    ops->state_free(back);
    ops->state_free(empty);
    ts_buf_deinit(&e);
    ts_buf_deinit(&a);
    ts_buf_deinit(&b);
    ops->state_free(copy);
    ops->state_free(s);
}

/* Unknown and out-of-order events never break the state (apply cannot
 * fail): an offer for an unknown entry, a second join of the same id, a
 * lapse of an entry that was never offered. */
static void test_waitlist_apply_tolerates_odd_logs(void **state)
{
    (void)state;
    const char *given[] = {"u1", NULL};
    wait_state_t *s = given_list(given);
    const cmd_aggregate_ops_t *ops = cmd_aggregate_ops(CMD_AGG_WAIT);
    evt_event_t e = wl_event(EVT_WAITLIST_OFFERED, "w9", "u9", 1, GIVEN_T0);
    e.u.waitlist.booking_id = "b9";
    ops->apply(s, &e);
    e = wl_event(EVT_WAITLIST_JOINED, "w1", "u7", 2, GIVEN_T0);
    ops->apply(s, &e);
    e = wl_event(EVT_WAITLIST_OFFER_LAPSED, "w1", "u1", 1, GIVEN_T0);
    ops->apply(s, &e);
    e = wl_event(EVT_HOLD_PLACED, NULL, NULL, 0, 0);
    ops->apply(s, &e);
    assert_int_equal(s->n_entries, 1);
    assert_string_equal(s->entries[0].user_id, "u1");
    assert_int_equal(s->entries[0].status, WAIT_WAITING);
    assert_string_equal(wait_entry_status_name(s->entries[0].status), "waiting");
    ops->state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_wl_1_join_table),
        cmocka_unit_test(test_rule_wl_1_join_repeated_command),
        cmocka_unit_test(test_rule_wl_1_fifo_positions),
        cmocka_unit_test(test_rule_wl_1_offer_lapse_fulfil_leave),
        cmocka_unit_test(test_rule_wl_1_lapsed_offer_passes_to_the_next),
        cmocka_unit_test(test_rule_wl_1_passed_over_heads_leave_and_the_next_is_offered),
        cmocka_unit_test(test_waitlist_snapshot_round_trip),
        cmocka_unit_test(test_waitlist_apply_tolerates_odd_logs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
