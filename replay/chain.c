/* The per-subject hash chain verifier (replay.h). */
#include "events/codec.h"
#include "replay/replay.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

void rpl_chain_init(rpl_chain_t *c)
{
    memset(c, 0, sizeof(*c));
    ts_map_init(&c->index);
    ts_arena_init(&c->names, 1 << 16);
    ts_arena_init(&c->scratch, 1 << 16);
    c->result.ok = 1;
}

void rpl_chain_deinit(rpl_chain_t *c)
{
    ts_map_deinit(&c->index);
    free(c->links);
    ts_arena_deinit(&c->names);
    ts_arena_deinit(&c->scratch);
    memset(c, 0, sizeof(*c));
}

/* The link of subject; a new subject starts at version 0 and a zero hash,
 * which is what its first commit must point at. */
static rpl_link_t *link_of(rpl_chain_t *c, const char *subject)
{
    int32_t i = ts_map_get(&c->index, subject);
    if (i >= 0)
        return &c->links[i];
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->links = realloc(c->links, c->cap * sizeof(*c->links));
        if (!c->links)
            abort();
    }
    rpl_link_t *l = &c->links[c->n];
    memset(l, 0, sizeof(*l));
    ts_map_put(&c->index, ts_arena_strdup(&c->names, subject), (int32_t)c->n++);
    c->result.subjects++;
    return l;
}

const char *rpl_chain_add(rpl_chain_t *c, uint64_t seq, const char *subject, const void *data,
                          size_t len)
{
    rpl_link_t *l = link_of(c, subject);
    const char *reason = NULL;
    evt_commit_t commit;
    uint64_t version = l->version + 1;
    c->result.commits++;
    ts_arena_reset(&c->scratch);
    if (evt_commit_decode(data, len, &c->scratch, &commit) != TS_OK)
        reason = "undecodable";
    else if (strcmp(commit.subject, subject) != 0)
        reason = "subject_mismatch";
    else if (commit.version != l->version + 1)
        reason = "version_gap";
    else if (memcmp(commit.prev_hash, l->hash, 32) != 0)
        reason = "prev_hash_mismatch";
    /* The chain goes on from this commit as found (an undecodable one is
     * taken to hold the expected version), so a single tampering is not
     * reported again at every later commit of the subject. */
    if (reason != NULL && strcmp(reason, "undecodable") != 0)
        version = commit.version;
    if (reason) {
        /* A subject counts as broken once, at its first break. */
        if (!l->broken)
            c->result.broken++;
        l->broken = 1;
        if (!c->result.first_bad.subject) {
            c->result.first_bad.subject = ts_arena_strdup(&c->names, subject);
            c->result.first_bad.seq = seq;
            c->result.first_bad.reason = reason;
        }
        c->result.ok = 0;
    }
    SHA256(data, len, l->hash);
    l->version = version;
    return reason;
}

static int verify_one(const eng_log_msg_t *m, void *arg)
{
    rpl_chain_add(arg, m->seq, m->subject, m->data, m->len);
    return 0;
}

ts_status rpl_verify(eng_t *e, const char *filter, ts_arena_t *arena, rpl_verify_t *out)
{
    rpl_chain_t c;
    rpl_chain_init(&c);
    ts_status rc = eng_log_read(e, filter ? filter : ">", 1, verify_one, &c);
    if (rc == TS_OK) {
        *out = c.result;
        out->first_bad.subject = ts_arena_strdup(arena, c.result.first_bad.subject);
    }
    rpl_chain_deinit(&c);
    return rc;
}

json_t *rpl_verify_json(const rpl_verify_t *v)
{
    json_t *o = json_pack("{s:I, s:I, s:b, s:I}", "subjects", (json_int_t)v->subjects, "commits",
                          (json_int_t)v->commits, "ok", v->ok, "broken", (json_int_t)v->broken);
    if (v->first_bad.subject)
        json_object_set_new(o, "first_bad",
                            json_pack("{s:s, s:I, s:s}", "subject", v->first_bad.subject, "seq",
                                      (json_int_t)v->first_bad.seq, "reason", v->first_bad.reason));
    return o;
}
