/*
 * Tickets and gates (RULE-TKT-1..3): GET /tickets/{id}, its QR code, the
 * transfer, POST /checkin, and an event's public keys and revocations.
 *
 * A ticket id names its shard: "tk-<event>-<section>-<random>". Tickets
 * are read from the shard's committed state in the engine (eng_read), not
 * from a read model: a gate or a holder who just transferred must see the
 * truth of the log at once, and a ticket is one lookup in that state.
 *
 * Codes are signed when served with the event's private key, which only
 * the engine's data directory holds (engine.h, "tickets"). A code is
 * handed out only while it can admit someone: for a valid or used ticket.
 */
#include "api/api_int.h"
#include "events/codec.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

static int ticket_shard(api_req_t *r, const char *id, const char **event, const char **section)
{
    return api_shard_of_id(r, id, "tk-", event, section);
}

/* ---- reading a ticket from its shard ---- */

typedef struct {
    ts_arena_t *arena;
    const char *ticket_id;
    int found;
    evt_ticket_t t;
    inv_ticket_status_t status;
    const char *tier;
    const char *event_id;
    int64_t valid_from, valid_until;
    const char *booking_id; /* the booking that issued it (or its first ticket) */
    uint32_t max_per_user;  /* RULE-HOLD-4, as the shard was opened with */
} ticket_view_t;

static void copy_ticket(const void *state, void *arg)
{
    const inv_state_t *s = state;
    ticket_view_t *v = arg;
    const inv_ticket_t *t = inv_ticket_find(s, v->ticket_id);
    if (!t)
        return;
    ts_arena_t *a = v->arena;
    v->found = 1;
    v->t.ticket_id = ts_arena_strdup(a, t->t.ticket_id);
    v->t.seat = ts_arena_strdup(a, t->t.seat);
    v->t.holder_id = ts_arena_strdup(a, t->t.holder_id);
    v->t.version = t->t.version;
    v->status = t->status;
    v->tier = ts_arena_strdup(a, s->info.tier_key);
    v->event_id = ts_arena_strdup(a, s->info.event_id);
    /* RULE-TKT-1: the code is valid from the sale until the event ends
     * (start + 24 h when no end is known). */
    const inv_booking_t *b =
        t->booking >= 0 && (uint32_t)t->booking < s->n_bookings ? &s->bookings[t->booking] : NULL;
    v->valid_from = b ? b->confirmed_at : 0;
    v->valid_until = s->info.ends_at ? s->info.ends_at : s->info.starts_at + DAY_MS;
    v->booking_id = b ? ts_arena_strdup(a, b->hold.booking_id) : NULL;
    v->max_per_user = s->info.max_per_user;
}

/* Loads ticket id into *v; replies (404, 5xx) and returns -1 when it cannot. */
static int load_ticket(api_req_t *r, const char *id, ticket_view_t *v, const char **subject)
{
    const char *event, *section;
    if (ticket_shard(r, id, &event, &section) != 0) {
        api_problem(r, 404, "not_found", "no such ticket", NULL);
        return -1;
    }
    *v = (ticket_view_t){.arena = &r->arena, .ticket_id = id};
    *subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event, section);
    ts_status st = eng_read(r->srv->cfg.engine, *subject, copy_ticket, v);
    if (st != TS_OK) {
        api_reply_status(r, st);
        return -1;
    }
    if (!v->found) {
        api_problem(r, 404, "not_found", "no such ticket", NULL);
        return -1;
    }
    return 0;
}

/* The holder or an admin; replies 403 and returns -1 otherwise. */
static int holder_or_admin(api_req_t *r, const ticket_view_t *v)
{
    if (api_owner_or_admin(r, v->t.holder_id))
        return 0;
    api_problem(r, 403, "forbidden", "not your ticket", NULL);
    return -1;
}

typedef struct {
    ts_arena_t *arena;
    int exists, published;
    const char *key;
} event_key_t;

