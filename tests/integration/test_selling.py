"""Selling rules over HTTP (issue 3): PATCH /events/{id}, the policy defaults,
promo codes (RULE-PROMO-1), the per-user cap across bookings (RULE-HOLD-4)
and best-available holds, against the real stack."""

import time
import unittest

from harness import StackTestCase, expect
from pay_util import PAY_ENV, pay, paid_booking, simulate, wait_booking
from helpers import (QUOTA_BUCKETS, audit, get_projected, log_head, published_event,
                     quota_subject, quota_types, register_users, rfc3339, run_together,
                     seat_statuses, seatmap, wait_checkpoint)
from replay_util import dump, replay

DEFAULT_POLICY = {"max_per_order": 4, "max_per_user": 8, "hold_minutes": 20,
                  "transfer_cutoff_hours": 48, "service_fee_bps": 600, "vat_bps": 500,
                  "refund": [{"min_hours_before": 168, "percent": 100},
                             {"min_hours_before": 24, "percent": 50}]}


def problem(testcase, answer, status, code, field=None):
    """Asserts an RFC 7807 answer: status, code and (for 400) the field."""
    st, headers, p = answer
    testcase.assertEqual(st, status, p)
    testcase.assertIn("application/problem+json", headers["Content-Type"])
    testcase.assertEqual(p["code"], code, p)
    if field is not None:
        if code == "validation_failed":
            testcase.assertEqual(p["errors"][0]["field"], field, p)
        else:
            testcase.assertEqual(p.get("field"), field, p)
    return p


