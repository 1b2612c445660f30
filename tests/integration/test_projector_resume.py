"""The projector killed (SIGKILL) in the middle of its work resumes from its
checkpoint and applies nothing twice (DESIGN.md, Projectors): after 300
holds and releases with the projector killed and restarted several times,
the read model equals the truth computed from the API's own answers."""

import os
import random
import threading
import time
import unittest

from harness import StackTestCase
from helpers import (checkpoint, log_head, published_event, seat_statuses, seatmap, section,
                     wait_checkpoint)

SEATS = [f"A-{r}-{n}" for r in range(1, 5) for n in range(1, 11)]  # 40 seats
GA_CAPACITY = 120
VENUE = {"sections": [
    {"key": "A", "name": "North", "kind": "seated",
     "rows": [{"label": str(r), "seats": 10} for r in range(1, 5)]},
    {"key": "B", "name": "South", "kind": "seated", "rows": [{"label": "1", "seats": 2}]},
    {"key": "GA", "name": "Floor", "kind": "standing", "capacity": GA_CAPACITY},
]}
EVENT = {"policy": {"max_per_user": 1000}}
COMMANDS = 300
ROUNDS = 5
THREADS = 4


class Truth:
    """What the API's answers say happened (the source of truth here)."""

    def __init__(self):
        self.mu = threading.Lock()
        self.bookings = {}  # id -> {"seats": [...], "quantity": n, "status": ...}
        self.releasing = set()
        self.holds_ok = self.releases_ok = self.refused = 0
        self.max_seq = 0

    def held(self):
        return [b for b, v in self.bookings.items() if v["status"] == "held"]

    def seat_owner(self):
        owner = {}
        for b, v in self.bookings.items():
            if v["status"] == "held":
                for seat in v["seats"]:
                    assert seat not in owner, f"{seat} held twice: the API oversold"
                    owner[seat] = b
        return owner

    def ga_taken(self):
        return sum(v["quantity"] for v in self.bookings.values()
                   if v["status"] == "held" and not v["seats"])


class ProjectorResume(StackTestCase):
    def setUp(self):
        super().setUp()
        self.tok = self.stack.admin_token()
        _, e, self.published = published_event(self.stack, self.tok, VENUE, EVENT)
        self.ev = e["event_id"]
        seed = int(os.environ.get("TS_TEST_SEED") or time.time())
        print(f"\nprojector_resume: TS_TEST_SEED={seed}")
        self.rng = random.Random(seed)

    def one_command(self, truth, rng):
        s = self.stack
        with truth.mu:
            held = [b for b in truth.held() if b not in truth.releasing]
            release = held and rng.random() < 0.35
            if release:
                booking = rng.choice(held)
                truth.releasing.add(booking)
        if release:
            status, _, p = s.request("DELETE", f"/bookings/{booking}", token=self.tok)
            self.assertEqual(status, 200, p)
            with truth.mu:
                truth.releasing.discard(booking)
                truth.bookings[booking]["status"] = "released"
                truth.releases_ok += 1
                truth.max_seq = max(truth.max_seq, p["commit_seq"])
            return
        if rng.random() < 0.6:
            body = {"seats": rng.sample(SEATS, rng.randint(1, 3))}
        else:
            body = {"tier": "floor", "quantity": rng.randint(1, 4)}
        status, _, p = s.request("POST", f"/events/{self.ev}/holds", body, token=self.tok)
        if status == 409:
            # Someone else holds a seat, or GA is full: nothing changed.
            self.assertIn(p["code"], ("seat_unavailable", "sold_out"), p)
            with truth.mu:
                truth.refused += 1
            return
        self.assertEqual(status, 201, p)
        with truth.mu:
            truth.bookings[p["booking_id"]] = {
                "seats": body.get("seats", []), "quantity": len(p["items"]), "status": "held"}
            truth.holds_ok += 1
            truth.max_seq = max(truth.max_seq, p["commit_seq"])

    def drive(self, truth, n, seed):
        """n commands over THREADS threads; returns the threads' errors."""
        errors = []

        def worker(k, count):
            rng = random.Random(seed * 100 + k)
            try:
                for _ in range(count):
                    self.one_command(truth, rng)
            except BaseException as e:
                errors.append(e)

        per = [n // THREADS + (1 if k < n % THREADS else 0) for k in range(THREADS)]
        threads = [threading.Thread(target=worker, args=(k, c)) for k, c in enumerate(per)]
        for t in threads:
            t.start()
        return threads, errors

    def test_killed_projector_resumes_without_applying_anything_twice(self):
        s = self.stack
        truth = Truth()
        kills = []
        per_round = COMMANDS // ROUNDS
        for rnd in range(ROUNDS):
            threads, errors = self.drive(truth, per_round, self.rng.randrange(1 << 30))
            # SIGKILL at a random moment while commits keep arriving, then a
            # random pause (a backlog builds), then a fresh projector.
            time.sleep(self.rng.uniform(0.05, 0.4))
            kills.append((checkpoint(s), log_head(s)))
            s.stop_project(kill=True)
            time.sleep(self.rng.uniform(0.0, 0.3))
            s.start_project()
            for t in threads:
                t.join(120)
            if errors:
                raise errors[0]
        print(f"projector_resume: {truth.holds_ok} holds, {truth.releases_ok} releases, "
              f"{truth.refused} refused; (checkpoint, head) at each kill: {kills}")
        self.assertEqual(truth.holds_ok + truth.releases_ok + truth.refused, COMMANDS)
        self.assertGreater(truth.holds_ok, 50)
        self.assertGreater(truth.releases_ok, 20)

        # Kill once more right as it starts to catch up, then let it finish.
        s.stop_project(kill=True)
        s.start_project()
        time.sleep(0.05)
        s.stop_project(kill=True)
        s.start_project()
        head = log_head(s)
        self.assertGreaterEqual(head, truth.max_seq)
        self.assertEqual(wait_checkpoint(s, head, timeout=60), head)

        owner = truth.seat_owner()
        # Seats: each one's status and booking as the API answered.
        rows = s.psql(f"select seat_id, status, booking_id from catalog.seats "
                      f"where event_id = '{self.ev}' and section = 'A'")
        got = {r[0]: (r[1], r[2]) for r in rows}
        want = {seat: ("held", owner[seat]) if seat in owner else ("free", None)
                for seat in SEATS}
        self.assertEqual(got, want)
        # Availability: a double-applied hold or release would shift these.
        rows = dict(s.psql(f"select key, available from catalog.sections "
                           f"where event_id = '{self.ev}'"))
        self.assertEqual(int(rows["A"]), len(SEATS) - len(owner))
        self.assertEqual(int(rows["GA"]), GA_CAPACITY - truth.ga_taken())
        self.assertEqual(int(rows["B"]), 2)
        # Bookings: one row per successful hold, each with its final status.
        rows = s.psql(f"select booking_id, status, quantity from catalog.bookings "
                      f"where event_id = '{self.ev}'")
        self.assertEqual(len(rows), truth.holds_ok)
        self.assertEqual({r[0]: (r[1], int(r[2])) for r in rows},
                         {b: (v["status"], v["quantity"]) for b, v in truth.bookings.items()})

        # The API's seat map says the same, as of the head.
        m = seatmap(s, self.ev, head)
        self.assertEqual(m["as_of_seq"], head)
        st = seat_statuses(m)
        self.assertEqual({k: st[k] for k in SEATS},
                         {k: ("held" if k in owner else "free") for k in SEATS})
        self.assertEqual(section(m, "GA")["available"], GA_CAPACITY - truth.ga_taken())


if __name__ == "__main__":
    unittest.main()
