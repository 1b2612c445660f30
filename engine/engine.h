/*
 * engine — the write side: per-aggregate lanes over the event log.
 *
 * A command names its aggregate's subject (tix.<aggregate>.<id…>). The engine
 * keeps one lane per subject: the aggregate's state in memory, the stream
 * sequence of its last commit, its version and the hash of its last commit.
 * Commands for one lane are serialised; while a commit is in flight later
 * commands queue, and when it is acknowledged the queued ones are decided in
 * order against the new state and appended together as the next commit
 * (group commit). Different lanes run in parallel on a pool of workers.
 *
 * A commit is appended with Nats-Expected-Last-Subject-Sequence (another
 * writer won → the lane reloads from the stream and decides again) and
 * Nats-Msg-Id = SHA-256 of the payload (a retried publish is deduplicated by
 * the server). Only when JetStream acknowledges the commit is the command's
 * answer released: an answer always means "it is in the log".
 *
 * Snapshots live in LMDB (DATA/engine): per subject the state-format version,
 * last sequence, version, last hash and the encoded state. A missing, stale or
 * differently-versioned snapshot is repaired from the stream, so the LMDB
 * directory can be deleted at any time. LMDB also holds the idempotency table
 * (RULE-HOLD-5): stored answers by (actor, Idempotency-Key) for 24 h.
 *
 * Modes. `turnstile serve` opens the engine in ENG_MODE_SERVE: workers,
 * sweeper, LMDB, and the stream is created when missing. The command-line
 * tools that only read open it in ENG_MODE_LOG (the log alone: no LMDB, no
 * threads, nothing ever appended, and a missing stream is an error rather
 * than created) or ENG_MODE_MAINTAIN (the log read-only plus LMDB, for the
 * snapshot maintenance below). In those modes eng_execute and eng_read
 * refuse with TS_ERR_INVALID.
 *
 * Reading the log. eng_log_scan is one direct get per commit: cheap for a
 * page of a few commits and never leaves server state behind. eng_log_read
 * streams a whole range through an ordered push consumer, which is the fast
 * way to read everything (replay, audit verify, snapshot rebuild).
 *
 * Threading: every function here is thread-safe. eng_execute blocks the
 * calling thread until the command is decided and, if it produced events,
 * committed.
 */
#ifndef TS_ENGINE_H
#define TS_ENGINE_H

#include "base/base.h"
#include "commands/commands.h"
#include "events/events.h"

typedef struct eng eng_t;

typedef enum {
    ENG_MODE_SERVE = 0, /* the write side (the default) */
    ENG_MODE_LOG,       /* read the log only */
    ENG_MODE_MAINTAIN,  /* read the log, read and write LMDB snapshots */
} eng_mode_t;

typedef struct {
    eng_mode_t mode;
    const char *nats_url;  /* "nats://127.0.0.1:4222" */
    const char *stream;    /* "TICKETS" */
    const char *data_dir;  /* LMDB lives in data_dir/engine */
    int workers;           /* lanes decided in parallel; 0 → 16 */
    int snapshot_every;    /* commits between snapshots; 0 → 100 */
    int sweep_interval_ms; /* hold-expiry sweeper period; 0 → 500 */
} eng_config_t;

/* Connects to NATS and, by cfg->mode: SERVE creates the stream when missing,
 * opens LMDB and starts the workers and the sweeper; LOG only checks that the
 * stream exists; MAINTAIN checks the stream and opens LMDB. data_dir may be
 * NULL in LOG mode. Errors: TS_ERR_UNAVAILABLE (NATS), TS_ERR_NOT_FOUND (LOG
 * and MAINTAIN: no such stream), TS_ERR_LOG, TS_ERR_IO (LMDB). */
ts_status eng_open(const eng_config_t *cfg, eng_t **out);
/* Drains the lanes, writes snapshots, stops the threads. Accepts NULL. */
void eng_free(eng_t *e);

