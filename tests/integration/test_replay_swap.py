"""A rebuild swapped in under load (projections.h, "Schemas, builds and the
swap"): while `turnstile replay --projection catalog` runs (twice), one
thread keeps placing and releasing holds and reads its own writes with
?min_seq, another keeps reading the seat map, the event and GET /events.
No answer is a 5xx, and no reader ever sees a half-built model: the seat
map of the published event always has every seat. After the swaps the live
projector goes on folding into the new model, and the model equals the
truth of the API's answers (nothing applied twice, nothing lost)."""

import os
import random
import threading
import time
import unittest

from harness import StackTestCase
from helpers import get_projected, log_head, published_event, seat_statuses, seatmap, section
from helpers import wait_checkpoint
from replay_util import fill, replay, schemas

ROWS_A, ROWS_B = 4, 2
SEATS = [f"A-{r}-{n}" for r in range(1, ROWS_A + 1) for n in range(1, 26)]
ALL_SEATS = len(SEATS) + ROWS_B * 10
GA_CAPACITY = 500
VENUE = {"sections": [
    {"key": "A", "name": "North", "kind": "seated",
     "rows": [{"label": str(r), "seats": 25} for r in range(1, ROWS_A + 1)]},
    {"key": "B", "name": "South", "kind": "seated",
     "rows": [{"label": str(r), "seats": 10} for r in range(1, ROWS_B + 1)]},
    {"key": "GA", "name": "Floor", "kind": "standing", "capacity": GA_CAPACITY},
]}
EVENT = {"policy": {"max_per_user": 1000}}


class Truth:
    """What the API's answers say happened."""

    def __init__(self):
        self.bookings = {}  # id -> {"seats": [...], "quantity": n, "status": ...}

    def owner(self):
        return {seat: b for b, v in self.bookings.items() if v["status"] == "held"
                for seat in v["seats"]}

    def ga_taken(self):
        return sum(v["quantity"] for v in self.bookings.values()
                   if v["status"] == "held" and not v["seats"])


