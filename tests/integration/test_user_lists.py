"""A user's bookings (issue 4), GET /users/me/bookings, over the real stack:
the caller's bookings only, newest first, each exactly as GET
/bookings/{id} answers it (held, confirmed with tickets, released, refund
refunded); the list convention of API.md (?limit= 1..200, opaque ?cursor=,
next_cursor null on the last page) with its edge cases; ?min_seq. A user's
tickets and waitlist entries have lists of their own
(GET /users/me/tickets, /users/me/waitlist), served by other modules."""

import base64
import unittest

from harness import StackTestCase, expect
from helpers import get_projected, published_event
from pay_util import PAY_ENV, hold, paid_booking, wait_booking


def page(s, tok, min_seq=0, **q):
    query = "&".join(f"{k}={v}" for k, v in q.items())
    path = "/users/me/bookings" + (f"?{query}" if query else "")
    return expect(get_projected(s, path, min_seq, token=tok), 200)


def walk(s, tok, limit, min_seq=0):
    """Every page at limit; returns (ids in order, page sizes)."""
    ids, sizes, cursor = [], [], None
    while True:
        q = {"limit": limit}
        if cursor:
            q["cursor"] = cursor
        p = page(s, tok, min_seq, **q)
        ids += [b["booking_id"] for b in p["items"]]
        sizes.append(len(p["items"]))
        cursor = p["next_cursor"]
        if cursor is None:
            return ids, sizes
        assert len(sizes) <= 100, "the walk does not end"


class UserBookings(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def test_my_bookings_newest_first_and_paginated(self):
        s = self.stack
        admin = s.admin_token()
        alice_id, alice = s.register()
        bob_id, bob = s.register()
        _, carol = s.register()
        ev1 = published_event(s, admin)[1]["event_id"]
        ev2 = published_event(s, admin)[1]["event_id"]

        # Alice: seven bookings over two events, in every state the list
        # must show as GET /bookings/{id} does; Bob: two.
        made = []  # alice's, oldest first
        made.append(hold(s, alice, ev1, {"seats": ["A-1-1"]}))
        made.append(hold(s, bob, ev1, {"seats": ["A-1-2"]}))
        made.append(paid_booking(s, alice, ev1, {"seats": ["A-1-3", "A-1-4"]})[0])
        made.append(hold(s, alice, ev2, {"tier": "floor", "quantity": 2}))
        made.append(hold(s, alice, ev1, {"tier": "floor", "quantity": 1}))
        made.append(paid_booking(s, bob, ev2, {"seats": ["B-1-1"]})[0])
        made.append(paid_booking(s, alice, ev2, {"seats": ["B-2-1"]})[0])
        made.append(hold(s, alice, ev2, {"seats": ["A-3-3"]}))
        made.append(hold(s, alice, ev1, {"seats": ["B-2-2"]}))
        bobs = {made[1]["booking_id"], made[5]["booking_id"]}
        mine = [b["booking_id"] for b in made if b["booking_id"] not in bobs]
        self.assertEqual(len(mine), 7)
        last = expect(s.request("DELETE", f"/bookings/{made[3]['booking_id']}", token=alice), 200)
        refund = expect(s.request("DELETE", f"/bookings/{made[6]['booking_id']}", token=alice),
                        200)
        self.assertEqual(refund["status"], "refund_due", refund)
        # The provider's refund.succeeded webhook settles it; waiting for it
        # keeps every status still while the list is compared below.
        refunded = wait_booking(s, alice, made[6]["booking_id"], "refunded")
        seq = max(last["commit_seq"], refunded["commit_seq"])

        # Newest first (by the commit that placed them), the caller's only,
        # each exactly GET /bookings/{id}.
        p = page(s, alice, seq)
        self.assertIsNone(p["next_cursor"])
        self.assertEqual([b["booking_id"] for b in p["items"]], mine[::-1])
        for b in p["items"]:
            one = expect(s.request("GET", f"/bookings/{b['booking_id']}", token=alice), 200)
            self.assertEqual(b, one)
        statuses = {b["status"] for b in p["items"]}
        self.assertEqual(statuses, {"held", "confirmed", "released", "refunded"})
        confirmed = [b for b in p["items"] if b["status"] == "confirmed"]
        self.assertEqual([len(b["tickets"]) for b in confirmed], [2])
        self.assertEqual({b["user_id"] for b in p["items"]}, {alice_id})
        self.assertEqual([b["booking_id"] for b in page(s, bob, seq)["items"]],
                         [made[5]["booking_id"], made[1]["booking_id"]])
        self.assertEqual(page(s, carol, seq), {"items": [], "next_cursor": None})

        # limit=1 walks every booking exactly once, in the same order; so
        # do other page sizes, the last page being the short one (or a
        # full one followed by nothing only if the cursor said so).
        ids, sizes = walk(s, alice, 1, seq)
        self.assertEqual(ids, mine[::-1])
        self.assertEqual(sizes, [1] * 7)
        for limit, want in ((3, [3, 3, 1]), (7, [7]), (6, [6, 1]), (200, [7])):
            ids, sizes = walk(s, alice, limit, seq)
            self.assertEqual((ids, sizes), (mine[::-1], want), limit)
        # A cursor is a position, not a capability: Bob following Alice's
        # cursor (after her newest booking) sees his own older ones only.
        first = page(s, alice, limit=1)
        self.assertEqual([b["booking_id"] for b in first["items"]], mine[-1:])
        bob_after = page(s, bob, cursor=first["next_cursor"])["items"]
        self.assertEqual([b["booking_id"] for b in bob_after],
                         [made[5]["booking_id"], made[1]["booking_id"]])
        self.assertEqual({b["user_id"] for b in bob_after}, {bob_id})

        # Bad input: 400 validation_failed naming the field.
        def enc(raw):
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        for q, field in (("limit=0", "limit"), ("limit=201", "limit"), ("limit=-1", "limit"),
                         ("limit=abc", "limit"), ("limit=", "limit"),
                         ("cursor=garbage!", "cursor"), ("cursor=", "cursor"),
                         (f"cursor={enc(b'12.bk-x%27 or 1=1 --')}", "cursor"),
                         (f"cursor={enc(b'-5.bk-x')}", "cursor"),
                         (f"cursor={enc(b'abc.bk-x')}", "cursor"),
                         (f"cursor={enc(b'12.bk-x')}==", "cursor"),
                         ("min_seq=x", "min_seq")):
            st, _, body = s.request("GET", f"/users/me/bookings?{q}", token=alice)
            self.assertEqual((st, body["code"]), (400, "validation_failed"), (q, body))
            self.assertEqual(body["errors"][0]["field"], field, (q, body))
        st, _, body = s.request("GET", "/users/me/bookings")
        self.assertEqual(st, 401, body)
        st, headers, body = s.request("GET", "/users/me/bookings?min_seq=999999999", token=alice)
        self.assertEqual((st, body["code"]), (503, "projection_lagging"), body)
        self.assertEqual(headers.get("Retry-After"), "1")


if __name__ == "__main__":
    unittest.main()
