"""Idempotency-Key (RULE-HOLD-5, API.md Conventions): the same key and body
give the stored answer, a different body is a 422, keys are per user, bad
keys are a 400, and stored answers outlive a restart."""

import secrets
import shutil
import unittest

from harness import StackTestCase, expect
from helpers import audit, hold_events, published_event, run_together, seat_statuses, seatmap


class Idempotency(StackTestCase):
    def setUp(self):
        super().setUp()
        self.tok = self.stack.admin_token()
        _, e, _ = published_event(self.stack, self.tok)
        self.ev = e["event_id"]

    def hold(self, body, key, token=None):
        return self.stack.request("POST", f"/events/{self.ev}/holds", body,
                                  token=token or self.tok, headers={"Idempotency-Key": key})

    def placed(self):
        """Every HoldPlaced of the event in the log: [(seq, data)]."""
        return hold_events(audit(self.stack, self.tok, f"tix.inv.{self.ev}.>"), "HoldPlaced")

    def test_same_key_and_body_returns_the_stored_answer(self):
        key = "order-" + secrets.token_hex(8)
        body = {"seats": ["A-1-1", "A-1-2"]}
        s1, h1, b1 = self.hold(body, key)
        self.assertEqual(s1, 201, b1)
        s2, h2, b2 = self.hold(body, key)
        # RULE-HOLD-5: same status, same booking, the same answer.
        self.assertEqual(s2, 201, b2)
        self.assertEqual(b2, b1)
        self.assertIn("application/json", h2["Content-Type"])
        # A standing hold too.
        gkey = "ga-" + secrets.token_hex(8)
        g1 = expect(self.hold({"tier": "floor", "quantity": 2}, gkey), 201)
        g2 = expect(self.hold({"tier": "floor", "quantity": 2}, gkey), 201)
        self.assertEqual(g2, g1)
        # One booking each in the log, not two.
        self.assertEqual(sorted(d["booking_id"] for _, d in self.placed()),
                         sorted([b1["booking_id"], g1["booking_id"]]))
        # A release with a key repeats as well: 200 both times, not a 409.
        rkey = "rel-" + secrets.token_hex(8)
        path = f"/bookings/{b1['booking_id']}"
        r1 = self.stack.request("DELETE", path, token=self.tok, headers={"Idempotency-Key": rkey})
        r2 = self.stack.request("DELETE", path, token=self.tok, headers={"Idempotency-Key": rkey})
        self.assertEqual((r1[0], r2[0]), (200, 200), (r1[2], r2[2]))
        self.assertEqual(r2[2], r1[2])
        # A stored refusal is replayed as the refusal it was.
        status, _, p = self.hold({"seats": ["A-9-9"]}, "bad-" + key)
        self.assertEqual((status, p["code"]), (409, "seat_unavailable"))
        status, headers, p2 = self.hold({"seats": ["A-9-9"]}, "bad-" + key)
        self.assertEqual((status, p2), (409, p))
        self.assertIn("application/problem+json", headers["Content-Type"])

    def test_concurrent_requests_with_one_key_make_one_booking(self):
        key = "race-" + secrets.token_hex(8)
        body = {"seats": ["B-2-3"]}
        answers = run_together(lambda _: self.hold(body, key), range(12))
        ok = [a[2] for a in answers if a[0] == 201]
        busy = [a[2] for a in answers if a[0] == 409]
        self.assertGreaterEqual(len(ok), 1, answers)
        self.assertEqual(len(ok) + len(busy), len(answers), [a[0] for a in answers])
        # Never a second booking: every 201 names the same one ...
        self.assertEqual({b["booking_id"] for b in ok}, {ok[0]["booking_id"]})
        # ... and a request that overlapped the first is told it is in
        # progress (409 conflict), never that its own seat is taken.
        for p in busy:
            self.assertEqual(p["code"], "conflict", p)
        booking = ok[0]
        placed = self.placed()
        self.assertEqual([d["booking_id"] for _, d in placed], [booking["booking_id"]])
        st = seat_statuses(seatmap(self.stack, self.ev, booking["commit_seq"]))
        self.assertEqual(st["B-2-3"], "held")
        rows = self.stack.psql(f"select count(*) from catalog.bookings "
                               f"where event_id = '{self.ev}'")
        self.assertEqual(rows, [("1",)])
        # Afterwards the key answers with the stored booking.
        again = expect(self.hold(body, key), 201)
        self.assertEqual(again["booking_id"], booking["booking_id"])

    def test_same_key_with_a_different_body_is_refused(self):
        key = "k-" + secrets.token_hex(8)
        b1 = expect(self.hold({"seats": ["A-2-1"]}, key), 201)
        status, headers, p = self.hold({"seats": ["A-2-2"]}, key)
        # RULE-HOLD-5: same key, different body -> 422.
        self.assertEqual((status, p["code"]), (422, "idempotency_key_reused"), p)
        self.assertIn("application/problem+json", headers["Content-Type"])
        # Nothing was held for the second body.
        st = seat_statuses(seatmap(self.stack, self.ev, b1["commit_seq"]))
        self.assertEqual((st["A-2-1"], st["A-2-2"]), ("held", "free"))
        self.assertEqual(len(self.placed()), 1)
        # The same key on another route is another request too.
        status, _, p = self.stack.request("DELETE", f"/bookings/{b1['booking_id']}",
                                          token=self.tok, headers={"Idempotency-Key": key})
        self.assertEqual((status, p["code"]), (422, "idempotency_key_reused"), p)

    def test_keys_are_per_user(self):
        key = "shared-key-1"
        _, alice = self.stack.register()
        _, bob = self.stack.register()
        a = expect(self.hold({"tier": "floor", "quantity": 1}, key, alice), 201)
        b = expect(self.hold({"tier": "floor", "quantity": 1}, key, bob), 201)
        # Each user gets their own booking for the same key and body.
        self.assertNotEqual(a["booking_id"], b["booking_id"])
        self.assertEqual(len(self.placed()), 2)
        # And each one's repeat finds their own.
        self.assertEqual(expect(self.hold({"tier": "floor", "quantity": 1}, key, bob), 201), b)
        self.assertEqual(expect(self.hold({"tier": "floor", "quantity": 1}, key, alice), 201), a)
        # A third user's different body is not "reused": it is their key.
        _, carol = self.stack.register()
        expect(self.hold({"tier": "floor", "quantity": 2}, key, carol), 201)

    def test_invalid_keys_are_a_400(self):
        body = {"seats": ["A-3-1"]}
        for key in ["", "x" * 129, "bad\x01key", "tab\tkey", "del\x7fkey"]:
            status, headers, p = self.hold(body, key)
            self.assertEqual(status, 400, (key, p))
            self.assertEqual(p["code"], "validation_failed", (key, p))
            self.assertEqual(p["errors"][0]["field"], "Idempotency-Key", (key, p))
            self.assertIn("application/problem+json", headers["Content-Type"])
        # Nothing was held by them; the limits themselves are allowed.
        self.assertEqual(self.placed(), [])
        expect(self.hold(body, "y" * 128), 201)
        expect(self.hold({"seats": ["A-3-2"]}, "!"), 201)

    def test_stored_answer_survives_a_restart(self):
        key = "restart-" + secrets.token_hex(8)
        body = {"seats": ["B-1-9", "B-1-10"]}
        b1 = expect(self.hold(body, key), 201)
        self.assertEqual(self.stack.stop_serve(), 0)
        self.stack.start_serve()
        s2, _, b2 = self.hold(body, key)
        self.assertEqual((s2, b2), (201, b1))
        status, _, p = self.hold({"seats": ["B-1-8"]}, key)
        self.assertEqual((status, p["code"]), (422, "idempotency_key_reused"), p)
        self.assertEqual(len(self.placed()), 1)

    def test_a_retry_after_a_crash_that_lost_the_table_names_the_same_booking(self):
        s = self.stack
        key = "crash-" + secrets.token_hex(8)
        body = {"seats": ["B-2-9"]}
        b1 = expect(self.hold(body, key), 201)
        # The answer table is gone with LMDB; the shard still knows the
        # command id derived from the key (RULE-HOLD-5, engine/store.c).
        s.stop_serve(kill=True)
        shutil.rmtree(s.lmdb_dir)
        s.start_serve()
        s2, _, b2 = self.hold(body, key)
        self.assertEqual(s2, 201, b2)
        self.assertEqual((b2["booking_id"], b2["status"], b2["items"]),
                         (b1["booking_id"], "held", b1["items"]))
        self.assertEqual(len(self.placed()), 1)
        # Without a key the same body is a new hold, refused: the seat is taken.
        status, _, p = s.request("POST", f"/events/{self.ev}/holds", body, token=self.tok)
        self.assertEqual((status, p["code"]), (409, "seat_unavailable"), p)


if __name__ == "__main__":
    unittest.main()
