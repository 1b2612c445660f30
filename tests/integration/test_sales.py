"""The organizer's sales dashboard of issue 4, GET /events/{id}/sales, over
the real stack: per tier sold, held, available, gross, refunds and
checked_in after holds, payments confirmed by the simulated provider's
signed webhook, a refund (RULE-REF-1) and a check-in (RULE-TKT-2); holds
counted only while active (RULE-HOLD-3, lazy); the per-minute series sums to
the totals and has one entry per minute of confirmation; who may see it;
?min_seq and ?from/?to; and a model that had sales before it had the sales
tables gets them computed from its bookings."""

import datetime
import secrets
import time
import unittest

from harness import StackTestCase, expect
from helpers import audit, get_projected, mint_token, published_event
from pay_util import PAY_ENV, hold, paid_booking

FIELDS = ("capacity", "sold", "held", "available", "gross", "refunds", "checked_in")


def organizer(s, admin):
    """(user id, token) of a new organizer: the role granted by an admin
    where the server reads roles from the user (POST /users/{id}/roles),
    else carried by the token."""
    uid, tok = s.register()
    st, _, _ = s.request("POST", f"/users/{uid}/roles", {"role": "organizer"}, token=admin)
    if st == 200:
        return uid, tok
    return uid, mint_token(s, uid, roles=("organizer",))


def sales(s, tok, ev, min_seq=0, query=""):
    path = f"/events/{ev}/sales" + (f"?{query}" if query else "")
    d = expect(get_projected(s, path, min_seq, token=tok), 200)
    assert d["as_of_seq"] >= min_seq, (d["as_of_seq"], min_seq)
    return d


def flat(entry, currency="EUR"):
    """A tier or totals entry with money as plain amounts (the currency
    checked on the way)."""
    out = {}
    for k in FIELDS:
        v = entry[k]
        if isinstance(v, dict):
            assert v["currency"] == currency, entry
            v = v["amount"]
        out[k] = v
    return out


def by_tier(d):
    return {t["tier"]: flat(t, d["currency"]) for t in d["tiers"]}


def minute_of(rfc3339):
    t = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return t.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for(fn, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout}s")
        time.sleep(0.2)


def zero(capacity):
    return dict(capacity=capacity, sold=0, held=0, available=capacity, gross=0, refunds=0,
                checked_in=0)


