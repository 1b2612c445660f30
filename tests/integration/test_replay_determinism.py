"""Replay is deterministic (DESIGN.md: the log is the only truth; replay.h,
"Rebuilds"): after a few hundred commands (venues, events, holds, releases,
group commits, then payments that confirm or fail, tickets, cancellations
refunded by the provider's webhooks, an event cancelled), the log folded
twice into fresh schemas gives identical read models (the sales dashboard's
sums included), row for row in every table, and both equal the live
projection that the projector folded batch by batch. So do a build made exactly as the
projector folds (--exact) and a rebuild swapped in for the live model."""

import os
import random
import threading
import time
import unittest

from harness import StackTestCase, expect
from helpers import log_head, published_event, wait_checkpoint
from pay_util import pay, simulate, wait_booking
from replay_util import dump, replay, schemas

VENUE2 = {"name": "Second Hall", "city": "Split", "sections": [
    {"key": "P", "name": "Parterre", "kind": "seated",
     "rows": [{"label": str(r), "seats": 12, "accessible": [1]} for r in range(1, 6)]},
    {"key": "FL", "name": "Floor", "kind": "standing", "capacity": 300},
]}
EVENT = {"policy": {"max_per_user": 1000}}
# The rows of sales_tiers and sales_minutes by their definitions
# (schema.c), from the bookings and tickets of the catalog.
SALES_FROM_BOOKINGS = """
select b.event_id, coalesce(b.tier, ''),
  sum(case when b.status = 'confirmed' then b.quantity else 0 end),
  sum(b.total), sum(case when b.status = 'confirmed' then 0 else b.refund end),
  sum((select count(*) from catalog.tickets t
       where t.booking_id = b.booking_id and t.status = 'used'))
from catalog.bookings b where b.confirmed_at is not null
group by 1, 2 order by 1, 2"""
MINUTES_FROM_BOOKINGS = """
select b.event_id, date_trunc('minute', b.confirmed_at), coalesce(b.tier, ''),
  sum(case when b.status = 'confirmed' then b.quantity else 0 end),
  sum(b.total), sum(case when b.status = 'confirmed' then 0 else b.refund end)
from catalog.bookings b where b.confirmed_at is not null
group by 1, 2, 3 order by 1, 2, 3"""
COMMANDS = 300
THREADS = 4


