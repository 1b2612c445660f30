"""The audit projector pushing to Loki (projections/audit.h), checked by a
loopback receiver (loki_util.LokiReceiver) that records the raw bodies.

- The push format, byte for byte: every body the receiver got is rebuilt
  from GET /audit/events and the known masking key (streams by label set,
  labels app/aggregate/event_type only, ns timestamps as strings, the masked
  line), and no body holds an e-mail address or a person's name in clear.
- The receiver failing for a while (500, 429, 400, a push cut off with no
  answer, connections refused) loses nothing; the only repeated events are
  those of the push that was in flight when it was cut off, re-sent byte
  for byte; batches arrive in stream order.
- kill -9 of the projector while its push is in flight, then a restart:
  nothing lost, and only that push is sent again.
- SIGTERM while Loki hangs on a push: the projector exits at once (0), and
  the push goes again after the restart."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import StackTestCase, expect  # noqa: E402
from helpers import audit, log_head, run_together  # noqa: E402
from loki_util import (LokiReceiver, PUSH_PATH, audit_checkpoint, body_keys,  # noqa: E402
                       expected_body, expected_entries, wait_audit_checkpoint)

KEY = "audit-test-key-1"
EMAIL = "Ada.Lovelace@Example.org"
NAME = "Ada Lovelace"


class AuditLokiTest(StackTestCase):
    stack_options = {"project": False}

    def setUp(self):
        super().setUp()
        self.loki = LokiReceiver()
        self.addCleanup(self.loki.close)
        self.tok = self.stack.admin_token()

    def start_audit(self, batch=None):
        self.stack.start_audit(loki_url=self.loki.url, batch=batch,
                               env={"TURNSTILE_AUDIT_KEY": KEY})

    def published_event(self):
        s = self.stack
        venue = s.create_venue(self.tok)
        event = s.create_event(self.tok, venue["venue_id"], policy={"max_per_user": 1000})
        s.publish(self.tok, event["event_id"])
        return event["event_id"]

    def hold(self, event_id, token, body):
        return expect(self.stack.request("POST", f"/events/{event_id}/holds", body, token=token),
                      201)

    def expected(self):
        """{(seq, index): Entry} of the whole log, and the log's head."""
        head = log_head(self.stack)
        items = audit(self.stack, self.tok, "tix.>")
        self.assertEqual(items[-1]["seq"], head)
        return expected_entries(items, KEY.encode()), head

    def assert_body_exact(self, body, want):
        """body is the push body of its own events, rebuilt from the log."""
        keys = body_keys(body)
        self.assertEqual(len(keys), len(set(keys)), "an event twice in one push")
        rebuilt = expected_body([want[k] for k in sorted(keys)])
        if body != rebuilt:
            self.fail(f"push body differs from the one rebuilt from the log:\n"
                      f"got  {body[:2000]!r}\nwant {rebuilt[:2000]!r}")

    def test_push_format_byte_for_byte(self):
        s = self.stack
        uid, utok = s.register(email=EMAIL, name=NAME)
        event_id = self.published_event()
        b1 = self.hold(event_id, utok, {"seats": ["A-1-1", "A-1-2"]})
        self.hold(event_id, utok, {"tier": "floor", "quantity": 2})
        expect(s.request("DELETE", f"/bookings/{b1['booking_id']}", token=utok), 200)
        # Holds racing on one section: the engine may group them into
        # commits of several events (index > 0, timestamps + index).
        seats = [[f"B-1-{i}"] for i in range(1, 9)]
        run_together(lambda seat: self.hold(event_id, self.tok, {"seats": seat}), seats)

        self.start_audit()
        want, head = self.expected()
        wait_audit_checkpoint(s, head)

        bodies = self.loki.stored()
        self.assertTrue(bodies)
        got = []
        for r in bodies:
            self.assertEqual(r["path"], PUSH_PATH)
            self.assertEqual(r["content_type"], "application/json")
            self.assert_body_exact(r["body"], want)
            got += body_keys(r["body"])
            # Labels are app, aggregate and event_type, nothing else.
            for stream in json.loads(r["body"])["streams"]:
                self.assertEqual(list(stream["stream"]), ["app", "aggregate", "event_type"])
                self.assertEqual(stream["stream"]["app"], "turnstile")
                for ts, _ in stream["values"]:
                    self.assertIsInstance(ts, str)
                    self.assertRegex(ts, r"^[0-9]{19}$")
        # Every event of the log exactly once, batches in stream order.
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual(len(got), len(want))
        kinds = {e.aggregate for e in want.values()}
        self.assertEqual(kinds, {"user", "claim", "venue", "event", "inv", "quota"})
        # Personal data never leaves in clear: the e-mails (any case), the
        # names of people, the claim's unkeyed SHA-256 of the e-mail.
        raw = b"".join(r["body"] for r in bodies)
        lowered = raw.lower()
        for secret in (EMAIL, s.admin_email, NAME, "Lovelace"):
            self.assertNotIn(secret.lower().encode(), lowered)
        for item in audit(s, self.tok, "tix.claim.>"):
            self.assertNotIn(item["subject"].split(".")[-1].encode(), raw)
        self.assertNotIn(b"scrypt", raw)
        # The registration is there, masked: its keyed hash can be searched for.
        reg = [e for e in want.values() if e.event_type == "UserRegistered"
               and json.loads(e.line)["id"] == uid]
        self.assertEqual(len(reg), 1)
        self.assertIn("email_hash", json.loads(reg[0].line)["data"])
        self.assertIn(json.dumps(reg[0].line, ensure_ascii=False).encode(), raw)

    def test_receiver_failing_loses_nothing(self):
        s = self.stack
        _, utok = s.register(email=EMAIL, name=NAME)
        event_id = self.published_event()
        self.start_audit(batch=3)
        wait_audit_checkpoint(s, log_head(s))
        seats = iter(f"{sec}-{row}-{n}" for sec in ("A", "B") for row in (1, 2)
                     for n in range(1, 11))

        def some_holds(k):
            for _ in range(k):
                self.hold(event_id, utok, {"seats": [next(seats)]})

        def until(predicate, what, timeout=20.0):
            deadline = time.monotonic() + timeout
            while not predicate():
                self.assertLess(time.monotonic(), deadline, f"timed out waiting for {what}")
                time.sleep(0.02)

        # Each phase: the receiver fails in one way while commits come, until
        # the projector has tried (and failed) twice; then it recovers.
        for mode in ("500", "429", "400"):
            self.loki.mode = mode
            some_holds(2)
            until(lambda: self.loki.count(mode) >= 2, f"two pushes answered {mode}")
            self.loki.mode = "ok"
            wait_audit_checkpoint(s, log_head(s))
        # A push cut off after the receiver took it: it was in flight.
        self.loki.mode = "drop"
        some_holds(2)
        until(lambda: self.loki.count("drop") >= 1, "a push cut off")
        self.loki.mode = "ok"
        wait_audit_checkpoint(s, log_head(s))
        # Nobody listens at all for a while.
        self.loki.down()
        some_holds(4)
        time.sleep(1.5)
        self.loki.up()
        want, head = self.expected()
        wait_audit_checkpoint(s, head, timeout=40)

        with open(os.path.join(s.log_dir, "audit.log")) as f:
            log = f.read()
        self.assertIn("HTTP 500", log)
        self.assertIn("HTTP 429", log)
        self.assertIn("REFUSED", log)  # the 400, loudly
        self.assertIn("Couldn't connect to server", log)  # refused
        # (A push cut off is not always logged: libcurl itself sends a
        # request again at once when a reused connection dies unanswered.)

        ok = [r["body"] for r in self.loki.received if r["mode"] == "ok"]
        dropped = [r["body"] for r in self.loki.received if r["mode"] == "drop"]
        for body in ok + dropped:
            self.assert_body_exact(body, want)
        # The accepted pushes hold every event exactly once, in stream order.
        got = [k for body in ok for k in body_keys(body)]
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(sorted(got), sorted(want))
        for a, b in zip(ok, ok[1:]):
            self.assertLess(max(body_keys(a)), min(body_keys(b)))
        # What Loki got twice is the push that was in flight when the
        # receiver failed, sent again byte for byte, and nothing else.
        self.assertTrue(dropped)
        for body in dropped:
            self.assertIn(body, ok)

    def test_kill_9_mid_stream_loses_nothing(self):
        s = self.stack
        _, utok = s.register(email=EMAIL, name=NAME)
        event_id = self.published_event()
        for row in (1, 2, 3):
            for n in range(1, 11):
                self.hold(event_id, utok if n % 2 else self.tok, {"seats": [f"A-{row}-{n}"]})
        head = log_head(s)
        self.loki.delay = 0.05  # a slow Loki, so that the kill comes mid-stream
        self.start_audit(batch=4)
        wait_audit_checkpoint(s, 12)
        # The next push is taken by the receiver but not answered while the
        # projector is killed: it was in flight.
        self.loki.mode = "hold"
        self.assertTrue(self.loki.holding.wait(20), "no push reached the receiver")
        s.stop_audit(kill=True)
        checkpoint = audit_checkpoint(s)
        self.assertLess(checkpoint, head)
        held = [r["body"] for r in self.loki.received if r["mode"] == "hold"]
        self.assertEqual(len(held), 1)
        self.loki.release.set()
        self.loki.mode = "ok"
        self.loki.delay = 0.0
        # More commits while it is down, then the restart.
        for n in range(1, 5):
            self.hold(event_id, utok, {"seats": [f"B-2-{n}"]})
        self.start_audit(batch=4)
        want, head = self.expected()
        wait_audit_checkpoint(s, head)

        ok = [r["body"] for r in self.loki.received if r["mode"] == "ok"]
        for body in ok + held:
            self.assert_body_exact(body, want)
        # The accepted pushes hold every event exactly once.
        got = [k for body in ok for k in body_keys(body)]
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(sorted(got), sorted(want))
        # So Loki got twice only the held push's events (at most a batch),
        # all past the checkpoint, and sent again as the same entries.
        repeated = body_keys(held[0])
        self.assertLessEqual(len(repeated), 4)
        self.assertGreater(min(repeated)[0], checkpoint)
        values = {tuple(v) for body in ok for st in json.loads(body)["streams"]
                  for v in st["values"]}
        for st in json.loads(held[0])["streams"]:
            for v in st["values"]:
                self.assertIn(tuple(v), values)

    def test_sigterm_while_a_push_hangs(self):
        s = self.stack
        self.published_event()
        self.loki.mode = "hold"  # Loki takes the push and never answers
        self.start_audit()
        self.assertTrue(self.loki.holding.wait(20), "no push reached the receiver")
        t0 = time.monotonic()
        self.assertEqual(s.stop_audit(), 0)
        self.assertLess(time.monotonic() - t0, 5.0)  # not the 30 s push timeout
        self.assertEqual(audit_checkpoint(s), 0)  # never answered: not shipped
        self.loki.release.set()
        self.loki.mode = "ok"
        self.start_audit()
        want, head = self.expected()
        wait_audit_checkpoint(s, head)
        got = [k for r in self.loki.received if r["mode"] == "ok" for k in body_keys(r["body"])]
        self.assertEqual(sorted(got), sorted(want))


if __name__ == "__main__":
    unittest.main()
