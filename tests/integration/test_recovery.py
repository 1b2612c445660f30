"""The write side after restarts and crashes: state comes back from LMDB
snapshots plus the stream, or from the stream alone, and never oversells
(RULE-HOLD-1). DESIGN.md: the LMDB directory is a cache that can be deleted
at any time."""

import http.client
import os
import shutil
import threading
import unittest

from harness import StackTestCase, expect
from helpers import (audit, hold_events, published_event, run_together, seat_statuses, seatmap,
                     section)

# A small standing section makes "full" cheap to reach.
VENUE = {"sections": [
    {"key": "A", "name": "North", "kind": "seated",
     "rows": [{"label": "1", "seats": 10}, {"label": "2", "seats": 10}]},
    {"key": "B", "name": "South", "kind": "seated", "rows": [{"label": "1", "seats": 5}]},
    {"key": "GA", "name": "Floor", "kind": "standing", "capacity": 5},
]}
EVENT = {"policy": {"max_per_user": 1000}}


class Recovery(StackTestCase):
    def setUp(self):
        super().setUp()
        self.tok = self.stack.admin_token()
        _, e, _ = published_event(self.stack, self.tok, VENUE, EVENT)
        self.ev = e["event_id"]

    def hold(self, body, token=None):
        return self.stack.request("POST", f"/events/{self.ev}/holds", body,
                                  token=token or self.tok)

    def assert_refused(self, seats, token=None):
        status, _, p = self.hold({"seats": seats}, token)
        self.assertEqual((status, p.get("code")), (409, "seat_unavailable"), p)
        self.assertEqual(sorted(p["seats"]), sorted(seats))

    def release(self, booking_id, token=None):
        return expect(self.stack.request("DELETE", f"/bookings/{booking_id}",
                                         token=token or self.tok), 200)

    def lmdb_has_files(self):
        return os.path.isdir(self.stack.lmdb_dir) and bool(os.listdir(self.stack.lmdb_dir))

    def test_state_survives_a_clean_restart(self):
        s = self.stack
        _, alice = s.register()
        b1 = expect(self.hold({"seats": ["A-1-1", "A-1-2"]}, alice), 201)
        b2 = expect(self.hold({"seats": ["A-2-7"]}), 201)
        ga = expect(self.hold({"tier": "floor", "quantity": 4}), 201)

        self.assertEqual(s.stop_serve(), 0)
        self.assertTrue(self.lmdb_has_files())  # the snapshots written at shutdown
        s.start_serve()

        # RULE-HOLD-1: held before the restart, still held after it.
        self.assert_refused(["A-1-2"])
        self.assert_refused(["A-2-7"])
        status, _, p = self.hold({"tier": "floor", "quantity": 2})
        self.assertEqual((status, p.get("code")), (409, "sold_out"), p)
        # The holder (a token from before the restart) can still release ...
        r = self.release(b1["booking_id"], alice)
        self.assertEqual(r["status"], "released")
        # ... but not twice, and the seats are free again.
        status, _, p = s.request("DELETE", f"/bookings/{b1['booking_id']}", token=alice)
        self.assertEqual((status, p.get("code")), (409, "conflict"), p)
        again = expect(self.hold({"seats": ["A-1-1", "A-1-2"]}), 201)
        st = seat_statuses(seatmap(s, self.ev, again["commit_seq"]))
        self.assertEqual((st["A-1-1"], st["A-1-2"], st["A-2-7"]), ("held", "held", "held"))
        one = expect(self.hold({"tier": "floor", "quantity": 1}), 201)
        self.assertEqual(section(seatmap(s, self.ev, one["commit_seq"]), "GA")["available"], 0)
        got = expect(s.request("GET", f"/bookings/{b2['booking_id']}?min_seq={one['commit_seq']}",
                               token=self.tok), 200)
        self.assertEqual(got["status"], "held")

    def test_rebuilt_from_the_stream_after_kill_and_lmdb_loss(self):
        s = self.stack
        held = expect(self.hold({"seats": ["A-1-5", "A-1-6"]}), 201)
        gone = expect(self.hold({"seats": ["A-2-1"]}), 201)
        self.release(gone["booking_id"])
        # Fill the 5 places of GA, releasing one unit's booking on the way.
        g1 = expect(self.hold({"tier": "floor", "quantity": 3}), 201)
        g2 = expect(self.hold({"tier": "floor", "quantity": 1}), 201)
        self.release(g2["booking_id"])
        expect(self.hold({"tier": "floor", "quantity": 2}), 201)

        s.stop_serve(kill=True)  # no shutdown snapshot, no sync
        shutil.rmtree(s.lmdb_dir)
        s.start_serve()
        self.assertTrue(os.path.isdir(s.lmdb_dir))

        # Everything is decided from the log alone now (RULE-HOLD-1).
        self.assert_refused(["A-1-5"])
        self.assert_refused(["A-1-6", "A-1-5"])
        status, _, p = self.hold({"tier": "floor", "quantity": 1})
        self.assertEqual((status, p.get("code")), (409, "sold_out"), p)
        # The released seat is free, and a release frees units again.
        expect(self.hold({"seats": ["A-2-1"]}), 201)
        self.release(g1["booking_id"])
        expect(self.hold({"tier": "floor", "quantity": 3}), 201)
        status, _, p = self.hold({"tier": "floor", "quantity": 1})
        self.assertEqual((status, p.get("code")), (409, "sold_out"), p)
        # The pre-crash booking can still be released by id.
        r = self.release(held["booking_id"])
        st = seat_statuses(seatmap(s, self.ev, r["commit_seq"]))
        self.assertEqual((st["A-1-5"], st["A-1-6"], st["A-2-1"]), ("free", "free", "held"))

    def test_no_acked_hold_is_lost_when_serve_is_killed_mid_flight(self):
        s = self.stack
        seats = [f"A-{r}-{n}" for r in (1, 2) for n in range(1, 11)]
        first_ok = threading.Event()

        def one(seat):
            try:
                status, _, p = self.hold({"seats": [seat]})
            except (OSError, http.client.HTTPException) as e:
                return ("lost", repr(e))
            if status == 201:
                first_ok.set()
            return (status, p)

        results = {}
        runner = threading.Thread(target=lambda: results.update(
            zip(seats, run_together(one, seats))))
        runner.start()
        # SIGKILL while holds are in flight: right after the first answer.
        self.assertTrue(first_ok.wait(30), "no hold succeeded before the kill")
        s.stop_serve(kill=True)
        runner.join(60)
        self.assertFalse(runner.is_alive())
        s.start_serve()

        acked = {seat: p for seat, (status, p) in results.items() if status == 201}
        self.assertGreaterEqual(len(acked), 1)
        for seat, (status, p) in results.items():
            self.assertIn(status, (201, 503, "lost"), (seat, p))
        # DESIGN.md: an answer means "it is in the log" — nothing acked is
        # lost, and no seat is held twice (RULE-HOLD-1).
        placed = hold_events(audit(s, self.tok, f"tix.inv.{self.ev}.A"), "HoldPlaced")
        in_log = {d["booking_id"]: d["seats"] for _, d in placed}
        for seat, b in acked.items():
            self.assertEqual(in_log.get(b["booking_id"]), [seat], seat)
        taken = [x for _, d in placed for x in d["seats"]]
        self.assertEqual(len(taken), len(set(taken)), taken)
        for seat in seats:
            status, _, p = self.hold({"seats": [seat]})
            if seat in taken:
                self.assertEqual((status, p.get("code")), (409, "seat_unavailable"), (seat, p))
            else:
                self.assertEqual(status, 201, (seat, p))

    def test_an_older_snapshot_is_caught_up_from_the_stream(self):
        s = self.stack
        a = expect(self.hold({"seats": ["A-1-1"]}), 201)
        expect(self.hold({"tier": "floor", "quantity": 2}), 201)
        self.assertEqual(s.stop_serve(), 0)  # snapshot S1: A-1-1 held, GA 2/5
        s.start_serve()

        # After S1: more holds and a release, then a crash, so S1 is stale.
        b = expect(self.hold({"seats": ["A-1-2"]}), 201)
        self.release(a["booking_id"])
        expect(self.hold({"tier": "floor", "quantity": 3}), 201)
        s.stop_serve(kill=True)
        self.assertTrue(self.lmdb_has_files())
        s.start_serve()

        # S1 alone would say A-1-2 is free, A-1-1 held and GA has room.
        self.assert_refused(["A-1-2"])
        status, _, p = self.hold({"tier": "floor", "quantity": 1})
        self.assertEqual((status, p.get("code")), (409, "sold_out"), p)
        c = expect(self.hold({"seats": ["A-1-1"]}), 201)

        # A second clean restart (snapshot S2) with more changes between.
        self.release(b["booking_id"])
        self.assertEqual(s.stop_serve(), 0)
        s.start_serve()
        self.assert_refused(["A-1-1"])
        d = expect(self.hold({"seats": ["A-1-2"]}), 201)
        status, _, p = self.hold({"tier": "floor", "quantity": 1})
        self.assertEqual((status, p.get("code")), (409, "sold_out"), p)
        st = seat_statuses(seatmap(s, self.ev, d["commit_seq"]))
        self.assertEqual((st["A-1-1"], st["A-1-2"]), ("held", "held"))
        got = expect(s.request("GET", f"/bookings/{c['booking_id']}?min_seq={d['commit_seq']}",
                               token=self.tok), 200)
        self.assertEqual(got["status"], "held")


if __name__ == "__main__":
    unittest.main()