static void copy_event_key(const void *state, void *arg)
{
    const cmd_event_state_t *s = state;
    event_key_t *k = arg;
    k->exists = s->exists;
    /* A cancelled event keeps its key: its codes still verify, and the
     * shards answer revoked. */
    k->published = s->exists && s->status != CMD_EVENT_DRAFT;
    k->key = ts_arena_strdup(k->arena, s->published.ticket_key);
}

/* The published public key of an event (NULL when it has none). */
static ts_status event_key(api_req_t *r, const char *event_id, event_key_t *k)
{
    *k = (event_key_t){.arena = &r->arena};
    if (!ts_id_valid(event_id))
        return TS_OK;
    return eng_read(r->srv->cfg.engine, ts_arena_printf(&r->arena, "tix.event.%s", event_id),
                    copy_event_key, k);
}

static int has_code(const ticket_view_t *v)
{
    return v->status == INV_TICKET_VALID || v->status == INV_TICKET_USED;
}

/* Signs the code of v; replies and returns NULL when it cannot (503 when
 * this machine does not hold the event's key). */
static const char *sign_code(api_req_t *r, const ticket_view_t *v)
{
    event_key_t k;
    ts_status st = event_key(r, v->event_id, &k);
    if (st == TS_OK && !k.key)
        st = TS_ERR_UNAVAILABLE; /* published before keys existed */
    const char *code = NULL;
    if (st == TS_OK) {
        eng_ticket_payload_t p = {.ticket_id = v->t.ticket_id,
                                  .event_id = v->event_id,
                                  .seat = v->t.seat,
                                  .version = v->t.version,
                                  .valid_from = v->valid_from,
                                  .valid_until = v->valid_until};
        st = eng_ticket_code_sign(r->srv->cfg.engine, &p, k.key, &r->arena, &code);
    }
    if (st != TS_OK) {
        api_reply_status(r, st == TS_ERR_INVALID || st == TS_ERR_IO ? TS_ERR_UNAVAILABLE : st);
        return NULL;
    }
    return code;
}

void api_h_ticket_get(api_req_t *r)
{
    ticket_view_t v;
    const char *subject;
    if (api_authenticate(r) != 0 || load_ticket(r, r->params[0], &v, &subject) != 0 ||
        holder_or_admin(r, &v) != 0)
        return;
    const char *code = NULL;
    if (has_code(&v) && !(code = sign_code(r, &v)))
        return;
    api_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:o, s:s, s:s, s:I, s:s, s:o}", "ticket_id", v.t.ticket_id,
                             "event_id", v.event_id, "seat",
                             v.t.seat ? json_string(v.t.seat) : json_null(), "tier", v.tier,
                             "status", inv_ticket_status_name(&(inv_ticket_t){.status = v.status}),
                             "version", (json_int_t)v.t.version, "holder_id", v.t.holder_id, "code",
                             code ? json_string(code) : json_null()));
}

/* GET /users/me/tickets: from the read model (?min_seq= reads one's writes). */
void api_h_my_tickets(api_req_t *r)
{
    api_reply_user_list(r, proj_user_tickets);
}

/* ---- the QR code as SVG ---- */

#define QR_QUIET 4 /* modules of white border the QR standard asks for */
#define QR_SCALE 4 /* pixels per module in width/height */

/* Draws the modules of q as SVG: one rect per horizontal run of dark
 * modules. The QR symbol itself comes from libqrencode. */
