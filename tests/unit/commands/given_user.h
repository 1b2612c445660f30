/*
 * given_user — fixtures for the account tables (RULE-AUTH-1, -2), on top of
 * given.h.
 *
 * The user is u1 (ann@example.com, attendee) and every history starts with
 * its UserRegistered. A history is a 0-ended list of steps:
 *
 *     F(at)            LoginFailed at T0+at
 *     I(at, fam, c)    RefreshIssued: family fam, token hash c×64, issued at T0+at
 *     R(at, fam, c)    RefreshRotated to hash c×64 at T0+at
 *     L(fam)           RefreshRevoked (logout)
 *     B / UB           UserBlocked / UserUnblocked
 *     O(roles)         RolesChanged to this bit set
 *
 * A token hash in a table is one hex digit written 64 times: HASH('a').
 */
#ifndef TS_TEST_GIVEN_USER_H
#define TS_TEST_GIVEN_USER_H

#include "given.h"

typedef struct {
    char op;
    int64_t at;
    const char *family;
    char hash;
    uint32_t roles;
} given_user_step_t;

#define F(at_)                                                                                     \
    {                                                                                              \
        'F', (at_), NULL, 0, 0                                                                     \
    }
#define I(at_, fam, c)                                                                             \
    {                                                                                              \
        'I', (at_), (fam), (c), 0                                                                  \
    }
#define R(at_, fam, c)                                                                             \
    {                                                                                              \
        'R', (at_), (fam), (c), 0                                                                  \
    }
#define L(fam)                                                                                     \
    {                                                                                              \
        'L', 0, (fam), 0, 0                                                                        \
    }
#define B                                                                                          \
    {                                                                                              \
        'B', 0, NULL, 0, 0                                                                         \
    }
#define UB                                                                                         \
    {                                                                                              \
        'U', 0, NULL, 0, 0                                                                         \
    }
#define O(roles_)                                                                                  \
    {                                                                                              \
        'O', 0, NULL, 0, (roles_)                                                                  \
    }

#define GIVEN_USER_MAX_STEPS 128

/* Hashes for tables: c repeated 64 times, in a static ring of buffers (so
 * a few may be alive at once in one expression). */
static inline const char *HASH(char c)
{
    static char ring[8][65];
    static unsigned next;
    char *h = ring[next++ % 8];
    memset(h, c, 64);
    h[64] = '\0';
    return h;
}

static inline evt_event_t given_user_registered(void)
{
    evt_event_t e = {.type = EVT_USER_REGISTERED, .actor = "system"};
    e.u.user_registered.user_id = "u1";
    e.u.user_registered.email = "ann@example.com";
    e.u.user_registered.name = "Ann";
    e.u.user_registered.password_hash = "scrypt$16384$8$1$00112233$aabbccdd";
    e.u.user_registered.roles = EVT_ROLE_ATTENDEE;
    return e;
}

static inline evt_event_t given_user_event(ts_arena_t *a, const given_user_step_t *st)
{
    evt_event_t e = {.actor = "u1"};
    switch (st->op) {
    case 'F':
    case 'B':
    case 'U':
    case 'O':
        e.type = st->op == 'F'   ? EVT_LOGIN_FAILED
                 : st->op == 'B' ? EVT_USER_BLOCKED
                 : st->op == 'U' ? EVT_USER_UNBLOCKED
                                 : EVT_ROLES_CHANGED;
        e.u.user_note.user_id = "u1";
        e.u.user_note.at = GIVEN_T0 + st->at;
        e.u.user_note.roles = st->roles;
        break;
    case 'I':
    case 'R':
    case 'L':
        e.type = st->op == 'I'   ? EVT_REFRESH_ISSUED
                 : st->op == 'R' ? EVT_REFRESH_ROTATED
                                 : EVT_REFRESH_REVOKED;
        e.u.refresh_token.user_id = "u1";
        e.u.refresh_token.family_id = st->family;
        if (st->op != 'L') {
            e.u.refresh_token.token_hash = ts_arena_strdup(a, HASH(st->hash));
            e.u.refresh_token.expires_at = GIVEN_T0 + st->at + USER_REFRESH_TTL_MS;
        } else {
            e.u.refresh_token.reason = "logout";
        }
        break;
    default:
        fail_msg("unknown step '%c'", st->op);
    }
    return e;
}

/* u1 with this history (steps may be NULL). */
static inline cmd_user_state_t *given_user(const given_user_step_t *steps)
{
    ts_arena_t a;
    ts_arena_init(&a, 0);
    evt_event_t *events = ts_arena_alloc(&a, (1 + GIVEN_USER_MAX_STEPS) * sizeof(evt_event_t));
    uint32_t n = 0;
    events[n++] = given_user_registered();
    for (const given_user_step_t *st = steps; st && st->op; st++) {
        assert_true(n <= GIVEN_USER_MAX_STEPS);
        events[n++] = given_user_event(&a, st);
    }
    cmd_user_state_t *s = given_state(CMD_AGG_USER, events, n);
    ts_arena_deinit(&a); /* apply copies: the state must not borrow */
    return s;
}

#endif