typedef enum {
    ENG_VENUE_CREATE = 0,
    ENG_EVENT_CREATE,
    ENG_EVENT_PUBLISH,
    ENG_INV_OPEN,
    ENG_INV_HOLD,
    ENG_INV_RELEASE,
    ENG_INV_EXPIRE,
    ENG_USER_REGISTER,
    ENG_CLAIM,
    ENG_USER_LOGIN,
    ENG_USER_REFRESH,
    ENG_USER_LOGOUT,
    ENG_USER_GRANT_ROLE,
    ENG_USER_BLOCK,
    /* issue 3, selling rules (append new types here, before ENG_CMD_COUNT) */
    ENG_EVENT_UPDATE,   /* event: PATCH (dep: the venue when tiers change) */
    ENG_PROMO_CREATE,   /* event: RULE-PROMO-1 */
    ENG_PROMO_USE,      /* event: reserve a use for a booking */
    ENG_PROMO_RELEASE,  /* event: give a booking's use back */
    ENG_QUOTA_TAKE,     /* quota: RULE-HOLD-4 */
    ENG_QUOTA_CONFIRM,  /* quota: the booking is sold */
    ENG_QUOTA_RETURN,   /* quota: the booking ended unsold */
    ENG_INV_RESCHEDULE, /* inventory: the event's times changed */
    ENG_INV_HOLD_BEST,  /* inventory: best available, picked in the lane */
    /* issue 3, payments and refunds (u.pay, u.webhook, u.booking_id,
     * u.cancel) */
    ENG_INV_PAYMENT_REQUEST, /* inv_payment_request_decide */
    ENG_INV_WEBHOOK,         /* inv_webhook_decide */
    ENG_INV_CANCEL_BOOKING,  /* inv_cancel_booking_decide */
    ENG_INV_CANCEL_ALL,      /* inv_cancel_all_decide */
    ENG_EVENT_CANCEL,        /* event_cancel_decide */
    ENG_WAIT_JOIN,           /* RULE-WL-1: u.wait on tix.wait.<event>.<tier> */
    ENG_WAIT_LEAVE,
    ENG_WAIT_OFFER,
    ENG_WAIT_LAPSE,
    ENG_WAIT_FULFIL,
    ENG_INV_CHECKIN,  /* RULE-TKT-2 */
    ENG_INV_TRANSFER, /* RULE-TKT-3 */
    ENG_WAIT_PASS,    /* RULE-WL-1: u.wait, an entry no offer can be made to */
    ENG_CMD_COUNT
} eng_cmd_type_t;

/* "venue_create", ... for logs and metrics. */
const char *eng_cmd_name(eng_cmd_type_t t);

typedef struct {
    eng_cmd_type_t type;
    const char *subject;
    const char *actor;
    int actor_is_admin;
    const char *command_id;     /* NULL → a random one */
    const char *correlation_id; /* NULL → the command id */
    const char *new_id;         /* the id a creating command assigns */
    /* Read-only state of another aggregate the decision needs (the venue
     * for event create/publish, the event for inventory open), as copied by
     * eng_read. */
    const void *dep;
    union {
        evt_venue_created_t venue;
        evt_event_created_t event;
        const char *ticket_key; /* ENG_EVENT_PUBLISH (RULE-TKT-1) */
        inv_hold_cmd_t hold;
        const char *booking_id;
        uint32_t expire_max;
        evt_user_registered_t user;
        struct {
            const char *kind;
            const char *owner;
        } claim;
        user_login_cmd_t login;
        user_refresh_cmd_t refresh; /* refresh, logout */
        uint32_t role;              /* grant role */
        struct {
            int blocked;
            const char *reason;
        } block;
        event_patch_t patch;
        evt_promo_t promo; /* ENG_PROMO_CREATE */
        struct {
            const char *code; /* NULL for a release */
            const char *booking_id;
            int force; /* count a sold booking past the window and max uses */
        } promo_use;
        struct {
            evt_quota_t q;         /* take: all; confirm: event, booking, user, quantity */
            uint32_t max_per_user; /* take: the event's policy */
            /* return with q.ticket_id (RULE-TKT-3, quota_ticket_return_decide):
             * 1 when the ticket was issued by its booking (version 1) */
            int ticket_issued;
        } quota;
        struct {
            int64_t starts_at, ends_at;
        } reschedule;
        struct {
            inv_hold_cmd_t hold; /* quantity, and the hold's v2 fields */
            int accessible;      /* 1: accessible seats only */
        } best;
        /* issue 3, payments and refunds */
        struct {
            const char *booking_id;
            const char *provider;
        } pay;
        inv_webhook_cmd_t webhook;
        struct {
            const char *reason;
            uint32_t max; /* ENG_INV_CANCEL_ALL: bookings per commit */
        } cancel;
        wait_cmd_t wait;
        inv_checkin_cmd_t checkin;
        struct {
            const char *ticket_id;
            const char *to_user_id;
        } transfer; /* the new ticket's id is new_id */
    } u;
} eng_cmd_t;

