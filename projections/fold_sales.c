/* The sales of issue 3 → SQL: payments, confirmations with their tickets
 * (RULE-TKT-1), refunds (RULE-PAY-2, RULE-REF-1), an event's cancellation,
 * check-ins (RULE-TKT-2) and transfers (RULE-TKT-3). One prepared statement
 * per event (sql.c), sent in the batch's pipeline like the others; the open
 * hold segment is sent first (fold.c), so a booking placed in the same batch
 * is in the table before its confirmation updates it. The projector and a
 * rebuild (build.c) both come here through proj__fold_commit, so they fold
 * these events alike. */
#include "projections/proj_int.h"

#include <inttypes.h>

static const char *num(ts_arena_t *a, int64_t v)
{
    return ts_arena_printf(a, "%" PRId64, v);
}

static const char *unum(ts_arena_t *a, uint64_t v)
{
    return ts_arena_printf(a, "%" PRIu64, v);
}

int proj__fold_sales_wants(evt_type_t t)
{
    switch (t) {
    case EVT_PAYMENT_REQUESTED:
    case EVT_PAYMENT_FAILED:
    case EVT_BOOKING_CONFIRMED:
    case EVT_BOOKING_REFUND_DUE:
    case EVT_BOOKING_CANCELLED:
    case EVT_REFUND_COMPLETED:
    case EVT_EVENT_CANCELLED:
    case EVT_TICKET_CHECKED_IN:
    case EVT_TICKET_TRANSFERRED:
        return 1;
    default:
        /* InventoryCancelled changes no row: the shard's bookings follow by
         * their own events, the event by EventCancelled. */
        return 0;
    }
}

static ts_status fold_confirmed(proj__fold_t *f, const evt_booking_confirmed_t *c, uint64_t seq)
{
    ts_buf_t ids, seats, holders, versions;
    ts_buf_t *all[] = {&ids, &seats, &holders, &versions};
    if (!c->booking_id)
        return TS_ERR_INVALID;
    for (size_t i = 0; i < TS_ARRAY_LEN(all); i++)
        ts_buf_init(all[i]);
    for (uint32_t i = 0; i < c->n_tickets; i++) {
        const evt_ticket_t *t = &c->tickets[i];
        if (!t->ticket_id)
            continue;
        proj__pg_array_add(&ids, t->ticket_id);
        proj__pg_array_add(&seats, t->seat);
        proj__pg_array_add(&holders, t->holder_id ? t->holder_id : "");
        proj__pg_array_add(&versions, unum(f->arena, t->version));
    }
    const char *p[8] = {c->booking_id, c->payment_id, num(f->arena, c->at), unum(f->arena, seq)};
    for (size_t i = 0; i < TS_ARRAY_LEN(all); i++) {
        p[4 + i] = ts_arena_strdup(f->arena, proj__pg_array_close(all[i]));
        ts_buf_deinit(all[i]);
    }
    return proj__fold_send(f, PROJ_F_SALE_CONFIRMED, seq, 8, p);
}

static ts_status fold_rows(proj__fold_t *f, const evt_event_t *e, uint64_t seq)
{
    ts_arena_t *a = f->arena;
    const char *s = unum(a, seq);
    switch (e->type) {
    case EVT_PAYMENT_REQUESTED:
    case EVT_PAYMENT_FAILED: {
        const evt_payment_t *p = &e->u.payment;
        if (!p->booking_id || !p->payment_id)
            return TS_ERR_INVALID;
        /* A failure of an older intent leaves the current one's status. */
        const char *v[4] = {p->booking_id, p->payment_id,
                            e->type == EVT_PAYMENT_REQUESTED ? "requested" : "failed", s};
        return proj__fold_send(f, PROJ_F_SALE_PAYMENT, seq, 4, v);
    }
    case EVT_BOOKING_CONFIRMED:
        return fold_confirmed(f, &e->u.booking_confirmed, seq);
    case EVT_BOOKING_REFUND_DUE: {
        const evt_payment_t *p = &e->u.payment;
        if (!p->booking_id)
            return TS_ERR_INVALID;
        const char *v[4] = {p->booking_id, p->payment_id, num(a, p->amount), s};
        return proj__fold_send(f, PROJ_F_SALE_REFUND_DUE, seq, 4, v);
    }
    case EVT_BOOKING_CANCELLED: {
        const evt_booking_cancelled_t *c = &e->u.booking_cancelled;
        if (!c->booking_id)
            return TS_ERR_INVALID;
        const char *v[3] = {c->booking_id, num(a, c->refund), s};
        return proj__fold_send(f, PROJ_F_SALE_CANCELLED, seq, 3, v);
    }
    case EVT_REFUND_COMPLETED: {
        if (!e->u.payment.booking_id)
            return TS_ERR_INVALID;
        const char *v[2] = {e->u.payment.booking_id, s};
        return proj__fold_send(f, PROJ_F_SALE_REFUNDED, seq, 2, v);
    }
    case EVT_EVENT_CANCELLED: {
        if (!e->u.event_cancelled.event_id)
            return TS_ERR_INVALID;
        const char *v[2] = {e->u.event_cancelled.event_id, s};
        return proj__fold_send(f, PROJ_F_SALE_EVENT_CANCELLED, seq, 2, v);
    }
    case EVT_TICKET_CHECKED_IN: {
        const evt_ticket_checked_in_t *c = &e->u.ticket_checked_in;
        if (!c->ticket_id)
            return TS_ERR_INVALID;
        const char *v[4] = {c->ticket_id, num(a, c->at), c->gate, s};
        return proj__fold_send(f, PROJ_F_SALE_CHECKED_IN, seq, 4, v);
    }
    case EVT_TICKET_TRANSFERRED: {
        const evt_ticket_transferred_t *t = &e->u.ticket_transferred;
        if (!t->ticket_id || !t->new_ticket_id || !t->to_user_id)
            return TS_ERR_INVALID;
        const char *v[5] = {t->ticket_id, t->new_ticket_id, t->to_user_id, unum(a, t->version), s};
        return proj__fold_send(f, PROJ_F_SALE_TRANSFERRED, seq, 5, v);
    }
    default:
        return TS_OK;
    }
}

ts_status proj__fold_sales(proj__fold_t *f, const evt_event_t *e, uint64_t seq)
{
    ts_status rc = fold_rows(f, e, seq);
    /* issue 4: the dashboard counts what the rows just sent changed. */
    return rc == TS_OK ? proj__fold_dashboard(f, e, seq) : rc;
}
