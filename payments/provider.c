/* The provider interface's wrappers and the webhook body. */
#include "payments/payments.h"

#include <jansson.h>

const char *pay_provider_name(const pay_provider_t *p)
{
    return p ? p->ops->name : "none";
}

ts_status pay_intent_create(pay_provider_t *p, const char *payment_id, int64_t amount,
                            const char *currency, ts_arena_t *arena, const char **client_secret)
{
    if (!p || !payment_id || !currency || amount < 0)
        return TS_ERR_INVALID;
    return p->ops->intent_create(p, payment_id, amount, currency, arena, client_secret);
}

ts_status pay_refund(pay_provider_t *p, const char *payment_id, int64_t amount,
                     const char *currency)
{
    if (!p || !payment_id || !currency || amount <= 0)
        return TS_ERR_INVALID;
    return p->ops->refund(p, payment_id, amount, currency);
}

ts_status pay_simulate(pay_provider_t *p, const char *payment_id, const char *outcome,
                       int64_t amount, const char *currency, ts_arena_t *arena,
                       const char **provider_event_id)
{
    if (!p || !p->ops->simulate || !payment_id || !outcome || !currency)
        return TS_ERR_INVALID;
    return p->ops->simulate(p, payment_id, outcome, amount, currency, arena, provider_event_id);
}

void pay_provider_free(pay_provider_t *p)
{
    if (p)
        p->ops->free(p);
}

char *pay_webhook_body(const char *event_id, const char *type, const char *payment_id,
                       int64_t amount, const char *currency)
{
    json_t *j =
        json_pack("{s:s, s:s, s:{s:s, s:I, s:s}}", "id", event_id, "type", type, "data",
                  "payment_id", payment_id, "amount", (json_int_t)amount, "currency", currency);
    char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return out;
}