typedef struct {
    const cmd_reject_t *reject; /* non-NULL: rejected, nothing written */
    const char *ref;            /* what the answer names (booking id, ...) */
    uint64_t commit_seq;        /* the commit that recorded it; 0 if none */
    uint32_t n_events;          /* the events this command produced */
    const evt_event_t *events;
} eng_outcome_t;

/* Decides cmd on its lane and waits for the commit. Outcome memory comes
 * from arena and lives as long as it. Errors: TS_ERR_UNAVAILABLE or
 * TS_ERR_LOG (the log could not be reached; the command may be retried),
 * TS_ERR_INVALID (unknown subject, or not in SERVE mode), TS_ERR_SHUTDOWN. */
ts_status eng_execute(eng_t *e, const eng_cmd_t *cmd, ts_arena_t *arena, eng_outcome_t *out);

/* Two commands in sequence, as eng_execute(first) and then, only when first
 * succeeded without a rejection, eng_execute(then), except that the caller
 * sleeps once: the thread that commits first hands then to its own lane at
 * once (a hold after its quota, RULE-HOLD-4: the same order, two fewer
 * context switches). then is never decided before first is in the log.
 * *ran_then is 1 when then was run; first_out, then_out and arena as for
 * eng_execute (then_out is zeroed when then was not run). *first_seconds
 * (may be NULL) is the time from the call to first's answer. Errors: those
 * of eng_execute, first's when it failed, else then's; TS_ERR_INVALID also
 * when then names no aggregate of its kind. */
ts_status eng_execute_then(eng_t *e, const eng_cmd_t *first, const eng_cmd_t *then,
                           ts_arena_t *arena, eng_outcome_t *first_out, eng_outcome_t *then_out,
                           int *ran_then, double *first_seconds);

/* Runs fn on the committed state of subject's lane (loading it if needed)
 * with the lane held, so the state does not change during fn. fn must copy
 * what it keeps into its own memory. Errors: as eng_execute. */
ts_status eng_read(eng_t *e, const char *subject, void (*fn)(const void *state, void *arg),
                   void *arg);

/* Ids: prefix + 16 random hex digits, into the arena. */
const char *eng_new_id(ts_arena_t *a, const char *prefix);

/* ---- the log, for auditors ---- */

typedef struct {
    uint64_t seq;
    const char *subject;
    const void *data;
    size_t len;
    int64_t time; /* stream timestamp, ms */
} eng_log_msg_t;

/* Calls fn for each commit whose subject matches filter (wildcards allowed),
 * from stream sequence from_seq on, until fn returns non-zero or limit
 * commits were passed. Messages are valid during the call only. */
ts_status eng_log_scan(eng_t *e, const char *filter, uint64_t from_seq, uint32_t limit,
                       int (*fn)(const eng_log_msg_t *m, void *arg), void *arg);
/* Calls fn for each commit whose subject matches filter (wildcards allowed)
 * in stream order, from from_seq (0 → 1) to the stream's last sequence as of
 * the call, through an ordered push consumer; stops early when fn returns
 * non-zero. Commits appended during the read may or may not be passed.
 * m->time is the stream's timestamp. Messages are valid during the call
 * only. fn runs on the calling thread and may take its time: the server
 * pauses at its flow-control window meanwhile (nats.c buffers up to 256 MB
 * of commits). Errors: TS_ERR_UNAVAILABLE,
 * TS_ERR_LOG, TS_ERR_TIMEOUT (the server stopped delivering for 10 s). */
