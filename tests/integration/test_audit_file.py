"""The audit projector without LOKI_URL (projections/audit.h "File"): one
valid Promtail-ready JSON line per event in data/audit/audit.log, masked
with a key it generated once into data/audit/mask.key (mode 0600); a torn
last line is cut at restart; kill -9 and a restart lose nothing. Also checks
that the ops/ snippets for Promtail and Grafana use the file's fields and
only the three labels."""

import json
import os
import re
import stat
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import REPO, StackTestCase, expect  # noqa: E402
from helpers import audit, log_head  # noqa: E402
from loki_util import audit_checkpoint, expected_entries, wait_audit_checkpoint  # noqa: E402

EMAIL = "Grace.Hopper@Example.net"
NAME = "Grace Hopper"
RECORD_KEYS = ["ts", "app", "aggregate", "event_type", "line"]


class AuditFileTest(StackTestCase):
    stack_options = {"project": False}

    def path(self, name):
        return os.path.join(self.stack.data_dir, "audit", name)

    def records(self):
        """The records of audit.log; every line must be a whole JSON object."""
        with open(self.path("audit.log"), "rb") as f:
            data = f.read()
        self.assertTrue(data.endswith(b"\n"), "audit.log ends in a torn line")
        out = []
        for raw in data.split(b"\n")[:-1]:
            rec = json.loads(raw)
            self.assertEqual(list(rec), RECORD_KEYS)
            out.append(rec)
        return out, data

    def expected(self, key):
        head = log_head(self.stack)
        items = audit(self.stack, self.stack.admin_token(), "tix.>")
        self.assertEqual(items[-1]["seq"], head)
        return expected_entries(items, key), head

    def assert_records(self, records, want):
        """Each record is its event's entry: labels, ns timestamp, line."""
        for rec in records:
            obj = json.loads(rec["line"])
            e = want[(obj["seq"], obj.get("index", 0))]
            self.assertEqual(rec["app"], "turnstile")
            self.assertEqual((rec["aggregate"], rec["event_type"]), (e.aggregate, e.event_type))
            self.assertEqual(rec["ts"], str(e.ns))
            self.assertEqual(rec["line"], e.line)

    def keys_of(self, records):
        return [(json.loads(r["line"])["seq"], json.loads(r["line"])["index"]) for r in records]

    def test_file_one_line_per_event(self):
        s = self.stack
        tok = s.admin_token()
        _, utok = s.register(email=EMAIL, name=NAME)
        venue = s.create_venue(tok)
        event = s.create_event(tok, venue["venue_id"], policy={"max_per_user": 1000})
        s.publish(tok, event["event_id"])
        eid = event["event_id"]
        b = expect(s.request("POST", f"/events/{eid}/holds", {"seats": ["A-1-1"]}, token=utok), 201)
        expect(s.request("DELETE", f"/bookings/{b['booking_id']}", token=utok), 200)

        s.start_audit()  # no LOKI_URL, no TURNSTILE_AUDIT_KEY
        head = log_head(s)
        wait_audit_checkpoint(s, head)
        # The key was generated once, readable by its owner only.
        st = os.stat(self.path("mask.key"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        with open(self.path("mask.key"), "rb") as f:
            key = f.read().rstrip(b"\n")
        self.assertRegex(key.decode(), r"^[0-9a-f]{64}$")
        want, head = self.expected(key)

        records, data = self.records()
        self.assertEqual(self.keys_of(records), sorted(want))  # each once, in log order
        self.assert_records(records, want)
        for secret in (EMAIL, s.admin_email, NAME):
            self.assertNotIn(secret.lower().encode(), data.lower())

        # Stopped cleanly, the file ends with a torn line (as after a crash
        # in the middle of a write): the restart cuts it and goes on.
        s.stop_audit()
        with open(self.path("audit.log"), "ab") as f:
            f.write(b'{"ts":"17953')
        for seat in ("A-1-2", "A-1-3"):
            expect(s.request("POST", f"/events/{eid}/holds", {"seats": [seat]}, token=utok), 201)
        s.start_audit()
        wait_audit_checkpoint(s, log_head(s))
        with open(self.path("mask.key"), "rb") as f:
            self.assertEqual(f.read().rstrip(b"\n"), key)  # the same key
        want, head = self.expected(key)
        records, _ = self.records()
        self.assertEqual(self.keys_of(records), sorted(want))
        self.assert_records(records, want)
        with open(os.path.join(s.log_dir, "audit.log")) as f:
            self.assertIn("cut a torn last line (12 bytes)", f.read())

    def test_kill_9_loses_nothing(self):
        s = self.stack
        tok = s.admin_token()
        venue = s.create_venue(tok)
        event = s.create_event(tok, venue["venue_id"], policy={"max_per_user": 1000})
        s.publish(tok, event["event_id"])
        eid = event["event_id"]
        s.start_audit(batch=2, env={"TURNSTILE_AUDIT_KEY": "file-key"})
        # Commits keep coming while the projector is killed and restarted.
        done = threading.Event()

        def traffic():
            for row in (1, 2, 3):
                for n in range(1, 11):
                    expect(s.request("POST", f"/events/{eid}/holds",
                                     {"seats": [f"A-{row}-{n}"]}, token=tok), 201)
            done.set()

        t = threading.Thread(target=traffic)
        t.start()
        wait_audit_checkpoint(s, log_head(s) + 5)
        s.stop_audit(kill=True)
        killed_at = audit_checkpoint(s)
        s.start_audit(batch=2, env={"TURNSTILE_AUDIT_KEY": "file-key"})
        t.join(60)
        self.assertTrue(done.is_set())
        want, head = self.expected(b"file-key")
        wait_audit_checkpoint(s, head)

        records, _ = self.records()
        self.assert_records(records, want)
        keys = self.keys_of(records)
        self.assertEqual(sorted(set(keys)), sorted(want))  # nothing lost
        # At-least-once: only what was appended past the checkpoint when the
        # process died can be there twice, at most one batch.
        repeated = {k for k in keys if keys.count(k) > 1}
        self.assertLessEqual(len(repeated), 2)
        for k in repeated:
            self.assertGreater(k[0], killed_at)


class OpsSnippetsTest(unittest.TestCase):
    """ops/promtail-audit.yaml and ops/grafana/audit-dashboard.json go with
    the file format and the labels of projections/audit.h."""

    def test_promtail_config(self):
        with open(os.path.join(REPO, "ops", "promtail-audit.yaml")) as f:
            text = f.read()
        self.assertIn("audit/audit.log", text)
        # The json stage reads the record's fields; the labels stage promotes
        # exactly app, aggregate and event_type; the timestamp is ts in ns;
        # the line shipped is the line field.
        for field in RECORD_KEYS:
            self.assertRegex(text, rf"(?m)^\s+{field}:\s*{field}\s*$")
        labels = re.search(r"(?m)^ +- labels: *\n((?: +\w+:.*\n)+)", text)
        self.assertIsNotNone(labels)
        self.assertEqual(sorted(re.findall(r"(\w+):", labels.group(1))),
                         ["aggregate", "app", "event_type"])
        self.assertRegex(text, r"format:\s*UnixNs")
        self.assertRegex(text, r"source:\s*line")

    def test_dashboard(self):
        with open(os.path.join(REPO, "ops", "grafana", "audit-dashboard.json")) as f:
            dash = json.load(f)
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        self.assertEqual(variables["datasource"]["query"], "loki")
        self.assertIn("search", variables)
        exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
        self.assertGreaterEqual(len(exprs), 3)
        for expr in exprs:
            # Stream selectors use only the three labels.
            for selector in re.findall(r"\{([^}]*)\}", expr):
                for name in re.findall(r"(\w+)\s*[=!]~?", selector):
                    self.assertIn(name, ("app", "aggregate", "event_type"), expr)
        self.assertTrue(any("$search" in e for e in exprs))
        self.assertIn("logs", [p["type"] for p in dash["panels"]])
        for p in dash["panels"]:
            self.assertEqual(p["datasource"]["uid"], "${datasource}")


if __name__ == "__main__":
    unittest.main()
