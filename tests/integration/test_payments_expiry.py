"""RULE-PAY-2: a payment that succeeds after its hold expired re-acquires the
seats when they are still free (BookingConfirmed, reacquired), and otherwise
records the booking as refund-due and has the provider refund it
(BookingRefundDue, then RefundCompleted from the refund.succeeded webhook).
One wait of about a minute (hold_minutes = 1) serves every check."""

import time
import unittest

from harness import StackTestCase, expect
from helpers import audit, published_event, seat_statuses, seatmap, section
from pay_util import PAY_ENV, hold, pay, simulate, wait_booking


def events_of(commits, type_name):
    return [(c, ev["data"]) for c in commits for ev in c["events"] if ev["type"] == type_name]


class PaymentAfterExpiry(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def test_late_payment_reacquires_free_seats_and_refunds_taken_ones(self):
        s = self.stack
        admin = s.admin_token()
        _, e, _ = published_event(s, admin, event={"policy": {"hold_minutes": 1}})
        ev = e["event_id"]
        _, tok = s.register()
        _, rival = s.register()
        free_later = hold(s, tok, ev, {"seats": ["A-1-1"]})
        taken_later = hold(s, tok, ev, {"seats": ["A-1-2"]})
        units = hold(s, tok, ev, {"tier": "floor", "quantity": 2})
        pays = {b["booking_id"]: pay(s, tok, b["booking_id"])
                for b in (free_later, taken_later, units)}

        # The holds expire (RULE-HOLD-3); the sweeper records it.
        for b in (free_later, taken_later, units):
            wait_booking(s, tok, b["booking_id"], "expired", timeout=90)
        # Expired: no new intent.
        st, _, d = s.request("POST", f"/bookings/{free_later['booking_id']}/payments", token=tok)
        self.assertEqual((st, d["code"]), (409, "hold_expired"), d)
        # Someone else takes A-1-2 meanwhile.
        hold(s, rival, ev, {"seats": ["A-1-2"]})

        # The payments succeed late.
        for b in (free_later, taken_later, units):
            simulate(s, tok, pays[b["booking_id"]]["payment_id"], "succeeded")

        # A-1-1 was still free: confirmed again, with its ticket.
        got = wait_booking(s, tok, free_later["booking_id"], "confirmed")
        self.assertEqual([t["seat"] for t in got["tickets"]], ["A-1-1"])
        # So were the standing units.
        got = wait_booking(s, tok, units["booking_id"], "confirmed")
        self.assertEqual(len(got["tickets"]), 2)
        # A-1-2 was taken: the money goes back in full.
        got = wait_booking(s, tok, taken_later["booking_id"], "refunded")
        self.assertEqual(got["refund"]["amount"], taken_later["total"]["amount"])
        self.assertEqual(got["tickets"], [])

        commits = audit(s, admin, f"tix.inv.{ev}.>")
        confirmed = {d["booking_id"]: d for _, d in events_of(commits, "BookingConfirmed")}
        self.assertEqual(set(confirmed), {free_later["booking_id"], units["booking_id"]})
        for d in confirmed.values():
            self.assertTrue(d["reacquired"], d)
        (_, due), = events_of(commits, "BookingRefundDue")
        self.assertEqual((due["booking_id"], due["amount"]["amount"]),
                         (taken_later["booking_id"], taken_later["total"]["amount"]))
        (_, done), = events_of(commits, "RefundCompleted")
        self.assertEqual(done["booking_id"], taken_later["booking_id"])

        # The read model: A-1-1 sold, A-1-2 held by the rival, 2 units sold.
        head = max(c["seq"] for c in commits)
        m = seatmap(s, ev, head)
        st = seat_statuses(m)
        self.assertEqual((st["A-1-1"], st["A-1-2"]), ("sold", "held"))
        self.assertEqual(section(m, "GA")["available"], 98)


if __name__ == "__main__":
    unittest.main()