ts_status eng_log_read(eng_t *e, const char *filter, uint64_t from_seq,
                       int (*fn)(const eng_log_msg_t *m, void *arg), void *arg);
/* The stream's last sequence (for lag). */
ts_status eng_log_last_seq(eng_t *e, uint64_t *seq);
/* Calls fn(subject, commits) for every subject of the stream matching filter
 * (wildcards allowed), from the stream's info: how a saga finds every shard.
 * subject is valid during the call only. Errors: TS_ERR_UNAVAILABLE,
 * TS_ERR_LOG. */
ts_status eng_log_subjects(eng_t *e, const char *filter,
                           void (*fn)(const char *subject, uint64_t commits, void *arg), void *arg);

/* ---- bookings (bookings.c): quota and promo uses follow the booking ---- */

/* The quota aggregates of an event (RULE-HOLD-4) are ENG_QUOTA_BUCKETS
 * buckets of its users, so that group commit batches many users' quota takes
 * into one append. Few buckets batch best: a hold waits on its quota only
 * for one commit, so at any moment few holds are at that step, and with 16
 * buckets most quota commits carried one take (BENCHMARKS.md: 4 and 1 did
 * about equally well on 2 cores, 16 clearly worse); more than one keeps a
 * snapshot of one bucket from stalling every buyer of the event. The count
 * is part of where the log keeps a user's quota: changing it moves users to
 * other buckets and forgets what they hold, so it only changes with a
 * migration of the live quota. */
#define ENG_QUOTA_BUCKETS 4

/* tix.quota.<event_id>.<bucket> of user_id, in a: bucket = the first byte
 * of SHA-256(user_id) mod ENG_QUOTA_BUCKETS, in decimal (stable across
 * processes and releases). */
const char *eng_quota_subject(ts_arena_t *a, const char *event_id, const char *user_id);

/* Brings the quota (RULE-HOLD-4) and the promo use (RULE-PROMO-1) of one
 * booking in line with its status on its shard (shard_subject,
 * tix.inv.<event>.<section>): confirmed → QuotaConfirmed and the promo use
 * counted; released, expired, cancelled, refund due or refunded →
 * QuotaReturned and PromoReleased; still held or unknown → nothing. Every
 * step is a no-op when already done, so it may run any number of times, from
 * saga_bookings (sagas/bookings.c) or from a handler that wants it done at
 * once. Errors: those of
 * eng_read and eng_execute. */
ts_status eng_booking_settle(eng_t *e, const char *shard_subject, const char *booking_id);

/* RULE-TKT-3 with RULE-HOLD-4: brings the quota in line with the transfer
 * of ticket_id on its shard (shard_subject): the booking settled first
 * (eng_booking_settle), then the recipient's unit for the new ticket
 * confirmed (QuotaConfirmed with ticket_id, while the new ticket is valid
 * or used), then the old ticket's unit taken off its holder (QuotaReturned
 * with ticket_id: one unit of the booking when the booking issued it, else
 * the holder's own entry for it). Nothing when the ticket is not
 * transferred (unknown, or not yet). Every step is a no-op once done; run by
 * saga_bookings on TicketTransferred and by the transfer's handler.
 * Errors: those of eng_read and eng_execute. */
ts_status eng_transfer_settle(eng_t *e, const char *shard_subject, const char *ticket_id);

/* RULE-PROMO-1: a promo use (PromoUsed for booking_id at used_at, ms) whose
 * hold never reached its shard is given back (PromoReleased) once grace_ms
 * have passed since the use; a use whose booking exists is settled as
 * above; a use no longer in force needs nothing. *pending is set while the
 * booking may still appear (ask again later). Errors: those of eng_read and
 * eng_execute. */
ts_status eng_promo_use_check(eng_t *e, const char *event_id, const char *booking_id,
                              int64_t used_at, int64_t grace_ms, int *pending);

/* A durable consumer of the stream as JetStream reports it: projections
 * that keep their checkpoint outside PostgreSQL are judged by it. */
