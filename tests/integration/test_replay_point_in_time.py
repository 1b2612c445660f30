"""An analyst's copy as of a point in time (replay.h, "Rebuilds"):
`turnstile replay --projection catalog --into SCHEMA --until-seq N` holds
exactly the model after commit N, `--until-time T` after the last commit
stored at or before T; a copy is left alone (never swapped in, never
updated), an existing schema is refused unless --replace, and the command's
usage errors and refusals have their exit codes."""

import signal
import subprocess
import time
import unittest

from harness import StackTestCase
from helpers import log_head, published_event, seat_statuses, seatmap, wait_checkpoint
from replay_util import dump, fill, replay, schemas


def hold(stack, token, event_id, seats):
    st, _, p = stack.request("POST", f"/events/{event_id}/holds", {"seats": seats}, token=token)
    assert st == 201, p
    return p


def statuses(stack, schema, event_id):
    return dict(stack.psql(f"select seat_id, status from {schema}.seats "
                           f"where event_id = '{event_id}' and section = 'A'"))


def iso_ms(t):
    """RFC 3339 with milliseconds, UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


class ReplayPointInTime(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        self.tok = s.admin_token()
        _, e, _ = published_event(s, self.tok)
        self.ev = e["event_id"]

    def test_until_seq_holds_the_model_exactly_as_of_that_commit(self):
        s, ev = self.stack, self.ev
        first = hold(s, self.tok, ev, ["A-1-1"])
        second = hold(s, self.tok, ev, ["A-1-2"])
        st, _, released = s.request("DELETE", f"/bookings/{first['booking_id']}", token=self.tok)
        self.assertEqual(st, 200, released)
        third = hold(s, self.tok, ev, ["A-1-3"])
        wait_checkpoint(s, third["commit_seq"])
        live_before = dump(s, "catalog")

        rc, summary, err = replay(s, "--into", "asof2", "--until-seq", str(second["commit_seq"]))
        self.assertEqual(rc, 0, err)
        self.assertEqual((summary["schema"], summary["head_seq"], summary["until_seq"]),
                         ("asof2", second["commit_seq"], second["commit_seq"]))
        got = statuses(s, "asof2", ev)
        self.assertEqual((got["A-1-1"], got["A-1-2"], got["A-1-3"]), ("held", "held", "free"))
        self.assertEqual(s.psql("select last_seq from asof2.checkpoints"),
                         [(str(second["commit_seq"]),)])
        self.assertEqual(s.psql(f"select available from asof2.sections "
                                f"where event_id = '{ev}' and key = 'A'"), [("28",)])

        # One commit later: the release, and nothing after it.
        rc, _, err = replay(s, "--into", "asof3", "--until-seq", str(released["commit_seq"]))
        self.assertEqual(rc, 0, err)
        got = statuses(s, "asof3", ev)
        self.assertEqual((got["A-1-1"], got["A-1-2"], got["A-1-3"]), ("free", "held", "free"))
        self.assertEqual(dict(s.psql("select booking_id, status from asof3.bookings")),
                         {first["booking_id"]: "released", second["booking_id"]: "held"})

        # The live model is untouched; a later hold changes it, not the copies.
        self.assertEqual(dump(s, "catalog"), live_before)
        copy_before = dump(s, "asof3")
        fourth = hold(s, self.tok, ev, ["A-1-4"])
        self.assertEqual(seat_statuses(seatmap(s, ev, fourth["commit_seq"]))["A-1-4"], "held")
        self.assertEqual(dump(s, "asof3"), copy_before)

        # An existing schema is refused (exit 4) and left as it was...
        rc, _, err = replay(s, "--into", "asof3", "--until-seq", str(third["commit_seq"]))
        self.assertEqual(rc, 4, err)
        self.assertIn("--replace", err)
        self.assertEqual(dump(s, "asof3"), copy_before)
        # ... unless --replace.
        rc, summary, err = replay(s, "--into", "asof3", "--until-seq", str(third["commit_seq"]),
                                  "--replace")
        self.assertEqual(rc, 0, err)
        self.assertEqual(statuses(s, "asof3", ev)["A-1-3"], "held")
        # Not a commit of the log yet: refused.
        rc, _, err = replay(s, "--into", "future", "--until-seq", str(log_head(s) + 10))
        self.assertEqual(rc, 4, err)
        self.assertEqual(schemas(s), ["asof2", "asof3", "catalog", "information_schema",
                                      "public"])

    def test_until_time_stops_at_the_last_commit_stored_by_then(self):
        s, ev = self.stack, self.ev
        before = hold(s, self.tok, ev, ["A-2-1"])
        time.sleep(1.2)
        cut = time.time()
        time.sleep(1.2)
        after = hold(s, self.tok, ev, ["A-2-2"])
        wait_checkpoint(s, after["commit_seq"])
        rc, summary, err = replay(s, "--into", "as_of_cut", "--until-time", iso_ms(cut))
        self.assertEqual(rc, 0, err)
        self.assertEqual(summary["head_seq"], before["commit_seq"])
        got = statuses(s, "as_of_cut", ev)
        self.assertEqual((got["A-2-1"], got["A-2-2"]), ("held", "free"))
        # A time before the log began: an empty model.
        rc, summary, err = replay(s, "--into", "empty", "--until-time", "2001-01-01T00:00:00Z")
        self.assertEqual(rc, 0, err)
        self.assertEqual(summary["head_seq"], 0)
        self.assertEqual(s.psql("select count(*) from empty.events"), [("0",)])

    def test_interrupted_build_leaves_the_live_model_and_nothing_else(self):
        s = self.stack
        fill(s, 150000)
        before = s.psql("select version from catalog.checkpoints")
        p = subprocess.Popen([s.bin, "replay", "--projection", "catalog", "--nats", s.nats_url,
                              "--pg", s.pg_conninfo], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=s._turnstile_env())
        p.stderr.readline()  # "replay: catalog_v<N>: bulk to seq ...": building now
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("interrupted", err)
        self.assertEqual(out, "")
        self.assertEqual(schemas(s), ["catalog", "information_schema", "public"])
        self.assertEqual(s.psql("select version from catalog.checkpoints"), before)

    def test_usage(self):
        s = self.stack
        out = subprocess.run([s.bin, "--help"], capture_output=True, text=True).stdout
        self.assertIn("replay", out)
        r = subprocess.run([s.bin, "replay", "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        for word in ("--projection", "--into", "--until-seq", "--until-time", "--replace",
                     "TURNSTILE_PG_URL", "TURNSTILE_NATS_URL", "Exit status"):
            self.assertIn(word, r.stdout)
        for args in ([], ["--projection", "orders"], ["--projection", "catalog", "--until-seq",
                                                      "3"],
                     ["--projection", "catalog", "--into", "Bad-Name"],
                     ["--projection", "catalog", "--into", "catalog_v9"],
                     ["--projection", "catalog", "--into", "x", "--until-time", "yesterday"]):
            r = subprocess.run([s.bin, "replay", *args], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
        # A name SQL would need quoted: refused before anything is made.
        rc, _, err = replay(s, "--into", "select")
        self.assertEqual(rc, 2, err)
        self.assertIn("keyword", err)
        # No log to read: exit 3, and nothing was made.
        r = subprocess.run([s.bin, "replay", "--projection", "catalog", "--nats",
                            "nats://127.0.0.1:1", "--pg", s.pg_conninfo],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(schemas(s), ["catalog", "information_schema", "public"])


if __name__ == "__main__":
    unittest.main()