static char *qr_svg(const QRcode *q)
{
    int size = q->width + 2 * QR_QUIET;
    ts_buf_t b;
    ts_buf_init(&b);
    char line[512];
    int n = snprintf(line, sizeof(line),
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                     "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                     "shape-rendering=\"crispEdges\">\n",
                     size * QR_SCALE, size * QR_SCALE, size, size);
    ts_buf_append(&b, line, (size_t)n);
    n = snprintf(line, sizeof(line), "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", size,
                 size);
    ts_buf_append(&b, line, (size_t)n);
    for (int y = 0; y < q->width; y++) {
        const unsigned char *row = q->data + (size_t)y * (size_t)q->width;
        for (int x = 0; x < q->width;) {
            if (!(row[x] & 1)) {
                x++;
                continue;
            }
            int start = x;
            while (x < q->width && (row[x] & 1))
                x++;
            n = snprintf(line, sizeof(line),
                         "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"1\" fill=\"#000000\"/>\n",
                         start + QR_QUIET, y + QR_QUIET, x - start);
            ts_buf_append(&b, line, (size_t)n);
        }
    }
    ts_buf_append(&b, "</svg>\n", 8); /* with the NUL */
    return (char *)b.data;
}

void api_h_ticket_qr(api_req_t *r)
{
    ticket_view_t v;
    const char *subject;
    if (api_authenticate(r) != 0 || load_ticket(r, r->params[0], &v, &subject) != 0 ||
        holder_or_admin(r, &v) != 0)
        return;
    if (!has_code(&v))
        return api_problem(r, 409, "conflict", "the ticket was transferred or cancelled: no code",
                           NULL);
    const char *code = sign_code(r, &v);
    if (!code)
        return;
    /* 8-bit mode: the code's characters are plain ASCII; level M survives
     * a little damage on a printed or cracked-screen code. */
    QRcode *q = QRcode_encodeString(code, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return api_reply_status(r, TS_ERR_NOMEM);
    char *svg = qr_svg(q);
    QRcode_free(q);
    free(r->out);
    r->out = svg;
    r->status = 200;
    r->out_type = "image/svg+xml";
}

/* ---- POST /tickets/{id}/transfer (RULE-TKT-3) ----
 *
 * A transfer moves a sold unit to the recipient, whose cap must count it
 * (RULE-HOLD-4: active holds plus confirmed tickets never exceed
 * max_per_user, however the tickets came; else a transfer would be the way
 * around the cap). Three aggregates, in the order of the hold flow
 * (holds_flow.c):
 *
 *   1. the shard's decision, dry run on its committed state, so that a
 *      transfer it refuses (not the holder, used, closed) answers as it
 *      always did and takes no quota;
 *   2. QuotaTaken for the new ticket on the recipient's bucket
 *      (limit_exceeded, 422 with the limit, when the recipient is at the
 *      cap), reserved for API_TRANSFER_QUOTA_MS;
 *   3. TicketTransferred on the shard; refused after all (a race), the
 *      reservation goes back at once.
 *
 * Then eng_transfer_settle confirms the recipient's unit and takes the old
 * ticket's off the sender, who may buy again. saga_bookings does the same
 * on the TicketTransferred, so a crash after step 3 loses nothing; one
 * between 2 and 3 costs the recipient the reservation until it lapses. */

/* How long the recipient's quota is reserved before the transfer settles
 * it: far longer than steps 2 and 3 take, short enough that a crash
 * between them costs the recipient little. */
#define API_TRANSFER_QUOTA_MS (10 * 60 * 1000)

typedef struct {
    const char *ticket_id, *to_user_id;
    const cmd_ctx_t *ctx; /* the new ticket's id is ctx->new_id */
    cmd_reject_t reject;
    int refused;
} transfer_dry_t;

/* What the shard would decide now, without changing it. */
static void transfer_dry_run(const void *state, void *arg)
{
    transfer_dry_t *d = arg;
    cmd_result_t *out = ts_arena_alloc(d->ctx->arena, sizeof(*out));
    memset(out, 0, sizeof(*out));
    inv_transfer_decide(state, d->ticket_id, d->to_user_id, d->ctx, out);
    d->refused = out->reject != NULL;
    if (out->reject)
        d->reject = *out->reject; /* strings in the request arena or static */
}

/* RULE-HOLD-4: the recipient's quota for the new ticket (take, or return
 * when the transfer did not happen). */
static ts_status transfer_quota(api_req_t *r, eng_cmd_type_t type, const ticket_view_t *v,
                                const char *to_user_id, const char *new_ticket, uint32_t max,
                                eng_outcome_t *o)
{
    eng_cmd_t q = {.type = type};
    q.subject = eng_quota_subject(&r->arena, v->event_id, to_user_id);
    q.u.quota.q.event_id = v->event_id;
    q.u.quota.q.booking_id = v->booking_id;
    q.u.quota.q.ticket_id = new_ticket;
    q.u.quota.q.user_id = to_user_id;
    q.u.quota.q.quantity = 1;
    q.u.quota.q.expires_at = api__now_ms() + API_TRANSFER_QUOTA_MS;
    q.u.quota.max_per_user = max;
    q.u.quota.ticket_issued = 0; /* a return gives back the new ticket's own entry */
    q.command_id = ts_arena_printf(&r->arena, "xfer-%s-%s", type == ENG_QUOTA_TAKE ? "in" : "back",
                                   new_ticket);
    return api_execute_raw(r, &q, o);
}

void api_h_ticket_transfer(api_req_t *r)
{
    if (api_authenticate(r) != 0)
        return;
    const char *event, *section, *subject;
    ticket_view_t v;
    /* The holder first, so nobody else learns which e-mails are registered. */
    if (load_ticket(r, r->params[0], &v, &subject) != 0 || holder_or_admin(r, &v) != 0)
        return;
    if (ticket_shard(r, r->params[0], &event, &section) != 0)
        return api_problem(r, 404, "not_found", "no such ticket", NULL);
    json_t *j = api_body_json(r);
    if (!j)
        return;
    const char *to = json_string_value(json_object_get(j, "to_email"));
    to = to ? ts_arena_strdup(&r->arena, to) : NULL;
    json_decref(j);
    if (!to || !*to)
        return api_problem_validation(r, "to_email", "the recipient's e-mail address (a string)");
    eng_user_t recipient;
    ts_status st = eng_user_find_email(r->srv->cfg.engine, to, &r->arena, &recipient);
    if (st == TS_ERR_NOT_FOUND)
        return api_problem(r, 404, "not_found", "no registered user has this e-mail address", NULL);
    if (st != TS_OK)
        return api_reply_status(r, st);
    eng_cmd_t cmd = {.type = ENG_INV_TRANSFER};
    cmd.subject = subject;
    cmd.new_id =
        ts_arena_printf(&r->arena, "tk-%s-%s-%s", event, section, eng_new_id(&r->arena, ""));
    cmd.u.transfer.ticket_id = r->params[0];
    cmd.u.transfer.to_user_id = recipient.user_id;

    /* 1. The shard's refusals first, as they always were. */
    cmd_ctx_t ctx = {.now = api__now_ms(),
                     .actor = r->user_id,
                     .actor_is_admin = (r->roles & EVT_ROLE_ADMIN) != 0,
                     .command_id = "dry-run",
                     .new_id = cmd.new_id,
                     .arena = &r->arena};
    transfer_dry_t d = {.ticket_id = r->params[0], .to_user_id = recipient.user_id, .ctx = &ctx};
    if ((st = eng_read(r->srv->cfg.engine, subject, transfer_dry_run, &d)) != TS_OK)
        return api_reply_status(r, st);
    if (d.refused)
        return api_reply_reject(r, &d.reject);

    /* 2. RULE-HOLD-4: the recipient's cap counts the ticket. max_per_user
     * is the event's policy, frozen at publish and copied to the shard. */
    uint32_t max = v.max_per_user;
    const cmd_event_state_t *ev = max ? NULL : api__published_event(r, v.event_id);
    if (ev)
        max = ev->ev.policy.max_per_user;
    eng_outcome_t qo, o;
    if ((st = transfer_quota(r, ENG_QUOTA_TAKE, &v, recipient.user_id, cmd.new_id, max, &qo)) !=
        TS_OK)
        return api_reply_status(r, st);
    if (qo.reject)
        return api_reply_reject(r, qo.reject);

    /* 3. The transfer. Refused after all: the reservation goes back. Not
     * answered (the log unreachable): it is left to lapse, since the
     * transfer may be in the log, and then the saga confirms it. */
    if ((st = api_execute_raw(r, &cmd, &o)) != TS_OK)
        return api_reply_status(r, st);
    if (o.reject) {
        eng_outcome_t back;
        if (transfer_quota(r, ENG_QUOTA_RETURN, &v, recipient.user_id, cmd.new_id, max, &back) !=
            TS_OK)
            fprintf(stderr, "api: returning the quota of %s failed\n", cmd.new_id);
        return api_reply_reject(r, o.reject);
    }
    /* The recipient's unit confirmed, the sender's freed, before the answer
     * (the saga would do it a moment later: a sender buying again at once
     * must not be refused). */
    if (eng_transfer_settle(r->srv->cfg.engine, subject, r->params[0]) != TS_OK)
        fprintf(stderr, "api: settling the quota of the transfer of %s failed\n", r->params[0]);
    const char *new_id = o.ref ? o.ref : cmd.new_id;
    for (uint32_t i = 0; i < o.n_events; i++)
        if (o.events[i].type == EVT_TICKET_TRANSFERRED)
            new_id = o.events[i].u.ticket_transferred.new_ticket_id;
    api_reply_json(r, 200,
                   json_pack("{s:s, s:s, s:I}", "ticket_id", new_id, "previous_ticket_id",
                             r->params[0], "commit_seq", (json_int_t)o.commit_seq));
}

/* ---- POST /checkin (RULE-TKT-2) ---- */

typedef struct {
    const inv_checkin_cmd_t *cmd;
    int64_t now;
    int found;
    inv_checkin_result_t result;
    int64_t first_at;
    const char *first_gate;
    ts_arena_t *arena;
} checkin_view_t;

/* What the shard answers this scan now, without changing it: the decision
 * run again on the committed state. After a commit that admitted nobody
 * (a rescan, a retry, a revoked code) it names the first scan. */
static void classify(const void *state, void *arg)
{
    checkin_view_t *c = arg;
    ts_arena_t scratch;
    ts_arena_init(&scratch, 4096);
    cmd_result_t *out = ts_arena_alloc(&scratch, sizeof(*out));
    cmd_ctx_t ctx = {.now = c->now, .actor = "system", .arena = &scratch};
    const inv_ticket_t *first = NULL;
    c->found = inv_ticket_find(state, c->cmd->ticket_id) != NULL;
    inv_checkin_decide(state, c->cmd, &ctx, out, &c->result, &first);
    if (out->reject)
        c->result = INV_CHECKIN_INVALID;
    if (first && first->checked_in_at) {
        c->first_at = first->checked_in_at;
        c->first_gate = ts_arena_strdup(c->arena, first->gate);
    }
    ts_arena_deinit(&scratch);
}

static const char *checkin_result_name(inv_checkin_result_t res)
{
    switch (res) {
    case INV_CHECKIN_ADMITTED:
        return "admitted";
    case INV_CHECKIN_ALREADY_USED:
        return "already_used";
    case INV_CHECKIN_REVOKED:
        return "revoked";
    case INV_CHECKIN_INVALID:
        break;
    }
    return "invalid";
}

static void reply_checkin(api_req_t *r, const char *result, const char *ticket_id,
                          const char *reason, int64_t first_at, const char *first_gate,
                          uint64_t commit_seq)
{
    json_t *j = json_pack("{s:s}", "result", result);
    if (ticket_id)
        json_object_set_new(j, "ticket_id", json_string(ticket_id));
    if (reason)
        json_object_set_new(j, "reason", json_string(reason));
    if (first_at) {
        char at[32];
        ts_time_format(first_at, at);
        json_object_set_new(j, "first_scan",
                            json_pack("{s:s, s:s?}", "at", at, "gate", first_gate));
    }
    if (commit_seq)
        json_object_set_new(j, "commit_seq", json_integer((json_int_t)commit_seq));
    api_reply_json(r, 200, j);
}

static int text_field(api_req_t *r, json_t *j, const char *name, size_t max, int required,
                      const char **out)
{
    json_t *v = json_object_get(j, name);
    *out = NULL;
    if (!v && !required)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
        api_problem_validation(r, name,
                               ts_arena_printf(&r->arena, "a string of 1..%zu characters", max));
        return -1;
    }
    *out = ts_arena_strdup(&r->arena, json_string_value(v));
    return 0;
}