typedef struct {
    const char *name;     /* valid during the callback */
    uint64_t ack_floor;   /* stream sequence below which all is acked */
    uint64_t delivered;   /* stream sequence of the last delivery */
    uint64_t num_pending; /* messages not delivered yet */
} eng_consumer_t;

/* Calls fn for each durable consumer of the stream whose name starts with
 * prefix (in the server's order), from one listing (a request per 256
 * consumers). Errors: TS_ERR_UNAVAILABLE (NATS), TS_ERR_LOG. */
ts_status eng_log_consumers(eng_t *e, const char *prefix,
                            void (*fn)(const eng_consumer_t *c, void *arg), void *arg);

/* ---- snapshot maintenance (turnstile snapshots; MAINTAIN mode) ----
 *
 * A snapshot is a cache of the fold of its subject's commits up to its
 * last_seq (engine/store.c has the layout). These two functions check and
 * rebuild that cache from the log in one ordered pass. They are meant for
 * a data directory no `serve` is using: against a live serve they are still
 * safe (LMDB serialises the writers and any snapshot is repaired by
 * catch-up), but a rebuild then races serve's own snapshot writes and a
 * verify may see snapshots newer than the ones it listed. */

typedef struct {
    const char *subject; /* NULL when there is none */
    uint64_t last_seq;   /* the snapshot's (verify) */
    const char *reason;  /* a static string, see below */
} eng_snapshot_issue_t;

typedef struct {
    uint64_t snapshots;  /* verify: examined; rebuild: written */
    uint64_t commits;    /* commits folded */
    uint64_t matched;    /* verify: equal to the fold of the log */
    uint64_t mismatched; /* verify: not equal (see first_bad) */
    uint64_t stale;      /* of another state-format version; rebuild: replaced */
    uint64_t removed;    /* rebuild: snapshots of subjects with no commit */
    eng_snapshot_issue_t first_bad;
    eng_snapshot_issue_t first_stale;
} eng_snapshot_report_t;

/* Verifies every snapshot whose subject matches filter (NULL: all). Each
 * must equal the fold of its subject's commits up to its last_seq: the same
 * version, the same last_hash (SHA-256 of the commit at last_seq) and the
 * same encoded state bytes. Reasons of a mismatch: "corrupt_record" (the
 * LMDB value is too short), "unknown_subject" (not an aggregate subject),
 * "not_in_log" (last_seq is not a commit of the subject), "version",
 * "last_hash", "state". A snapshot of another state-format version is not
 * compared: it is counted in stale (reason "stale_format"), which is not a
 * mismatch, since the engine ignores it and rebuilds. first_bad and
 * first_stale are the first such snapshots in subject (LMDB key) order.
 * Strings live in arena. Errors: TS_ERR_INVALID (not MAINTAIN mode), those
 * of eng_log_read, TS_ERR_IO (LMDB). */
ts_status eng_snapshots_verify(eng_t *e, const char *filter, ts_arena_t *arena,
                               eng_snapshot_report_t *out);

/* Rebuilds the snapshot of every aggregate subject matching filter (NULL:
 * "tix.>") from the log: the fold of all its commits, written with the
 * code's state-format version. Snapshots matching filter whose subject has
 * no commit in the log are removed. Commits appended meanwhile are left to
 * the engine's catch-up. A state the codec refuses gets no snapshot (its old
 * one is removed) and is reported in first_bad with reason "encode_refused".
 * Errors: as eng_snapshots_verify. */
ts_status eng_snapshots_rebuild(eng_t *e, const char *filter, ts_arena_t *arena,
                                eng_snapshot_report_t *out);

/* ---- idempotency table (RULE-HOLD-5) ---- */

typedef struct {
    uint8_t request_hash[32];
    int status;       /* HTTP status of the stored answer */
    const char *body; /* the stored answer */
} eng_idem_t;

/* Looks up a stored answer younger than 24 h. body lives in arena.
 * Errors: TS_ERR_NOT_FOUND. */
ts_status eng_idem_get(eng_t *e, const char *key, ts_arena_t *arena, eng_idem_t *out);
ts_status eng_idem_put(eng_t *e, const char *key, const eng_idem_t *val);

