"""RULE-HOLD-3 with a one-minute hold: the booking expires at created + 60 s,
the sweeper appends HoldExpired within a second or two, the read model frees
the seats and units, and they can be held again. One wait of about 60 s
serves every check (the only slow test of the suite)."""

import datetime
import time
import unittest

from harness import StackTestCase, expect
from helpers import audit, hold_events, published_event, seat_statuses, seatmap, section

SWEEP_GRACE = 10.0  # seconds after expiry by which HoldExpired must be in the log


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class Expiry(StackTestCase):
    def test_one_minute_hold_expires_and_frees_its_seats(self):
        s = self.stack
        tok = s.admin_token()
        _, e, _ = published_event(s, tok, event={"policy": {"hold_minutes": 1}})
        ev = e["event_id"]

        seated = expect(s.request("POST", f"/events/{ev}/holds", {"seats": ["A-1-1", "A-1-2"]},
                                  token=tok), 201)
        ga = expect(s.request("POST", f"/events/{ev}/holds", {"tier": "floor", "quantity": 4},
                              token=tok), 201)

        # RULE-HOLD-3: expires_at = created_at + hold_minutes, to the millisecond.
        placed = dict((d["booking_id"], d) for _, d in hold_events(
            audit(s, tok, f"tix.inv.{ev}.>"), "HoldPlaced"))
        for b in (seated, ga):
            data = placed[b["booking_id"]]
            self.assertEqual(data["expires_at"], b["expires_at"])
            self.assertAlmostEqual(parse_time(b["expires_at"]) - parse_time(data["created_at"]),
                                   60.0, places=3)
            self.assertLess(abs(parse_time(data["created_at"]) - time.time()), 30)

        # A restart in the middle of the hold: the engine must still sweep
        # shards it has not touched since (GA below), not only loaded ones.
        self.assertEqual(s.stop_serve(), 0)
        s.start_serve()
        # Touch section A only: refused, still held after the restart.
        status, _, p = s.request("POST", f"/events/{ev}/holds", {"seats": ["A-1-2"]}, token=tok)
        self.assertEqual((status, p["code"]), (409, "seat_unavailable"), p)

        # Before the instant the hold still counts; GA has 100 - 4 places.
        m = seatmap(s, ev, ga["commit_seq"])
        self.assertEqual(seat_statuses(m)["A-1-1"], "held")
        self.assertEqual(section(m, "GA")["available"], 96)

        expires = max(parse_time(seated["expires_at"]), parse_time(ga["expires_at"]))
        time.sleep(max(0.0, expires - time.time()))

        # The sweeper records both expiries without any further command.
        deadline = expires + SWEEP_GRACE
        expired = {}
        while time.time() < deadline:
            expired = {d["booking_id"]: seq for seq, d in hold_events(
                audit(s, tok, f"tix.inv.{ev}.>", type="HoldExpired"), "HoldExpired")}
            if len(expired) == 2:
                break
            time.sleep(0.25)
        self.assertIn(seated["booking_id"], expired, "no HoldExpired for the seated hold")
        self.assertIn(ga["booking_id"], expired, "no HoldExpired for the GA hold")
        self.assertEqual(len(expired), 2)
        for c in audit(s, tok, f"tix.inv.{ev}.>", type="HoldExpired"):
            self.assertEqual(c["actor"], "system")
            # Recorded no earlier than the expiry instant.
            self.assertGreaterEqual(parse_time(c["time"]), expires - 0.001)

        # The read model frees the seats and units at that commit.
        m = seatmap(s, ev, max(expired.values()))
        st = seat_statuses(m)
        self.assertEqual((st["A-1-1"], st["A-1-2"]), ("free", "free"))
        self.assertEqual(section(m, "GA")["available"], 100)
        got = expect(s.request("GET", f"/bookings/{seated['booking_id']}", token=tok), 200)
        self.assertEqual(got["status"], "expired")
        # Releasing an expired hold is refused for what it is (RULE-HOLD-3).
        status, _, p = s.request("DELETE", f"/bookings/{ga['booking_id']}", token=tok)
        self.assertEqual((status, p["code"]), (409, "hold_expired"), p)

        # And the seats and units can be held again.
        again = expect(s.request("POST", f"/events/{ev}/holds", {"seats": ["A-1-1", "A-1-2"]},
                                 token=tok), 201)
        self.assertNotEqual(again["booking_id"], seated["booking_id"])
        expect(s.request("POST", f"/events/{ev}/holds", {"tier": "floor", "quantity": 4},
                         token=tok), 201)


if __name__ == "__main__":
    unittest.main()
