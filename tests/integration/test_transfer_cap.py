"""A transfer moves the per-user cap with the ticket (RULE-TKT-3 with
RULE-HOLD-4: a user's active holds plus confirmed tickets for one event never
exceed max_per_user, however the tickets came), through HTTP on the real
stack: a recipient at the cap is refused (422 limit_exceeded, the ticket
stays the sender's); a recipient below it gets the ticket and the cap counts
it; the sender may buy again at once; a ticket passed on frees its holder; a
booking cancelled after its tickets were transferred gives back the
recipients' units too. The quota aggregates' events are read from the log."""

import secrets
import unittest

from harness import StackTestCase, expect, wait_until
from helpers import audit, quota_subject
from pay_util import PAY_ENV, paid_booking
from test_tickets import event_with_seats


def quota_events(stack, token, event_id, user_id):
    """[(type, data)] of user_id's quota events for the event, in log order
    (its bucket also holds other users')."""
    return [(x["type"], x["data"]) for c in audit(stack, token, quota_subject(event_id, user_id))
            for x in c["events"] if x["data"].get("user_id") == user_id]


def moved(events):
    """(type, ticket) of the events about moved tickets (ticket_id set)."""
    return [(t, d["ticket_id"]) for t, d in events if d.get("ticket_id")]


class TransferCap(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def wait_quota(self, event_id, user_id, pred, what, timeout=60.0):
        """user_id's quota events once pred(events) holds (saga_bookings
        appends them a moment after the shard changes)."""
        seen = []

        def done():
            seen[:] = [quota_events(self.stack, self.admin, event_id, user_id)]
            return seen[0] if pred(seen[0]) else None
        try:
            return wait_until(done, timeout=timeout, interval=0.2, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}; last seen: {seen}") from None

    def test_the_cap_follows_the_ticket(self):
        s = self.stack
        self.admin = admin = s.admin_token()
        tag = secrets.token_hex(3)
        alice_id, alice = s.register(email=f"alice-{tag}@t.test")
        bob_id, bob = s.register(email=f"bob-{tag}@t.test")
        carol_id, carol = s.register(email=f"carol-{tag}@t.test")
        eid = event_with_seats(s, admin, max_per_order=2, max_per_user=2)

        def hold(token, seats):
            return s.request("POST", f"/events/{eid}/holds", {"seats": seats}, token=token)

        def transfer(token, ticket, email):
            return s.request("POST", f"/tickets/{ticket}/transfer", {"to_email": email},
                             token=token)

        def assert_capped(answer):
            self.assertEqual((answer[0], answer[2]["code"], answer[2]["limit"]),
                             (422, "limit_exceeded", 2), answer[2])

        # Alice buys two tickets: she is at her cap.
        _, _, bought = paid_booking(s, alice, eid, {"seats": ["A-1-1", "A-1-2"]})
        t1, t2 = sorted(t["ticket_id"] for t in bought["tickets"])
        assert_capped(hold(alice, ["A-2-1"]))
        # Bob holds two seats: he is at his cap too.
        bob_hold = expect(hold(bob, ["B-1-1", "B-1-2"]), 201)

        # RULE-HOLD-4: a recipient at the cap cannot be given a ticket; the
        # ticket stays Alice's, valid.
        assert_capped(transfer(alice, t1, f"bob-{tag}@t.test"))
        got = expect(s.request("GET", f"/tickets/{t1}", token=alice), 200)
        self.assertEqual(got["status"], "valid")
        self.assertEqual(moved(quota_events(s, admin, eid, bob_id)), [])
        # The shard's own refusals still come first (RULE-TKT-3): not the
        # holder's ticket, and the sender itself as recipient.
        self.assertEqual(transfer(bob, t1, f"carol-{tag}@t.test")[0], 403)
        self.assertEqual(transfer(alice, t1, f"alice-{tag}@t.test")[2]["code"],
                         "validation_failed")

        # Bob releases his hold (its quota comes back) and holds one seat.
        expect(s.request("DELETE", f"/bookings/{bob_hold['booking_id']}", token=bob), 200)
        self.wait_quota(eid, bob_id, lambda q: [t for t, _ in q] == ["QuotaTaken", "QuotaReturned"],
                        "Bob's hold returned")
        expect(hold(bob, ["B-2-1"]), 201)

        # Now Bob is below the cap: the transfer goes through.
        r = expect(transfer(alice, t1, f"bob-{tag}@t.test"), 200)
        t1b = r["ticket_id"]
        # The recipient's cap counts the ticket: 1 held + 1 received.
        assert_capped(hold(bob, ["B-2-2"]))
        # The sender is freed by that ticket, at once: she may buy again.
        again = expect(hold(alice, ["A-2-1"]), 201)
        assert_capped(hold(alice, ["A-2-2"]))
        # The log: Bob reserved the new ticket and keeps it; one unit of
        # Alice's booking left her.
        self.assertEqual(moved(quota_events(s, admin, eid, bob_id)),
                         [("QuotaTaken", t1b), ("QuotaConfirmed", t1b)])
        gone = [(t, d["ticket_id"], d["booking_id"], d["quantity"])
                for t, d in quota_events(s, admin, eid, alice_id) if d.get("ticket_id")]
        self.assertEqual(gone, [("QuotaReturned", t1, bought["booking_id"], 1)])

        # Bob passes the ticket on to Carol: Bob is freed, Carol counts it.
        r = expect(transfer(bob, t1b, f"carol-{tag}@t.test"), 200)
        t1c = r["ticket_id"]
        expect(hold(bob, ["B-2-2"]), 201)
        assert_capped(hold(carol, ["A-3-1", "A-3-2"]))
        self.assertEqual(moved(quota_events(s, admin, eid, bob_id)),
                         [("QuotaTaken", t1b), ("QuotaConfirmed", t1b), ("QuotaReturned", t1b)])

        # Alice cancels her booking: its tickets are revoked, Carol's
        # included, and Carol's unit comes back with Alice's.
        expect(s.request("DELETE", f"/bookings/{bought['booking_id']}", token=alice), 200)
        self.wait_quota(eid, carol_id, lambda q: moved(q)[-1:] == [("QuotaReturned", t1c)],
                        "Carol's revoked ticket returned")
        self.assertEqual(expect(s.request("GET", f"/tickets/{t1c}", token=carol), 200)["status"],
                         "cancelled")
        expect(hold(carol, ["A-3-1", "A-3-2"]), 201)
        q = self.wait_quota(eid, alice_id, lambda q: [t for t, d in q if not d.get("ticket_id")]
                            [-1:] == ["QuotaReturned"], "Alice's booking returned")
        ret = [d for t, d in q if t == "QuotaReturned" and d["booking_id"] == bought["booking_id"]
               and not d.get("ticket_id")]
        self.assertEqual([d["quantity"] for d in ret], [1])  # t2 only: t1 had left her
        self.assertEqual(expect(s.request("GET", f"/tickets/{t2}", token=alice), 200)["status"],
                         "cancelled")
        # Her new hold is untouched, and still counts: 1 of 2.
        self.assertEqual(again["status"], "held")
        expect(hold(alice, ["A-2-2"]), 201)


if __name__ == "__main__":
    unittest.main()