/* ---- tickets (RULE-TKT-1): event keys and signed ticket codes ----
 *
 * Every published event has an Ed25519 key pair. The engine makes it at
 * publish (eng_ticket_key_ensure) and keeps the private key only in
 * DATA/keys/<event_id>.pem (PKCS#8 PEM; directory 0700, file 0600): it is
 * never in an event, a snapshot, an answer or a log line. The public key —
 * its 32 raw bytes in standard base64 with padding (44 characters) — goes
 * into EventPublished.ticket_key and is served by GET /events/{id}/keys.
 *
 * A ticket code is
 *
 *     base64url(payload) "." base64url(signature)       (RFC 4648 §5, no '=')
 *
 * where payload is compact JSON with exactly these keys, in this order:
 *
 *     {"fmt":1,"ticket":"tk-…","event":"ev…","seat":"A-1-1"|null,"version":1,
 *      "valid_from":<unix seconds>,"valid_until":<unix seconds>}
 *
 * and signature is the 64-byte Ed25519 (PureEdDSA, RFC 8032) signature of
 * the payload bytes. A gate verifies offline: split at the '.', decode both
 * halves, verify the signature over the decoded payload with the event's
 * public key, then read the payload (event, validity window). Ed25519 is
 * deterministic, so a ticket's code is the same every time it is made: codes
 * are computed when served and never stored. A transfer gives the new
 * ticket version + 1 (RULE-TKT-3); the old code still verifies but the
 * shard answers `revoked` and GET /events/{id}/revocations lists it.
 */

typedef struct {
    const char *ticket_id;
    const char *event_id;
    const char *seat; /* NULL: a standing (GA) unit */
    uint32_t version;
    int64_t valid_from; /* ms; whole seconds in the code */
    int64_t valid_until;
} eng_ticket_payload_t;

/* The public key of event_id (base64, into arena), making the key pair and
 * its file first when there is none. An existing file is used as it is, so
 * a publish that is retried keeps its key. Call it only for an event that
 * is not published yet: for a published one a new key would not be the
 * published key. Errors: TS_ERR_INVALID (bad id, not SERVE mode), TS_ERR_IO
 * (the file cannot be written), TS_ERR_CORRUPT (an unreadable key file). */
ts_status eng_ticket_key_ensure(eng_t *e, const char *event_id, ts_arena_t *arena,
                                const char **public_key);
/* Signs p with the private key of p->event_id into *code (arena). The key
 * file must exist and match public_key (the published one); it is never
 * made again here. Errors: TS_ERR_UNAVAILABLE (no such key file on this
 * machine, unreadable, or not the published key; logged on stderr),
 * TS_ERR_INVALID (bad ids, not SERVE mode), TS_ERR_IO (OpenSSL failed). */
ts_status eng_ticket_code_sign(eng_t *e, const eng_ticket_payload_t *p, const char *public_key,
                               ts_arena_t *arena, const char **code);
/* Verifies code with public_key (base64 as published) and only then reads
 * its payload into *out (strings in arena). Needs no engine and no key
 * file: what a gate does offline. Errors: TS_ERR_CORRUPT (not a code: bad
 * shape or base64url, bad payload), TS_ERR_AUTH (the signature does not
 * verify: a changed byte, another event's key), TS_ERR_INVALID (public_key
 * is not a base64 Ed25519 key). Thread-safe. */
ts_status eng_ticket_code_verify(const char *code, const char *public_key, ts_arena_t *arena,
                                 eng_ticket_payload_t *out);
/* Reads the payload of code WITHOUT verifying it: only to learn which
 * event's key to verify it with. Errors: TS_ERR_CORRUPT. */
ts_status eng_ticket_code_peek(const char *code, ts_arena_t *arena, eng_ticket_payload_t *out);

/* ---- health and metrics ---- */

/* TS_OK when JetStream and LMDB answer. */
ts_status eng_ready(eng_t *e);
/* Appends Prometheus text for the engine's counters and histograms. */
void eng_metrics_render(eng_t *e, ts_buf_t *out);
/* Records one answered command (for metrics). */
void eng_metrics_command(eng_t *e, eng_cmd_type_t t, const char *outcome, double seconds);

