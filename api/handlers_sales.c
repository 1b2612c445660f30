/* The read models of issue 4 over HTTP: an organizer's sales dashboard
 * (GET /events/{id}/sales) and a user's bookings (GET /users/me/bookings).
 * Both are queries: ?min_seq= waits for the catalog projection first. */
#include "api/api_int.h"

#include <stdlib.h>
#include <string.h>

/* ?name= as an RFC 3339 time into *ms (0 when absent); -1 after a 400. */
static int time_param(api_req_t *r, const char *name, int64_t *ms)
{
    const char *v = api_query(r, name);
    *ms = 0;
    if (v && (ts_time_parse(v, ms) != TS_OK || *ms == 0)) {
        api_problem_validation(r, name, "an RFC 3339 time after 1970-01-01T00:00:00Z");
        return -1;
    }
    return 0;
}

void api_h_event_sales(api_req_t *r)
{
    if (api_authenticate(r) != 0 || api_wait_min_seq(r) != 0)
        return;
    int64_t from = 0, to = 0;
    if (time_param(r, "from", &from) != 0 || time_param(r, "to", &to) != 0)
        return;
    if (from && to && to <= from)
        return api_problem_validation(r, "to", "after from");
    proj_event_who_t who;
    char *text = NULL;
    size_t len = 0;
    /* Served as text: the series may be long and is never parsed here. */
    ts_status st = ts_id_valid(r->params[0]) ? proj_event_sales_text(r->srv->cfg.db, r->params[0],
                                                                     from, to, &who, &text, &len)
                                             : TS_ERR_NOT_FOUND;
    if (st != TS_OK)
        return api_reply_status(r, st);
    if (!api_owner_or_admin(r, who.organizer_id)) {
        free(text);
        /* A draft does not exist yet for anyone but its organizer and
         * admins, as in GET /events/{id}. */
        if (strcmp(who.event_status, "draft") == 0)
            return api_problem(r, 404, "not_found", "no such event", NULL);
        return api_problem(r, 403, "forbidden", "the sales of an event are its organizer's", NULL);
    }
    free(r->out);
    r->out = text;
    r->status = 200;
    r->out_type = "application/json";
}

void api_h_my_bookings(api_req_t *r)
{
    api_reply_user_list(r, proj_user_bookings);
}