class Sales(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def test_dashboard_per_tier_series_and_backfill(self):
        s = self.stack
        admin = s.admin_token()
        _, org = organizer(s, admin)
        _, u1 = s.register()
        _, u2 = s.register()
        # The harness's venue: std sells A (30 seats) and B (20) at 25.00,
        # floor sells GA (100 places) at 15.00.
        _, e, p = published_event(s, org)
        ev = e["event_id"]

        d = sales(s, org, ev, p["commit_seq"])
        self.assertEqual((d["event_id"], d["currency"]), (ev, "EUR"))
        self.assertEqual([t["tier"] for t in d["tiers"]], ["std", "floor"])
        self.assertEqual([t["name"] for t in d["tiers"]], ["Standard", "Floor"])
        self.assertEqual(by_tier(d), {"std": zero(50), "floor": zero(100)})
        self.assertEqual(flat(d["totals"]), zero(150))
        self.assertEqual(d["series"], [])

        # Confirmed through the simulated provider's signed webhook.
        _, _, a = paid_booking(s, u1, ev, {"seats": ["A-1-1", "A-1-2"]})
        _, _, b = paid_booking(s, u2, ev, {"tier": "floor", "quantity": 3})
        _, _, c = paid_booking(s, u1, ev, {"seats": ["A-2-1"]})
        # RULE-REF-1: 30 days before the start the whole subtotal goes back,
        # the service fee is kept.
        cancelled = expect(s.request("DELETE", f"/bookings/{c['booking_id']}", token=u1), 200)
        self.assertEqual(cancelled["status"], "refund_due", cancelled)
        refund = cancelled["refund"]["amount"]
        self.assertEqual(refund, c["subtotal"]["amount"])
        self.assertGreater(c["total"]["amount"], refund)
        # Held, and held then released: only the first counts.
        held = hold(s, u2, ev, {"seats": ["B-1-1", "B-1-2", "B-1-3"]})
        gone = hold(s, u1, ev, {"tier": "floor", "quantity": 2})
        last = expect(s.request("DELETE", f"/bookings/{gone['booking_id']}", token=u1), 200)

        want = {
            "std": dict(capacity=50, sold=2, held=3, available=45,
                        gross=a["total"]["amount"] + c["total"]["amount"], refunds=refund,
                        checked_in=0),
            "floor": dict(capacity=100, sold=3, held=0, available=97, gross=b["total"]["amount"],
                          refunds=0, checked_in=0),
        }
        d = sales(s, org, ev, max(last["commit_seq"], held["commit_seq"]))
        self.assertEqual(by_tier(d), want)
        self.assertEqual(flat(d["totals"]), {k: want["std"][k] + want["floor"][k] for k in FIELDS})

        # RULE-TKT-2: a ticket admitted at a gate counts as checked in.
        ticket = a["tickets"][0]["ticket_id"]

        def admit(ticket_id, tok):
            code = expect(s.request("GET", f"/tickets/{ticket_id}", token=tok), 200)["code"]
            r = expect(s.request("POST", "/checkin", {"code": code, "gate": "N1",
                                                      "nonce": secrets.token_hex(8)},
                                 token=admin), 200)
            self.assertEqual(r["result"], "admitted", r)

        def dashboard_is(w):
            return wait_for(lambda: (lambda x: x if by_tier(x) == w else None)(
                sales(s, org, ev)), f"the dashboard at {w}")

        admit(ticket, u1)
        want["std"]["checked_in"] = 1
        dashboard_is(want)
        # A booking admitted, then cancelled: its ticket is no longer
        # checked in, its item no longer sold, its payment stays in
        # gross and its refund is owed.
        _, _, g = paid_booking(s, u2, ev, {"seats": ["A-3-1"]})
        admit(g["tickets"][0]["ticket_id"], u2)
        want["std"].update(sold=3, available=44, checked_in=2,
                           gross=want["std"]["gross"] + g["total"]["amount"])
        dashboard_is(want)
        gc = expect(s.request("DELETE", f"/bookings/{g['booking_id']}", token=u2), 200)
        want["std"].update(sold=2, available=45, checked_in=1,
                           refunds=want["std"]["refunds"] + gc["refund"]["amount"])
        d = dashboard_is(want)

        # The series: one entry per minute in which bookings were confirmed
        # (the log's BookingConfirmed.at), oldest first, and over every
        # minute it sums to the totals.
        confirmed = [ev_["data"] for commit in audit(s, admin, f"tix.inv.{ev}.>")
                     for ev_ in commit["events"] if ev_["type"] == "BookingConfirmed"]
        self.assertEqual(len(confirmed), 4)
        minutes = sorted({minute_of(x["at"]) for x in confirmed})
        series = d["series"]
        self.assertEqual([m["minute"] for m in series], minutes)
        self.assertEqual(sum(m["sold"] for m in series), d["totals"]["sold"])
        self.assertEqual(sum(m["gross"]["amount"] for m in series), d["totals"]["gross"]["amount"])
        self.assertEqual(sum(m["refunds"]["amount"] for m in series),
                         d["totals"]["refunds"]["amount"])
        self.assertEqual({m["gross"]["currency"] for m in series}, {"EUR"})

        # ?from= and ?to= bound the series only: [from, to).
        first = series[0]["minute"]
        t0 = datetime.datetime.fromisoformat(first.replace("Z", "+00:00"))
        later = (t0 + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        one = sales(s, org, ev, query=f"from={first}&to={later}")
        self.assertEqual(one["series"], series[:1])
        self.assertEqual(one["totals"], d["totals"])
        after = (datetime.datetime.fromisoformat(series[-1]["minute"].replace("Z", "+00:00")) +
                 datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(sales(s, org, ev, query=f"from={after}")["series"], [])
        self.assertEqual(sales(s, org, ev, query=f"to={first}")["series"], [])
        self.assertEqual(sales(s, org, ev, query=f"from={first}")["series"], series)

        # RULE-HOLD-3, lazily: a hold whose expires_at has passed holds
        # nothing, before the sweeper's HoldExpired reaches the model. The
        # read model is told the hold lapsed a minute ago, as it looks in
        # that window (the log is untouched).
        s.psql("update catalog.bookings set expires_at = now() - interval '1 minute' "
               f"where booking_id = '{held['booking_id']}'")
        lapsed = by_tier(sales(s, org, ev))
        self.assertEqual(lapsed["std"], dict(want["std"], held=0, available=48))
        self.assertEqual(lapsed["floor"], want["floor"])
        s.psql("update catalog.bookings set expires_at = now() + interval '10 minutes' "
               f"where booking_id = '{held['booking_id']}'")

        # An admin sees the same; nobody else but the organizer.
        before = sales(s, org, ev)
        self.assertEqual(by_tier(sales(s, admin, ev)), by_tier(before))

        # A model that had sales before it had the sales tables (an
        # upgrade) gets them computed from its bookings and tickets when
        # the projector starts: the same rows, the same answer.
        rows = s.psql("select * from catalog.sales_minutes order by 1, 2, 3")
        tiers = s.psql("select * from catalog.sales_tiers order by 1, 2")
        self.assertEqual(len(tiers), 2)
        self.assertEqual(s.stop_project(), 0)
        s.psql("truncate catalog.sales_minutes, catalog.sales_tiers")
        s.start_project()
        wait_for(lambda: s.psql("select count(*) from catalog.sales_tiers")[0][0] != "0",
                 "backfilled sales")
        self.assertEqual(s.psql("select * from catalog.sales_minutes order by 1, 2, 3"), rows)
        self.assertEqual(s.psql("select * from catalog.sales_tiers order by 1, 2"), tiers)
        self.assertEqual(sales(s, org, ev), before)

    def test_who_may_see_and_bad_input(self):
        s = self.stack
        admin = s.admin_token()
        org_id, org = organizer(s, admin)
        _, org2 = organizer(s, admin)
        _, attendee = s.register()
        _, e, p = published_event(s, org)
        ev = e["event_id"]

        d = sales(s, org, ev, p["commit_seq"])
        self.assertEqual((d["organizer_id"], d["event_status"]), (org_id, "published"))
        sales(s, admin, ev)
        for tok in (org2, attendee):
            st, _, body = s.request("GET", f"/events/{ev}/sales", token=tok)
            self.assertEqual((st, body["code"]), (403, "forbidden"), body)
        st, _, body = s.request("GET", f"/events/{ev}/sales")
        self.assertEqual(st, 401, body)
        for bad in ("ev-nope", "no%20such"):
            st, _, body = s.request("GET", f"/events/{bad}/sales", token=org)
            self.assertEqual((st, body["code"]), (404, "not_found"), body)

        # A draft is its organizer's (and admins') alone, as GET /events/{id}.
        v = s.create_venue(org)
        draft = s.create_event(org, v["venue_id"])
        d = sales(s, org, draft["event_id"], draft["commit_seq"])
        self.assertEqual((d["event_status"], d["series"]), ("draft", []))
        self.assertEqual(flat(d["totals"]), zero(0))
        st, _, body = s.request("GET", f"/events/{draft['event_id']}/sales", token=org2)
        self.assertEqual((st, body["code"]), (404, "not_found"), body)

        # ?min_seq: waits up to 2 s, then 503 projection_lagging.
        st, headers, body = s.request("GET", f"/events/{ev}/sales?min_seq=999999999", token=org)
        self.assertEqual((st, body["code"]), (503, "projection_lagging"), body)
        self.assertEqual(headers.get("Retry-After"), "1")
        for q in ("min_seq=abc", "min_seq=-1", "from=yesterday", "to=2026-13-01T00:00:00Z",
                  "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
                  "from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"):
            st, _, body = s.request("GET", f"/events/{ev}/sales?{q}", token=org)
            self.assertEqual((st, body["code"]), (400, "validation_failed"), (q, body))


if __name__ == "__main__":
    unittest.main()