class ReplaySwap(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        self.tok = s.admin_token()
        seed = int(os.environ.get("TS_TEST_SEED") or time.time())
        print(f"\nreplay_swap: TS_TEST_SEED={seed}")
        self.rng = random.Random(seed)
        _, e, _ = published_event(s, self.tok, VENUE, EVENT)
        self.ev = e["event_id"]
        # A log of some size, so that each rebuild takes a while.
        print("replay_swap: ts_fill", fill(s, 60000, shows=2, sections=4, rows=20, seats=25))
        wait_checkpoint(s, log_head(s), timeout=120)
        self.stop = threading.Event()
        self.errors = []
        self.counts = {"holds": 0, "releases": 0, "refused": 0, "own_reads": 0, "maps": 0,
                       "lists": 0}

    def fail_later(self, what):
        self.errors.append(what)
        self.stop.set()

    def holder(self, truth):
        """Holds and releases; reads its own holds back with ?min_seq."""
        s, rng = self.stack, random.Random(self.rng.randrange(1 << 30))
        while not self.stop.is_set():
            held = [b for b, v in truth.bookings.items() if v["status"] == "held"]
            if held and rng.random() < 0.35:
                booking = rng.choice(held)
                st, _, p = s.request("DELETE", f"/bookings/{booking}", token=self.tok)
                if st != 200:
                    return self.fail_later(f"release answered {st}: {p}")
                truth.bookings[booking]["status"] = "released"
                self.counts["releases"] += 1
                continue
            body = ({"seats": rng.sample(SEATS, rng.randint(1, 2))} if rng.random() < 0.7
                    else {"tier": "floor", "quantity": rng.randint(1, 3)})
            st, _, p = s.request("POST", f"/events/{self.ev}/holds", body, token=self.tok)
            if st == 409:
                self.counts["refused"] += 1
                continue
            if st != 201:
                return self.fail_later(f"hold answered {st}: {p}")
            truth.bookings[p["booking_id"]] = {"seats": body.get("seats", []),
                                               "quantity": len(p["items"]), "status": "held"}
            self.counts["holds"] += 1
            if body.get("seats") and rng.random() < 0.3:
                # Read-your-writes, across the swaps too.
                st, _, m = get_projected(s, f"/events/{self.ev}/seats", p["commit_seq"])
                if st != 200 or m["as_of_seq"] < p["commit_seq"]:
                    return self.fail_later(f"seat map after min_seq {p['commit_seq']}: {st} {m}")
                statuses = seat_statuses(m)
                if any(statuses[seat] != "held" for seat in body["seats"]):
                    return self.fail_later(f"own hold {body['seats']} not held at "
                                           f"{m['as_of_seq']}: {statuses}")
                self.counts["own_reads"] += 1

    def reader(self):
        """Seat map, event and list; every answer whole."""
        s = self.stack
        while not self.stop.is_set():
            st, _, m = s.request("GET", f"/events/{self.ev}/seats")
            if st != 200:
                return self.fail_later(f"seat map answered {st}: {m}")
            keys = [x["key"] for x in m["sections"]]
            seats = sum(len(x.get("seats", [])) for x in m["sections"])
            if keys != ["A", "B", "GA"] or seats != ALL_SEATS or \
                    section(m, "GA")["capacity"] != GA_CAPACITY:
                return self.fail_later(f"half a seat map at {m['as_of_seq']}: {keys}, "
                                       f"{seats} seats")
            self.counts["maps"] += 1
            st, _, e = s.request("GET", f"/events/{self.ev}")
            if st != 200 or e["status"] != "published":
                return self.fail_later(f"event answered {st}: {e}")
            st, _, page = s.request("GET", "/events?limit=200")
            if st != 200 or self.ev not in [x["event_id"] for x in page["items"]]:
                return self.fail_later(f"event list answered {st}: {page}")
            self.counts["lists"] += 1

    def test_rebuild_under_load_is_never_seen_half_built_and_loses_nothing(self):
        s = self.stack
        truth = Truth()
        threads = [threading.Thread(target=self.holder, args=(truth,)),
                   threading.Thread(target=self.reader)]
        for t in threads:
            t.start()
        versions = []
        try:
            time.sleep(0.5)
            for _ in range(2):
                rc, summary, err = replay(s)
                self.assertEqual(rc, 0, err)
                print(f"replay_swap: {summary}")
                versions.append(summary["version"])
                self.assertFalse(self.errors, self.errors)
            time.sleep(0.5)
        finally:
            self.stop.set()
            for t in threads:
                t.join(60)
        self.assertFalse(self.errors, self.errors)
        print(f"replay_swap: {self.counts}")
        self.assertGreater(self.counts["holds"], 20)
        self.assertGreater(self.counts["maps"], 20)
        self.assertGreater(self.counts["own_reads"], 3)

        # The new model is live: a new hold reaches it, read by min_seq.
        free = sorted(set(SEATS) - set(truth.owner()))
        st, _, p = s.request("POST", f"/events/{self.ev}/holds", {"seats": free[:1]},
                             token=self.tok)
        self.assertEqual(st, 201, p)
        truth.bookings[p["booking_id"]] = {"seats": free[:1], "quantity": 1, "status": "held"}
        m = seatmap(s, self.ev, p["commit_seq"])
        self.assertEqual(seat_statuses(m)[free[0]], "held")

        # Nothing applied twice, nothing lost: the model equals the truth.
        head = log_head(s)
        self.assertEqual(wait_checkpoint(s, head), head)
        owner = truth.owner()
        rows = s.psql(f"select seat_id, status, booking_id from catalog.seats "
                      f"where event_id = '{self.ev}' and section = 'A'")
        self.assertEqual({r[0]: (r[1], r[2]) for r in rows},
                         {seat: ("held", owner[seat]) if seat in owner else ("free", None)
                          for seat in SEATS})
        rows = dict(s.psql(f"select key, available from catalog.sections "
                           f"where event_id = '{self.ev}'"))
        self.assertEqual(int(rows["A"]), len(SEATS) - len(owner))
        self.assertEqual(int(rows["GA"]), GA_CAPACITY - truth.ga_taken())
        rows = s.psql(f"select booking_id, status, quantity from catalog.bookings "
                      f"where event_id = '{self.ev}'")
        self.assertEqual({r[0]: (r[1], int(r[2])) for r in rows},
                         {b: (v["status"], v["quantity"]) for b, v in truth.bookings.items()})
        # The last build is the live one, and no build schema is left over.
        self.assertEqual(s.psql("select version from catalog.checkpoints"),
                         [(str(versions[-1]),)])
        self.assertEqual(schemas(s), ["catalog", "information_schema", "public"])


if __name__ == "__main__":
    unittest.main()
