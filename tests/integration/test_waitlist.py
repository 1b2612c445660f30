"""Waitlists and their notifications end to end (RULE-WL-1): FIFO entries,
offers as holds in the waiting user's name, an unclaimed offer passing to
the next user, the waitlist_offer e-mails published into NATS stream NOTIFY
(read back with tests/tools/ts_notify_tail), delivery surviving a restart
of serve, and the answers of API.md to bad input.

Offers hold for 1 minute here (TURNSTILE_OFFER_MINUTES=1; the default is
15), so an offer expiring unclaimed takes a minute of the test."""

import datetime
import json
import os
import subprocess
import time
import unittest

from harness import REPO, StackTestCase, expect, wait_until
from helpers import (audit, get_projected, hold_events, log_head, quota_subject, register_users,
                     rfc3339, wait_checkpoint)
from pay_util import PAY_ENV, pay, simulate, wait_booking
from replay_util import dump, replay
from tamper import cli_json


def parse_time(text):
    """An RFC 3339 time of the API as epoch seconds."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def notify_tool():
    """Path of ts_notify_tail: TS_NOTIFY_TAIL, else next to the build's turnstile."""
    if os.environ.get("TS_NOTIFY_TAIL"):
        return os.environ["TS_NOTIFY_TAIL"]
    return os.path.join(REPO, "build", "tests", "tools", "ts_notify_tail")


