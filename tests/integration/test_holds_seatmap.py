"""Holds as the read side shows them: the seat map with ?min_seq=, GA
availability, projection_lagging, and who may read a booking."""

import unittest

from harness import StackTestCase, expect
from helpers import get_projected, published_event, seat_statuses, seatmap, section


class HoldsInTheSeatMap(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        self.tok = s.admin_token()
        _, e, self.published = published_event(s, self.tok)
        self.ev = e["event_id"]

    def hold(self, body, token=None):
        return expect(self.stack.request("POST", f"/events/{self.ev}/holds", body,
                                         token=token or self.tok), 201)

    def test_held_seats_show_held_at_their_commit_and_free_after_release(self):
        s = self.stack
        before = seatmap(s, self.ev, self.published["commit_seq"])
        self.assertTrue(all(v == "free" for v in seat_statuses(before).values()))
        self.assertEqual(len(seat_statuses(before)), 50)  # A: 3 x 10, B: 2 x 10

        b = self.hold({"seats": ["A-1-1", "A-2-5"]})
        self.assertEqual(b["status"], "held")
        self.assertEqual([i["seat"] for i in b["items"]], ["A-1-1", "A-2-5"])
        self.assertGreater(b["commit_seq"], self.published["commit_seq"])

        # Read-your-writes: at the hold's own commit_seq the seats are held
        # (RULE-HOLD-1), and nothing else changed.
        m = seatmap(s, self.ev, b["commit_seq"])
        st = seat_statuses(m)
        self.assertEqual((st["A-1-1"], st["A-2-5"]), ("held", "held"))
        self.assertEqual(sorted(k for k, v in st.items() if v != "free"), ["A-1-1", "A-2-5"])

        # Released (DELETE /bookings/{id}): free again as of the release.
        r = expect(s.request("DELETE", f"/bookings/{b['booking_id']}", token=self.tok), 200)
        self.assertEqual(r["status"], "released")
        self.assertGreater(r["commit_seq"], b["commit_seq"])
        st = seat_statuses(seatmap(s, self.ev, r["commit_seq"]))
        self.assertEqual((st["A-1-1"], st["A-2-5"]), ("free", "free"))
        self.assertTrue(all(v == "free" for v in st.values()), st)

        # The booking's own read model follows.
        got = expect(get_projected(s, f"/bookings/{b['booking_id']}", r["commit_seq"],
                                   token=self.tok), 200)
        self.assertEqual(got["status"], "released")

    def test_ga_availability_drops_by_the_quantity_and_comes_back(self):
        s = self.stack
        ga = section(seatmap(s, self.ev, self.published["commit_seq"]), "GA")
        self.assertEqual((ga["kind"], ga["capacity"], ga["available"]), ("standing", 100, 100))

        b3 = self.hold({"tier": "floor", "quantity": 3})
        self.assertEqual(len(b3["items"]), 3)
        self.assertTrue(all(i["seat"] is None for i in b3["items"]))
        self.assertEqual(section(seatmap(s, self.ev, b3["commit_seq"]), "GA")["available"], 97)

        b2 = self.hold({"tier": "floor", "quantity": 2})
        self.assertEqual(section(seatmap(s, self.ev, b2["commit_seq"]), "GA")["available"], 95)

        # The event's per-tier availability is the same number.
        ev = expect(get_projected(s, f"/events/{self.ev}", b2["commit_seq"]), 200)
        floor = [t for t in ev["tiers"] if t["key"] == "floor"][0]
        self.assertEqual(floor["available"], 95)

        r = expect(s.request("DELETE", f"/bookings/{b3['booking_id']}", token=self.tok), 200)
        self.assertEqual(section(seatmap(s, self.ev, r["commit_seq"]), "GA")["available"], 98)

    def test_min_seq_far_ahead_is_projection_lagging_with_retry_after(self):
        s = self.stack
        # The server waits up to 2 s for the read model, then gives up.
        status, headers, p = s.request("GET", f"/events/{self.ev}/seats?min_seq=999999999")
        self.assertEqual(status, 503, p)
        self.assertEqual(p["code"], "projection_lagging")
        self.assertEqual(p["status"], 503)
        self.assertIn("application/problem+json", headers["Content-Type"])
        self.assertIsNotNone(headers["Retry-After"])
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        # Other queries honour it the same way.
        status, headers, p = s.request("GET", f"/events/{self.ev}?min_seq=999999999")
        self.assertEqual((status, p["code"]), (503, "projection_lagging"))
        self.assertIsNotNone(headers["Retry-After"])
        # A malformed min_seq is the caller's mistake, not lag.
        status, _, p = s.request("GET", f"/events/{self.ev}/seats?min_seq=abc")
        self.assertEqual((status, p["code"], p["errors"][0]["field"]),
                         (400, "validation_failed", "min_seq"))

    def test_booking_is_readable_by_its_owner_and_admin_only(self):
        s = self.stack
        _, alice = s.register()
        _, bob = s.register()
        b = self.hold({"seats": ["B-1-1"]}, token=alice)

        got = expect(get_projected(s, f"/bookings/{b['booking_id']}", b["commit_seq"],
                                   token=alice), 200)
        self.assertEqual(got["booking_id"], b["booking_id"])
        self.assertEqual(got["status"], "held")
        self.assertEqual([i["seat"] for i in got["items"]], ["B-1-1"])
        self.assertEqual(got["total"], b["total"])
        self.assertEqual(got["expires_at"], b["expires_at"])

        # RULE-AUTH-2: another attendee may neither read nor release it ...
        status, headers, p = s.request("GET", f"/bookings/{b['booking_id']}", token=bob)
        self.assertEqual((status, p["code"]), (403, "forbidden"), p)
        self.assertIn("application/problem+json", headers["Content-Type"])
        status, _, p = s.request("DELETE", f"/bookings/{b['booking_id']}", token=bob)
        self.assertEqual((status, p["code"]), (403, "forbidden"), p)
        st = seat_statuses(seatmap(s, self.ev, b["commit_seq"]))
        self.assertEqual(st["B-1-1"], "held")
        # ... while an admin may read it, and nobody may without a token.
        expect(s.request("GET", f"/bookings/{b['booking_id']}", token=self.tok), 200)
        status, _, p = s.request("GET", f"/bookings/{b['booking_id']}")
        self.assertEqual((status, p["code"]), (401, "unauthorized"))


if __name__ == "__main__":
    unittest.main()
