"""The projector's catch-up paths fold issue 3's events too (projector.c,
"Backlog" and "Bootstrap"; fold.c, the `default:` branch): a log of
thousands of holds (ts_fill, so that catch-up segments go through COPY)
followed by the determinism test's sales (payments confirmed and failed,
tickets, refunds, an event cancelled), an event's details changed
(EventUpdated) and a waitlist with an offer, folded again from an empty
model by a projector catching up in big transactions, and by one that
bootstraps a build, ends with the model `turnstile replay --exact` builds,
row for row in every table (tickets and waitlist included)."""

import time
import unittest

import test_replay_determinism as rd
from harness import expect
from helpers import checkpoint, log_head, published_event, wait_checkpoint
from replay_util import TABLES, dump, fill, replay


class ProjectorCatchUpV2(rd.ReplayDeterminism):
    # Inherited setUp, activity and sales; not the inherited test.
    test_two_replays_equal_each_other_and_the_live_projection = None

    def spawn_project(self, *args):
        s = self.stack
        s._spawn("project2", [s.bin, "project"] + s._common_args() + list(args),
                 s._turnstile_env())
        self.addCleanup(s._stop, "project2", False, False)

    def workload(self):
        """Every kind of event the catalog folds, in one log; returns the
        sequence the live projector has folded it all to."""
        s, tok = self.stack, self.tok
        fill(s, 6000, shows=2, sections=3, rows=10, seats=10)
        final = self.sales(self.activity())
        self.assertIn("refunded", final.values())
        # EventUpdated: the details of an event on sale.
        ev = self.events[0][0]
        expect(s.request("PATCH", f"/events/{ev}", {"title": "Derby (moved)",
                                                    "description": "New date"}, token=tok), 200)
        # A waitlist: a sold-out tier, one user waiting, the seat freed and
        # offered to them (saga_waitlist).
        _, e, _ = published_event(s, tok, venue={"sections": [
            {"key": "GA", "name": "Floor", "kind": "standing", "capacity": 1}]}, event={
            "tiers": [{"key": "floor", "name": "Floor",
                       "price": {"amount": 1000, "currency": "EUR"}, "sections": ["GA"]}]})
        eid = e["event_id"]
        h = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 1},
                             token=tok), 201)
        _, utok = s.register()
        expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=utok), 201)
        expect(s.request("DELETE", f"/bookings/{h['booking_id']}", token=tok), 200)
        deadline = time.monotonic() + 30
        while not s.psql("select 1 from catalog.waitlist where status = 'offered'"):
            self.assertLess(time.monotonic(), deadline, "no waitlist offer")
            time.sleep(0.1)
        head = log_head(s)
        wait_checkpoint(s, head)
        live = dump(s, "catalog")
        self.assertGreater(len(live["tickets"]), 10)
        self.assertTrue(live["waitlist"])
        self.assertIn("Derby (moved)", str(live["events"]))
        return head

    def refold(self, *args):
        """Stops the live projector, drops its model, and lets a projector
        with args fold the whole log again; returns its checkpoint once it
        is caught up and stopped."""
        s = self.stack
        head = self.workload()
        s.stop_project()
        s.psql("drop schema catalog cascade")
        self.spawn_project(*args)
        wait_checkpoint(s, head, timeout=300)
        s._stop("project2")
        return checkpoint(s)

    def project2_log(self):
        with open(self.stack._log("project2")) as f:
            return f.read()

    def assert_as_replay(self, seq):
        s = self.stack
        live = dump(s, "catalog")
        rc, _, err = replay(s, "--until-seq", str(seq), "--into", "exact", "--exact")
        self.assertEqual(rc, 0, err)
        exact = dump(s, "exact")
        for table in TABLES:
            self.assertEqual(live[table], exact[table], f"{table}: the projector != replay --exact")
        statuses = {row[4] for row in live["bookings"]}
        self.assertTrue({"confirmed", "refunded", "released", "held"} <= statuses, statuses)

    def test_a_catch_up_in_big_transactions_folds_sales_tickets_and_waitlists(self):
        seq = self.refold("--catchup", "2000", "--bootstrap", "0")
        self.assertNotIn("bootstrap:", self.project2_log())
        self.assert_as_replay(seq)

    def test_a_bootstrap_folds_sales_tickets_and_waitlists(self):
        seq = self.refold("--bootstrap", "2000")
        self.assertRegex(self.project2_log(), r"swapped in at seq \d+ \(was 0\)")
        self.assert_as_replay(seq)


if __name__ == "__main__":
    unittest.main()