void api_h_checkin(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_BOX_OFFICE) != 0)
        return;
    json_t *j = api_body_json(r);
    if (!j)
        return;
    const char *code, *gate, *nonce, *want_event;
    int bad = text_field(r, j, "code", 2048, 1, &code) || text_field(r, j, "gate", 64, 1, &gate) ||
              text_field(r, j, "nonce", 128, 1, &nonce) ||
              text_field(r, j, "event_id", 64, 0, &want_event);
    json_decref(j);
    if (bad)
        return;
    /* The code names its event; only its signature with that event's
     * published key makes the rest of it believable (RULE-TKT-1). */
    eng_ticket_payload_t p;
    if (eng_ticket_code_peek(code, &r->arena, &p) != TS_OK)
        return reply_checkin(r, "invalid", NULL, "malformed", 0, NULL, 0);
    event_key_t k;
    ts_status st = event_key(r, p.event_id, &k);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (!k.key || eng_ticket_code_verify(code, k.key, &r->arena, &p) != TS_OK)
        return reply_checkin(r, "invalid", NULL, "signature", 0, NULL, 0);
    if (want_event && strcmp(want_event, p.event_id) != 0)
        return reply_checkin(r, "wrong_event", p.ticket_id, NULL, 0, NULL, 0);
    int64_t now = api__now_ms();
    if (now < p.valid_from || now > p.valid_until)
        return reply_checkin(r, "invalid", p.ticket_id, "outside_valid_window", 0, NULL, 0);
    const char *event, *section;
    if (ticket_shard(r, p.ticket_id, &event, &section) != 0 || strcmp(event, p.event_id) != 0)
        return reply_checkin(r, "invalid", p.ticket_id, "unknown_ticket", 0, NULL, 0);

    eng_cmd_t cmd = {.type = ENG_INV_CHECKIN};
    cmd.subject = ts_arena_printf(&r->arena, "tix.inv.%s.%s", event, section);
    cmd.u.checkin = (inv_checkin_cmd_t){
        .ticket_id = p.ticket_id, .version = p.version, .gate = gate, .nonce = nonce};
    eng_outcome_t o;
    st = api_execute_raw(r, &cmd, &o);
    if (st != TS_OK)
        return api_reply_status(r, st);
    for (uint32_t i = 0; i < o.n_events; i++)
        if (o.events[i].type == EVT_TICKET_CHECKED_IN &&
            strcmp(o.events[i].u.ticket_checked_in.ticket_id, p.ticket_id) == 0)
            return reply_checkin(r, "admitted", p.ticket_id, NULL,
                                 o.events[i].u.ticket_checked_in.at,
                                 o.events[i].u.ticket_checked_in.gate, o.commit_seq);
    /* Nobody was admitted by this scan: ask the committed state why. */
    checkin_view_t c = {.cmd = &cmd.u.checkin, .now = now, .arena = &r->arena};
    st = eng_read(r->srv->cfg.engine, cmd.subject, classify, &c);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (!c.found)
        return reply_checkin(r, "invalid", p.ticket_id, "unknown_ticket", 0, NULL, 0);
    if (c.result == INV_CHECKIN_ADMITTED && c.first_at == 0)
        /* The state says this scan would admit, yet the commit did not:
         * only a concurrent change can do that; let the scanner retry. */
        return api_reply_status(r, TS_ERR_UNAVAILABLE);
    reply_checkin(r, checkin_result_name(c.result), p.ticket_id, NULL, c.first_at, c.first_gate, 0);
}

