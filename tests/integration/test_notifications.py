"""The notifications saga end to end: for a booking confirmed (with its ticket
links), a refund completed, an event cancelled (one message per cancelled
booking, to its holder) and a claimed waitlist offer (RULE-WL-1: fulfilled),
a JSON message on notify.email.<kind> in NATS stream NOTIFY, read back with
tests/tools/ts_notify_tail; each published once."""

import unittest

from harness import StackTestCase, expect, wait_until
from helpers import audit, log_head, published_event, register_users
from pay_util import PAY_ENV, paid_booking, pay, simulate, wait_booking
from test_waitlist import my_waitlist, notifications, tiny_event, wait_notification, wait_offer


class Notifications(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def test_confirmed_refund_and_event_cancelled(self):
        s = self.stack
        admin = s.admin_token()
        _, e, _ = published_event(s, admin)
        ev = e["event_id"]
        (u1, t1), (u2, t2) = register_users(s, 2)
        mail = {u: expect(s.request("GET", "/users/me", token=t), 200)["email"]
                for u, t in ((u1, t1), (u2, t2))}

        # Confirmed: the tickets, with links to each and to its QR code.
        h, _, b = paid_booking(s, t1, ev, {"seats": ["A-1-1", "A-1-2"]})
        n = wait_notification(s, "booking_confirmed", h["booking_id"])["data"]
        self.assertEqual((n["kind"], n["to"], n["user_id"], n["event_id"]),
                         ("booking_confirmed", mail[u1], u1, ev))
        self.assertEqual(n["event_title"], "Test Event")
        self.assertEqual(n["booking_url"], f"/api/v1/bookings/{h['booking_id']}")
        self.assertEqual(sorted((t["ticket_id"], t["seat"]) for t in n["tickets"]),
                         sorted((t["ticket_id"], t["seat"]) for t in b["tickets"]))
        for t in n["tickets"]:
            self.assertEqual(t["url"], f"/api/v1/tickets/{t['ticket_id']}")
            self.assertEqual(t["qr_url"], f"/api/v1/tickets/{t['ticket_id']}/qr.svg")

        # Cancelled by its holder a month ahead (RULE-REF-1): the refund is
        # told once the provider has paid it (RefundCompleted).
        expect(s.request("DELETE", f"/bookings/{h['booking_id']}", token=t1), 200)
        done = wait_booking(s, t1, h["booking_id"], "refunded")
        n = wait_notification(s, "refund", h["booking_id"])["data"]
        self.assertEqual((n["to"], n["refund"]), (mail[u1], done["refund"]))
        self.assertGreater(n["refund"]["amount"], 0)

        # The event cancelled: the holder of each booking is told, with the
        # full refund (fee included), and later of the refund itself.
        g, _, _ = paid_booking(s, t2, ev, {"tier": "floor", "quantity": 2})
        expect(s.request("POST", f"/events/{ev}/cancel", token=admin), 200)
        n = wait_notification(s, "event_cancelled", g["booking_id"])["data"]
        self.assertEqual((n["to"], n["user_id"], n["event_id"]), (mail[u2], u2, ev))
        self.assertEqual(n["refund"], g["total"])
        wait_booking(s, t2, g["booking_id"], "refunded")
        n = wait_notification(s, "refund", g["booking_id"])["data"]
        self.assertEqual(n["refund"], g["total"])

        # Nothing else, and nothing twice: one message per fact.
        sent = notifications(s)
        kinds = sorted((x["subject"], x["data"]["booking_id"]) for x in sent)
        self.assertEqual(kinds, sorted([
            ("notify.email.booking_confirmed", h["booking_id"]),
            ("notify.email.refund", h["booking_id"]),
            ("notify.email.booking_confirmed", g["booking_id"]),
            ("notify.email.event_cancelled", g["booking_id"]),
            ("notify.email.refund", g["booking_id"])]))
        self.assertEqual(len({x["msg_id"] for x in sent}), len(sent))

    def test_claimed_offer_is_fulfilled(self):
        s = self.stack
        admin = s.admin_token()
        (a, ta), (b, tb) = register_users(s, 2)
        eid = tiny_event(s, admin, {"key": "GA", "name": "Floor", "kind": "standing",
                                    "capacity": 1})
        held = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 1},
                                token=ta), 201)
        j = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tb), 201)
        expect(s.request("DELETE", f"/bookings/{held['booking_id']}", token=ta), 200)
        offer = wait_offer(s, tb)["offer"]
        # B takes the offer: pays for the hold made in their name.
        p = pay(s, tb, offer["booking_id"])
        simulate(s, tb, p["payment_id"], "succeeded")
        wait_booking(s, tb, offer["booking_id"], "confirmed")
        n = wait_notification(s, "booking_confirmed", offer["booking_id"])["data"]
        self.assertEqual((n["user_id"], len(n["tickets"])), (b, 1))

        def types():
            commits = audit(s, admin, f"tix.wait.{eid}.floor")
            return [ev["type"] for cm in commits for ev in cm["events"]]
        wait_until(lambda: types()[-1:] == ["WaitlistFulfilled"], timeout=30,
                   what="WaitlistFulfilled")
        self.assertEqual(types(), ["WaitlistJoined", "WaitlistOffered", "WaitlistFulfilled"])
        self.assertEqual(my_waitlist(s, tb, log_head(s)), [])
        commits = audit(s, admin, f"tix.wait.{eid}.floor")
        last = commits[-1]["events"][-1]["data"]
        self.assertEqual((last["entry_id"], last["booking_id"]),
                         (j["entry_id"], offer["booking_id"]))


if __name__ == "__main__":
    unittest.main()
