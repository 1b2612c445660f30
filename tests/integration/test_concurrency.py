"""Concurrent holds: one winner per seat (RULE-HOLD-1), and group commit of
holds on different seats of one hot section."""

import unittest

from harness import StackTestCase
from helpers import (audit, hold_events, log_head, published_event, register_users,
                     run_together, seat_statuses, seatmap)

N = 50

# Section A has 5 rows of 10 seats: one seat per concurrent hold.
VENUE = {"sections": [
    {"key": "A", "name": "Hot", "kind": "seated",
     "rows": [{"label": str(r), "seats": 10} for r in range(1, 6)]},
    {"key": "B", "name": "Contested", "kind": "seated", "rows": [{"label": "1", "seats": 10}]},
    {"key": "GA", "name": "Floor", "kind": "standing", "capacity": 100},
]}
# RULE-HOLD-4 must not be what limits the admin's 50 holds below.
EVENT = {"policy": {"max_per_user": 1000}}


class ConcurrentHolds(StackTestCase):
    def setUp(self):
        super().setUp()
        self.tok = self.stack.admin_token()
        _, e, self.published = published_event(self.stack, self.tok, VENUE, EVENT)
        self.ev = e["event_id"]

    def post_hold(self, token, body):
        return self.stack.request("POST", f"/events/{self.ev}/holds", body, token=token)

    def test_fifty_holds_on_the_same_seats_have_exactly_one_winner(self):
        s = self.stack
        seats = ["B-1-4", "B-1-5"]
        users = register_users(s, N)
        answers = run_together(lambda u: self.post_hold(u[1], {"seats": seats}), users)

        statuses = [a[0] for a in answers]
        # RULE-HOLD-1: exactly one hold wins ...
        self.assertEqual(statuses.count(201), 1, statuses)
        # ... and every other one is refused naming both seats (RULE-HOLD-2).
        self.assertEqual(statuses.count(409), N - 1, statuses)
        for status, headers, p in answers:
            if status == 409:
                self.assertEqual(p["code"], "seat_unavailable", p)
                self.assertEqual(sorted(p["seats"]), seats, p)
                self.assertIn("application/problem+json", headers["Content-Type"])
        i = statuses.index(201)
        winner_user, win = users[i][0], answers[i][2]
        self.assertEqual([it["seat"] for it in win["items"]], seats)

        # The read side agrees: held, by that booking and nobody else.
        st = seat_statuses(seatmap(s, self.ev, win["commit_seq"]))
        self.assertEqual((st["B-1-4"], st["B-1-5"]), ("held", "held"))
        self.assertEqual(sorted(k for k, v in st.items() if v != "free"), seats)
        rows = s.psql(f"select seat_id, booking_id from catalog.seats where event_id = '{self.ev}' "
                      "and booking_id is not null order by seat_id")
        self.assertEqual(rows, [(x, win["booking_id"]) for x in seats])
        rows = s.psql(f"select booking_id, user_id, status from catalog.bookings "
                      f"where event_id = '{self.ev}'")
        self.assertEqual(rows, [(win["booking_id"], winner_user, "held")])

        # And the log holds exactly one HoldPlaced for the section.
        placed = hold_events(audit(s, self.tok, f"tix.inv.{self.ev}.B"), "HoldPlaced")
        self.assertEqual([d["booking_id"] for _, d in placed], [win["booking_id"]])
        self.assertEqual(placed[0][0], win["commit_seq"])

    def test_fifty_holds_on_different_seats_of_one_section_all_succeed(self):
        s = self.stack
        seats = [f"A-{r}-{n}" for r in range(1, 6) for n in range(1, 11)]
        answers = run_together(lambda seat: self.post_hold(self.tok, {"seats": [seat]}), seats)

        for seat, (status, _, b) in zip(seats, answers):
            self.assertEqual(status, 201, (seat, b))
            self.assertEqual([i["seat"] for i in b["items"]], [seat])
        bookings = {seat: a[2] for seat, a in zip(seats, answers)}
        self.assertEqual(len({b["booking_id"] for b in bookings.values()}), N)

        # Each commit_seq is a commit of the section's subject that records
        # that very booking (several may share one commit: group commit).
        head = log_head(s)
        for b in bookings.values():
            self.assertGreater(b["commit_seq"], self.published["commit_seq"])
            self.assertLessEqual(b["commit_seq"], head)
        commits = audit(s, self.tok, f"tix.inv.{self.ev}.A")
        by_seq = {c["seq"]: c for c in commits}
        placed = {d["booking_id"]: (seq, d) for seq, d in hold_events(commits, "HoldPlaced")}
        self.assertEqual(len(placed), N)
        for seat, b in bookings.items():
            seq, data = placed[b["booking_id"]]
            self.assertEqual(seq, b["commit_seq"], seat)
            self.assertEqual(by_seq[seq]["subject"], f"tix.inv.{self.ev}.A")
            self.assertEqual(data["seats"], [seat])
        # The commits on the subject chain with consecutive versions.
        self.assertEqual([c["version"] for c in commits], list(range(1, len(commits) + 1)))

        # Every seat of the section is held in the read model at the last commit.
        m = seatmap(s, self.ev, max(b["commit_seq"] for b in bookings.values()))
        st = seat_statuses(m)
        self.assertEqual({k: st[k] for k in seats}, {k: "held" for k in seats})
        rows = s.psql(f"select seat_id, booking_id from catalog.seats where event_id = '{self.ev}' "
                      "and section = 'A'")
        self.assertEqual(dict(rows), {k: bookings[k]["booking_id"] for k in seats})
        rows = s.psql(f"select available from catalog.sections where event_id = '{self.ev}' "
                      "and key = 'A'")
        self.assertEqual(rows, [("0",)])

    def test_concurrent_ga_holds_never_exceed_capacity(self):
        s = self.stack
        # 50 holds of 3 units against 100 places: 33 fit, 17 are sold out.
        answers = run_together(
            lambda _: self.post_hold(self.tok, {"tier": "floor", "quantity": 3}), range(N))
        statuses = [a[0] for a in answers]
        # RULE-HOLD-1 for standing room: never oversell.
        self.assertEqual(statuses.count(201), 33, statuses)
        self.assertEqual(statuses.count(409), N - 33, statuses)
        for status, _, p in answers:
            if status == 409:
                self.assertEqual(p["code"], "sold_out", p)
        last = max(a[2]["commit_seq"] for a in answers if a[0] == 201)
        ga = [x for x in seatmap(s, self.ev, last)["sections"] if x["key"] == "GA"][0]
        self.assertEqual(ga["available"], 1)


if __name__ == "__main__":
    unittest.main()
