"""Issue 3's journey, end to end over HTTP against the real stack: a shop, a
box office and a gate running an on-sale.

register → login → browse → hold → pay with the simulated provider → signed
webhook → booking confirmed → tickets → QR → check-in admitted → rescan
already_used → transfer → old code revoked, new one admitted → cancel another
booking → refund by policy → the waitlisted user receives an offer.

Nothing here reaches behind the API: every step is a request a client makes,
and every wait is on a status the API reports."""

import time
import unittest
import xml.etree.ElementTree as ET

from harness import StackTestCase, expect
from helpers import get_projected, rfc3339


def ticket_id(t):
    """A booking's `tickets` entry: an id or an object with ticket_id."""
    return t["ticket_id"] if isinstance(t, dict) else t


class Journey(StackTestCase):
    def wait_booking(self, token, booking_id, status, min_seq=0, timeout=30.0):
        """GET /bookings/{id} until it reports `status` (the webhook is
        asynchronous: the provider sends it after answering)."""
        deadline = time.monotonic() + timeout
        while True:
            b = expect(get_projected(self.stack, f"/bookings/{booking_id}", min_seq, token=token),
                       200)
            if b["status"] == status or time.monotonic() > deadline:
                self.assertEqual(b["status"], status, b)
                return b
            time.sleep(0.2)

    def pay(self, token, booking):
        """Pays a held booking with the simulated provider; returns the
        confirmed booking."""
        s = self.stack
        pay = expect(s.request("POST", f"/bookings/{booking['booking_id']}/payments", {},
                               token=token), 201)
        self.assertEqual(pay["amount"], booking["total"]["amount"])  # RULE-PAY-1
        self.assertEqual(pay["currency"], booking["total"]["currency"])
        self.assertEqual(pay["provider"], "simulated")
        sim = s.request("POST", f"/payments/{pay['payment_id']}/simulate",
                        {"outcome": "succeeded"}, token=token)
        self.assertIn(sim[0], (200, 202), sim)
        return self.wait_booking(token, booking["booking_id"], "confirmed", pay["commit_seq"])

    def test_on_sale_journey(self):
        s = self.stack
        admin = s.admin_token()
        now = time.time()
        starts = now + 20 * 86400  # ≥ 168 h before: RULE-REF-1 refunds 100 % (fee kept)

        # The organizer's side: a small seated hall (one row of 4) on sale now.
        venue = s.create_venue(admin, sections=[
            {"key": "H", "name": "Hall", "kind": "seated", "rows": [{"label": "1", "seats": 4}]}])
        event = s.create_event(admin, venue["venue_id"], title="Journey Night",
                               description="a journey through the whole domain",
                               starts_at=rfc3339(starts), ends_at=rfc3339(starts + 7200),
                               tiers=[{"key": "hall", "name": "Hall",
                                       "price": {"amount": 3333, "currency": "EUR"},
                                       "sections": ["H"]}])
        eid = event["event_id"]
        published = s.publish(admin, eid)

        # register → login
        email = f"ana-{int(now)}@turnstile.test"
        reg = expect(s.request("POST", "/auth/register",
                               {"email": email, "password": "ana-password-1", "name": "Ana"}), 201)
        login = expect(s.request("POST", "/auth/login",
                                 {"email": email, "password": "ana-password-1"}), 200)
        ana = login["access_token"]

        # browse: the event is listed and has its tier's availability
        listed = expect(get_projected(s, "/events?q=journey", published["commit_seq"]), 200)
        self.assertIn(eid, [e["event_id"] for e in listed["items"]])
        details = expect(get_projected(s, f"/events/{eid}", published["commit_seq"]), 200)
        self.assertEqual(details["status"], "published")

        # hold two seats → pay → webhook → confirmed with one ticket per seat
        hold = expect(s.request("POST", f"/events/{eid}/holds", {"seats": ["H-1-1", "H-1-2"]},
                                token=ana), 201)
        self.assertEqual(hold["status"], "held")
        self.assertEqual(hold["subtotal"]["amount"], 6666)
        first = self.pay(ana, hold)
        self.assertEqual(len(first["tickets"]), 2)  # RULE-TKT-1
        t1, t2 = (ticket_id(t) for t in first["tickets"])

        # tickets → QR
        tk1 = expect(s.request("GET", f"/tickets/{t1}", token=ana), 200)
        self.assertEqual(tk1["event_id"], eid)
        self.assertEqual(tk1["status"], "valid")
        qr = s.request("GET", f"/tickets/{t1}/qr.svg", token=ana)
        self.assertEqual(qr[0], 200)
        svg = ET.fromstring(qr[2] if isinstance(qr[2], (bytes, str)) else b"")
        self.assertTrue(svg.tag.endswith("svg"))
        self.assertGreater(len(list(svg.iter())), 10)
        keys = expect(s.request("GET", f"/events/{eid}/keys"), 200)
        self.assertEqual(len(keys["ed25519"]), 1)

        # a gate: a box office account scans the code
        gate_id, gate = s.register(email=f"gate-{int(now)}@turnstile.test")
        expect(s.request("POST", f"/users/{gate_id}/roles", {"role": "box_office"}, token=admin),
               200)
        gate = s.login(f"gate-{int(now)}@turnstile.test", "attendee-pass-1")
        scan = expect(s.request("POST", "/checkin",
                                {"code": tk1["code"], "gate": "N1", "nonce": "scan-1"},
                                token=gate), 200)
        self.assertEqual(scan["result"], "admitted")  # RULE-TKT-2
        again = expect(s.request("POST", "/checkin",
                                 {"code": tk1["code"], "gate": "S2", "nonce": "scan-2"},
                                 token=gate), 200)
        self.assertEqual(again["result"], "already_used")
        self.assertEqual(again["first_scan"]["gate"], "N1")

        # transfer the second ticket → the old code is revoked, the new one admitted
        bob_email = f"bob-{int(now)}@turnstile.test"
        _, bob = s.register(email=bob_email)
        tk2 = expect(s.request("GET", f"/tickets/{t2}", token=ana), 200)
        moved = expect(s.request("POST", f"/tickets/{t2}/transfer", {"to_email": bob_email},
                                 token=ana), 200)  # RULE-TKT-3
        self.assertNotEqual(moved["ticket_id"], t2)
        old = expect(s.request("POST", "/checkin",
                               {"code": tk2["code"], "gate": "N1", "nonce": "scan-3"},
                               token=gate), 200)
        self.assertEqual(old["result"], "revoked")
        new = expect(get_projected(s, f"/tickets/{moved['ticket_id']}", moved["commit_seq"],
                                   token=bob), 200)
        fresh = expect(s.request("POST", "/checkin",
                                 {"code": new["code"], "gate": "N1", "nonce": "scan-4"},
                                 token=gate), 200)
        self.assertEqual(fresh["result"], "admitted")

        # the other two seats: sold out, so a third user joins the waitlist
        second = self.pay(ana, expect(s.request("POST", f"/events/{eid}/holds",
                                                {"seats": ["H-1-3", "H-1-4"]}, token=ana), 201))
        _, wes = s.register(email=f"wes-{int(now)}@turnstile.test")
        sold_out = s.request("POST", f"/events/{eid}/holds", {"seats": ["H-1-3"]}, token=wes)
        self.assertEqual(sold_out[0], 409, sold_out)
        entry = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 2}, token=wes),
                       201)
        self.assertEqual(entry["position"], 1)

        # cancel the other booking → refund by policy (≥ 168 h: 100 % of the
        # total without the service fee, RULE-REF-1) → refunded
        cancel = expect(s.request("DELETE", f"/bookings/{second['booking_id']}", token=ana), 200)
        self.assertIn(cancel["status"], ("refund_due", "refunded"))
        refunded = self.wait_booking(ana, second["booking_id"], "refunded", cancel["commit_seq"])
        expected = second["total"]["amount"] - second["service_fee"]["amount"]
        refund = refunded.get("refund") or refunded.get("refunded")
        if isinstance(refund, dict):
            refund = refund["amount"]
        self.assertEqual(refund, expected, refunded)

        # the waitlisted user receives an offer: a hold in their name (RULE-WL-1)
        deadline = time.monotonic() + 30
        while True:
            mine = expect(s.request("GET", "/users/me/waitlist", token=wes), 200)
            offers = [e for e in mine["items"] if e.get("offer")]
            if offers or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        self.assertEqual(len(offers), 1, mine)
        offer = offers[0]["offer"]
        booking = expect(get_projected(s, f"/bookings/{offer['booking_id']}", 0, token=wes), 200)
        self.assertEqual(booking["status"], "held")
        self.assertEqual(sorted(i["seat"] for i in booking["items"]), ["H-1-3", "H-1-4"])
        # in Wes's name: Ana may not read it (owner or admin only)
        self.assertEqual(s.request("GET", f"/bookings/{offer['booking_id']}", token=ana)[0], 403)
        self.assertTrue(reg["user_id"])


if __name__ == "__main__":
    unittest.main()