/* ---- GET /events/{id}/keys (RULE-TKT-1: gates verify offline) ---- */

void api_h_event_keys(api_req_t *r)
{
    /* Anyone may ask: the read model answers for ids that name no event,
     * so unknown ids cost the engine nothing (?min_seq= waits for it). */
    if (api_wait_min_seq(r) != 0)
        return;
    json_t *ev = NULL;
    ts_status st = ts_id_valid(r->params[0]) ? proj_event_get(r->srv->cfg.db, r->params[0], &ev)
                                             : TS_ERR_NOT_FOUND;
    json_decref(ev);
    if (st != TS_OK)
        return api_reply_status(r, st);
    event_key_t k;
    st = event_key(r, r->params[0], &k);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (!k.published || !k.key)
        return api_problem(r, 404, "not_found", "no published event with a ticket key", NULL);
    api_reply_json(r, 200, json_pack("{s:[s]}", "ed25519", k.key));
}

/* ---- GET /events/{id}/revocations?since_seq=N ----
 *
 * The codes that stopped admitting anyone in commits after stream sequence
 * N, read from the log of the event's shards (tix.inv.<event>.*): the old
 * ticket of every TicketTransferred, and the cancelled tickets of every
 * BookingCancelled (which the state of the shard names). Items come in log
 * order, each with the sequence of the commit that revoked it;
 * next_since_seq is the sequence to ask from next time: every revocation
 * at or below it has been listed (now or before). */

