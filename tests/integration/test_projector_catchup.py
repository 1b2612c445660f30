"""The projector with a backlog (projections.h, "Speed"; projector.c,
"Backlog"): started on a log it has never seen, it folds tens of thousands
of commits in big transactions, its hold segments through COPY, and the
read model it ends with is the one `turnstile replay` builds from the same
log, row for row; a second projector meanwhile stands by on the advisory
lock, and takes over, from the checkpoint, when the first one is killed."""

import time
import unittest

from harness import StackTestCase, wait_until
from helpers import checkpoint, wait_checkpoint
from replay_util import TABLES, dump, fill, replay


class ProjectorCatchUp(StackTestCase):
    stack_options = {"project": False}

    def spawn_project(self, name, *args):
        s = self.stack
        s._spawn(name, [s.bin, "project"] + s._common_args() + list(args), s._turnstile_env())
        self.addCleanup(s._stop, name, False, False)

    def read_log(self, name):
        with open(self.stack._log(name)) as f:
            return f.read()

    def test_a_backlog_folds_to_what_replay_builds(self):
        s = self.stack
        # Small shows, so that bookings are placed and ended over and over
        # on few seats: many placed and ended within one catch-up batch, and
        # many across two.
        log = fill(s, 40000, shows=3, sections=4, rows=10, seats=10)
        head = log["last_seq"]
        # Transactions of 2,000 commits, fetched 500 at a time with the
        # holds carried across the fetches: about 2,700 holds each, past the
        # 512 that send a segment through COPY; a second projector stands by.
        self.spawn_project("project", "--catchup", "2000")
        wait_checkpoint(s, 1)
        self.spawn_project("standby", "--catchup", "2000")
        # Kill the active one in the middle: the standby takes over from
        # the checkpoint, and nothing is applied twice (one transaction per
        # batch, checkpoint included).
        deadline = time.monotonic() + 120
        while checkpoint(s) < head // 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertLess(checkpoint(s), head, "the backlog was folded before the kill")
        s._stop("project", kill=True, checked=False)
        wait_checkpoint(s, head, timeout=300)
        live = dump(s, "catalog")

        rc, summary, err = replay(s, "--until-seq", str(head), "--into", "exact", "--exact")
        self.assertEqual(rc, 0, err)
        # ts_fill's events, and serve's own (the admin it registered).
        self.assertGreaterEqual(summary["events"], log["events"])
        self.assertEqual(summary["head_seq"], head)
        exact = dump(s, "exact")
        for table in TABLES:
            self.assertEqual(live[table], exact[table], f"{table}: the projector != replay --exact")
        # The bookings really went through holds placed and ended: most
        # ended, some still held, seats held by exactly those.
        counts = dict(s.psql("select status, count(*) from catalog.bookings group by 1"))
        self.assertGreater(int(counts.get("held", 0)), 0, counts)
        self.assertGreater(int(counts.get("released", 0)) + int(counts.get("expired", 0)),
                           int(counts["held"]), counts)
        bad = s.psql("select count(*) from catalog.seats s left join catalog.bookings b"
                     " on b.booking_id = s.booking_id"
                     " where (s.status = 'held') <> (b.status is not distinct from 'held')")
        self.assertEqual(bad, [("0",)])
        self.assertIn("standing by", self.read_log("standby"))

    def test_a_backlog_on_an_empty_model_is_bootstrapped_by_a_build(self):
        s = self.stack
        log = fill(s, 20000, shows=2, sections=3, rows=10, seats=10)
        head = log["last_seq"]
        # Past the threshold, and more than twice the (empty) model: the
        # projector builds the model in a fresh schema and swaps it in.
        self.spawn_project("project", "--bootstrap", "5000")
        wait_checkpoint(s, head, timeout=300)
        # The swap's line is written just after its transaction commits,
        # so the checkpoint may be seen a moment before the line.
        text = wait_until(lambda: "swapped in" in self.read_log("project")
                          and self.read_log("project"), timeout=30, what="the swap's log line")
        self.assertIn("bootstrap:", text)
        self.assertRegex(text, r"swapped in at seq \d+ \(was 0\)")
        live = dump(s, "catalog")
        rc, _, err = replay(s, "--until-seq", str(head), "--into", "exact", "--exact")
        self.assertEqual(rc, 0, err)
        exact = dump(s, "exact")
        for table in TABLES:
            if table == "checkpoints":
                continue  # the bootstrap may have folded past head meanwhile
            self.assertEqual(live[table], exact[table], f"{table}: the bootstrap != replay --exact")
        # After the swap it goes on folding batch by batch.
        v = s.create_venue(s.admin_token(), name="After the bootstrap")
        wait_checkpoint(s, v["commit_seq"])
        self.assertEqual(s.psql(f"select name from catalog.venues where venue_id = "
                                f"'{v['venue_id']}'"), [("After the bootstrap",)])
        self.assertEqual(s.psql("select nspname from pg_namespace where nspname like 'catalog_v%'"),
                         [])

    def test_bookings_folded_again_take_the_probing_path(self):
        # A backlog transaction inserts its new bookings without probing for
        # them (sql.c, HOLDS_NEW) inside a savepoint; a booking already in
        # the table makes the primary key refuse the statement, and the
        # segment is folded again by the statement that probes (fold.c,
        # seg_flush_staged). Moving the checkpoint back makes the projector
        # fold commits whose bookings it already wrote: the bookings and the
        # seats must come out as replay --exact builds them.
        s = self.stack
        log = fill(s, 20000, shows=2, sections=3, rows=10, seats=10)
        head = log["last_seq"]
        self.spawn_project("project", "--bootstrap", "0")
        wait_checkpoint(s, head, timeout=300)
        s._stop("project", checked=False)
        s.psql(f"update catalog.checkpoints set last_seq = {head // 2}")
        self.spawn_project("again", "--bootstrap", "0")
        wait_checkpoint(s, head, timeout=300)
        live = dump(s, "catalog")
        rc, _, err = replay(s, "--until-seq", str(head), "--into", "exact", "--exact")
        self.assertEqual(rc, 0, err)
        exact = dump(s, "exact")
        for table in ("bookings", "seats"):
            self.assertEqual(live[table], exact[table], f"{table}: folded again != replay --exact")
        # The first attempt really was refused (the projector says it folds
        # them again), within the backlog transaction, which did not fail
        # (it would have gone on batch by batch), and nothing was skipped as
        # poison. The first session never took that path.
        again = self.read_log("again")
        self.assertIn("are in the model already", again)
        self.assertNotIn("are in the model already", self.read_log("project"))
        self.assertNotIn("backlog transaction failed", again)
        self.assertNotIn("skipped", again)


if __name__ == "__main__":
    unittest.main()
