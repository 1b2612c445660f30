"""Payments (RULE-PAY-1, RULE-TKT-1), end to end over HTTP with the built-in
`simulated` provider, which sends real signed webhooks to the server's own
POST /api/v1/webhooks/payments: a paid hold becomes a confirmed booking with
one ticket per seat or unit, a failed payment frees the seats, and the
webhook endpoint refuses forged, stale and malformed signatures and ignores
a replayed provider event (no second commit)."""

import time
import unittest

from harness import StackTestCase, expect
from helpers import audit, get_projected, published_event, seat_statuses, seatmap, section
from pay_util import (PAY_ENV, hold, pay, paid_booking, sign, simulate, wait_booking, webhook,
                      webhook_body)


def events_of(commits, type_name):
    return [(c, ev["data"]) for c in commits for ev in c["events"] if ev["type"] == type_name]


class Payments(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def setUp(self):
        super().setUp()
        s = self.stack
        self.admin = s.admin_token()
        _, e, _ = published_event(s, self.admin)
        self.ev = e["event_id"]
        self.uid, self.tok = s.register()

    def test_paid_hold_is_confirmed_with_one_ticket_per_item(self):
        s, ev, tok = self.stack, self.ev, self.tok
        h = hold(s, tok, ev, {"seats": ["A-1-1", "A-1-2"]})
        # RULE-PAY-1: the intent is for exactly the booking total.
        p = pay(s, tok, h["booking_id"])
        self.assertEqual((p["amount"], p["currency"], p["provider"]),
                         (h["total"]["amount"], "EUR", "simulated"))
        self.assertEqual(p["amount"], 5300)  # 2 x 25.00 + 6 % fee
        self.assertTrue(p["payment_id"].startswith(f"pay-{ev}-A-"), p)
        self.assertTrue(p["client_secret"].startswith(p["payment_id"] + "_secret_"), p)
        self.assertGreater(p["commit_seq"], h["commit_seq"])

        sim = simulate(s, tok, p["payment_id"], "succeeded")
        self.assertTrue(sim["provider_event_id"].startswith("evt_"), sim)
        b = wait_booking(s, tok, h["booking_id"], "confirmed")
        # RULE-TKT-1: one ticket per seat, version 1, valid.
        self.assertEqual(sorted(t["seat"] for t in b["tickets"]), ["A-1-1", "A-1-2"])
        for t in b["tickets"]:
            self.assertEqual((t["status"], t["version"], t["tier"]), ("valid", 1, "std"))
            self.assertTrue(t["ticket_id"].startswith(f"tk-{ev}-A-"), t)
        self.assertEqual(b["payment_id"], p["payment_id"])

        # The log: PaymentRequested, then the webhook's BookingConfirmed,
        # recorded by the provider, naming the provider event.
        commits = audit(s, self.admin, f"tix.inv.{ev}.A")
        (_, req), = events_of(commits, "PaymentRequested")
        self.assertEqual((req["payment_id"], req["amount"]["amount"]), (p["payment_id"], 5300))
        (c, conf), = events_of(commits, "BookingConfirmed")
        self.assertEqual(c["actor"], "provider")
        self.assertEqual(conf["provider_event_id"], sim["provider_event_id"])
        self.assertEqual(len(conf["tickets"]), 2)
        self.assertEqual({t["ticket_id"] for t in conf["tickets"]},
                         {t["ticket_id"] for t in b["tickets"]})
        for t in conf["tickets"]:
            self.assertEqual(t["holder_id"], self.uid)

        # Read your writes at the confirmation's commit: the seats are sold.
        got = expect(get_projected(s, f"/bookings/{h['booking_id']}", c["seq"], token=tok), 200)
        self.assertEqual(got["status"], "confirmed")
        st = seat_statuses(seatmap(s, ev, c["seq"]))
        self.assertEqual((st["A-1-1"], st["A-1-2"], st["A-1-3"]), ("sold", "sold", "free"))
        # Sold seats are refused to anyone else (RULE-HOLD-1).
        _, other = s.register()
        status, _, pr = s.request("POST", f"/events/{ev}/holds", {"seats": ["A-1-2"]},
                                  token=other)
        self.assertEqual((status, pr["code"]), (409, "seat_unavailable"), pr)

    def test_standing_units_get_tickets_without_seats(self):
        s, ev, tok = self.stack, self.ev, self.tok
        h, p, b = paid_booking(s, tok, ev, {"tier": "floor", "quantity": 3})
        self.assertEqual(p["amount"], 4770)  # 3 x 15.00 + 6 %
        self.assertEqual(len(b["tickets"]), 3)
        self.assertEqual({t["seat"] for t in b["tickets"]}, {None})
        self.assertEqual({t["tier"] for t in b["tickets"]}, {"floor"})
        # Held then sold: still 97 of 100 places available.
        m = seatmap(s, ev, b["commit_seq"])
        self.assertEqual(section(m, "GA")["available"], 97)

    def test_failed_payment_releases_the_seats(self):
        s, ev, tok = self.stack, self.ev, self.tok
        h = hold(s, tok, ev, {"seats": ["B-1-1", "B-1-2"]})
        p = pay(s, tok, h["booking_id"])
        simulate(s, tok, p["payment_id"], "failed")
        b = wait_booking(s, tok, h["booking_id"], "released")
        self.assertEqual(b["tickets"], [])
        commits = audit(s, self.admin, f"tix.inv.{ev}.B")
        (_, failed), = events_of(commits, "PaymentFailed")
        self.assertEqual(failed["payment_id"], p["payment_id"])
        (c, rel), = events_of(commits, "HoldReleased")
        self.assertEqual((rel["booking_id"], rel["reason"]), (h["booking_id"], "payment_failed"))
        st = seat_statuses(seatmap(s, ev, c["seq"]))
        self.assertEqual((st["B-1-1"], st["B-1-2"]), ("free", "free"))
        # Free again: someone else holds them.
        _, other = s.register()
        hold(s, other, ev, {"seats": ["B-1-1", "B-1-2"]})
        # A released booking cannot be paid for any more.
        status, _, pr = s.request("POST", f"/bookings/{h['booking_id']}/payments", token=tok)
        self.assertEqual((status, pr["code"]), (409, "conflict"), pr)

    def test_webhook_attacks_are_refused(self):
        """RULE-PAY-1: a forged signature, a stale timestamp and a replayed
        provider event are refused, each for what it is."""
        s, ev, tok = self.stack, self.ev, self.tok
        h = hold(s, tok, ev, {"seats": ["A-3-1"]})
        p = pay(s, tok, h["booking_id"])
        raw = webhook_body(p["payment_id"], amount=p["amount"])

        def refused(status, data, what):
            self.assertEqual(status, 400, f"{what}: {data}")
            self.assertEqual(data["code"], "validation_failed", what)
            self.assertEqual(data["errors"][0]["field"], "Payment-Signature", what)

        # Forged: signed with another secret.
        st, _, d = webhook(s, raw, signature=sign(raw, secret="not-the-secret-at-all"))
        refused(st, d, "forged")
        # Altered: the right signature over another body.
        st, _, d = webhook(s, raw.replace('"amount":', '"amount":1'), signature=sign(raw))
        refused(st, d, "altered body")
        # Stale: authentic but 301 s old (or 301 s ahead).
        now = int(time.time())
        st, _, d = webhook(s, raw, t=now - 301)
        refused(st, d, "stale")
        self.assertIn("300", d["detail"])
        st, _, d = webhook(s, raw, t=now + 301)
        refused(st, d, "from the future")
        # Missing and malformed headers.
        st, _, d = webhook(s, raw, signature=None)
        refused(st, d, "no header")
        for bad in ("t=abc,v1=00", f"t={now}", "v1=" + "0" * 64, "garbage"):
            st, _, d = webhook(s, raw, signature=bad)
            refused(st, d, f"malformed {bad!r}")
        # Nothing of that reached the shard.
        self.assertEqual(len(events_of(audit(s, self.admin, f"tix.inv.{ev}.A"),
                                       "BookingConfirmed")), 0)

        # The genuine webhook, signed 4 minutes ago: inside the tolerance, with
        # a minute to spare for the replay below (the 300 s edge itself is
        # pinned by tests/unit/payments/test_signature.c).
        header = sign(raw, t=int(time.time()) - 240)
        st, _, first = webhook(s, raw, signature=header)
        self.assertEqual(st, 200, first)
        self.assertEqual((first["received"], first["duplicate"]), (True, False))
        before = audit(s, self.admin, f"tix.inv.{ev}.A")
        # Replayed byte for byte (still inside the window): received, nothing
        # new in the log.
        st, _, again = webhook(s, raw, signature=header)
        self.assertEqual(st, 200, again)
        self.assertEqual((again["received"], again["duplicate"]), (True, True))
        self.assertEqual(again["commit_seq"], first["commit_seq"])
        after = audit(s, self.admin, f"tix.inv.{ev}.A")
        self.assertEqual([c["seq"] for c in after], [c["seq"] for c in before])
        self.assertEqual(len(events_of(after, "BookingConfirmed")), 1)
        wait_booking(s, tok, h["booking_id"], "confirmed")

    def test_webhook_bad_input(self):
        s, ev, tok = self.stack, self.ev, self.tok
        h = hold(s, tok, ev, {"seats": ["A-3-2"]})
        p = pay(s, tok, h["booking_id"])
        # Signed, but not JSON / wrong types: 400 naming the field.
        for raw, field in (("not json", "body"), ("[]", "body"),
                           ('{"id":5,"type":"payment.succeeded","data":{}}', "id"),
                           ('{"id":"evt_1","type":7,"data":{}}', "type"),
                           ('{"id":"evt_1","type":"payment.succeeded","data":[]}', "data"),
                           ('{"id":"evt_1","type":"payment.succeeded","data":{"payment_id":1,'
                            '"amount":1,"currency":"EUR"}}', "data.payment_id"),
                           ('{"id":"evt_1","type":"payment.succeeded","data":{"payment_id":"x",'
                            '"amount":"5300","currency":"EUR"}}', "data.amount"),
                           ('{"id":"evt_1","type":"payment.succeeded","data":{"payment_id":"x",'
                            '"amount":5300,"currency":"EURO"}}', "data.currency")):
            st, _, d = webhook(s, raw)
            self.assertEqual((st, d["code"]), (400, "validation_failed"), raw)
            self.assertEqual(d["errors"][0]["field"], field, raw)
        # Unknown payments: 404.
        for pid in (f"pay-{ev}-A-0000000000000000", "pay-nonsense", "bk-x-A-1"):
            st, _, d = webhook(s, webhook_body(pid, amount=5300))
            self.assertEqual((st, d["code"]), (404, "not_found"), pid)
        # RULE-PAY-1: a capture that is not the booking total is refused.
        st, _, d = webhook(s, webhook_body(p["payment_id"], amount=p["amount"] - 1))
        self.assertEqual((st, d["code"]), (400, "validation_failed"), d)
        self.assertEqual(d["errors"][0]["field"], "amount")
        # An event type we do not use is received and ignored.
        st, _, d = webhook(s, webhook_body(p["payment_id"], type_="payment.created"))
        self.assertEqual((st, d.get("ignored")), (200, True), d)
        # None of it changed the booking.
        got = expect(s.request("GET", f"/bookings/{h['booking_id']}", token=tok), 200)
        self.assertEqual(got["status"], "held")

    def test_payment_endpoints_bad_input(self):
        s, ev, tok = self.stack, self.ev, self.tok
        h = hold(s, tok, ev, {"seats": ["A-2-1"]})
        bid = h["booking_id"]
        _, other = s.register()
        # POST /bookings/{id}/payments
        self.assertEqual(s.request("POST", f"/bookings/{bid}/payments")[0], 401)
        for b in ("nope", f"bk-{ev}-A-0000000000000000", f"bk-{ev}-Z-0000000000000000"):
            st, _, d = s.request("POST", f"/bookings/{b}/payments", token=tok)
            self.assertEqual((st, d["code"]), (404, "not_found"), b)
        st, _, d = s.request("POST", f"/bookings/{bid}/payments", token=other)
        self.assertEqual((st, d["code"]), (403, "forbidden"), d)
        st, _, d = s.request("POST", f"/bookings/{bid}/payments", raw="{", token=tok)
        self.assertEqual((st, d["code"]), (400, "validation_failed"), d)
        p = pay(s, tok, bid)
        pid = p["payment_id"]
        # POST /payments/{id}/simulate
        self.assertEqual(s.request("POST", f"/payments/{pid}/simulate",
                                   {"outcome": "failed"})[0], 401)
        for body, field in (({}, "outcome"), ({"outcome": 1}, "outcome"),
                            ({"outcome": "maybe"}, "outcome"), ({"outcome": None}, "outcome")):
            st, _, d = s.request("POST", f"/payments/{pid}/simulate", body, token=tok)
            self.assertEqual((st, d["code"]), (400, "validation_failed"), body)
            self.assertEqual(d["errors"][0]["field"], field)
        st, _, d = s.request("POST", f"/payments/{pid}/simulate", raw="[1]", token=tok)
        self.assertEqual((st, d["code"]), (400, "validation_failed"), d)
        for q in ("nope", f"pay-{ev}-A-0000000000000000", bid):
            st, _, d = s.request("POST", f"/payments/{q}/simulate", {"outcome": "failed"},
                                 token=tok)
            self.assertEqual((st, d["code"]), (404, "not_found"), q)
        st, _, d = s.request("POST", f"/payments/{pid}/simulate", {"outcome": "failed"},
                             token=other)
        self.assertEqual((st, d["code"]), (403, "forbidden"), d)
        # None of it sent anything: the booking is still held.
        time.sleep(0.5)
        got = expect(s.request("GET", f"/bookings/{bid}", token=tok), 200)
        self.assertEqual(got["status"], "held")
        # A second intent for the same held booking is a new payment.
        p2 = pay(s, tok, bid)
        self.assertNotEqual(p2["payment_id"], pid)


if __name__ == "__main__":
    unittest.main()