typedef struct {
    const char *ticket_id;
    uint64_t seq;
    const char *reason;
    const char *subject;    /* cancelled bookings: the shard */
    const char *booking_id; /* cancelled bookings: resolved to tickets later */
} revocation_t;

typedef struct {
    ts_arena_t *arena;
    revocation_t *items;
    uint32_t n, cap;
    uint64_t last_seq;
    ts_status status;
} revocations_t;

static void revocation_add(revocations_t *rv, revocation_t item)
{
    if (rv->n == rv->cap) {
        rv->cap = rv->cap ? rv->cap * 2 : 64;
        revocation_t *grown = ts_arena_alloc(rv->arena, rv->cap * sizeof(*grown));
        if (rv->n)
            memcpy(grown, rv->items, rv->n * sizeof(*grown));
        rv->items = grown;
    }
    rv->items[rv->n++] = item;
}

static int scan_commit(const eng_log_msg_t *m, void *arg)
{
    revocations_t *rv = arg;
    ts_arena_t scratch;
    ts_arena_init(&scratch, 4096);
    evt_commit_t c;
    rv->last_seq = m->seq;
    if (evt_commit_decode(m->data, m->len, &scratch, &c) == TS_OK) {
        for (uint32_t i = 0; i < c.n_events; i++) {
            const evt_event_t *e = &c.events[i];
            if (e->type == EVT_TICKET_TRANSFERRED)
                revocation_add(rv, (revocation_t){.ticket_id = ts_arena_strdup(
                                                      rv->arena, e->u.ticket_transferred.ticket_id),
                                                  .seq = m->seq,
                                                  .reason = "transferred"});
            else if (e->type == EVT_BOOKING_CANCELLED)
                revocation_add(rv,
                               (revocation_t){.seq = m->seq,
                                              .reason = "cancelled",
                                              .subject = ts_arena_strdup(rv->arena, m->subject),
                                              .booking_id = ts_arena_strdup(
                                                  rv->arena, e->u.booking_cancelled.booking_id)});
        }
    }
    ts_arena_deinit(&scratch);
    return 0;
}

