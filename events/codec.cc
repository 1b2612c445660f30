/*
 * codec.cc — evt_commit_t <-> FlatBuffers bytes of schemas/commit.fbs.
 *
 * The only C++ unit of the tree (see codec.h for the contract). The JSON half
 * of codec.h lives in event_json.c, in plain C.
 *
 * Encoding builds every child (strings, vectors, tables) before its parent,
 * as FlatBuffers requires, and records an invalid input in Encoder::ok
 * instead of returning early: the builder is thrown away at the end when
 * anything was wrong, so no half-written commit ever reaches the caller.
 *
 * Decoding trusts nothing. The verifier checks every offset, length and
 * alignment first; then the copy into the arena checks what the verifier
 * cannot know: required fields, event types this build understands, enum
 * ranges, the hash length. A verified buffer may still share one string or
 * table between many parents (our encoder never does), which would make the
 * copy much bigger than the bytes; Decoder::budget charges every copied
 * object the wire bytes it occupies at least, so the copy stays linear in
 * len and a buffer that claims more than it holds is refused as corrupt.
 */
extern "C" {
#include "base/base.h"
#include "events/events.h"
}
#include "events/codec.h"

#include "schemas/commit_generated.h"

#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

namespace fb = flatbuffers;
namespace sc = ts::schema;

/* The union values of commit.fbs are the evt_type_t values, every
 * evt_type_t has its union member, and the section kinds agree. */
