/* turnstile snapshots rebuild | verify: the LMDB snapshot cache against the log. */
#include "cli/cli.h"
#include "engine/engine.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "Usage: turnstile snapshots verify [--subject S] [options]\n"
    "       turnstile snapshots rebuild [--subject S] [options]\n"
    "\n"
    "The aggregate snapshots in DIR/engine (LMDB) are a cache of the event\n"
    "log. These commands open the log (read only) and LMDB themselves; run\n"
    "them while no `turnstile serve` uses DIR (with one running they are\n"
    "safe, but race its own snapshot writes). Neither needs PostgreSQL.\n"
    "\n"
    "snapshots verify checks every snapshot (or those whose subject matches S)\n"
    "against the fold of its subject's commits up to the snapshot's last_seq:\n"
    "the same version, last_hash and encoded state. It prints\n"
    "{snapshots, matched, mismatched, stale, commits, ok,\n"
    " first_bad?: {subject, last_seq, reason}, first_stale?: {subject, last_seq}}\n"
    "(first in subject order). Reasons: version, last_hash, state, not_in_log\n"
    "(last_seq is not a commit of the subject), corrupt_record,\n"
    "unknown_subject. A snapshot of another state-format version is stale:\n"
    "counted, not a mismatch (the engine ignores it and rebuilds it).\n"
    "\n"
    "snapshots rebuild folds every aggregate subject of the log (or those\n"
    "matching S) and writes its snapshot with the code's format version,\n"
    "replacing stale ones; snapshots of subjects with no commit are removed.\n"
    "It prints {written, commits, stale_replaced, removed, ok, first_bad?}.\n"
    "\n"
    "Options:\n"
    "  --subject S       subject filter, wildcards allowed (default: all)\n"
    "  --nats URL        NATS server with JetStream   [TURNSTILE_NATS_URL, "
    "nats://127.0.0.1:4222]\n"
    "  --data DIR        data directory               [TURNSTILE_DATA_DIR, ./.turnstile]\n"
    "  --stream NAME     JetStream stream             [TURNSTILE_STREAM, TICKETS]\n"
    "\n"
    "Exit status: 0 done (verify: every snapshot matches or is stale), 1 verify:\n"
    "a snapshot does not match; rebuild: a state could not be encoded, 2 bad\n"
    "usage, 3 could not run (NATS down, no stream, LMDB unusable).\n";

static json_t *issue_json(const eng_snapshot_issue_t *i, int with_reason)
{
    json_t *o = json_pack("{s:s, s:I}", "subject", i->subject, "last_seq", (json_int_t)i->last_seq);
    if (with_reason)
        json_object_set_new(o, "reason", json_string(i->reason));
    return o;
}

static json_t *report_json(const eng_snapshot_report_t *r, int rebuild)
{
    json_t *o;
    if (rebuild)
        o = json_pack("{s:I, s:I, s:I, s:I, s:b}", "written", (json_int_t)r->snapshots, "commits",
                      (json_int_t)r->commits, "stale_replaced", (json_int_t)r->stale, "removed",
                      (json_int_t)r->removed, "ok", r->first_bad.subject == NULL);
    else
        o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "snapshots", (json_int_t)r->snapshots,
                      "matched", (json_int_t)r->matched, "mismatched", (json_int_t)r->mismatched,
                      "stale", (json_int_t)r->stale, "commits", (json_int_t)r->commits, "ok",
                      r->mismatched == 0);
    if (r->first_bad.subject)
        json_object_set_new(o, "first_bad", issue_json(&r->first_bad, 1));
    if (!rebuild && r->first_stale.subject)
        json_object_set_new(o, "first_stale", issue_json(&r->first_stale, 0));
    return o;
}

int cli_snapshots(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1];
    int rebuild = strcmp(what, "rebuild") == 0;
    if (!rebuild && strcmp(what, "verify") != 0) {
        fprintf(stderr, "turnstile snapshots: expected 'verify' or 'rebuild' (see turnstile "
                        "snapshots --help)\n");
        return 2;
    }
    cli_settings_t s;
    cli_settings_from_env(&s);
    const char *subject = NULL;
    for (int i = 2; i < argc; i++) {
        int r = cli_settings_option(&s, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == CLI_OPT_HELP) {
            fputs(help, stdout);
            return 0;
        }
        if (r)
            continue;
        if (strcmp(argv[i], "--subject") == 0 && i + 1 < argc) {
            subject = argv[++i];
            if (!cli_subject_filter_valid(subject)) {
                fprintf(stderr, "turnstile snapshots %s: bad subject filter '%s'\n", what, subject);
                return 2;
            }
            continue;
        }
        fprintf(stderr, "turnstile snapshots %s: unknown option '%s' (see --help)\n", what,
                argv[i]);
        return 2;
    }
    if (cli_mkdirs(s.data_dir) != 0) {
        fprintf(stderr, "turnstile snapshots %s: cannot create %s\n", what, s.data_dir);
        return 3;
    }
    eng_t *e = NULL;
    eng_config_t ec = {.mode = ENG_MODE_MAINTAIN,
                       .nats_url = s.nats_url,
                       .stream = s.stream,
                       .data_dir = s.data_dir};
    ts_status st = eng_open(&ec, &e);
    if (st != TS_OK) {
        fprintf(stderr, "turnstile snapshots %s: %s (NATS %s, stream %s, data %s)\n", what,
                ts_status_str(st), s.nats_url, s.stream, s.data_dir);
        return 3;
    }
    ts_arena_t arena;
    ts_arena_init(&arena, 1024);
    eng_snapshot_report_t rep;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = rebuild ? eng_snapshots_rebuild(e, subject, &arena, &rep)
                 : eng_snapshots_verify(e, subject, &arena, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int rc;
    if (st == TS_OK) {
        json_t *j = report_json(&rep, rebuild);
        json_dumpf(j, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(j);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr, "snapshots %s: %llu commits folded in %.3f s\n", what,
                (unsigned long long)rep.commits, secs);
        rc = rebuild ? (rep.first_bad.subject != NULL) : (rep.mismatched != 0);
    } else {
        fprintf(stderr, "turnstile snapshots %s: %s\n", what, ts_status_str(st));
        rc = 3;
    }
    ts_arena_deinit(&arena);
    eng_free(e);
    return rc;
}