typedef struct {
    revocations_t *rv;
    const char *subject;
    json_t *items;
    uint32_t from;
} resolve_t;

/* Appends the items of one shard from index from on, turning each
 * cancelled booking into its cancelled tickets (one pass over the tickets
 * per shard, whatever the number of bookings). */
static void resolve_shard(const void *state, void *arg)
{
    const inv_state_t *s = state;
    resolve_t *x = arg;
    revocations_t *rv = x->rv;
    ts_map_t wanted; /* booking index → the item that cancelled it */
    ts_map_init(&wanted);
    for (uint32_t i = x->from; i < rv->n; i++) {
        revocation_t *it = &rv->items[i];
        if (!it->booking_id || strcmp(it->subject, x->subject) != 0)
            continue;
        const inv_booking_t *b = inv_booking_find(s, it->booking_id);
        if (b)
            ts_map_put(&wanted, b->hold.booking_id, (int32_t)i);
    }
    for (uint32_t t = 0; t < s->n_tickets && wanted.len; t++) {
        const inv_ticket_t *tk = &s->tickets[t];
        if (tk->status != INV_TICKET_CANCELLED || tk->booking < 0 ||
            (uint32_t)tk->booking >= s->n_bookings)
            continue;
        int32_t i = ts_map_get(&wanted, s->bookings[tk->booking].hold.booking_id);
        if (i < 0)
            continue;
        revocation_add(rv, (revocation_t){.ticket_id = ts_arena_strdup(rv->arena, tk->t.ticket_id),
                                          .seq = rv->items[i].seq,
                                          .reason = "cancelled"});
    }
    ts_map_deinit(&wanted);
}