class EventPatch(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        self.org_id, self.org = s.register_as("organizer")
        _, self.other = s.register_as("organizer")
        _, self.attendee = s.register()
        self.venue = s.create_venue(self.org)
        created = s.create_event(self.org, self.venue["venue_id"])
        self.ev, self.created_seq = created["event_id"], created["commit_seq"]

    def patch(self, body, token=None, ev=None):
        return self.stack.request("PATCH", f"/events/{ev or self.ev}", body,
                                  token=token or self.org)

    def read(self, seq=None):
        seq = self.created_seq if seq is None else seq
        return expect(get_projected(self.stack, f"/events/{self.ev}", seq, token=self.org), 200)

    def test_policy_defaults_of_api_md_are_applied_on_create(self):
        s = self.stack
        e = self.read()
        self.assertEqual(e["policy"], DEFAULT_POLICY)
        # A partial policy keeps the defaults of the fields it leaves out.
        e2 = s.create_event(self.org, self.venue["venue_id"],
                            policy={"max_per_order": 2, "vat_bps": 2500})
        got = expect(get_projected(s, f"/events/{e2['event_id']}", e2["commit_seq"],
                                   token=self.org), 200)
        self.assertEqual(got["policy"], dict(DEFAULT_POLICY, max_per_order=2, vat_bps=2500))

    def test_owner_patches_details_and_the_read_model_follows(self):
        r = expect(self.patch({"title": "Derby II", "description": "Second leg",
                               "genre": "derby"}), 200)
        self.assertEqual((r["event_id"], r["title"], r["description"], r["genre"]),
                         (self.ev, "Derby II", "Second leg", "derby"))
        self.assertEqual(r["status"], "draft")
        self.assertEqual(r["policy"], DEFAULT_POLICY)
        self.assertGreater(r["commit_seq"], 0)
        e = self.read(r["commit_seq"])
        self.assertEqual((e["title"], e["description"], e["genre"]),
                         ("Derby II", "Second leg", "derby"))
        self.assertEqual(e["organizer_id"], self.org_id)
        self.assertEqual(e["city"], "Zagreb")

        # Draft: tiers and policy may change; a partial policy is merged.
        r = expect(self.patch({"policy": {"max_per_user": 6}}), 200)
        self.assertEqual(r["policy"], dict(DEFAULT_POLICY, max_per_user=6))
        tiers = r["tiers"]
        tiers[0]["price"] = {"amount": 3100, "currency": "EUR"}
        r = expect(self.patch({"tiers": tiers}), 200)
        e = self.read(r["commit_seq"])
        self.assertEqual(e["tiers"][0]["price"], {"amount": 3100, "currency": "EUR"})
        self.assertEqual(e["policy"]["max_per_user"], 6)

        # An admin may patch anyone's event.
        admin = self.stack.admin_token()
        r = expect(self.patch({"genre": "football"}, token=admin), 200)
        self.assertEqual(r["genre"], "football")

    def test_only_the_owner_or_an_admin(self):
        problem(self, self.patch({"title": "Mine now"}, token=self.other), 403, "forbidden")
        problem(self, self.patch({"title": "Mine now"}, token=self.attendee), 403, "forbidden")
        problem(self, self.stack.request("PATCH", f"/events/{self.ev}", {"title": "x"}), 401,
                "unauthorized")
        problem(self, self.patch({"title": "x"}, ev="evnosuchevent"), 404, "not_found")
        e = self.read()
        self.assertEqual(e["title"], "Test Event")

    def test_bad_input_names_the_field(self):
        cases = [
            ({"title": 5}, "title"),
            ({"title": ""}, "title"),
            ({"title": None}, "title"),
            ({"starts_at": "soon"}, "starts_at"),
            ({"starts_at": 12}, "starts_at"),
            ({"ends_at": rfc3339(time.time() - 86400)}, "ends_at"),
            ({"tiers": "std"}, "tiers"),
            ({"tiers": [{"key": "std"}]}, "tiers.price"),
            ({"policy": [1]}, "policy"),
            ({"policy": {"max_per_order": "4"}}, "policy.max_per_order"),
            ({"policy": {"max_per_order": 0}}, "policy.max_per_order"),
            ({"policy": {"colour": "red"}}, "policy.colour"),
            ({"venue_id": "vnother"}, "venue_id"),
            ({"color": "red"}, "color"),
            ({}, "body"),
        ]
        for body, field in cases:
            with self.subTest(body=body):
                problem(self, self.patch(body), 400, "validation_failed", field)
        st, _, p = self.stack.request("PATCH", f"/events/{self.ev}", raw=b"[1,2]",
                                      token=self.org,
                                      headers={"Content-Type": "application/json"})
        self.assertEqual((st, p["code"]), (400, "validation_failed"), p)

    def test_published_event_keeps_tiers_and_policy_and_moves_its_shards(self):
        s = self.stack
        pub = s.publish(self.org, self.ev)
        e = self.read(pub["commit_seq"])
        p = problem(self, self.patch({"tiers": e["tiers"]}), 409, "conflict", "tiers")
        self.assertIn("tiers", p["detail"])
        problem(self, self.patch({"policy": {"max_per_user": 2}}), 409, "conflict", "policy")
        # The title still may change (with the conflicting field, nothing does).
        problem(self, self.patch({"title": "New", "policy": {"max_per_user": 2}}), 409,
                "conflict", "policy")
        self.assertEqual(self.read()["title"], "Test Event")

        starts = time.time() + 40 * 86400
        r = expect(self.patch({"starts_at": rfc3339(starts),
                               "ends_at": rfc3339(starts + 3 * 3600)}), 200)
        self.assertEqual(r["status"], "published")
        self.assertEqual(r["starts_at"], rfc3339(starts))
        e = self.read(r["commit_seq"])
        self.assertEqual((e["starts_at"], e["ends_at"]),
                         (rfc3339(starts), rfc3339(starts + 3 * 3600)))
        self.assertEqual(e["status"], "published")
        # Every section's shard was told (A, B and GA).
        admin = s.admin_token()
        moved = [(c["subject"], ev["data"]) for c in audit(s, admin, f"tix.inv.{self.ev}.>")
                 for ev in c["events"] if ev["type"] == "InventoryRescheduled"]
        self.assertEqual(sorted(subj for subj, _ in moved),
                         [f"tix.inv.{self.ev}.{k}" for k in ("A", "B", "GA")])
        for _, d in moved:
            self.assertEqual(d["starts_at"], rfc3339(starts))
        # The same PATCH again changes nothing and tells nobody again.
        again = expect(self.patch({"starts_at": rfc3339(starts)}), 200)
        self.assertEqual(again["starts_at"], rfc3339(starts))
        moved2 = [ev for c in audit(s, admin, f"tix.inv.{self.ev}.>") for ev in c["events"]
                  if ev["type"] == "InventoryRescheduled"]
        self.assertEqual(len(moved2), 3)
        # Ends before starts is refused on a published event too.
        problem(self, self.patch({"ends_at": rfc3339(starts - 60)}), 400, "validation_failed",
                "ends_at")

        # A rebuild of the read model folds EventUpdated as the projector did.
        expect(self.patch({"title": "Rebuilt", "description": None}), 200)
        head = log_head(s)
        wait_checkpoint(s, head)
        rc, _, err = replay(s, "--until-seq", str(head), "--into", "rebuilt")
        self.assertEqual(rc, 0, err)
        live, rebuilt = dump(s, "catalog"), dump(s, "rebuilt")
        self.assertEqual(rebuilt["events"], live["events"])
        row = s.psql(f"select title, description from rebuilt.events where event_id = '{self.ev}'")
        self.assertEqual(row, [("Rebuilt", None)])


class Promos(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        _, self.org = s.register_as("organizer")
        _, e, self.published = published_event(s, self.org)
        self.ev = e["event_id"]
        self.until = rfc3339(time.time() + 86400)

    def promo(self, body, token=None):
        return self.stack.request("POST", f"/events/{self.ev}/promos", body,
                                  token=token or self.org)

    def hold(self, token, body):
        return self.stack.request("POST", f"/events/{self.ev}/holds", body, token=token)

    def test_create_and_refusals(self):
        r = expect(self.promo({"code": "spring10", "percent_off": 10, "max_uses": 5,
                               "valid_until": self.until}), 201)
        self.assertEqual((r["code"], r["percent_off"], r["max_uses"], r["valid_until"]),
                         ("SPRING10", 10, 5, self.until))
        self.assertNotIn("amount_off", r)
        self.assertGreater(r["commit_seq"], self.published["commit_seq"])
        r = expect(self.promo({"code": "FIVE", "amount_off": 500, "max_uses": 1,
                               "valid_until": self.until}), 201)
        self.assertEqual(r["amount_off"], 500)
        problem(self, self.promo({"code": "Spring10", "percent_off": 5, "max_uses": 1,
                                  "valid_until": self.until}), 409, "conflict", "code")
        bad = [
            ({"code": "X", "percent_off": 10, "amount_off": 5, "max_uses": 1,
              "valid_until": self.until}, "amount_off"),
            ({"code": "X", "max_uses": 1, "valid_until": self.until}, "percent_off"),
            ({"code": "X", "percent_off": 0, "max_uses": 1, "valid_until": self.until},
             "percent_off"),
            ({"code": "X", "percent_off": 101, "max_uses": 1, "valid_until": self.until},
             "percent_off"),
            ({"code": "X", "percent_off": "10", "max_uses": 1, "valid_until": self.until},
             "percent_off"),
            ({"code": "X", "amount_off": -5, "max_uses": 1, "valid_until": self.until},
             "amount_off"),
            ({"code": "X", "percent_off": 10, "max_uses": 0, "valid_until": self.until},
             "max_uses"),
            ({"code": "X", "percent_off": 10, "valid_until": self.until}, "max_uses"),
            ({"code": "X", "percent_off": 10, "max_uses": 1}, "valid_until"),
            ({"code": "X", "percent_off": 10, "max_uses": 1, "valid_until": "tomorrow"},
             "valid_until"),
            ({"code": "X", "percent_off": 10, "max_uses": 1,
              "valid_until": rfc3339(time.time() - 60)}, "valid_until"),
            ({"code": "no spaces", "percent_off": 10, "max_uses": 1, "valid_until": self.until},
             "code"),
            ({"percent_off": 10, "max_uses": 1, "valid_until": self.until}, "code"),
        ]
        for body, field in bad:
            with self.subTest(body=body):
                problem(self, self.promo(body), 400, "validation_failed", field)
        _, other = self.stack.register_as("organizer")
        problem(self, self.promo({"code": "MINE", "percent_off": 10, "max_uses": 1,
                                  "valid_until": self.until}, token=other), 403, "forbidden")
        _, attendee = self.stack.register()
        problem(self, self.promo({"code": "MINE", "percent_off": 10, "max_uses": 1,
                                  "valid_until": self.until}, token=attendee), 403, "forbidden")

    def test_a_hold_with_a_code_is_discounted(self):
        expect(self.promo({"code": "TEN", "percent_off": 10, "max_uses": 5,
                           "valid_until": self.until}), 201)
        expect(self.promo({"code": "FLAT", "amount_off": 700, "max_uses": 5,
                           "valid_until": self.until}), 201)
        _, user = self.stack.register()
        # 3 x 25.00 = 7500; 10 % = 750; fee 6 % of 6750 = 405; total 7155;
        # VAT 7155 x 500 / 10500 = 340.7 -> 341 (RULE-PRICE-1).
        b = expect(self.hold(user, {"seats": ["A-1-1", "A-1-2", "A-1-3"],
                                    "promo_code": "ten"}), 201)
        self.assertEqual([b[k]["amount"] for k in
                          ("subtotal", "discount", "service_fee", "total", "vat_included")],
                         [7500, 750, 405, 7155, 341])
        # 2 x 15.00 = 3000 - 700 = 2300; fee 138; total 2438; VAT 116.1 -> 116.
        g = expect(self.hold(user, {"tier": "floor", "quantity": 2, "promo_code": "FLAT"}), 201)
        self.assertEqual([g[k]["amount"] for k in
                          ("subtotal", "discount", "service_fee", "total", "vat_included")],
                         [3000, 700, 138, 2438, 116])
        # The read model shows the same money.
        got = expect(get_projected(self.stack, f"/bookings/{b['booking_id']}", b["commit_seq"],
                                   token=user), 200)
        self.assertEqual((got["discount"]["amount"], got["total"]["amount"]), (750, 7155))
        # An unknown code refuses the hold, and nothing is held.
        p = problem(self, self.hold(user, {"seats": ["A-2-1"], "promo_code": "NOPE"}), 400,
                    "validation_failed", "promo_code")
        self.assertIn("promo", p["detail"])
        problem(self, self.hold(user, {"seats": ["A-2-1"], "promo_code": 7}), 400,
                "validation_failed", "promo_code")
        st = seat_statuses(seatmap(self.stack, self.ev, g["commit_seq"]))
        self.assertEqual(st["A-2-1"], "free")
        # A code whose window has not opened yet.
        expect(self.promo({"code": "LATER", "percent_off": 10, "max_uses": 5,
                           "valid_from": rfc3339(time.time() + 3600),
                           "valid_until": self.until}), 201)
        problem(self, self.hold(user, {"seats": ["A-2-1"], "promo_code": "LATER"}), 422,
                "not_on_sale", "promo_code")

    def test_max_uses_under_concurrency_and_a_released_use_returns(self):
        s = self.stack
        expect(self.promo({"code": "THREE", "percent_off": 20, "max_uses": 3,
                           "valid_until": self.until}), 201)
        users = register_users(s, 11)
        seats = [f"B-1-{n}" for n in range(1, 11)]
        answers = run_together(
            lambda i: self.hold(users[i][1], {"seats": [seats[i]], "promo_code": "THREE"}),
            list(range(10)))
        won = [(i, a[2]) for i, a in enumerate(answers) if a[0] == 201]
        lost = [a for a in answers if a[0] != 201]
        # RULE-PROMO-1: exactly max_uses holds get the code, every one discounted.
        self.assertEqual(len(won), 3, [a[0] for a in answers])
        for _, b in won:
            self.assertEqual(b["discount"]["amount"], 500)  # 20 % of 2500
        for st, _, p in lost:
            self.assertEqual((st, p["code"], p["limit"]), (422, "limit_exceeded", 3), p)
            self.assertEqual(p["field"], "promo_code")
        # The refused holds hold nothing.
        last = max(b["commit_seq"] for _, b in won)
        st = seat_statuses(seatmap(s, self.ev, last))
        held = sorted(k for k, v in st.items() if v != "free")
        self.assertEqual(held, sorted(seats[i] for i, _ in won))

        # Released, a use comes back and the next buyer gets it.
        problem(self, self.hold(users[10][1], {"seats": ["B-2-1"], "promo_code": "THREE"}),
                422, "limit_exceeded")
        i, first = won[0]
        expect(s.request("DELETE", f"/bookings/{first['booking_id']}", token=users[i][1]), 200)
        b = expect(self.hold(users[10][1], {"seats": ["B-2-1"], "promo_code": "THREE"}), 201)
        self.assertEqual(b["discount"]["amount"], 500)
        problem(self, self.hold(users[10][1], {"seats": ["B-2-2"], "promo_code": "THREE"}),
                422, "limit_exceeded")
        # The event's log has one PromoUsed per winner and one PromoReleased.
        admin = s.admin_token()
        evs = [ev for c in audit(s, admin, f"tix.event.{self.ev}") for ev in c["events"]]
        used = [e["data"]["booking_id"] for e in evs if e["type"] == "PromoUsed"]
        released = [e["data"]["booking_id"] for e in evs if e["type"] == "PromoReleased"]
        self.assertEqual(len(used), 4)
        self.assertEqual(released, [first["booking_id"]])


class PerUserCap(StackTestCase):
    def test_cap_across_two_bookings_and_after_a_release(self):
        s = self.stack
        _, org = s.register_as("organizer")
        _, e, _ = published_event(s, org, event={"policy": {"max_per_user": 4}})
        ev = e["event_id"]
        user_id, user = s.register()
        _, other = s.register()

        def hold(body, token=user):
            return s.request("POST", f"/events/{ev}/holds", body, token=token)

        first = expect(hold({"seats": ["A-1-1", "A-1-2", "A-1-3"]}), 201)
        # RULE-HOLD-4: 3 held + 2 more would be 5 > 4, in another section too.
        p = problem(self, hold({"seats": ["B-1-1", "B-1-2"]}), 422, "limit_exceeded")
        self.assertEqual(p["limit"], 4)
        problem(self, hold({"tier": "floor", "quantity": 2}), 422, "limit_exceeded")
        st = seat_statuses(seatmap(s, ev, first["commit_seq"]))
        self.assertEqual((st["B-1-1"], st["B-1-2"]), ("free", "free"))
        # Another user is not affected.
        expect(hold({"seats": ["B-2-1", "B-2-2"]}, token=other), 201)
        # Exactly up to the cap.
        fourth = expect(hold({"tier": "floor", "quantity": 1}), 201)
        problem(self, hold({"seats": ["B-1-1"]}), 422, "limit_exceeded")
        # Releasing a booking gives its quantity back.
        expect(s.request("DELETE", f"/bookings/{first['booking_id']}", token=user), 200)
        expect(hold({"seats": ["B-1-1", "B-1-2"]}), 201)
        expect(hold({"seats": ["B-1-3"]}), 201)
        problem(self, hold({"seats": ["B-1-4"]}), 422, "limit_exceeded")
        expect(s.request("DELETE", f"/bookings/{fourth['booking_id']}", token=user), 200)
        expect(hold({"seats": ["B-1-4"]}), 201)
        # The quota aggregate's log tells the story.
        admin = s.admin_token()
        types = quota_types(s, admin, ev, user_id)
        self.assertEqual(types.count("QuotaTaken"), 5)
        self.assertEqual(types.count("QuotaReturned"), 2)


    def test_users_sharing_a_quota_bucket_are_capped_apart(self):
        """RULE-HOLD-4 with the quota in buckets of users: three users of one
        bucket hold at the same time, each up to their own cap and no
        further, and the bucket's log names each one's bookings."""
        s = self.stack
        _, org = s.register_as("organizer")
        _, e, _ = published_event(s, org, event={"policy": {"max_per_user": 2,
                                                            "max_per_order": 1}})
        ev = e["event_id"]
        # 2 x QUOTA_BUCKETS + 1 users: some bucket has three of them.
        by_bucket = {}
        for uid, token in register_users(s, 2 * QUOTA_BUCKETS + 1):
            by_bucket.setdefault(quota_subject(ev, uid), []).append((uid, token))
        subject, trio = next((k, v[:3]) for k, v in by_bucket.items() if len(v) >= 3)

        # Each sends three one-unit holds at once: 9 holds, 2 per user pass.
        def hold(arg):
            i, token = arg
            return s.request("POST", f"/events/{ev}/holds", {"tier": "floor", "quantity": 1},
                             token=token)[0]

        statuses = run_together(hold, [(i, t) for i, (_, t) in enumerate(trio) for _ in range(3)])
        for i in range(3):
            self.assertEqual(sorted(statuses[3 * i:3 * i + 3]), [201, 201, 422], statuses)
        admin = s.admin_token()
        commits = audit(s, admin, subject)
        for uid, _ in trio:
            self.assertEqual(quota_types(s, admin, ev, uid), ["QuotaTaken", "QuotaTaken"])
        users = {x["data"]["user_id"] for c in commits for x in c["events"]}
        self.assertEqual(users, {uid for uid, _ in trio})


class SagaBookings(StackTestCase):
    def test_an_expired_hold_gives_back_its_promo_use_and_quota(self):
        """saga_bookings: no request ends these bookings, the sweeper does
        (RULE-HOLD-3); the saga gives their promo use (RULE-PROMO-1) and
        quota (RULE-HOLD-4) back."""
        s = self.stack
        _, org = s.register_as("organizer")
        _, e, _ = published_event(s, org, event={"policy": {"hold_minutes": 1,
                                                            "max_per_user": 2,
                                                            "max_per_order": 2}})
        ev = e["event_id"]
        expect(s.request("POST", f"/events/{ev}/promos",
                         {"code": "ONCE", "amount_off": 100, "max_uses": 1,
                          "valid_until": rfc3339(time.time() + 3600)}, token=org), 201)
        (uid, user), (_, other) = register_users(s, 2)
        b = expect(s.request("POST", f"/events/{ev}/holds",
                             {"seats": ["A-1-1", "A-1-2"], "promo_code": "ONCE"}, token=user), 201)
        self.assertEqual(b["discount"]["amount"], 100)
        problem(self, s.request("POST", f"/events/{ev}/holds",
                                {"seats": ["A-2-1"], "promo_code": "ONCE"}, token=other),
                422, "limit_exceeded")
        problem(self, s.request("POST", f"/events/{ev}/holds", {"seats": ["A-2-1"]},
                                token=user), 422, "limit_exceeded")

        # After the expiry the sweeper records HoldExpired, and the saga
        # releases the promo use: the other user gets the code.
        admin = s.admin_token()
        deadline = time.time() + 60 + 45
        while True:
            evs = [x["type"] for c in audit(s, admin, f"tix.event.{ev}") for x in c["events"]]
            if "PromoReleased" in evs or time.time() > deadline:
                break
            time.sleep(1)
        self.assertIn("PromoReleased", evs)
        inv = [x["type"] for c in audit(s, admin, f"tix.inv.{ev}.A") for x in c["events"]]
        self.assertIn("HoldExpired", inv)
        self.assertEqual(quota_types(s, admin, ev, uid), ["QuotaTaken", "QuotaReturned"])
        b2 = expect(s.request("POST", f"/events/{ev}/holds",
                              {"seats": ["A-2-1"], "promo_code": "ONCE"}, token=other), 201)
        self.assertEqual(b2["discount"]["amount"], 100)
        expect(s.request("POST", f"/events/{ev}/holds", {"seats": ["A-1-1", "A-1-2"]},
                         token=user), 201)


def wait_types(testcase, stack, subject, want, timeout=30.0, user_id=None):
    """The event types of subject's commits (those of user_id only, when
    given) once they end with `want` (the saga appends them a moment after
    the booking changes)."""
    admin = stack.admin_token()
    deadline = time.time() + timeout
    while True:
        types = [x["type"] for c in audit(stack, admin, subject) for x in c["events"]
                 if user_id is None or x["data"].get("user_id") == user_id]
        if types[-len(want):] == want or time.time() > deadline:
            testcase.assertEqual(types[-len(want):], want, types)
            return types
        time.sleep(0.2)


class PaidBookings(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def test_sold_tickets_keep_quota_and_promo_until_cancelled(self):
        """RULE-HOLD-4 counts confirmed tickets for good, RULE-PROMO-1 a
        confirmed use; a failed payment and a cancellation give them back."""
        s = self.stack
        _, org = s.register_as("organizer")
        _, e, _ = published_event(s, org, event={"policy": {"max_per_user": 2,
                                                            "max_per_order": 2}})
        ev = e["event_id"]
        expect(s.request("POST", f"/events/{ev}/promos",
                         {"code": "ONCE", "percent_off": 50, "max_uses": 1,
                          "valid_until": rfc3339(time.time() + 3600)}, token=org), 201)
        (uid, user), (uid2, other) = register_users(s, 2)

        h, _, b = paid_booking(s, user, ev, {"seats": ["A-1-1", "A-1-2"], "promo_code": "ONCE"})
        self.assertEqual(b["discount"]["amount"], 2500)  # 50 % of 2 x 25.00
        wait_types(self, s, quota_subject(ev, uid), ["QuotaTaken", "QuotaConfirmed"], user_id=uid)
        # Sold: the cap and the code stay used.
        problem(self, s.request("POST", f"/events/{ev}/holds", {"seats": ["A-2-1"]},
                                token=user), 422, "limit_exceeded")
        problem(self, s.request("POST", f"/events/{ev}/holds",
                                {"seats": ["A-2-1"], "promo_code": "ONCE"}, token=other),
                422, "limit_exceeded")

        # A failed payment releases the hold and gives its quota back.
        h2 = expect(s.request("POST", f"/events/{ev}/holds", {"seats": ["B-1-1", "B-1-2"]},
                              token=other), 201)
        p2 = pay(s, other, h2["booking_id"])
        simulate(s, other, p2["payment_id"], "failed")
        wait_booking(s, other, h2["booking_id"], "released")
        wait_types(self, s, quota_subject(ev, uid2), ["QuotaTaken", "QuotaReturned"],
                   user_id=uid2)
        expect(s.request("POST", f"/events/{ev}/holds", {"seats": ["B-2-1", "B-2-2"]},
                         token=other), 201)

        # Cancelling the confirmed booking gives back its quota and its use.
        expect(s.request("DELETE", f"/bookings/{h['booking_id']}", token=user), 200)
        wait_types(self, s, quota_subject(ev, uid),
                   ["QuotaTaken", "QuotaConfirmed", "QuotaReturned"], user_id=uid)
        types = wait_types(self, s, f"tix.event.{ev}", ["PromoReleased"])
        self.assertEqual(types.count("PromoUsed"), 1)
        expect(s.request("POST", f"/events/{ev}/holds", {"seats": ["A-2-1", "A-2-2"]},
                         token=user), 201)
        # The code is free again: a buyer at the cap is refused by the quota
        # (the use it reserved goes back), a third buyer gets it.
        p = problem(self, s.request("POST", f"/events/{ev}/holds",
                                    {"tier": "floor", "quantity": 1, "promo_code": "ONCE"},
                                    token=other), 422, "limit_exceeded", "quantity")
        self.assertEqual(p["limit"], 2)
        _, third = s.register()
        b4 = expect(s.request("POST", f"/events/{ev}/holds",
                              {"tier": "floor", "quantity": 1, "promo_code": "once"},
                              token=third), 201)
        self.assertEqual(b4["discount"]["amount"], 750)  # 50 % of 15.00


# Section A: row 1 of 6 seats (1 and 2 accessible), row 2 of 5; B: one row of 4.
BEST_VENUE = {"sections": [
    {"key": "A", "name": "North", "kind": "seated",
     "rows": [{"label": "1", "seats": 6, "accessible": [1, 2]}, {"label": "2", "seats": 5}]},
    {"key": "B", "name": "South", "kind": "seated", "rows": [{"label": "1", "seats": 4}]},
    {"key": "GA", "name": "Floor", "kind": "standing", "capacity": 100},
]}


class BestAvailable(StackTestCase):
    def setUp(self):
        super().setUp()
        s = self.stack
        _, self.org = s.register_as("organizer")
        _, e, self.pub = published_event(s, self.org, BEST_VENUE,
                                         {"policy": {"max_per_user": 100}})
        self.ev = e["event_id"]
        self.user_id, self.user = s.register()

    def best(self, body, token=None):
        return self.stack.request("POST", f"/events/{self.ev}/holds/best", body,
                                  token=token or self.user)

    def seats(self, booking):
        return [i["seat"] for i in booking["items"]]

    def test_adjacent_seats_in_one_row_accessible_and_no_room(self):
        # Accessible seats are spared for those who ask: A-1-3, A-1-4.
        b = expect(self.best({"quantity": 2, "tier": "std"}), 201)
        self.assertEqual(self.seats(b), ["A-1-3", "A-1-4"])
        self.assertEqual(b["status"], "held")
        self.assertEqual(b["subtotal"]["amount"], 5000)
        # Asked for, they are given.
        acc = expect(self.best({"quantity": 2, "accessible": 1}), 201)
        self.assertEqual(self.seats(acc), ["A-1-1", "A-1-2"])
        # None left: fewer accessible seats than asked is sold_out.
        problem(self, self.best({"quantity": 1, "accessible": 1}), 409, "sold_out")
        # A-1-5, A-1-6 remain in row 1; 3 together only in row 2.
        b3 = expect(self.best({"quantity": 3, "section": "A"}), 201)
        self.assertEqual(self.seats(b3), ["A-2-1", "A-2-2", "A-2-3"])
        # Row 2 has A-2-4, A-2-5 and row 1 A-1-5, A-1-6: 4 free, none 3 together.
        problem(self, self.best({"quantity": 3, "section": "A"}), 409, "seat_unavailable")
        # Without a section the next one of the tier is used.
        b4 = expect(self.best({"quantity": 3, "tier": "std"}), 201)
        self.assertEqual(self.seats(b4), ["B-1-1", "B-1-2", "B-1-3"])
        # Standing room: units.
        ga = expect(self.best({"quantity": 2, "tier": "floor"}), 201)
        self.assertEqual(self.seats(ga), [None, None])
        # The seat map agrees.
        st = seat_statuses(seatmap(self.stack, self.ev, ga["commit_seq"]))
        self.assertEqual(sorted(k for k, v in st.items() if v == "held"),
                         sorted(self.seats(b) + self.seats(acc) + self.seats(b3) + self.seats(b4)))
        # RULE-HOLD-2: the order size is the event's.
        p = problem(self, self.best({"quantity": 5, "tier": "std"}), 422, "limit_exceeded")
        self.assertEqual(p["limit"], 4)

    def test_bad_input(self):
        cases = [({}, "quantity"), ({"quantity": 0}, "quantity"), ({"quantity": "2"}, "quantity"),
                 ({"quantity": 2, "accessible": 2}, "accessible"),
                 ({"quantity": 2, "section": "Z"}, "section"),
                 ({"quantity": 2, "tier": "nope"}, "tier"),
                 ({"quantity": 2, "tier": "floor", "section": "A"}, "tier"),
                 ({"quantity": 2, "promo_code": 3}, "promo_code")]
        for body, field in cases:
            with self.subTest(body=body):
                problem(self, self.best(body), 400, "validation_failed", field)
        problem(self, self.stack.request("POST", f"/events/{self.ev}/holds/best",
                                         {"quantity": 1}), 401, "unauthorized")
        problem(self, self.stack.request("POST", "/events/evnosuch/holds/best", {"quantity": 1},
                                         token=self.user), 404, "not_found")

    def test_blocked_users_are_refused(self):
        s = self.stack
        expect(s.request("POST", f"/users/{self.user_id}/block", {}, token=s.admin_token()),
               200)
        # RULE-AUTH-2: a blocked user cannot hold, best available or not.
        problem(self, self.best({"quantity": 1}), 403, "forbidden")
        problem(self, s.request("POST", f"/events/{self.ev}/holds", {"seats": ["A-1-3"]},
                                token=self.user), 403, "forbidden")
        st = seat_statuses(seatmap(s, self.ev, self.pub["commit_seq"]))
        self.assertTrue(all(v == "free" for v in st.values()), st)
        expect(s.request("DELETE", f"/users/{self.user_id}/block", token=s.admin_token()), 200)
        expect(self.best({"quantity": 1}), 201)

    def test_concurrent_best_holds_never_share_a_seat(self):
        s = self.stack
        users = [tok for _, tok in register_users(s, 8)]
        answers = run_together(lambda t: self.best({"quantity": 2, "tier": "std"}, token=t),
                               users)
        got = [a[2] for a in answers if a[0] == 201]
        # 15 seats in A and B; pairs: A row 1 (6) = 3, A row 2 (5) = 2, B (4) = 2.
        self.assertEqual(len(got), 7, [a[0] for a in answers])
        seats = [seat for b in got for seat in self.seats(b)]
        self.assertEqual(len(seats), len(set(seats)), seats)
        for b in got:
            a, c = self.seats(b)
            sa, ra, na = a.split("-")
            sc, rc, nc = c.split("-")
            self.assertEqual((sa, ra), (sc, rc), b)      # one row
            self.assertEqual(int(nc), int(na) + 1, b)   # adjacent
        refused = [a for a in answers if a[0] != 201]
        self.assertEqual([(a[0], a[2]["code"]) for a in refused], [(409, "sold_out")])


if __name__ == "__main__":
    unittest.main()