def notifications(stack, *args):
    """Every message of stream NOTIFY, as ts_notify_tail prints them."""
    out = subprocess.run([notify_tool(), "--nats", stack.nats_url, *args], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def wait_notification(stack, kind, booking_id, timeout=60.0):
    """The notify.email.<kind> message about booking_id, once published."""
    def found():
        for n in notifications(stack):
            if (n["subject"] == f"notify.email.{kind}"
                    and n["data"].get("booking_id") == booking_id):
                return n
        return None
    return wait_until(found, timeout=timeout, interval=0.2,
                      what=f"notify.email.{kind} about {booking_id}")


def my_waitlist(stack, token, min_seq=0):
    return expect(get_projected(stack, "/users/me/waitlist", min_seq, token=token), 200)["items"]


def wait_offer(stack, token, timeout=60.0):
    """The user's one waitlist entry, once it holds an offer."""
    def offered():
        items = my_waitlist(stack, token)
        return items[0] if len(items) == 1 and items[0]["offer"] else None
    return wait_until(offered, timeout=timeout, interval=0.2, what="a waitlist offer")


def tiny_event(stack, token, section, tier="floor", policy=None):
    """A published event whose only tier sells one section of a venue of
    its own: `section` is the venue section (a dict, API.md shape)."""
    v = stack.create_venue(token, name="Tiny Room", sections=[section])
    now = time.time()
    starts = now + 30 * 86400
    body = {"tiers": [{"key": tier, "name": "Only", "sections": [section["key"]],
                       "price": {"amount": 1000, "currency": "EUR"},
                       "sale_starts_at": rfc3339(now - 3600), "sale_ends_at": rfc3339(starts)}],
            "starts_at": rfc3339(starts), "ends_at": rfc3339(starts + 7200)}
    if policy:
        body["policy"] = policy
    e = stack.create_event(token, v["venue_id"], **body)
    stack.publish(token, e["event_id"])
    return e["event_id"]


class Waitlist(StackTestCase):
    stack_options = {"env": {"TURNSTILE_OFFER_MINUTES": "1"}}

    def test_fifo_offers_pass_on_when_unclaimed(self):
        s = self.stack
        admin = s.admin_token()
        (a, ta), (b, tb), (c, tc), (d, td) = register_users(s, 4)
        emails = {u: expect(s.request("GET", "/users/me", token=t), 200)["email"]
                  for u, t in ((b, tb), (c, tc))}
        # Standing room for 2: the tier is the event's only one.
        eid = tiny_event(s, admin, {"key": "GA", "name": "Floor", "kind": "standing",
                                    "capacity": 2})

        # Seats freed while nobody waits stay free: anyone may take them.
        early = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 2},
                                 token=td), 201)
        expect(s.request("DELETE", f"/bookings/{early['booking_id']}", token=td), 200)
        held_a = expect(s.request("POST", f"/events/{eid}/holds",
                                  {"tier": "floor", "quantity": 1}, token=ta), 201)
        expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 1},
                         token=td), 201)
        sold_out = s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 1},
                             token=tb)
        self.assertEqual((sold_out[0], sold_out[2]["code"]), (409, "sold_out"))

        # RULE-WL-1: FIFO; the tier defaults to the event's only one.
        jb = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tb), 201)
        self.assertEqual((jb["position"], jb["tier"], jb["quantity"]), (1, "floor", 1))
        self.assertRegex(jb["entry_id"], rf"^wl-{eid}-floor-[0-9a-f]{{16}}$")
        jc = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1, "tier": "floor"},
                              token=tc), 201)
        self.assertEqual(jc["position"], 2)
        self.assertGreater(jc["commit_seq"], jb["commit_seq"])
        # One entry per user and list.
        again = s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tb)
        self.assertEqual((again[0], again[2]["code"]), (409, "conflict"))

        mine = my_waitlist(s, tb, jc["commit_seq"])
        self.assertEqual(len(mine), 1)
        self.assertEqual((mine[0]["entry_id"], mine[0]["position"], mine[0]["offer"],
                          mine[0]["status"]), (jb["entry_id"], 1, None, "waiting"))
        self.assertEqual(my_waitlist(s, tc, jc["commit_seq"])[0]["position"], 2)
        self.assertEqual(my_waitlist(s, ta, jc["commit_seq"]), [])

        # A releases one unit: it goes to B, the head, as a hold in B's name.
        rel = expect(s.request("DELETE", f"/bookings/{held_a['booking_id']}", token=ta), 200)
        entry_b = wait_offer(s, tb)
        offer_b = entry_b["offer"]
        self.assertEqual((entry_b["position"], entry_b["status"]), (1, "offered"))
        bk = expect(get_projected(s, f"/bookings/{offer_b['booking_id']}", rel["commit_seq"],
                                  token=tb), 200)
        self.assertEqual((bk["status"], bk["user_id"], len(bk["items"])), ("held", b, 1))
        self.assertEqual(bk["expires_at"], offer_b["expires_at"])
        # offer_minutes (1 here) from about now, not hold_minutes (20).
        left = parse_time(bk["expires_at"]) - time.time()
        self.assertTrue(0 < left <= 60, left)
        # The offer is B's: C (and A) cannot see it; C is still second.
        self.assertEqual(s.request("GET", f"/bookings/{offer_b['booking_id']}", token=tc)[0], 403)
        self.assertEqual(my_waitlist(s, tc)[0]["position"], 2)
        # Nothing was left for C: the only unit freed went to B.
        self.assertIsNone(my_waitlist(s, tc)[0]["offer"])

        # The e-mail of the offer, on notify.email.waitlist_offer.
        n = wait_notification(s, "waitlist_offer", offer_b["booking_id"])
        self.assertEqual(n["data"]["kind"], "waitlist_offer")
        self.assertEqual((n["data"]["to"], n["data"]["user_id"]), (emails[b], b))
        self.assertEqual((n["data"]["event_id"], n["data"]["entry_id"], n["data"]["quantity"]),
                         (eid, jb["entry_id"], 1))
        self.assertEqual(n["data"]["expires_at"], offer_b["expires_at"])
        self.assertEqual(n["data"]["booking_url"], f"/api/v1/bookings/{offer_b['booking_id']}")
        self.assertRegex(n["msg_id"], r"^\d+-\d+$")
        self.assertEqual(int(n["msg_id"].split("-")[0]), n["data"]["source_seq"])

        # B lets the offer lapse: at its expiry the unit passes to C.
        entry_c = wait_offer(s, tc, timeout=150)
        offer_c = entry_c["offer"]
        self.assertNotEqual(offer_c["booking_id"], offer_b["booking_id"])
        self.assertEqual(entry_c["position"], 1)
        self.assertEqual(my_waitlist(s, tb), [])  # B's offer lapsed: B left the list
        bc = expect(s.request("GET", f"/bookings/{offer_c['booking_id']}", token=tc), 200)
        self.assertEqual((bc["status"], bc["user_id"]), ("held", c))
        got_b = expect(s.request("GET", f"/bookings/{offer_b['booking_id']}", token=tb), 200)
        self.assertEqual(got_b["status"], "expired")
        n = wait_notification(s, "waitlist_offer", offer_c["booking_id"])
        self.assertEqual(n["data"]["to"], emails[c])

        # The log: two joins, B offered then lapsed, C offered; exactly two
        # holds carry an offer, and they are the ones of the offers.
        commits = audit(s, admin, f"tix.wait.{eid}.floor")
        types = [(ev["type"], ev["data"]["user_id"]) for cm in commits for ev in cm["events"]]
        self.assertEqual(types, [("WaitlistJoined", b), ("WaitlistJoined", c),
                                 ("WaitlistOffered", b), ("WaitlistOfferLapsed", b),
                                 ("WaitlistOffered", c)])
        placed = hold_events(audit(s, admin, f"tix.inv.{eid}.GA"), "HoldPlaced")
        offers = [(d_["booking_id"], d_["user_id"], d_["offer_entry"]) for _, d_ in placed
                  if d_.get("offer_entry")]
        self.assertEqual(offers, [(offer_b["booking_id"], b, jb["entry_id"]),
                                  (offer_c["booking_id"], c, jc["entry_id"])])
        # Every notification was published once, whatever the redeliveries.
        ids = [x["msg_id"] for x in notifications(s)]
        self.assertEqual(len(ids), len(set(ids)))

    def test_offer_delivered_across_a_restart(self):
        """The notification stream is gone when the offer is made, so the
        e-mail stays pending (its TICKETS commit unacked); serve is killed
        and started again, creates the stream, and the e-mail is sent."""
        s = self.stack
        admin = s.admin_token()
        (a, ta), (b, tb), (c, tc) = register_users(s, 3)
        # A seated section of two seats: the offer is the freed seats.
        eid = tiny_event(s, admin, {"key": "S", "name": "Box", "kind": "seated",
                                    "rows": [{"label": "1", "seats": 2}]}, tier="box")
        held = expect(s.request("POST", f"/events/{eid}/holds", {"seats": ["S-1-1", "S-1-2"]},
                                token=ta), 201)
        j = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 2}, token=tb), 201)
        self.assertEqual(j["position"], 1)
        subprocess.run([notify_tool(), "--nats", s.nats_url, "--delete"], check=True, timeout=60)
        expect(s.request("DELETE", f"/bookings/{held['booking_id']}", token=ta), 200)
        offer = wait_offer(s, tb)["offer"]
        bk = expect(s.request("GET", f"/bookings/{offer['booking_id']}", token=tb), 200)
        self.assertEqual(sorted(i["seat"] for i in bk["items"]), ["S-1-1", "S-1-2"])
        time.sleep(1.5)  # the saga tries, and fails, to publish meanwhile
        self.assertEqual(notifications(s), [])

        s.restart_serve(kill=True)
        n = wait_notification(s, "waitlist_offer", offer["booking_id"])
        self.assertEqual((n["data"]["user_id"], n["data"]["quantity"]), (b, 2))
        self.assertEqual(n["data"]["expires_at"], offer["expires_at"])
        # Still one offer, and one message about it.
        time.sleep(1.0)
        about = [x for x in notifications(s) if x["data"].get("booking_id") == offer["booking_id"]]
        self.assertEqual(len(about), 1, about)
        commits = audit(s, admin, f"tix.wait.{eid}.box")
        self.assertEqual([ev["type"] for cm in commits for ev in cm["events"]],
                         ["WaitlistJoined", "WaitlistOffered"])

        # C joins behind B's open offer.
        jc = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tc), 201)
        self.assertEqual(jc["position"], 2)

        # The list's snapshot (written as serve stops) is the fold of its
        # log, and a rebuild of the read model folds the waitlist alike.
        wait_checkpoint(s, log_head(s))
        s.stop_serve()
        v = cli_json(s, "snapshots", "verify", "--subject", "tix.wait.>", expect_status=0)[1]
        self.assertEqual((v["snapshots"], v["matched"], v["mismatched"]), (1, 1, 0), v)
        rc, _, err = replay(s, "--into", "wl_copy")
        self.assertEqual(rc, 0, err)
        rows = dump(s, "catalog")["waitlist"]
        self.assertEqual(dump(s, "wl_copy")["waitlist"], rows)
        self.assertEqual(len(rows), 2)
        # serve decides on the list as the snapshot has it.
        s.start_serve()
        again = s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tc)
        self.assertEqual((again[0], again[2]["code"]), (409, "conflict"))
        left = s.request("DELETE", f"/events/{eid}/waitlist/{jc['entry_id']}", token=tc)
        self.assertEqual(left[0], 204, left[2])

    def test_bad_input_answers_the_codes_of_api_md(self):
        s = self.stack
        admin = s.admin_token()
        (a, ta), (b, tb) = register_users(s, 2)
        v = s.create_venue(admin)
        two = s.create_event(admin, v["venue_id"])  # tiers std and floor
        s.publish(admin, two["event_id"])
        eid = two["event_id"]
        draft = s.create_event(admin, v["venue_id"])["event_id"]
        path = f"/events/{eid}/waitlist"

        def code(r):
            return r[0], (r[2] or {}).get("code") if isinstance(r[2], dict) else r[2]

        for body in ({"quantity": 0, "tier": "std"}, {"quantity": "abc", "tier": "std"},
                     {"quantity": 1.5, "tier": "std"}, {"tier": "std"},
                     {"quantity": -2, "tier": "std"}):
            r = s.request("POST", path, body, token=ta)
            self.assertEqual(code(r), (400, "validation_failed"), body)
            self.assertEqual(r[2]["errors"][0]["field"], "quantity", body)
        r = s.request("POST", path, raw="{not json", token=ta)
        self.assertEqual(code(r), (400, "validation_failed"))
        # Several tiers: name one; an unknown one is refused.
        r = s.request("POST", path, {"quantity": 1}, token=ta)
        self.assertEqual((code(r), r[2]["errors"][0]["field"]), ((400, "validation_failed"), "tier"))
        r = s.request("POST", path, {"quantity": 1, "tier": "vip"}, token=ta)
        self.assertEqual(code(r), (400, "validation_failed"))
        r = s.request("POST", path, {"quantity": 1, "tier": 7}, token=ta)
        self.assertEqual(code(r), (400, "validation_failed"))
        # max_per_order (4 by default) bounds the quantity, as for a hold.
        r = s.request("POST", path, {"quantity": 5, "tier": "std"}, token=ta)
        self.assertEqual((code(r), r[2]["limit"]), ((422, "limit_exceeded"), 4))
        self.assertEqual(code(s.request("POST", "/events/nosuchevent/waitlist",
                                        {"quantity": 1}, token=ta)), (404, "not_found"))
        self.assertEqual(code(s.request("POST", "/events/bad.id/waitlist",
                                        {"quantity": 1}, token=ta)), (404, "not_found"))
        self.assertEqual(code(s.request("POST", f"/events/{draft}/waitlist",
                                        {"quantity": 1, "tier": "std"}, token=ta)),
                         (422, "not_on_sale"))
        self.assertEqual(code(s.request("POST", path, {"quantity": 1, "tier": "std"})),
                         (401, "unauthorized"))

        # Quantity 4 is the most; the same Idempotency-Key answers the same.
        key = {"Idempotency-Key": "join-once"}
        first = s.request("POST", path, {"quantity": 4, "tier": "std"}, token=ta, headers=key)
        self.assertEqual(first[0], 201, first[2])
        repeat = s.request("POST", path, {"quantity": 4, "tier": "std"}, token=ta, headers=key)
        self.assertEqual((repeat[0], repeat[2]), (201, first[2]))
        entry = first[2]["entry_id"]

        # Leaving: the owner only; unknown and malformed entries are 404.
        self.assertEqual(code(s.request("DELETE", f"{path}/{entry}", token=tb)),
                         (403, "forbidden"))
        other = f"wl-{eid}-std-0123456789abcdef"
        self.assertEqual(code(s.request("DELETE", f"{path}/{other}", token=ta)),
                         (404, "not_found"))
        for bad in ("nope", f"wl-{eid}-std", f"wl-{eid}-st.d-00", f"wl-{draft}-std-0123"):
            self.assertEqual(code(s.request("DELETE", f"{path}/{bad}", token=ta)),
                             (404, "not_found"), bad)
        self.assertEqual(code(s.request("DELETE", f"/events/{draft}/waitlist/{entry}",
                                        token=ta)), (404, "not_found"))
        left = s.request("DELETE", f"{path}/{entry}", token=ta)
        self.assertEqual((left[0], left[2]), (204, None))
        self.assertEqual(code(s.request("DELETE", f"{path}/{entry}", token=ta)),
                         (404, "not_found"))
        # Gone from the read model; the user may join again, at the end.
        self.assertEqual(my_waitlist(s, ta, log_head(s)), [])
        again = expect(s.request("POST", path, {"quantity": 1, "tier": "std"}, token=ta), 201)
        self.assertEqual(again["position"], 1)
        self.assertNotEqual(again["entry_id"], entry)

        self.assertEqual(code(s.request("GET", "/users/me/waitlist")), (401, "unauthorized"))
        self.assertEqual(code(s.request("GET", "/users/me/waitlist?cursor=zzz", token=ta)),
                         (400, "validation_failed"))
        self.assertEqual(code(s.request("GET", "/users/me/waitlist?limit=0", token=ta)),
                         (400, "validation_failed"))
        page = expect(get_projected(s, "/users/me/waitlist?limit=1", again["commit_seq"],
                                    token=ta), 200)
        self.assertEqual(([i["entry_id"] for i in page["items"]], page["next_cursor"]),
                         ([again["entry_id"]], None))
        spec = expect(s.request("GET", "/openapi.json"), 200)
        for p in ("/events/{id}/waitlist", "/events/{id}/waitlist/{entry}", "/users/me/waitlist"):
            self.assertIn(p, spec["paths"])


