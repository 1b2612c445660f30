/*
 * User administration (RULE-AUTH-2): POST /users/{id}/roles, and POST and
 * DELETE /users/{id}/block. Admins only; the decisions check that again.
 * A change is forgotten from the server's user cache at once (auth.c), so
 * the user's next request already has the new roles or block.
 */
#include "api/api_int.h"

#include <string.h>

/* The user's subject, or NULL after replying 404. */
static const char *user_subject(api_req_t *r)
{
    if (!ts_id_valid(r->params[0])) {
        api_problem(r, 404, "not_found", "no such user", NULL);
        return NULL;
    }
    return ts_arena_printf(&r->arena, "tix.user.%s", r->params[0]);
}

void api_h_user_roles(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_ADMIN) != 0)
        return;
    const char *subject = user_subject(r);
    if (!subject)
        return;
    json_t *j = api_body_json(r);
    if (!j)
        return;
    json_t *role = json_object_get(j, "role");
    int is_string = json_is_string(role);
    uint32_t bit = is_string ? evt_role_parse(json_string_value(role)) : 0;
    json_decref(j);
    if (!is_string)
        return api_problem_validation(r, "role", "a string is required");
    if (!bit)
        return api_problem_validation(r, "role",
                                      "one of attendee, organizer, box_office, auditor, admin");
    eng_cmd_t cmd = {.type = ENG_USER_GRANT_ROLE, .subject = subject};
    cmd.u.role = bit;
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    api__user_forget(r->srv, r->params[0]);
    uint32_t roles = 0;
    if (o.n_events) {
        roles = o.events[0].u.user_note.roles;
    } else {
        /* Nothing to change: the user has the role; answer with what is. */
        eng_user_t u;
        ts_status st = eng_user_get(r->srv->cfg.engine, r->params[0], &r->arena, &u);
        if (st != TS_OK)
            return api_reply_status(r, st);
        roles = u.roles;
    }
    api_reply_json(r, 200,
                   json_pack("{s:o, s:I}", "roles", api__roles_json(roles), "commit_seq",
                             (json_int_t)o.commit_seq));
}

void api_h_user_block(api_req_t *r)
{
    if (api_require_role(r, EVT_ROLE_ADMIN) != 0)
        return;
    const char *subject = user_subject(r);
    if (!subject)
        return;
    /* An optional body gives the reason, which the log keeps. */
    const char *reason = NULL;
    if (r->body.len) {
        json_t *j = api_body_json(r);
        if (!j)
            return;
        json_t *v = json_object_get(j, "reason");
        int bad = v && !json_is_null(v) && !json_is_string(v);
        reason = json_is_string(v) ? ts_arena_strdup(&r->arena, json_string_value(v)) : NULL;
        json_decref(j);
        if (bad)
            return api_problem_validation(r, "reason", "a string");
        if (reason && strlen(reason) > 200)
            return api_problem_validation(r, "reason", "at most 200 characters");
    }
    int blocked = strcmp(r->method, "POST") == 0;
    eng_cmd_t cmd = {.type = ENG_USER_BLOCK, .subject = subject};
    cmd.u.block.blocked = blocked;
    cmd.u.block.reason = reason;
    eng_outcome_t o;
    if (api_execute(r, &cmd, &o) != 0)
        return;
    api__user_forget(r->srv, r->params[0]);
    api_reply_json(
        r, 200,
        json_pack("{s:b, s:I}", "blocked", blocked, "commit_seq", (json_int_t)o.commit_seq));
}
