"""LMDB snapshots are a cache of the log (DESIGN.md): `turnstile snapshots
verify` finds every snapshot that is not the fold of its subject's history
(a damaged state, a wrong version or hash, a last_seq that is not a commit
of its subject, snapshots made from another history), reports one of
another state-format version as stale rather than wrong, and `turnstile
snapshots rebuild` makes them all right again, from the log alone. Both run
against a data directory no serve is using, and serve then works on the
rebuilt snapshots. Snapshots are damaged with the ts_tamper test tool."""

import json
import os
import shutil
import unittest

from harness import StackTestCase, expect
from helpers import published_event, seat_statuses, seatmap
from tamper import ScratchNats, cli_json, run_cli, tamper


class Snapshots(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        self.tok = s.admin_token()
        _, e, _ = published_event(s, self.tok)
        self.ev = e["event_id"]
        self.a = f"tix.inv.{self.ev}.A"
        self.ga = f"tix.inv.{self.ev}.GA"
        self.b1 = self.hold({"seats": ["A-1-1", "A-1-2"]})
        self.b2 = self.hold({"seats": ["A-1-3"]})
        self.hold({"tier": "floor", "quantity": 3})
        expect(s.request("DELETE", f"/bookings/{self.b1['booking_id']}", token=self.tok), 200)
        s.register()
        # A clean stop writes a snapshot of every lane that changed.
        self.assertEqual(s.stop_serve(), 0)

    def hold(self, body):
        return expect(self.stack.request("POST", f"/events/{self.ev}/holds", body,
                                         token=self.tok), 201)

    def snap(self, what, *args, status=0, **kw):
        return cli_json(self.stack, "snapshots", what, *args, expect_status=status, **kw)[1]

    def damage(self, subject, *args):
        """Rewrites the snapshot of subject with ts_tamper; returns its old header."""
        return tamper(self.stack, "snapshot", "--data", self.stack.data_dir, "--subject",
                      subject, *args)

    def assert_all_match(self):
        v = self.snap("verify")
        self.assertEqual((v["ok"], v["mismatched"], v["stale"]), (True, 0, 0), v)
        self.assertEqual(v["matched"], v["snapshots"])
        return v

    def test_verify_damage_and_rebuild(self):
        s = self.stack
        v = self.assert_all_match()
        # At least venue, event, shards A, B, GA, the admin and the new
        # user with their e-mail claims.
        self.assertGreaterEqual(v["snapshots"], 9, v)

        # Each kind of damage is named, with the snapshot's last_seq.
        old = self.damage(self.a, "--flip-state")
        bad = self.snap("verify", status=1)
        self.assertEqual(bad["first_bad"], {"subject": self.a, "last_seq": old["last_seq"],
                                            "reason": "state"})
        self.assertEqual((bad["ok"], bad["mismatched"]), (False, 1))
        self.snap("rebuild")
        self.assert_all_match()

        for args, reason in ((["--version", "99"], "version"), (["--flip-hash"], "last_hash")):
            self.damage(self.a, *args)
            self.assertEqual(self.snap("verify", status=1)["first_bad"]["reason"], reason, args)
            self.snap("rebuild")
            self.assert_all_match()

        # A last_seq that is a commit of another subject (the venue's first).
        venue_seq = 1
        self.damage(self.a, "--last-seq", str(venue_seq))
        self.assertEqual(self.snap("verify", status=1)["first_bad"],
                         {"subject": self.a, "last_seq": venue_seq, "reason": "not_in_log"})
        # Past the end of the log.
        self.damage(self.a, "--last-seq", "1000000")
        self.assertEqual(self.snap("verify", status=1)["first_bad"]["reason"], "not_in_log")

        # Two damaged: the first in subject order is named, both counted;
        # --subject narrows the check.
        self.damage(f"tix.event.{self.ev}", "--flip-state")
        bad = self.snap("verify", status=1)
        self.assertEqual(bad["mismatched"], 2)
        self.assertEqual(bad["first_bad"]["subject"], f"tix.event.{self.ev}")
        only = self.snap("verify", "--subject", f"tix.inv.{self.ev}.>", status=1)
        self.assertEqual((only["snapshots"], only["first_bad"]["subject"]), (3, self.a))
        self.snap("verify", "--subject", self.ga)

        # A rebuild of one subject leaves the other damage alone.
        r = self.snap("rebuild", "--subject", self.a)
        self.assertEqual((r["written"], r["ok"]), (1, True))
        self.assertEqual(self.snap("verify", status=1)["first_bad"]["subject"],
                         f"tix.event.{self.ev}")
        r = self.snap("rebuild")
        self.assertEqual((r["ok"], r["removed"], r["stale_replaced"]), (True, 0, 0))
        items = log_items(s)
        self.assertEqual(r["commits"], len(items))  # every commit is an aggregate's
        self.assertEqual(r["written"], len({c["subject"] for c in items}))
        self.assert_all_match()

        # serve works on the rebuilt snapshots (RULE-HOLD-1: still held).
        s.start_serve()
        status, _, p = s.request("POST", f"/events/{self.ev}/holds", {"seats": ["A-1-3"]},
                                 token=self.tok)
        self.assertEqual((status, p["code"]), (409, "seat_unavailable"), p)
        again = self.hold({"seats": ["A-1-1", "A-1-2"]})  # released before
        m = seatmap(s, self.ev, again["commit_seq"])
        self.assertEqual(seat_statuses(m)["A-1-2"], "held")
        self.assertEqual(s.stop_serve(), 0)
        self.assert_all_match()

    def test_stale_format_is_reported_and_replaced(self):
        old = self.damage(self.ga, "--format-version", "99")
        self.assertEqual(old["format_version"], 2)  # the inventory's state format (v2)
        v = self.snap("verify")  # stale is not a mismatch: exit 0
        self.assertEqual((v["ok"], v["stale"], v["mismatched"]), (True, 1, 0))
        self.assertEqual(v["first_stale"], {"subject": self.ga, "last_seq": old["last_seq"]})
        self.assertEqual(v["matched"], v["snapshots"] - 1)
        r = self.snap("rebuild")
        self.assertEqual((r["stale_replaced"], r["ok"]), (1, True))
        self.assert_all_match()

    def test_snapshots_of_another_history(self):
        """Snapshots rebuilt from a forged copy of the log do not verify
        against the real one; a rebuild from the real one repairs them and
        removes those of subjects the real log does not have."""
        s = self.stack
        s.stop_project()
        scratch = ScratchNats(s, self)
        last_a = max(c["seq"] for c in log_items(s) if c["subject"] == self.a)
        tamper(s, "copy", "--from", s.nats_url, "TICKETS", "--to", scratch.url, "FORGED",
               "--alter", str(last_a))
        self.snap("rebuild", nats=scratch.url, stream="FORGED")
        self.snap("verify", nats=scratch.url, stream="FORGED")
        bad = self.snap("verify", status=1)
        self.assertEqual((bad["mismatched"], bad["first_bad"]),
                         (1, {"subject": self.a, "last_seq": last_a, "reason": "last_hash"}))

        # Subjects that only the forged log has.
        tamper(s, "fill", "--nats", scratch.url, "--stream", "FORGED", "--commits", "40",
               "--subjects", "4")
        r = self.snap("rebuild", "--subject", "tix.inv.bench.>", nats=scratch.url,
                      stream="FORGED")
        self.assertEqual((r["written"], r["commits"]), (4, 40))
        bad = self.snap("verify", "--subject", "tix.inv.bench.>", status=1)
        self.assertEqual((bad["mismatched"], bad["first_bad"]["reason"]), (4, "not_in_log"))
        r = self.snap("rebuild")
        self.assertEqual(r["removed"], 4)
        self.assert_all_match()

        # Without any snapshot, a rebuild makes them all from the log.
        shutil.rmtree(s.lmdb_dir)
        self.assertEqual(self.snap("verify")["snapshots"], 0)
        r = self.snap("rebuild")
        self.assertEqual(r["written"], len({c["subject"] for c in log_items(s)}))
        self.assertTrue(os.path.isdir(s.lmdb_dir))
        self.assert_all_match()


def log_items(stack):
    """Every commit of the log as audit items, read with `turnstile audit
    log` (serve may be stopped)."""
    status, text, err = run_cli(stack, "audit", "log", data=False)
    assert status == 0, err
    return [json.loads(x) for x in text.splitlines()]


if __name__ == "__main__":
    unittest.main()
