/* The audit item of one commit, and the audit filters (replay.h). */
#include "events/codec.h"
#include "replay/replay.h"

#include <openssl/sha.h>
#include <string.h>

static int keep(const evt_commit_t *c, const rpl_filter_t *f)
{
    if (!f)
        return 1;
    if ((f->from_time && c->time < f->from_time) || (f->to_time && c->time >= f->to_time))
        return 0;
    if (!f->type)
        return 1;
    for (uint32_t i = 0; i < c->n_events; i++)
        if (strcmp(evt_type_name(c->events[i].type), f->type) == 0)
            return 1;
    return 0;
}

json_t *rpl_commit_json(const eng_log_msg_t *m, const rpl_filter_t *f)
{
    ts_arena_t scratch;
    ts_arena_init(&scratch, 8192);
    evt_commit_t c;
    json_t *item = NULL;
    if (evt_commit_decode(m->data, m->len, &scratch, &c) == TS_OK) {
        if (keep(&c, f))
            item = evt_commit_to_json(&c);
    } else {
        /* A commit that does not decode is still shown: an auditor must
         * see that it is there. */
        item = json_pack("{s:s, s:s}", "subject", m->subject, "error", "undecodable");
    }
    if (item) {
        uint8_t h[32];
        char hex[65];
        SHA256(m->data, m->len, h);
        ts_hex(h, 32, hex);
        json_object_set_new(item, "seq", json_integer((json_int_t)m->seq));
        json_object_set_new(item, "hash", json_string(hex));
    }
    ts_arena_deinit(&scratch);
    return item;
}
