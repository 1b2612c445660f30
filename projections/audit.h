/*
 * audit — the audit projector: the event log shipped to Grafana Loki, one
 * log line per event, personal data masked (DESIGN.md "Audit").
 *
 * What it is for. Auditors search the log in Loki next to everything else
 * the operators collect. `turnstile project --projection audit` runs
 * proj_audit_run: a durable JetStream pull consumer ("proj_audit" on stream
 * TICKETS) whose batches are pushed to LOKI_URL/loki/api/v1/push, or, when
 * no Loki URL is given, appended to a file that Promtail (or Grafana Agent)
 * tails (ops/promtail-audit.yaml).
 *
 * One entry per event. Labels, and nothing else, so that the number of
 * streams stays small whatever the traffic:
 *   app         "turnstile"
 *   aggregate   the second token of the commit's subject: venue, event,
 *               inv, user, claim (and whatever kinds come later)
 *   event_type  the event's type name ("HoldPlaced"; "Undecodable" for a
 *               commit this binary cannot decode, which is still shipped:
 *               an auditor must see that it is there)
 * The timestamp is the commit's time in ns (ms x 1,000,000) plus the
 * event's index in the commit, so the events of one commit stay distinct
 * and in order. The line is a compact JSON object, keys in this order:
 *   {"seq": <stream sequence of the commit>, "subject": "tix.inv.E1.A",
 *    "aggregate": "inv", "id": "E1.A" (the subject after tix.<aggregate>.),
 *    "version": <the commit's version on its subject>, "time": RFC 3339,
 *    "actor", "command_id" (the event's own in a group commit, else the
 *    commit's), "correlation_id", "hash" (SHA-256 of the commit as stored),
 *    "prev_hash" (the hash chain, replay.h), "index": <event index in the
 *    commit, from 0>, "n_events": <events in the commit>, "type", "data"}
 * where type and data are those of GET /audit/events (events/codec.h), then
 * masked. An undecodable commit gives one line {seq, subject, aggregate, id,
 * hash, "error": "undecodable"} at the stream's timestamp of the message.
 *
 * Masking (personal data never leaves in clear). The value of each of
 * these keys, at any depth of data, is replaced by "<key>_hash": the
 * lowercase hex HMAC-SHA256 of the value under the audit key, at the same
 * place in the object (an array of strings gives an array of hashes; null
 * or an object gives null; a boolean or a number, such as a flag
 * email_verified, stays as it is under its own key):
 *   - e-mail addresses: every key containing "email" (email, to_email,
 *     email_address, emails...), lower-cased (ASCII) first, as e-mail is
 *     case-insensitive (RULE-AUTH-1), so one address gives one hash
 *     wherever it appears;
 *   - phone numbers: every key containing "phone";
 *   - person names: "name" and "*_name" in the events of a user aggregate
 *     (a venue's or a section's name is not personal), and everywhere
 *     full_name, first_name, last_name, display_name, holder_name,
 *     attendee_name, recipient_name, customer_name.
 * Keys containing "password" or "secret" are dropped altogether (the codec
 * never writes them; this is a second fence). The value of a unique claim
 * (tix.claim.<kind>.<value>, e.g. the SHA-256 of an e-mail, which a
 * dictionary reverses) is replaced in subject and id by its keyed hash.
 * The rules go by field name, not by event type, so event types added
 * later are masked without a change here. The key is TURNSTILE_AUDIT_KEY
 * (its bytes as given) or else the content of <data>/audit/mask.key, 64 hex
 * digits generated once, mode 0600: with the key an auditor can compute the
 * hash of a known address and search for it; without it the hash says
 * nothing. Lines made with another key differ, so keep the key.
 *
 * Push (LOKI_URL set). A batch of up to `batch` events (whole commits; a
 * larger commit goes alone) is one POST of Loki's JSON push format,
 * Content-Type application/json:
 *   {"streams": [{"stream": {"app": .., "aggregate": .., "event_type": ..},
 *                 "values": [["<ns>", "<line>"], ...]}, ...]}
 * one stream per distinct label set, in the order of their first event in
 * the batch; values in ascending timestamp order within a stream (the log's
 * order where timestamps tie). Commit times follow the log's order only
 * roughly (engines append in parallel), so a later batch may hold older
 * timestamps: Loki accepts that within its out-of-order window (the
 * default since Loki 2.4). Any answer but 2xx, and any connection
 * error, is retried with the same body after 250 ms, doubling up to 10 s,
 * until it succeeds or the process is stopped: a 4xx other than 429 is
 * logged loudly on every attempt but retried all the same, because dropping
 * audit records is worse than stalling (fix the cause, e.g. Loki's
 * reject_old_samples, and the projector goes on by itself).
 *
 * File (no LOKI_URL). The same entries are appended to <data>/audit/audit.log,
 * one JSON object per line:
 *   {"ts": "<ns>", "app": "turnstile", "aggregate": .., "event_type": ..,
 *    "line": "<the line above, as a string>"}
 * and fsynced before the checkpoint moves. The file is opened for each
 * batch, so a rotation by rename is picked up. A torn last line (a crash in
 * the middle of a write) is cut at start-up.
 *
 * The checkpoint (at-least-once). <data>/audit/checkpoint holds the stream
 * sequence of the last commit shipped (decimal, one line). It is written
 * (temporary file, fsync, rename, fsync of the directory) after each
 * successful push or append and BEFORE the messages are acked; at start the
 * durable is recreated at checkpoint + 1, and a message at or below it is
 * skipped. So a crash between a push and its checkpoint sends that batch
 * again, and nothing else. The entries are deterministic (same key, same
 * bytes), so Loki drops the repeated ones (same stream, timestamp and line).
 * Only one audit projector per data directory ships at a time: it holds an
 * flock on <data>/audit/lock; a second one waits as a standby.
 *
 * Threading. proj_audit_run blocks the calling thread until *stop and logs
 * to stderr ("proj: audit: ...").
 */
#ifndef TS_AUDIT_H
#define TS_AUDIT_H

#include "base/base.h"

/* Its JetStream durable, and the directory under the data dir. */
#define PROJ_AUDIT "audit"
#define PROJ_AUDIT_DURABLE "proj_audit"

typedef struct {
    const char *nats_url; /* e.g. "nats://127.0.0.1:4222" */
    const char *stream;   /* "TICKETS" when NULL */
    const char *data_dir; /* <data_dir>/audit holds checkpoint, mask.key, lock, audit.log */
    const char *loki_url; /* e.g. "http://127.0.0.1:3100"; NULL or "": the file */
    const char *mask_key; /* TURNSTILE_AUDIT_KEY; NULL or "": <data>/audit/mask.key */
    int batch;            /* events per push (whole commits); 0 picks 500 */
    volatile int *stop;   /* set non-zero (e.g. from a signal) to stop */
} proj_audit_config_t;

/* Ships the stream until *stop becomes non-zero, reconnecting to NATS on
 * errors and waiting (logging once) while the stream does not exist yet or
 * another audit projector holds the data directory. Returns TS_OK after a
 * stop; TS_ERR_INVALID for a bad config; TS_ERR_IO when the audit directory
 * or the key cannot be made, TS_ERR_CORRUPT when the checkpoint or key file
 * is unreadable (logged: an operator must look). */
ts_status proj_audit_run(const proj_audit_config_t *cfg);

#endif