class ReplayDeterminism(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        self.tok = s.admin_token()
        seed = int(os.environ.get("TS_TEST_SEED") or time.time())
        print(f"\nreplay_determinism: TS_TEST_SEED={seed}")
        self.rng = random.Random(seed)
        _, e1, _ = published_event(s, self.tok, event=dict(EVENT, title="Derby"))
        _, e2, _ = published_event(s, self.tok, venue=VENUE2, event=dict(
            EVENT, title="Quartet", genre="classical",
            tiers=[{"key": "p", "name": "Parterre", "price": {"amount": 4000, "currency": "EUR"},
                    "sections": ["P"]},
                   {"key": "fl", "name": "Floor", "price": {"amount": 2000, "currency": "EUR"},
                    "sections": ["FL"]}]))
        v3 = s.create_venue(self.tok, name="Draft Venue")
        s.create_event(self.tok, v3["venue_id"], title="Not yet")  # stays a draft
        # (event, seats by section, GA tier); a hold takes seats of one section.
        self.events = [
            (e1["event_id"], [[f"{k}-{r}-{n}" for r in range(1, rows + 1) for n in range(1, 11)]
                              for k, rows in (("A", 3), ("B", 2))], "floor"),
            (e2["event_id"], [[f"P-{r}-{n}" for r in range(1, 6) for n in range(1, 13)]], "fl"),
        ]

    def activity(self):
        """COMMANDS holds and releases over THREADS threads: seats and GA
        units, some refused (409), many releases; concurrent commands on one
        section become group commits."""
        s = self.stack
        mu = threading.Lock()
        held = []
        errors = []

        def worker(k):
            rng = random.Random(self.rng.randrange(1 << 30) + k)
            try:
                for _ in range(COMMANDS // THREADS):
                    with mu:
                        release = held and rng.random() < 0.4
                        booking = held.pop(rng.randrange(len(held))) if release else None
                    if release:
                        st, _, p = s.request("DELETE", f"/bookings/{booking}", token=self.tok)
                        self.assertEqual(st, 200, p)
                        continue
                    ev, sections, ga = rng.choice(self.events)
                    seats = rng.choice(sections)
                    body = ({"seats": rng.sample(seats, rng.randint(1, 3))} if rng.random() < 0.7
                            else {"tier": ga, "quantity": rng.randint(1, 4)})
                    st, _, p = s.request("POST", f"/events/{ev}/holds", body, token=self.tok)
                    self.assertIn(st, (201, 409), p)
                    if st == 201:
                        with mu:
                            held.append(p["booking_id"])
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        if errors:
            raise errors[0]
        return held

    def sales(self, held):
        """Issue 3 on top of the holds: some held bookings paid (confirmed,
        with tickets), some payments failed (released), some confirmed ones
        cancelled by their holder (refund due, then refunded by the
        provider's webhook), then the second event cancelled (every booking
        of it refunded or released by saga_cancel). Waits until the read
        model shows every outcome."""
        s, tok = self.stack, self.tok
        final = {}
        paid = []
        # Bookings of an event of their own, so that every seed has sales,
        # then some of those the activity left held.
        _, e3, _ = published_event(s, tok, event=dict(EVENT, title="Sales"))
        own = [expect(s.request("POST", f"/events/{e3['event_id']}/holds", body, token=tok),
                      201)["booking_id"]
               for body in [{"seats": [f"A-{r}-{n}", f"A-{r}-{n + 1}"]}
                            for r in (1, 2, 3) for n in (1, 4, 7)] +
               [{"tier": "floor", "quantity": q} for q in (1, 2, 3)]]
        held = own + held
        for i, booking in enumerate(held[:40]):
            p = pay(s, tok, booking)
            outcome = "failed" if i % 5 == 4 else "succeeded"
            simulate(s, tok, p["payment_id"], outcome)
            final[booking] = "released" if outcome == "failed" else "confirmed"
            if outcome == "succeeded":
                paid.append(booking)
        for booking in paid:
            wait_booking(s, tok, booking, "confirmed")
        for booking in paid[::3]:
            st, _, p = s.request("DELETE", f"/bookings/{booking}", token=tok)
            self.assertEqual((st, p["status"]), (200, "refund_due"), p)
            final[booking] = "refunded"
        for booking in held:
            final.setdefault(booking, "held")
        e2 = self.events[1][0]
        st, _, p = s.request("POST", f"/events/{e2}/cancel", token=tok)
        self.assertEqual(st, 200, p)
        for booking in held:
            if booking.startswith(f"bk-{e2}-"):
                final[booking] = {"confirmed": "refunded", "held": "released"}.get(
                    final[booking], final[booking])
        for booking, status in final.items():
            wait_booking(s, tok, booking, status, timeout=60)
        return final

    def test_two_replays_equal_each_other_and_the_live_projection(self):
        s = self.stack
        final = self.sales(self.activity())
        self.assertIn("refunded", final.values())
        head = log_head(s)
        wait_checkpoint(s, head)
        live = dump(s, "catalog")
        self.assertGreater(len(live["bookings"]), 50)
        self.assertGreater(len(live["seats"]), 100)
        self.assertGreater(len(live["tickets"]), 10)
        statuses = {row[4] for row in live["bookings"]}
        self.assertTrue({"confirmed", "refunded", "released"} <= statuses, statuses)
        self.assertEqual(live["checkpoints"], [("catalog", str(head))])
        # issue 4: the dashboard's sums, kept by the fold, equal the same
        # sums computed afresh from the bookings and tickets.
        self.assertGreater(len(live["sales_tiers"]), 1)
        self.assertEqual(live["sales_tiers"], s.psql(SALES_FROM_BOOKINGS))
        self.assertEqual(live["sales_minutes"], s.psql(MINUTES_FROM_BOOKINGS))

        for name in ("a", "b"):
            rc, summary, err = replay(s, "--until-seq", str(head), "--into", name)
            self.assertEqual(rc, 0, err)
            self.assertEqual(summary["schema"], name)
            self.assertEqual(summary["head_seq"], head)
        a, b = dump(s, "a"), dump(s, "b")
        for table in live:
            self.assertEqual(a[table], b[table], f"{table}: replay a != replay b")
            self.assertEqual(a[table], live[table], f"{table}: replay != live projection")

        # Folded as the projector folds (one hold segment per transaction,
        # here of 7 commits): the same tables again.
        rc, _, err = replay(s, "--until-seq", str(head), "--into", "c", "--exact",
                            "--batch", "7")
        self.assertEqual(rc, 0, err)
        c = dump(s, "c")
        for table in live:
            self.assertEqual(c[table], live[table], f"{table}: exact replay != live projection")

        # A rebuild swapped in holds the same model, under a new version.
        before = s.psql("select version from catalog.checkpoints")[0][0]
        rc, summary, err = replay(s)
        self.assertEqual(rc, 0, err)
        self.assertEqual((summary["schema"], summary["head_seq"]), ("catalog", head))
        after = dump(s, "catalog")
        for table in live:
            self.assertEqual(after[table], live[table], f"{table}: rebuilt != live projection")
        self.assertNotEqual(s.psql("select version from catalog.checkpoints")[0][0], before)
        self.assertEqual(schemas(s), ["a", "b", "c", "catalog", "information_schema", "public"])


if __name__ == "__main__":
    unittest.main()
