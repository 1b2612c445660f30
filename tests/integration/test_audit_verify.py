"""The audit side of the log (DESIGN.md "Audit", API.md "Audit"):
`turnstile audit log` prints exactly the items of GET /audit/events,
`turnstile audit verify` and GET /audit/verify walk every per-aggregate hash
chain, and a forged history — a commit altered, damaged, removed, two
commits swapped — is named by its subject and the first broken sequence in
stream order. Forged copies of the log are made by the ts_tamper test tool
on a second nats-server (two streams on one server cannot share tix.>)."""

import json
import unittest

from harness import StackTestCase, expect
from helpers import audit, log_head, published_event
from tamper import ScratchNats, cli_json, run_cli, tamper

FORGED = "FORGED"


class AuditVerify(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        self.tok = s.admin_token()
        _, e, _ = published_event(s, self.tok, event={"policy": {"max_per_user": 1000}})
        self.ev = e["event_id"]
        self.a = f"tix.inv.{self.ev}.A"
        self.ga = f"tix.inv.{self.ev}.GA"

    def hold(self, body):
        return expect(self.stack.request("POST", f"/events/{self.ev}/holds", body,
                                         token=self.tok), 201)

    def activity(self):
        """Commits on section A (hold, hold, release, hold) and GA (hold,
        hold); returns {name: commit seq}."""
        b1 = self.hold({"seats": ["A-1-1", "A-1-2"]})
        g1 = self.hold({"tier": "floor", "quantity": 2})
        b2 = self.hold({"seats": ["A-1-3"]})
        rel = expect(self.stack.request("DELETE", f"/bookings/{b1['booking_id']}",
                                        token=self.tok), 200)
        g2 = self.hold({"tier": "floor", "quantity": 1})
        b3 = self.hold({"seats": ["A-2-1"]})
        return {"a1": b1["commit_seq"], "a2": b2["commit_seq"], "a3": rel["commit_seq"],
                "a4": b3["commit_seq"], "g1": g1["commit_seq"], "g2": g2["commit_seq"]}

    def test_log_and_verify_agree_with_the_api(self):
        s = self.stack
        self.activity()
        every = audit(s, self.tok, "tix.>")
        subjects = {c["subject"] for c in every}

        # The whole log verifies; every message is a commit.
        status, v = cli_json(s, "audit", "verify", data=False, expect_status=0)
        self.assertEqual(v, {"subjects": len(subjects), "commits": log_head(s), "ok": True,
                             "broken": 0})
        self.assertEqual(expect(s.request("GET", "/audit/verify", token=self.tok), 200), v)
        # A subject filter (wildcards allowed) narrows both the same way.
        status, va = cli_json(s, "audit", "verify", "--subject", f"tix.inv.{self.ev}.>",
                              data=False, expect_status=0)
        shards = [c for c in every if c["subject"].startswith(f"tix.inv.{self.ev}.")]
        self.assertEqual((va["subjects"], va["ok"]), (3, True))  # A, B and GA
        self.assertEqual(va["commits"], len(shards))
        self.assertEqual(expect(s.request("GET", f"/audit/verify?subject=tix.inv.{self.ev}.>",
                                          token=self.tok), 200), va)

        # audit log prints the very items of GET /audit/events, in order.
        status, out, err = run_cli(s, "audit", "log", "--subject", f"tix.inv.{self.ev}.>",
                                   data=False)
        self.assertEqual(status, 0, err)
        lines = [json.loads(x) for x in out.splitlines()]
        self.assertEqual(lines, audit(s, self.tok, f"tix.inv.{self.ev}.>"))
        self.assertEqual(set(lines[0]), {"seq", "subject", "version", "time", "actor",
                                         "command_id", "correlation_id", "hash", "prev_hash",
                                         "events"})
        status, out, _ = run_cli(s, "audit", "log", data=False)
        self.assertEqual([json.loads(x) for x in out.splitlines()], every)
        # The same filters, the same answers.
        for cli, query in ((["--type", "HoldReleased"], {"type": "HoldReleased"}),
                           (["--from-seq", str(lines[2]["seq"])],
                            {"from_seq": lines[2]["seq"]}),
                           (["--from-time", lines[1]["time"], "--to-time", lines[-1]["time"]],
                            {"from_time": lines[1]["time"], "to_time": lines[-1]["time"]})):
            status, out, err = run_cli(s, "audit", "log", "--subject", "tix.inv.>", *cli,
                                       data=False)
            self.assertEqual(status, 0, err)
            self.assertEqual([json.loads(x) for x in out.splitlines()],
                             audit(s, self.tok, "tix.inv.>", **query), cli)
        status, out, _ = run_cli(s, "audit", "log", "--limit", "3", data=False)
        self.assertEqual([json.loads(x) for x in out.splitlines()], every[:3])

        # RULE-AUTH-2: auditors and admins only.
        _, attendee = s.register()
        _, auditor = s.register_as("auditor")
        self.assertEqual(s.request("GET", "/audit/verify", token=attendee)[0], 403)
        self.assertEqual(s.request("GET", "/audit/verify")[0], 401)
        self.assertEqual(expect(s.request("GET", "/audit/verify", token=auditor), 200)["ok"],
                         True)
        status, _, p = s.request("GET", "/audit/verify?subject=nope", token=auditor)
        self.assertEqual((status, p["code"]), (400, "validation_failed"))

    def test_usage(self):
        s = self.stack
        for args in (["audit", "verify", "--subject", "tix..x"], ["audit", "log", "--limit", "0"],
                     ["audit", "log", "--from-time", "yesterday"], ["audit", "verify", "--type",
                                                                    "HoldPlaced"],
                     ["audit", "frobnicate"], ["audit"], ["snapshots", "check"]):
            status, _, err = run_cli(s, *args, data=False)
            self.assertEqual(status, 2, (args, err))
        for args in (["audit", "--help"], ["audit", "verify", "--help"],
                     ["snapshots", "--help"]):
            status, out, _ = run_cli(s, *args, data=False)
            self.assertEqual(status, 0, args)
            self.assertIn("Exit status", out)
        status, out, _ = run_cli(s, "--help", data=False)
        for line in ("audit log", "audit verify", "snapshots verify", "snapshots rebuild"):
            self.assertIn(line, out)
        # A stream that does not exist is not created by a reader: exit 3,
        # and it still does not exist afterwards.
        for _ in range(2):
            status, _, err = run_cli(s, "audit", "verify", stream="NOSUCH", data=False)
            self.assertEqual(status, 3, err)
        self.assertEqual(run_cli(s, "audit", "log", stream="NOSUCH", data=False)[0], 3)

    def test_a_forged_history_is_named(self):
        s = self.stack
        seq = self.activity()
        # Nothing may append while the log is copied.
        self.assertEqual(s.stop_serve(), 0)
        self.assertEqual(s.stop_project(), 0)
        scratch = ScratchNats(s, self)

        def forge(*edits):
            return {int(k): v for k, v in tamper(s, "copy", "--from", s.nats_url, "TICKETS",
                                                 "--to", scratch.url, FORGED,
                                                 *edits)["map"].items()}

        def verify(expect_status):
            return cli_json(s, "audit", "verify", nats=scratch.url, stream=FORGED, data=False,
                            expect_status=expect_status)[1]

        # A faithful copy verifies, with the original's figures.
        forge()
        _, original = cli_json(s, "audit", "verify", data=False, expect_status=0)
        self.assertEqual(verify(0), original)

        # Altered and re-encoded: it decodes, its own fields are right, only
        # the next commit on its subject names other bytes as its prev_hash.
        m = forge("--alter", str(seq["a2"]))
        self.assertEqual(verify(1)["first_bad"],
                         {"subject": self.a, "seq": m[seq["a3"]], "reason": "prev_hash_mismatch"})
        # Damaged bytes: the commit itself does not decode.
        m = forge("--garble", str(seq["a2"]))
        bad = verify(1)
        self.assertEqual(bad["first_bad"],
                         {"subject": self.a, "seq": m[seq["a2"]], "reason": "undecodable"})
        self.assertEqual(bad["broken"], 1)
        status, out, _ = run_cli(s, "audit", "log", "--subject", self.a, nats=scratch.url,
                                 stream=FORGED, data=False)
        shown = [json.loads(x) for x in out.splitlines()]
        self.assertEqual([x.get("error") for x in shown if x["seq"] == m[seq["a2"]]],
                         ["undecodable"])
        # Removed: the next commit's version skips one.
        m = forge("--drop", str(seq["a2"]))
        self.assertEqual(verify(1)["first_bad"],
                         {"subject": self.a, "seq": m[seq["a3"]], "reason": "version_gap"})
        # Two commits of one subject swapped: the first of them is out of line.
        m = forge("--swap", f"{seq['a2']},{seq['a3']}")
        self.assertEqual(m[seq["a3"]] < m[seq["a2"]], True)
        self.assertEqual(verify(1)["first_bad"],
                         {"subject": self.a, "seq": m[seq["a3"]], "reason": "version_gap"})

        # Two subjects broken: the first break in stream order is named, and
        # both subjects count as broken.
        m = forge("--alter", str(seq["a3"]), "--drop", str(seq["g1"]))
        breaks = sorted([(m[seq["a4"]], self.a, "prev_hash_mismatch"),
                         (m[seq["g2"]], self.ga, "version_gap")])
        bad = verify(1)
        self.assertEqual(bad["broken"], 2)
        self.assertEqual(bad["first_bad"], {"subject": breaks[0][1], "seq": breaks[0][0],
                                            "reason": breaks[0][2]})
        # Verifying only the other subject finds its own break.
        _, ga_only = cli_json(s, "audit", "verify", "--subject", self.ga, nats=scratch.url,
                              stream=FORGED, data=False, expect_status=1)
        self.assertEqual(ga_only["first_bad"],
                         {"subject": self.ga, "seq": m[seq["g2"]], "reason": "version_gap"})

        # GET /audit/verify answers the same over the forged log: 200, ok false.
        m = forge("--alter", str(seq["a2"]))
        cli = verify(1)
        s.nats_url, real_nats = scratch.url, s.nats_url
        s.extra_env["TURNSTILE_STREAM"] = FORGED
        try:
            s.start_serve()
            self.assertEqual(expect(s.request("GET", "/audit/verify", token=self.tok), 200), cli)
            ga = expect(s.request("GET", f"/audit/verify?subject={self.ga}", token=self.tok),
                        200)
            self.assertEqual((ga["ok"], ga["subjects"], ga.get("first_bad")), (True, 1, None))
            self.assertEqual(s.stop_serve(), 0)
        finally:
            s.nats_url = real_nats
            del s.extra_env["TURNSTILE_STREAM"]

    def test_a_large_log_verifies_in_one_pass(self):
        """30,000 well-chained commits over 300 subjects (ts_tamper fill):
        one ordered pass, every commit counted; throughput goes to stderr."""
        s = self.stack
        scratch = ScratchNats(s, self)
        tamper(s, "fill", "--nats", scratch.url, "--stream", "BIG", "--commits", "30000",
               "--subjects", "300")
        status, out, err = run_cli(s, "audit", "verify", nats=scratch.url, stream="BIG",
                                   data=False)
        self.assertEqual(status, 0, err)
        self.assertEqual(json.loads(out), {"subjects": 300, "commits": 30000, "ok": True,
                                           "broken": 0})
        print(err.strip(), flush=True)
        status, out, err = run_cli(s, "audit", "log", "--subject", "tix.inv.bench.S7",
                                   "--type", "HoldReleased", nats=scratch.url, stream="BIG",
                                   data=False)
        self.assertEqual(status, 0, err)
        self.assertEqual(len(out.splitlines()), 49)  # versions 3, 5, ..., 99 of S7


if __name__ == "__main__":
    unittest.main()