#define CODEC_SAME(fb_value, c_value)                                                              \
    static_assert(static_cast<int>(fb_value) == (c_value), #fb_value " != " #c_value)
CODEC_SAME(sc::EventBody::VenueCreated, EVT_VENUE_CREATED);
CODEC_SAME(sc::EventBody::EventCreated, EVT_EVENT_CREATED);
CODEC_SAME(sc::EventBody::EventPublished, EVT_EVENT_PUBLISHED);
CODEC_SAME(sc::EventBody::InventoryOpened, EVT_INVENTORY_OPENED);
CODEC_SAME(sc::EventBody::HoldPlaced, EVT_HOLD_PLACED);
CODEC_SAME(sc::EventBody::HoldReleased, EVT_HOLD_RELEASED);
CODEC_SAME(sc::EventBody::HoldExpired, EVT_HOLD_EXPIRED);
CODEC_SAME(sc::EventBody::UserRegistered, EVT_USER_REGISTERED);
CODEC_SAME(sc::EventBody::Claimed, EVT_CLAIMED);
CODEC_SAME(sc::SectionKind::Seated, EVT_SEATED);
CODEC_SAME(sc::SectionKind::Standing, EVT_STANDING);
#undef CODEC_SAME
#define CODEC_IN_UNION(name, value, text)                                                          \
    static_assert(value <= static_cast<int>(sc::EventBody::MAX),                                   \
                  text " has no member in EventBody (schemas/commit.fbs)");
EVT_TYPE_LIST(CODEC_IN_UNION)
#undef CODEC_IN_UNION

namespace
{

/* C code may store any int in an enum field, but in C++ loading a value
 * outside the enum's range is undefined: enum fields of the C structs are
 * read as their underlying integer. */
template <typename E> typename std::underlying_type<E>::type raw(const E &e)
{
    typename std::underlying_type<E>::type v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

/* ---- encode ---- */

struct Encoder {
    fb::FlatBufferBuilder fbb{1024};
    bool ok = true;

    fb::Offset<fb::String> str(const char *s)
    {
        return s ? fbb.CreateString(s) : 0;
    }

    /* A field the decoder insists on (see the list in codec.h). */
    fb::Offset<fb::String> req(const char *s)
    {
        if (!s)
            ok = false;
        return str(s);
    }

    /* An array of n elements must have storage; an empty one is not written. */
    bool has(uint32_t n, const void *p)
    {
        if (n && !p)
            ok = false;
        return n && p;
    }

    fb::Offset<fb::Vector<fb::Offset<fb::String>>> strings(uint32_t n, const char *const *v)
    {
        if (!has(n, v))
            return 0;
        std::vector<fb::Offset<fb::String>> out;
        for (uint32_t i = 0; i < n; i++)
            out.push_back(req(v[i]));
        return fbb.CreateVector(out);
    }

    fb::Offset<sc::Money> money(const ts_money_t &m)
    {
        size_t n = strnlen(m.currency, sizeof m.currency);
        if (n == sizeof m.currency) {
            ok = false; /* not NUL-terminated */
            n = 0;
        }
        auto cur = n ? fbb.CreateString(m.currency, n) : 0;
        return sc::CreateMoney(fbb, m.amount, cur);
    }

    fb::Offset<sc::Section> section(const evt_section_t &x)
    {
        std::vector<fb::Offset<sc::Row>> rows;
        if (has(x.n_rows, x.rows)) {
            for (uint32_t i = 0; i < x.n_rows; i++) {
                const evt_row_t &r = x.rows[i];
                auto label = req(r.label);
                auto acc = has(r.n_accessible, r.accessible)
                               ? fbb.CreateVector(r.accessible, r.n_accessible)
                               : 0;
                rows.push_back(sc::CreateRow(fbb, label, r.seats, acc));
            }
        }
        auto kind = raw(x.kind);
        if (kind != EVT_SEATED && kind != EVT_STANDING)
            ok = false;
        auto key = req(x.key);
        auto name = str(x.name);
        auto rv = rows.empty() ? 0 : fbb.CreateVector(rows);
        return sc::CreateSection(fbb, key, name, static_cast<sc::SectionKind>(kind), x.capacity,
                                 rv);
    }

    fb::Offset<fb::Vector<fb::Offset<sc::Section>>> sections(uint32_t n, const evt_section_t *v)
    {
        if (!has(n, v))
            return 0;
        std::vector<fb::Offset<sc::Section>> out;
        for (uint32_t i = 0; i < n; i++)
            out.push_back(section(v[i]));
        return fbb.CreateVector(out);
    }

    fb::Offset<sc::Policy> policy(const evt_policy_t &p)
    {
        fb::Offset<fb::Vector<fb::Offset<sc::RefundStep>>> steps = 0;
        if (has(p.n_refund, p.refund)) {
            std::vector<fb::Offset<sc::RefundStep>> out;
            for (uint32_t i = 0; i < p.n_refund; i++)
                out.push_back(
                    sc::CreateRefundStep(fbb, p.refund[i].min_hours_before, p.refund[i].percent));
            steps = fbb.CreateVector(out);
        }
        return sc::CreatePolicy(fbb, p.max_per_order, p.max_per_user, p.hold_minutes,
                                p.transfer_cutoff_hours, p.service_fee_bps, p.vat_bps, steps);
    }

    fb::Offset<void> venue_created(const evt_venue_created_t &x)
    {
        auto id = req(x.venue_id);
        auto name = str(x.name);
        auto city = str(x.city);
        auto country = str(x.country);
        auto secs = sections(x.n_sections, x.sections);
        return sc::CreateVenueCreated(fbb, id, name, city, country, secs).Union();
    }

    fb::Offset<void> event_created(const evt_event_created_t &x)
    {
        std::vector<fb::Offset<sc::Tier>> tiers;
        if (has(x.n_tiers, x.tiers)) {
            for (uint32_t i = 0; i < x.n_tiers; i++) {
                const evt_tier_t &t = x.tiers[i];
                auto key = req(t.key);
                auto name = str(t.name);
                auto price = money(t.price);
                auto secs = strings(t.n_sections, t.sections);
                tiers.push_back(
                    sc::CreateTier(fbb, key, name, price, secs, t.sale_starts_at, t.sale_ends_at));
            }
        }
        auto event_id = req(x.event_id);
        auto venue_id = req(x.venue_id);
        auto organizer_id = str(x.organizer_id);
        auto title = str(x.title);
        auto description = str(x.description);
        auto genre = str(x.genre);
        auto city = str(x.city);
        auto tv = tiers.empty() ? 0 : fbb.CreateVector(tiers);
        auto pol = policy(x.policy);
        return sc::CreateEventCreated(fbb, event_id, venue_id, organizer_id, title, description,
                                      genre, city, x.starts_at, x.ends_at, tv, pol)
            .Union();
    }

    fb::Offset<void> event_published(const evt_event_published_t &x)
    {
        auto id = req(x.event_id);
        auto secs = sections(x.n_sections, x.sections);
        return sc::CreateEventPublished(fbb, id, secs).Union();
    }

    fb::Offset<void> inventory_opened(const evt_inventory_opened_t &x)
    {
        auto event_id = req(x.event_id);
        auto sec = section(x.section);
        auto tier_key = req(x.tier_key);
        auto price = money(x.price);
        return sc::CreateInventoryOpened(fbb, event_id, sec, tier_key, price, x.sale_starts_at,
                                         x.sale_ends_at, x.max_per_order, x.hold_minutes,
                                         x.service_fee_bps, x.vat_bps)
            .Union();
    }

    fb::Offset<void> hold_placed(const evt_hold_placed_t &x)
    {
        auto booking_id = req(x.booking_id);
        auto event_id = req(x.event_id);
        auto section_key = req(x.section);
        auto user_id = req(x.user_id);
        auto command_id = str(x.command_id);
        auto tier_key = str(x.tier_key);
        auto seats = strings(x.n_seats, x.seats);
        auto price = money(x.unit_price);
        return sc::CreateHoldPlaced(fbb, booking_id, event_id, section_key, user_id, command_id,
                                    tier_key, x.created_at, x.expires_at, seats, x.quantity, price,
                                    x.subtotal, x.discount, x.service_fee, x.total, x.vat_included)
            .Union();
    }

    fb::Offset<void> user_registered(const evt_user_registered_t &x)
    {
        auto user_id = req(x.user_id);
        auto email = req(x.email);
        auto name = str(x.name);
        auto hash = str(x.password_hash);
        return sc::CreateUserRegistered(fbb, user_id, email, name, hash, x.roles).Union();
    }

    fb::Offset<sc::Event> event(const evt_event_t &e)
    {
        fb::Offset<void> body = 0;
        auto type = raw(e.type);
        switch (type) {
        case EVT_VENUE_CREATED:
            body = venue_created(e.u.venue_created);
            break;
        case EVT_EVENT_CREATED:
            body = event_created(e.u.event_created);
            break;
        case EVT_EVENT_PUBLISHED:
            body = event_published(e.u.event_published);
            break;
        case EVT_INVENTORY_OPENED:
            body = inventory_opened(e.u.inventory_opened);
            break;
        case EVT_HOLD_PLACED:
            body = hold_placed(e.u.hold_placed);
            break;
        case EVT_HOLD_RELEASED:
            body = sc::CreateHoldReleased(fbb, req(e.u.hold_ended.booking_id)).Union();
            break;
        case EVT_HOLD_EXPIRED:
            body = sc::CreateHoldExpired(fbb, req(e.u.hold_ended.booking_id)).Union();
            break;
        case EVT_USER_REGISTERED:
            body = user_registered(e.u.user_registered);
            break;
        case EVT_CLAIMED: {
            auto kind = req(e.u.claimed.kind);
            auto owner = req(e.u.claimed.owner);
            body = sc::CreateClaimed(fbb, kind, owner).Union();
            break;
        }
        case EVT_NONE:
        default:
            ok = false;
            return 0;
        }
        auto command_id = str(e.command_id);
        auto actor = str(e.actor);
        return sc::CreateEvent(fbb, command_id, actor, static_cast<sc::EventBody>(type), body);
    }
};

/* ---- decode ---- */

struct Decoder {
    ts_arena_t *arena;
    size_t budget; /* wire bytes not yet charged to a copied object */
    bool ok = true;

    bool spend(size_t n)
    {
        if (!ok || n > budget) {
            ok = false;
            return false;
        }
        budget -= n;
        return true;
    }

    /* A table costs at least its 4-byte vtable offset on the wire. */
    bool table(const void *t)
    {
        return t && spend(4);
    }

    const char *str(const fb::String *s)
    {
        if (!s || !spend(4 + static_cast<size_t>(s->size()) + 1))
            return nullptr;
        /* The C side sees NUL-terminated strings: an inner NUL would
         * silently cut one short, so such a string is not ours. */
        if (std::memchr(s->data(), 0, s->size())) {
            ok = false;
            return nullptr;
        }
        return ts_arena_strndup(arena, s->data(), s->size());
    }

    const char *req(const fb::String *s)
    {
        if (!s)
            ok = false;
        return str(s);
    }

    /* Storage for the n elements of vector v (of elem_size bytes each on the
     * wire); sets *n and returns NULL when v is absent or empty. */
    template <typename T, typename V> T *array(const V *v, size_t elem_size, uint32_t *n)
    {
        *n = 0;
        if (!v || !spend(4 + elem_size * v->size()) || v->size() == 0)
            return nullptr;
        *n = v->size();
        return static_cast<T *>(ts_arena_alloc(arena, sizeof(T) * v->size()));
    }

    const char **strings(const fb::Vector<fb::Offset<fb::String>> *v, uint32_t *n)
    {
        const char **out = array<const char *>(v, 4, n);
        for (uint32_t i = 0; i < *n; i++)
            out[i] = req(v->Get(i));
        return out;
    }

    void money(const sc::Money *m, ts_money_t *x)
    {
        std::memset(x, 0, sizeof *x);
        if (!table(m))
            return;
        x->amount = m->amount();
        const fb::String *cur = m->currency();
        if (!cur)
            return;
        if (cur->size() >= sizeof x->currency || std::memchr(cur->data(), 0, cur->size())) {
            ok = false;
            return;
        }
        std::memcpy(x->currency, cur->data(), cur->size());
    }

    void section(const sc::Section *s, evt_section_t *x)
    {
        if (!table(s)) {
            ok = false;
            return;
        }
        x->key = req(s->key());
        x->name = str(s->name());
        /* The verifier does not check enum ranges; a kind from a newer schema
         * is something this build cannot sell from. */
        if (s->kind() != sc::SectionKind::Seated && s->kind() != sc::SectionKind::Standing)
            ok = false;
        x->kind = static_cast<evt_section_kind_t>(s->kind());
        x->capacity = s->capacity();
        x->rows = array<evt_row_t>(s->rows(), 4, &x->n_rows);
        for (uint32_t i = 0; i < x->n_rows; i++) {
            const sc::Row *r = s->rows()->Get(i);
            evt_row_t *row = &x->rows[i];
            if (!table(r))
                continue;
            row->label = req(r->label());
            row->seats = r->seats();
            row->accessible = array<uint32_t>(r->accessible(), 4, &row->n_accessible);
            for (uint32_t j = 0; j < row->n_accessible; j++)
                row->accessible[j] = r->accessible()->Get(j);
        }
    }

    evt_section_t *sections(const fb::Vector<fb::Offset<sc::Section>> *v, uint32_t *n)
    {
        evt_section_t *out = array<evt_section_t>(v, 4, n);
        for (uint32_t i = 0; i < *n; i++)
            section(v->Get(i), &out[i]);
        return out;
    }

    void policy(const sc::Policy *p, evt_policy_t *x)
    {
        if (!table(p))
            return; /* absent: all zero, as written by an empty policy */
        x->max_per_order = p->max_per_order();
        x->max_per_user = p->max_per_user();
        x->hold_minutes = p->hold_minutes();
        x->transfer_cutoff_hours = p->transfer_cutoff_hours();
        x->service_fee_bps = p->service_fee_bps();
        x->vat_bps = p->vat_bps();
        x->refund = array<evt_refund_step_t>(p->refund(), 4, &x->n_refund);
        for (uint32_t i = 0; i < x->n_refund; i++) {
            const sc::RefundStep *r = p->refund()->Get(i);
            if (!table(r))
                continue;
            x->refund[i].min_hours_before = r->min_hours_before();
            x->refund[i].percent = r->percent();
        }
    }

    void venue_created(const sc::VenueCreated *b, evt_venue_created_t *x)
    {
        x->venue_id = req(b->venue_id());
        x->name = str(b->name());
        x->city = str(b->city());
        x->country = str(b->country());
        x->sections = sections(b->sections(), &x->n_sections);
    }

    void event_created(const sc::EventCreated *b, evt_event_created_t *x)
    {
        x->event_id = req(b->event_id());
        x->venue_id = req(b->venue_id());
        x->organizer_id = str(b->organizer_id());
        x->title = str(b->title());
        x->description = str(b->description());
        x->genre = str(b->genre());
        x->city = str(b->city());
        x->starts_at = b->starts_at();
        x->ends_at = b->ends_at();
        x->tiers = array<evt_tier_t>(b->tiers(), 4, &x->n_tiers);
        for (uint32_t i = 0; i < x->n_tiers; i++) {
            const sc::Tier *t = b->tiers()->Get(i);
            evt_tier_t *tier = &x->tiers[i];
            if (!table(t))
                continue;
            tier->key = req(t->key());
            tier->name = str(t->name());
            money(t->price(), &tier->price);
            tier->sections = strings(t->sections(), &tier->n_sections);
            tier->sale_starts_at = t->sale_starts_at();
            tier->sale_ends_at = t->sale_ends_at();
        }
        policy(b->policy(), &x->policy);
    }

    void inventory_opened(const sc::InventoryOpened *b, evt_inventory_opened_t *x)
    {
        x->event_id = req(b->event_id());
        section(b->section(), &x->section);
        x->tier_key = req(b->tier_key());
        money(b->price(), &x->price);
        x->sale_starts_at = b->sale_starts_at();
        x->sale_ends_at = b->sale_ends_at();
        x->max_per_order = b->max_per_order();
        x->hold_minutes = b->hold_minutes();
        x->service_fee_bps = b->service_fee_bps();
        x->vat_bps = b->vat_bps();
    }

    void hold_placed(const sc::HoldPlaced *b, evt_hold_placed_t *x)
    {
        x->booking_id = req(b->booking_id());
        x->event_id = req(b->event_id());
        x->section = req(b->section());
        x->user_id = req(b->user_id());
        x->command_id = str(b->command_id());
        x->tier_key = str(b->tier_key());
        x->created_at = b->created_at();
        x->expires_at = b->expires_at();
        x->seats = strings(b->seats(), &x->n_seats);
        x->quantity = b->quantity();
        money(b->unit_price(), &x->unit_price);
        x->subtotal = b->subtotal();
        x->discount = b->discount();
        x->service_fee = b->service_fee();
        x->total = b->total();
        x->vat_included = b->vat_included();
    }

    void user_registered(const sc::UserRegistered *b, evt_user_registered_t *x)
    {
        x->user_id = req(b->user_id());
        x->email = req(b->email());
        x->name = str(b->name());
        x->password_hash = str(b->password_hash());
        x->roles = b->roles();
    }

    void event(const sc::Event *e, evt_event_t *x)
    {
        if (!table(e) || !table(e->body())) {
            ok = false;
            return;
        }
        x->command_id = str(e->command_id());
        x->actor = str(e->actor());
        switch (e->body_type()) {
        case sc::EventBody::VenueCreated:
            x->type = EVT_VENUE_CREATED;
            venue_created(e->body_as_VenueCreated(), &x->u.venue_created);
            break;
        case sc::EventBody::EventCreated:
            x->type = EVT_EVENT_CREATED;
            event_created(e->body_as_EventCreated(), &x->u.event_created);
            break;
        case sc::EventBody::EventPublished:
            x->type = EVT_EVENT_PUBLISHED;
            x->u.event_published.event_id = req(e->body_as_EventPublished()->event_id());
            x->u.event_published.sections =
                sections(e->body_as_EventPublished()->sections(), &x->u.event_published.n_sections);
            break;
        case sc::EventBody::InventoryOpened:
            x->type = EVT_INVENTORY_OPENED;
            inventory_opened(e->body_as_InventoryOpened(), &x->u.inventory_opened);
            break;
        case sc::EventBody::HoldPlaced:
            x->type = EVT_HOLD_PLACED;
            hold_placed(e->body_as_HoldPlaced(), &x->u.hold_placed);
            break;
        case sc::EventBody::HoldReleased:
            x->type = EVT_HOLD_RELEASED;
            x->u.hold_ended.booking_id = req(e->body_as_HoldReleased()->booking_id());
            break;
        case sc::EventBody::HoldExpired:
            x->type = EVT_HOLD_EXPIRED;
            x->u.hold_ended.booking_id = req(e->body_as_HoldExpired()->booking_id());
            break;
        case sc::EventBody::UserRegistered:
            x->type = EVT_USER_REGISTERED;
            user_registered(e->body_as_UserRegistered(), &x->u.user_registered);
            break;
        case sc::EventBody::Claimed:
            x->type = EVT_CLAIMED;
            x->u.claimed.kind = req(e->body_as_Claimed()->kind());
            x->u.claimed.owner = req(e->body_as_Claimed()->owner());
            break;
        default:
            /* NONE, or a member appended by a newer schema: the verifier
             * accepts unknown union types, we cannot apply them. */
            ok = false;
            break;
        }
    }

    void commit(const sc::Commit *c, evt_commit_t *x)
    {
        if (!table(c)) {
            ok = false;
            return;
        }
        x->subject = req(c->subject());
        x->version = c->version();
        x->command_id = str(c->command_id());
        x->correlation_id = str(c->correlation_id());
        x->actor = str(c->actor());
        x->time = c->time();
        if (const fb::Vector<uint8_t> *h = c->prev_hash()) {
            if (h->size() != sizeof x->prev_hash || !spend(4 + sizeof x->prev_hash))
                ok = false;
            else
                std::memcpy(x->prev_hash, h->data(), sizeof x->prev_hash);
        }
        x->events = array<evt_event_t>(c->events(), 4, &x->n_events);
        if (x->n_events == 0)
            ok = false;
        for (uint32_t i = 0; ok && i < x->n_events; i++)
            event(c->events()->Get(i), &x->events[i]);
    }
};

} // namespace

extern "C" ts_status evt_commit_encode(const evt_commit_t *c, ts_buf_t *out)
{
    assert(c && out);
    if (c->n_events == 0 || !c->events || !c->subject)
        return TS_ERR_INVALID;
    Encoder e;
    std::vector<fb::Offset<sc::Event>> events;
    for (uint32_t i = 0; e.ok && i < c->n_events; i++)
        events.push_back(e.event(c->events[i]));
    if (!e.ok)
        return TS_ERR_INVALID;
    auto subject = e.str(c->subject);
    auto command_id = e.str(c->command_id);
    auto correlation_id = e.str(c->correlation_id);
    auto actor = e.str(c->actor);
    auto hash = e.fbb.CreateVector(c->prev_hash, sizeof c->prev_hash);
    auto ev = e.fbb.CreateVector(events);
    auto root = sc::CreateCommit(e.fbb, subject, c->version, command_id, correlation_id, actor,
                                 c->time, hash, ev);
    sc::FinishCommitBuffer(e.fbb, root);
    ts_buf_append(out, e.fbb.GetBufferPointer(), e.fbb.GetSize());
    return TS_OK;
}

extern "C" ts_status evt_commit_decode(const void *data, size_t len, ts_arena_t *arena,
                                       evt_commit_t *out)
{
    assert(arena && out);
    /* The smallest possible commit is far above 8 bytes; the verifier asserts
     * (aborts) on sizes beyond FlatBuffers' 2 GiB limit, so refuse those here. */
    if (!data || len < 8 || len >= FLATBUFFERS_MAX_BUFFER_SIZE)
        return TS_ERR_CORRUPT;

    /* The generated accessors load scalars in place, and the verifier checks
     * alignment relative to the buffer start only. A message body from the
     * network need not start 8-aligned, so such bytes are read from an
     * aligned copy. malloc failure aborts, as everywhere in base.h. */
    const uint8_t *buf = static_cast<const uint8_t *>(data);
    void *aligned = nullptr;
    if (reinterpret_cast<uintptr_t>(buf) % alignof(uint64_t) != 0) {
        aligned = std::malloc(len);
        if (!aligned)
            std::abort();
        std::memcpy(aligned, buf, len);
        buf = static_cast<const uint8_t *>(aligned);
    }

    ts_status rc = TS_ERR_CORRUPT;
    fb::Verifier::Options opts;
    opts.max_tables = static_cast<fb::uoffset_t>(len / 4 + 1); /* a table is >= 4 bytes */
    fb::Verifier verifier(buf, len, opts);
    if (sc::VerifyCommitBuffer(verifier)) {
        Decoder d{arena, len};
        evt_commit_t c;
        std::memset(&c, 0, sizeof c);
        d.commit(sc::GetCommit(buf), &c);
        if (d.ok) {
            *out = c;
            rc = TS_OK;
        }
    }
    std::free(aligned);
    return rc;
}
