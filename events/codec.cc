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
CODEC_SAME(sc::EventBody::EventUpdated, EVT_EVENT_UPDATED);
CODEC_SAME(sc::EventBody::EventCancelled, EVT_EVENT_CANCELLED);
CODEC_SAME(sc::EventBody::PromoCreated, EVT_PROMO_CREATED);
CODEC_SAME(sc::EventBody::PromoUsed, EVT_PROMO_USED);
CODEC_SAME(sc::EventBody::PromoReleased, EVT_PROMO_RELEASED);
CODEC_SAME(sc::EventBody::PaymentRequested, EVT_PAYMENT_REQUESTED);
CODEC_SAME(sc::EventBody::PaymentFailed, EVT_PAYMENT_FAILED);
CODEC_SAME(sc::EventBody::BookingConfirmed, EVT_BOOKING_CONFIRMED);
CODEC_SAME(sc::EventBody::BookingRefundDue, EVT_BOOKING_REFUND_DUE);
CODEC_SAME(sc::EventBody::BookingCancelled, EVT_BOOKING_CANCELLED);
CODEC_SAME(sc::EventBody::RefundCompleted, EVT_REFUND_COMPLETED);
CODEC_SAME(sc::EventBody::TicketCheckedIn, EVT_TICKET_CHECKED_IN);
CODEC_SAME(sc::EventBody::TicketTransferred, EVT_TICKET_TRANSFERRED);
CODEC_SAME(sc::EventBody::InventoryCancelled, EVT_INVENTORY_CANCELLED);
CODEC_SAME(sc::EventBody::InventoryRescheduled, EVT_INVENTORY_RESCHEDULED);
CODEC_SAME(sc::EventBody::LoginFailed, EVT_LOGIN_FAILED);
CODEC_SAME(sc::EventBody::RolesChanged, EVT_ROLES_CHANGED);
CODEC_SAME(sc::EventBody::UserBlocked, EVT_USER_BLOCKED);
CODEC_SAME(sc::EventBody::UserUnblocked, EVT_USER_UNBLOCKED);
CODEC_SAME(sc::EventBody::RefreshIssued, EVT_REFRESH_ISSUED);
CODEC_SAME(sc::EventBody::RefreshRotated, EVT_REFRESH_ROTATED);
CODEC_SAME(sc::EventBody::RefreshRevoked, EVT_REFRESH_REVOKED);
CODEC_SAME(sc::EventBody::QuotaTaken, EVT_QUOTA_TAKEN);
CODEC_SAME(sc::EventBody::QuotaConfirmed, EVT_QUOTA_CONFIRMED);
CODEC_SAME(sc::EventBody::QuotaReturned, EVT_QUOTA_RETURNED);
CODEC_SAME(sc::EventBody::WaitlistJoined, EVT_WAITLIST_JOINED);
CODEC_SAME(sc::EventBody::WaitlistLeft, EVT_WAITLIST_LEFT);
CODEC_SAME(sc::EventBody::WaitlistOffered, EVT_WAITLIST_OFFERED);
CODEC_SAME(sc::EventBody::WaitlistOfferLapsed, EVT_WAITLIST_OFFER_LAPSED);
CODEC_SAME(sc::EventBody::WaitlistFulfilled, EVT_WAITLIST_FULFILLED);
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

    fb::Offset<fb::Vector<fb::Offset<sc::RefundStep>>> refund_steps(uint32_t n,
                                                                    const evt_refund_step_t *v)
    {
        if (!has(n, v))
            return 0;
        std::vector<fb::Offset<sc::RefundStep>> out;
        for (uint32_t i = 0; i < n; i++)
            out.push_back(sc::CreateRefundStep(fbb, v[i].min_hours_before, v[i].percent));
        return fbb.CreateVector(out);
    }

    /* A currency code of a struct (char[4]): NUL-terminated, may be empty. */
    fb::Offset<fb::String> currency(const char (&c)[4])
    {
        size_t n = strnlen(c, sizeof c);
        if (n == sizeof c) {
            ok = false;
            return 0;
        }
        return n ? fbb.CreateString(c, n) : 0;
    }

    fb::Offset<sc::Policy> policy(const evt_policy_t &p)
    {
        auto steps = refund_steps(p.n_refund, p.refund);
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
        auto key = str(x.ticket_key);
        return sc::CreateEventPublished(fbb, id, secs, key).Union();
    }

    fb::Offset<void> inventory_opened(const evt_inventory_opened_t &x)
    {
        auto event_id = req(x.event_id);
        auto sec = section(x.section);
        auto tier_key = req(x.tier_key);
        auto price = money(x.price);
        auto refund = refund_steps(x.n_refund, x.refund);
        return sc::CreateInventoryOpened(fbb, event_id, sec, tier_key, price, x.sale_starts_at,
                                         x.sale_ends_at, x.max_per_order, x.hold_minutes,
                                         x.service_fee_bps, x.vat_bps, x.starts_at, x.ends_at,
                                         x.max_per_user, x.transfer_cutoff_hours, refund)
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
        auto promo = str(x.promo_code);
        auto offer = str(x.offer_entry);
        return sc::CreateHoldPlaced(fbb, booking_id, event_id, section_key, user_id, command_id,
                                    tier_key, x.created_at, x.expires_at, seats, x.quantity, price,
                                    x.subtotal, x.discount, x.service_fee, x.total, x.vat_included,
                                    promo, offer)
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

    fb::Offset<void> event_updated(const evt_event_created_t &x)
    {
        return event_created(x);
    }

    fb::Offset<void> payment(const evt_payment_t &x)
    {
        auto booking_id = req(x.booking_id);
        auto payment_id = req(x.payment_id);
        auto provider = str(x.provider);
        auto provider_event_id = str(x.provider_event_id);
        auto cur = currency(x.currency);
        auto reason = str(x.reason);
        return sc::CreatePayment(fbb, booking_id, payment_id, provider, provider_event_id, x.amount,
                                 cur, x.at, reason)
            .Union();
    }

    fb::Offset<void> booking_confirmed(const evt_booking_confirmed_t &x)
    {
        std::vector<fb::Offset<sc::Ticket>> tickets;
        if (has(x.n_tickets, x.tickets)) {
            for (uint32_t i = 0; i < x.n_tickets; i++) {
                const evt_ticket_t &t = x.tickets[i];
                auto id = req(t.ticket_id);
                auto seat = str(t.seat);
                auto holder = req(t.holder_id);
                tickets.push_back(sc::CreateTicket(fbb, id, seat, holder, t.version));
            }
        }
        auto booking_id = req(x.booking_id);
        auto payment_id = str(x.payment_id);
        auto provider_event_id = str(x.provider_event_id);
        auto tv = tickets.empty() ? 0 : fbb.CreateVector(tickets);
        return sc::CreateBookingConfirmed(fbb, booking_id, payment_id, provider_event_id, x.at,
                                          x.reacquired != 0, tv)
            .Union();
    }

    fb::Offset<void> booking_cancelled(const evt_booking_cancelled_t &x)
    {
        auto booking_id = req(x.booking_id);
        auto reason = str(x.reason);
        return sc::CreateBookingCancelled(fbb, booking_id, x.refund, reason, x.at).Union();
    }

    fb::Offset<void> ticket_checked_in(const evt_ticket_checked_in_t &x)
    {
        auto id = req(x.ticket_id);
        auto gate = str(x.gate);
        auto nonce = str(x.nonce);
        return sc::CreateTicketCheckedIn(fbb, id, x.at, gate, nonce).Union();
    }

    fb::Offset<void> ticket_transferred(const evt_ticket_transferred_t &x)
    {
        auto id = req(x.ticket_id);
        auto new_id = req(x.new_ticket_id);
        auto to = req(x.to_user_id);
        return sc::CreateTicketTransferred(fbb, id, new_id, to, x.version, x.at).Union();
    }

    fb::Offset<void> promo(const evt_promo_t &x)
    {
        auto event_id = req(x.event_id);
        auto code = req(x.code);
        return sc::CreatePromo(fbb, event_id, code, x.percent_off, x.amount_off, x.max_uses,
                               x.valid_from, x.valid_until)
            .Union();
    }

    fb::Offset<void> promo_use(const evt_promo_use_t &x)
    {
        auto event_id = req(x.event_id);
        auto code = req(x.code);
        auto booking_id = req(x.booking_id);
        return sc::CreatePromoUse(fbb, event_id, code, booking_id).Union();
    }

    fb::Offset<void> inventory_change(const evt_inventory_change_t &x)
    {
        auto event_id = req(x.event_id);
        auto reason = str(x.reason);
        return sc::CreateInventoryChange(fbb, event_id, reason, x.starts_at, x.ends_at).Union();
    }

    fb::Offset<void> user_note(const evt_user_note_t &x)
    {
        auto user_id = req(x.user_id);
        auto reason = str(x.reason);
        return sc::CreateUserNote(fbb, user_id, x.at, x.roles, reason).Union();
    }

    fb::Offset<void> refresh_token(const evt_refresh_token_t &x)
    {
        auto user_id = req(x.user_id);
        auto family = req(x.family_id);
        auto hash = str(x.token_hash);
        auto reason = str(x.reason);
        return sc::CreateRefreshToken(fbb, user_id, family, hash, x.expires_at, reason).Union();
    }

    fb::Offset<void> quota(const evt_quota_t &x)
    {
        auto event_id = req(x.event_id);
        auto booking_id = req(x.booking_id);
        auto user_id = str(x.user_id);
        auto ticket_id = str(x.ticket_id);
        return sc::CreateQuota(fbb, event_id, booking_id, x.quantity, x.expires_at, user_id,
                               ticket_id)
            .Union();
    }

    fb::Offset<void> waitlist(const evt_waitlist_entry_t &x)
    {
        auto event_id = req(x.event_id);
        auto tier = str(x.tier);
        auto entry_id = req(x.entry_id);
        auto user_id = str(x.user_id);
        auto booking_id = str(x.booking_id);
        auto reason = str(x.reason);
        return sc::CreateWaitlistEntry(fbb, event_id, tier, entry_id, user_id, x.quantity, x.at,
                                       booking_id, x.expires_at, reason)
            .Union();
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
        case EVT_HOLD_RELEASED: {
            auto booking_id = req(e.u.hold_ended.booking_id);
            auto reason = str(e.u.hold_ended.reason);
            body = sc::CreateHoldReleased(fbb, booking_id, reason).Union();
            break;
        }
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
        case EVT_EVENT_UPDATED:
            body = event_updated(e.u.event_created);
            break;
        case EVT_EVENT_CANCELLED: {
            auto event_id = req(e.u.event_cancelled.event_id);
            auto reason = str(e.u.event_cancelled.reason);
            body = sc::CreateEventCancelled(fbb, event_id, reason).Union();
            break;
        }
        case EVT_PROMO_CREATED:
            body = promo(e.u.promo);
            break;
        case EVT_PROMO_USED:
        case EVT_PROMO_RELEASED:
            body = promo_use(e.u.promo_use);
            break;
        case EVT_PAYMENT_REQUESTED:
        case EVT_PAYMENT_FAILED:
        case EVT_BOOKING_REFUND_DUE:
        case EVT_REFUND_COMPLETED:
            body = payment(e.u.payment);
            break;
        case EVT_BOOKING_CONFIRMED:
            body = booking_confirmed(e.u.booking_confirmed);
            break;
        case EVT_BOOKING_CANCELLED:
            body = booking_cancelled(e.u.booking_cancelled);
            break;
        case EVT_TICKET_CHECKED_IN:
            body = ticket_checked_in(e.u.ticket_checked_in);
            break;
        case EVT_TICKET_TRANSFERRED:
            body = ticket_transferred(e.u.ticket_transferred);
            break;
        case EVT_INVENTORY_CANCELLED:
        case EVT_INVENTORY_RESCHEDULED:
            body = inventory_change(e.u.inventory_change);
            break;
        case EVT_LOGIN_FAILED:
        case EVT_ROLES_CHANGED:
        case EVT_USER_BLOCKED:
        case EVT_USER_UNBLOCKED:
            body = user_note(e.u.user_note);
            break;
        case EVT_REFRESH_ISSUED:
        case EVT_REFRESH_ROTATED:
        case EVT_REFRESH_REVOKED:
            body = refresh_token(e.u.refresh_token);
            break;
        case EVT_QUOTA_TAKEN:
        case EVT_QUOTA_CONFIRMED:
        case EVT_QUOTA_RETURNED:
            body = quota(e.u.quota);
            break;
        case EVT_WAITLIST_JOINED:
        case EVT_WAITLIST_LEFT:
        case EVT_WAITLIST_OFFERED:
        case EVT_WAITLIST_OFFER_LAPSED:
        case EVT_WAITLIST_FULFILLED:
            body = waitlist(e.u.waitlist);
            break;
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

    evt_refund_step_t *refund_steps(const fb::Vector<fb::Offset<sc::RefundStep>> *v, uint32_t *n)
    {
        evt_refund_step_t *out = array<evt_refund_step_t>(v, 4, n);
        for (uint32_t i = 0; i < *n; i++) {
            const sc::RefundStep *r = v->Get(i);
            if (!table(r))
                continue;
            out[i].min_hours_before = r->min_hours_before();
            out[i].percent = r->percent();
        }
        return out;
    }

    /* A currency string into a char[4]; absent reads as "". */
    void currency(const fb::String *cur, char (&x)[4])
    {
        std::memset(x, 0, sizeof x);
        if (!cur)
            return;
        if (cur->size() >= sizeof x || std::memchr(cur->data(), 0, cur->size()) ||
            !spend(4 + static_cast<size_t>(cur->size()) + 1)) {
            ok = false;
            return;
        }
        std::memcpy(x, cur->data(), cur->size());
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
        x->refund = refund_steps(p->refund(), &x->n_refund);
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
        x->starts_at = b->starts_at();
        x->ends_at = b->ends_at();
        x->max_per_user = b->max_per_user();
        x->transfer_cutoff_hours = b->transfer_cutoff_hours();
        x->refund = refund_steps(b->refund(), &x->n_refund);
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
        x->promo_code = str(b->promo_code());
        x->offer_entry = str(b->offer_entry());
    }

    void payment(const sc::Payment *b, evt_payment_t *x)
    {
        x->booking_id = req(b->booking_id());
        x->payment_id = req(b->payment_id());
        x->provider = str(b->provider());
        x->provider_event_id = str(b->provider_event_id());
        x->amount = b->amount();
        currency(b->currency(), x->currency);
        x->at = b->at();
        x->reason = str(b->reason());
    }

    void booking_confirmed(const sc::BookingConfirmed *b, evt_booking_confirmed_t *x)
    {
        x->booking_id = req(b->booking_id());
        x->payment_id = str(b->payment_id());
        x->provider_event_id = str(b->provider_event_id());
        x->at = b->at();
        x->reacquired = b->reacquired() ? 1 : 0;
        x->tickets = array<evt_ticket_t>(b->tickets(), 4, &x->n_tickets);
        for (uint32_t i = 0; i < x->n_tickets; i++) {
            const sc::Ticket *t = b->tickets()->Get(i);
            evt_ticket_t *tk = &x->tickets[i];
            if (!table(t)) {
                ok = false;
                continue;
            }
            tk->ticket_id = req(t->ticket_id());
            tk->seat = str(t->seat());
            tk->holder_id = req(t->holder_id());
            tk->version = t->version();
        }
    }

    void waitlist(const sc::WaitlistEntry *b, evt_waitlist_entry_t *x)
    {
        x->event_id = req(b->event_id());
        x->tier = str(b->tier());
        x->entry_id = req(b->entry_id());
        x->user_id = str(b->user_id());
        x->quantity = b->quantity();
        x->at = b->at();
        x->booking_id = str(b->booking_id());
        x->expires_at = b->expires_at();
        x->reason = str(b->reason());
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
            x->u.event_published.ticket_key = str(e->body_as_EventPublished()->ticket_key());
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
            x->u.hold_ended.reason = str(e->body_as_HoldReleased()->reason());
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
        case sc::EventBody::EventUpdated:
            x->type = EVT_EVENT_UPDATED;
            event_created(e->body_as_EventUpdated(), &x->u.event_created);
            break;
        case sc::EventBody::EventCancelled: {
            const sc::EventCancelled *b = e->body_as_EventCancelled();
            x->type = EVT_EVENT_CANCELLED;
            x->u.event_cancelled.event_id = req(b->event_id());
            x->u.event_cancelled.reason = str(b->reason());
            break;
        }
        case sc::EventBody::PromoCreated: {
            const sc::Promo *b = e->body_as_PromoCreated();
            evt_promo_t *p = &x->u.promo;
            x->type = EVT_PROMO_CREATED;
            p->event_id = req(b->event_id());
            p->code = req(b->code());
            p->percent_off = b->percent_off();
            p->amount_off = b->amount_off();
            p->max_uses = b->max_uses();
            p->valid_from = b->valid_from();
            p->valid_until = b->valid_until();
            break;
        }
        case sc::EventBody::PromoUsed:
        case sc::EventBody::PromoReleased: {
            const sc::PromoUse *b = static_cast<const sc::PromoUse *>(e->body());
            x->type =
                e->body_type() == sc::EventBody::PromoUsed ? EVT_PROMO_USED : EVT_PROMO_RELEASED;
            x->u.promo_use.event_id = req(b->event_id());
            x->u.promo_use.code = req(b->code());
            x->u.promo_use.booking_id = req(b->booking_id());
            break;
        }
        case sc::EventBody::PaymentRequested:
        case sc::EventBody::PaymentFailed:
        case sc::EventBody::BookingRefundDue:
        case sc::EventBody::RefundCompleted:
            x->type = static_cast<evt_type_t>(e->body_type());
            payment(static_cast<const sc::Payment *>(e->body()), &x->u.payment);
            break;
        case sc::EventBody::BookingConfirmed:
            x->type = EVT_BOOKING_CONFIRMED;
            booking_confirmed(e->body_as_BookingConfirmed(), &x->u.booking_confirmed);
            break;
        case sc::EventBody::BookingCancelled: {
            const sc::BookingCancelled *b = e->body_as_BookingCancelled();
            x->type = EVT_BOOKING_CANCELLED;
            x->u.booking_cancelled.booking_id = req(b->booking_id());
            x->u.booking_cancelled.refund = b->refund();
            x->u.booking_cancelled.reason = str(b->reason());
            x->u.booking_cancelled.at = b->at();
            break;
        }
        case sc::EventBody::TicketCheckedIn: {
            const sc::TicketCheckedIn *b = e->body_as_TicketCheckedIn();
            x->type = EVT_TICKET_CHECKED_IN;
            x->u.ticket_checked_in.ticket_id = req(b->ticket_id());
            x->u.ticket_checked_in.at = b->at();
            x->u.ticket_checked_in.gate = str(b->gate());
            x->u.ticket_checked_in.nonce = str(b->nonce());
            break;
        }
        case sc::EventBody::TicketTransferred: {
            const sc::TicketTransferred *b = e->body_as_TicketTransferred();
            x->type = EVT_TICKET_TRANSFERRED;
            x->u.ticket_transferred.ticket_id = req(b->ticket_id());
            x->u.ticket_transferred.new_ticket_id = req(b->new_ticket_id());
            x->u.ticket_transferred.to_user_id = req(b->to_user_id());
            x->u.ticket_transferred.version = b->version();
            x->u.ticket_transferred.at = b->at();
            break;
        }
        case sc::EventBody::InventoryCancelled:
        case sc::EventBody::InventoryRescheduled: {
            const sc::InventoryChange *b = static_cast<const sc::InventoryChange *>(e->body());
            x->type = static_cast<evt_type_t>(e->body_type());
            x->u.inventory_change.event_id = req(b->event_id());
            x->u.inventory_change.reason = str(b->reason());
            x->u.inventory_change.starts_at = b->starts_at();
            x->u.inventory_change.ends_at = b->ends_at();
            break;
        }
        case sc::EventBody::LoginFailed:
        case sc::EventBody::RolesChanged:
        case sc::EventBody::UserBlocked:
        case sc::EventBody::UserUnblocked: {
            const sc::UserNote *b = static_cast<const sc::UserNote *>(e->body());
            x->type = static_cast<evt_type_t>(e->body_type());
            x->u.user_note.user_id = req(b->user_id());
            x->u.user_note.at = b->at();
            x->u.user_note.roles = b->roles();
            x->u.user_note.reason = str(b->reason());
            break;
        }
        case sc::EventBody::RefreshIssued:
        case sc::EventBody::RefreshRotated:
        case sc::EventBody::RefreshRevoked: {
            const sc::RefreshToken *b = static_cast<const sc::RefreshToken *>(e->body());
            x->type = static_cast<evt_type_t>(e->body_type());
            x->u.refresh_token.user_id = req(b->user_id());
            x->u.refresh_token.family_id = req(b->family_id());
            x->u.refresh_token.token_hash = str(b->token_hash());
            x->u.refresh_token.expires_at = b->expires_at();
            x->u.refresh_token.reason = str(b->reason());
            break;
        }
        case sc::EventBody::QuotaTaken:
        case sc::EventBody::QuotaConfirmed:
        case sc::EventBody::QuotaReturned: {
            const sc::Quota *b = static_cast<const sc::Quota *>(e->body());
            x->type = static_cast<evt_type_t>(e->body_type());
            x->u.quota.event_id = req(b->event_id());
            x->u.quota.booking_id = req(b->booking_id());
            x->u.quota.quantity = b->quantity();
            x->u.quota.expires_at = b->expires_at();
            x->u.quota.user_id = str(b->user_id());
            x->u.quota.ticket_id = str(b->ticket_id());
            break;
        }
        case sc::EventBody::WaitlistJoined:
        case sc::EventBody::WaitlistLeft:
        case sc::EventBody::WaitlistOffered:
        case sc::EventBody::WaitlistOfferLapsed:
        case sc::EventBody::WaitlistFulfilled:
            x->type = static_cast<evt_type_t>(e->body_type());
            waitlist(static_cast<const sc::WaitlistEntry *>(e->body()), &x->u.waitlist);
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