def quota_events(stack, token, event_id, user_id):
    """[(type, data)] of user_id's quota events for the event (RULE-HOLD-4),
    in log order."""
    return [(x["type"], x["data"]) for c in audit(stack, token, quota_subject(event_id, user_id))
            for x in c["events"] if x["data"].get("user_id") == user_id]


def wait_quota(stack, token, event_id, user_id, types, booking_id=None, timeout=60.0):
    """user_id's quota events (of booking_id only, when given) once their
    types are `types` (saga_bookings appends them a moment after the
    booking changes)."""
    seen = []

    def done():
        seen[:] = [[(t, d) for t, d in quota_events(stack, token, event_id, user_id)
                    if booking_id is None or d["booking_id"] == booking_id]]
        return seen[0] if [t for t, _ in seen[0]] == types else None
    try:
        return wait_until(done, timeout=timeout, interval=0.2,
                          what=f"quota events {types} of {user_id}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last seen: {seen}") from None


def list_events(stack, token, event_id, tier):
    """[(type, user, reason)] of a waitlist's events, in log order."""
    return [(x["type"], x["data"]["user_id"], x["data"].get("reason"))
            for c in audit(stack, token, f"tix.wait.{event_id}.{tier}") for x in c["events"]]


class WaitlistOfferRules(StackTestCase):
    """An offer is a hold in the waiting user's name: it is made only to a
    user who may hold (RULE-AUTH-2) and within the user's max_per_user
    (RULE-HOLD-4); a head it cannot be made to is passed over and leaves the
    list (WaitlistLeft with the reason), and the next head gets the seats.
    The offer's quota is confirmed when it is paid and comes back when it
    lapses. Offers hold for 1 minute here."""
    stack_options = {"env": dict(PAY_ENV, TURNSTILE_OFFER_MINUTES="1")}

    def test_blocked_head_gets_no_offer_and_the_next_one_does(self):
        s = self.stack
        admin = s.admin_token()
        (a, ta), (b, tb), (c, tc) = register_users(s, 3)
        eid = tiny_event(s, admin, {"key": "GA", "name": "Floor", "kind": "standing",
                                    "capacity": 1})
        held = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 1},
                                token=ta), 201)
        jb = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tb), 201)
        jc = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tc), 201)
        self.assertEqual((jb["position"], jc["position"]), (1, 2))

        # RULE-AUTH-2: B, the head, is blocked before any seat is freed. A
        # blocked user cannot join a list either (as a hold, 403).
        expect(s.request("POST", f"/users/{b}/block", {"reason": "scalping"}, token=admin), 200)
        r = s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tb)
        self.assertEqual((r[0], r[2]["code"]), (403, "forbidden"))
        expect(s.request("DELETE", f"/bookings/{held['booking_id']}", token=ta), 200)

        # The unit goes to C, the next in line, as a hold in C's name.
        entry_c = wait_offer(s, tc)
        offer_c = entry_c["offer"]
        bk = expect(s.request("GET", f"/bookings/{offer_c['booking_id']}", token=tc), 200)
        self.assertEqual((bk["status"], bk["user_id"]), ("held", c))
        self.assertEqual(entry_c["position"], 1)
        # B got no offer, no hold, and is off the list, passed over for why.
        self.assertEqual(my_waitlist(s, tb, log_head(s)), [])
        self.assertEqual(list_events(s, admin, eid, "floor"),
                         [("WaitlistJoined", b, None), ("WaitlistJoined", c, None),
                          ("WaitlistLeft", b, "blocked"), ("WaitlistOffered", c, None)])
        placed = hold_events(audit(s, admin, f"tix.inv.{eid}.GA"), "HoldPlaced")
        self.assertEqual([d["user_id"] for _, d in placed if d.get("offer_entry")], [c])
        self.assertEqual(quota_events(s, admin, eid, b), [])
        # C's offer took C's quota, like any hold, for the offer's booking.
        q = quota_events(s, admin, eid, c)
        self.assertEqual([(t, d["booking_id"], d["quantity"]) for t, d in q],
                         [("QuotaTaken", offer_c["booking_id"], 1)])

        # RULE-AUTH-2: blocked while the offer is open, C cannot pay for it.
        expect(s.request("POST", f"/users/{c}/block", token=admin), 200)
        r = s.request("POST", f"/bookings/{offer_c['booking_id']}/payments", token=tc)
        self.assertEqual((r[0], r[2]["code"]), (403, "forbidden"))
        expect(s.request("DELETE", f"/users/{c}/block", token=admin), 200)

        # C pays for the offer: the quota is confirmed, the entry fulfilled.
        p = pay(s, tc, offer_c["booking_id"])
        simulate(s, tc, p["payment_id"], "succeeded")
        wait_booking(s, tc, offer_c["booking_id"], "confirmed")
        wait_quota(s, admin, eid, c, ["QuotaTaken", "QuotaConfirmed"],
                   booking_id=offer_c["booking_id"])
        wait_until(lambda: list_events(s, admin, eid, "floor")[-1] == ("WaitlistFulfilled", c,
                                                                        None),
                   timeout=30, interval=0.2, what="C's entry fulfilled")
        # B, unblocked, may join the list again, at its end.
        expect(s.request("DELETE", f"/users/{b}/block", token=admin), 200)
        again = expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tb),
                       201)
        self.assertEqual(again["position"], 1)
        self.assertNotEqual(again["entry_id"], jb["entry_id"])

    def test_head_at_its_cap_gets_no_offer_and_a_lapsed_offer_gives_the_quota_back(self):
        s = self.stack
        admin = s.admin_token()
        (a, ta), (b, tb), (c, tc), (d, td) = register_users(s, 4)
        # RULE-HOLD-4: one ticket per user.
        eid = tiny_event(s, admin, {"key": "GA", "name": "Floor", "kind": "standing",
                                    "capacity": 3},
                         policy={"max_per_order": 1, "max_per_user": 1})

        def hold(token):
            return s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 1},
                             token=token)

        expect(hold(tb), 201)  # B is at the cap
        held_a = expect(hold(ta), 201)
        expect(hold(td), 201)
        self.assertEqual(hold(tc)[2]["code"], "sold_out")  # its quota went back at once
        expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tb), 201)
        expect(s.request("POST", f"/events/{eid}/waitlist", {"quantity": 1}, token=tc), 201)

        # A releases a unit: B, the head, would pass the cap; C gets it.
        expect(s.request("DELETE", f"/bookings/{held_a['booking_id']}", token=ta), 200)
        offer_c = wait_offer(s, tc)["offer"]
        self.assertEqual(my_waitlist(s, tb, log_head(s)), [])
        self.assertEqual(list_events(s, admin, eid, "floor")[2:],
                         [("WaitlistLeft", b, "limit_exceeded"), ("WaitlistOffered", c, None)])
        placed = hold_events(audit(s, admin, f"tix.inv.{eid}.GA"), "HoldPlaced")
        self.assertEqual([d_["user_id"] for _, d_ in placed if d_.get("offer_entry")], [c])
        # B's quota: its own hold only; no offer was taken for it.
        self.assertEqual([t for t, _ in quota_events(s, admin, eid, b)], ["QuotaTaken"])

        # The offer counts for C's cap while it is open: no second hold.
        over = hold(tc)
        self.assertEqual((over[0], over[2]["code"], over[2]["limit"]), (422, "limit_exceeded", 1))

        # C lets the offer lapse: its quota comes back, and C may hold again.
        wait_booking(s, tc, offer_c["booking_id"], "expired", timeout=150)
        wait_quota(s, admin, eid, c, ["QuotaTaken", "QuotaReturned"],
                   booking_id=offer_c["booking_id"])
        self.assertEqual(list_events(s, admin, eid, "floor")[-1],
                         ("WaitlistOfferLapsed", c, None))
        mine = expect(hold(tc), 201)
        self.assertEqual(mine["status"], "held")
        q = quota_events(s, admin, eid, c)
        self.assertEqual([t for t, d in q if d["booking_id"] == mine["booking_id"]],
                         ["QuotaTaken"])


if __name__ == "__main__":
    unittest.main()