static int by_seq(const void *a, const void *b)
{
    const revocation_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void api_h_event_revocations(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_BOX_OFFICE) != 0)
        return;
    const char *id = r->params[0];
    uint64_t since = 0;
    const char *v = api_query(r, "since_seq");
    if (v) {
        char *end = NULL;
        unsigned long long n = strtoull(v, &end, 10);
        if (!*v || *end || v[0] == '-')
            return api_problem_validation(r, "since_seq", "a non-negative integer");
        since = n;
    }
    event_key_t k;
    ts_status st = event_key(r, id, &k);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (!k.exists)
        return api_problem(r, 404, "not_found", "no such event", NULL);
    eng_t *e = r->srv->cfg.engine;
    revocations_t rv = {.arena = &r->arena};
    uint64_t head = 0;
    if ((st = eng_log_last_seq(e, &head)) != TS_OK ||
        (st = eng_log_read(e, ts_arena_printf(&r->arena, "tix.inv.%s.*", id), since + 1,
                           scan_commit, &rv)) != TS_OK)
        return api_reply_status(r, st);
    /* Cancelled bookings become tickets, shard by shard. */
    uint32_t scanned = rv.n;
    ts_map_t shards; /* subjects resolved already */
    ts_map_init(&shards);
    for (uint32_t i = 0; i < scanned && st == TS_OK; i++) {
        if (!rv.items[i].booking_id || ts_map_get(&shards, rv.items[i].subject) >= 0)
            continue;
        ts_map_put(&shards, rv.items[i].subject, 1);
        resolve_t x = {.rv = &rv, .subject = rv.items[i].subject, .from = i};
        st = eng_read(e, x.subject, resolve_shard, &x);
    }
    ts_map_deinit(&shards);
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (rv.n > 1) /* not stable: equal seqs in any order */
        qsort(rv.items, rv.n, sizeof(*rv.items), by_seq);
    json_t *items = json_array();
    for (uint32_t i = 0; i < rv.n; i++)
        if (rv.items[i].ticket_id)
            json_array_append_new(items,
                                  json_pack("{s:s, s:I, s:s}", "ticket_id", rv.items[i].ticket_id,
                                            "revoked_seq", (json_int_t)rv.items[i].seq, "reason",
                                            rv.items[i].reason));
    uint64_t next = rv.last_seq > head ? rv.last_seq : head;
    if (next < since)
        next = since;
    api_reply_json(r, 200,
                   json_pack("{s:s, s:o, s:I}", "event_id", id, "items", items, "next_since_seq",
                             (json_int_t)next));
}