/* ---- users and sessions (RULE-AUTH-1, RULE-AUTH-2) ----
 *
 * Refresh tokens are "<user id>.<family id>.<64 hex random>": opaque to
 * clients, but they name the user's aggregate (tix.user.<id>) and the
 * session, so a refresh goes straight to its lane. Only the hex SHA-256 of a
 * token is ever written to the log. Passwords are checked with scrypt
 * outside the user's lane, then the outcome is decided in it. */

typedef struct {
    const char *user_id;
    const char *email;
    const char *name;
    uint32_t roles;
    int blocked; /* RULE-AUTH-2 */
} eng_user_t;

/* Claims the e-mail (case-insensitive) and registers the user with an
 * scrypt hash of password. Errors: TS_ERR_CONFLICT (e-mail taken),
 * TS_ERR_INVALID (bad e-mail, password under 10 characters). */
ts_status eng_user_create(eng_t *e, const char *email, const char *password, const char *name,
                          uint32_t roles, ts_arena_t *arena, eng_user_t *out, uint64_t *commit_seq);

typedef enum {
    ENG_AUTH_OK = 0,    /* a session: user and refresh_token are set */
    ENG_AUTH_REFUSED,   /* wrong e-mail/password, or an unknown/expired/revoked token */
    ENG_AUTH_LOCKED,    /* RULE-AUTH-1: locked until locked_until */
    ENG_AUTH_REUSED,    /* RULE-AUTH-1: a spent token; its whole family is revoked now */
    ENG_AUTH_FORBIDDEN, /* logout of another user's session */
} eng_auth_result_t;

typedef struct {
    eng_auth_result_t result;
    eng_user_t user;           /* OK: as the user's aggregate has it now */
    const char *refresh_token; /* OK: the new refresh token */
    int64_t locked_until;      /* LOCKED: ms since the epoch */
    uint64_t commit_seq;       /* the commit that recorded the outcome; 0 if none */
} eng_session_t;

/* Login (RULE-AUTH-1): a wrong password is recorded (LoginFailed; the 5th
 * locks the account for 15 minutes), a right one starts a session
 * (RefreshIssued). A locked account is answered without checking the
 * password. Unknown e-mails cost the same scrypt time as known ones.
 * Strings live in arena. Errors: those of eng_execute; the verdict is
 * out->result. */
ts_status eng_user_login(eng_t *e, const char *email, const char *password, ts_arena_t *arena,
                         eng_session_t *out);
/* Redeems a refresh token for its successor (RefreshRotated), or revokes
 * its family when it was already spent (ENG_AUTH_REUSED). A token that does
 * not parse is ENG_AUTH_REFUSED. Errors: those of eng_execute. */
ts_status eng_user_refresh(eng_t *e, const char *token, ts_arena_t *arena, eng_session_t *out);
/* Ends the session of token (RefreshRevoked "logout") for actor, who must
 * be its user unless actor_is_admin (else ENG_AUTH_FORBIDDEN). An already
 * ended session is ENG_AUTH_OK with commit_seq 0; a token that does not
 * parse, or is not one of its session's, is ENG_AUTH_REFUSED. */
ts_status eng_user_logout(eng_t *e, const char *actor, int actor_is_admin, const char *token,
                          ts_arena_t *arena, eng_session_t *out);
/* Splits a refresh token into user and family ids (in arena); -1 when it
 * is not one. */
int eng_refresh_token_parse(ts_arena_t *arena, const char *token, const char **user_id,
                            const char **family_id);
/* Loads a user by id. Errors: TS_ERR_NOT_FOUND. */
ts_status eng_user_get(eng_t *e, const char *user_id, ts_arena_t *arena, eng_user_t *out);
/* Finds the registered user of an e-mail address (case-insensitive, through
 * its unique claim). Strings live in arena. Errors: TS_ERR_NOT_FOUND. */
ts_status eng_user_find_email(eng_t *e, const char *email, ts_arena_t *arena, eng_user_t *out);

#endif
