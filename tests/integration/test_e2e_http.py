"""The whole slice end to end, through HTTP only: login, venue, draft event,
publish, catalog, seat map, holds, booking, release, the audit log's hash
chain, metrics, readiness and the contract; it ends with a waitlisted user
receiving an offer."""

import re
import time
import unittest

from harness import StackTestCase, expect
from helpers import get_projected, rfc3339

ZERO_HASH = "0" * 64


class EndToEnd(StackTestCase):
    def test_the_whole_slice(self):
        s = self.stack
        r = lambda *a, **k: s.request(*a, **k)  # noqa: E731

        # Login as the start-up admin.
        login = expect(r("POST", "/auth/login", {"email": s.admin_email,
                                                 "password": s.admin_password}), 200)
        self.assertEqual(login["token_type"], "Bearer")
        self.assertEqual(login["expires_in"], 900)  # RULE-AUTH-1: 15 min
        tok = login["access_token"]
        me = expect(r("GET", "/users/me", token=tok), 200)
        self.assertEqual(me["email"], s.admin_email)
        self.assertIn("admin", me["roles"])

        # A venue with a seated and a standing section.
        venue_body = {"name": "E2E Hall", "city": "Split", "country": "HR", "sections": [
            {"key": "S", "name": "Stalls", "kind": "seated",
             "rows": [{"label": "1", "seats": 6, "accessible": [1]}, {"label": "2", "seats": 4}]},
            {"key": "FL", "name": "Floor", "kind": "standing", "capacity": 40}]}
        venue = expect(r("POST", "/venues", venue_body, token=tok), 201)
        self.assertEqual(venue["capacity"], 50)
        vid = venue["venue_id"]

        # A draft event: not listed.
        now = time.time()
        starts = now + 20 * 86400
        sale = {"sale_starts_at": rfc3339(now - 60), "sale_ends_at": rfc3339(starts)}
        event_body = {
            "venue_id": vid, "title": "E2E Night", "genre": "concert",
            "description": "an end-to-end evening",
            "starts_at": rfc3339(starts), "ends_at": rfc3339(starts + 3 * 3600),
            "tiers": [dict(key="stalls", name="Stalls", sections=["S"],
                           price={"amount": 4000, "currency": "EUR"}, **sale),
                      dict(key="floor", name="Floor", sections=["FL"],
                           price={"amount": 1999, "currency": "EUR"}, **sale)],
            "policy": {"max_per_order": 3, "service_fee_bps": 1000, "vat_bps": 2500}}
        created = expect(r("POST", "/events", event_body, token=tok), 201)
        self.assertEqual(created["status"], "draft")
        eid = created["event_id"]
        listed = expect(get_projected(s, "/events", created["commit_seq"]), 200)
        self.assertNotIn(eid, [e["event_id"] for e in listed["items"]])  # RULE-EVT-1
        # A draft is visible to its organizer (and admins), to nobody else.
        draft = expect(get_projected(s, f"/events/{eid}", created["commit_seq"], token=tok), 200)
        self.assertEqual(draft["status"], "draft")
        expect(get_projected(s, f"/events/{eid}", created["commit_seq"]), 404)

        # Publish: now it is listed, with its details.
        pub = expect(r("POST", f"/events/{eid}/publish", token=tok), 200)
        self.assertEqual(pub["status"], "published")
        self.assertGreater(pub["commit_seq"], created["commit_seq"])
        listed = expect(get_projected(s, "/events", pub["commit_seq"]), 200)
        items = {e["event_id"]: e for e in listed["items"]}
        self.assertIn(eid, items)
        self.assertEqual(items[eid]["title"], "E2E Night")
        self.assertEqual(items[eid]["price_from"], {"amount": 1999, "currency": "EUR"})
        found = expect(get_projected(s, "/events?q=evening&city=split", pub["commit_seq"]), 200)
        self.assertEqual([e["event_id"] for e in found["items"]], [eid])

        ev = expect(get_projected(s, f"/events/{eid}", pub["commit_seq"]), 200)
        self.assertEqual((ev["status"], ev["venue_id"], ev["genre"]),
                         ("published", vid, "concert"))
        tiers = {t["key"]: t for t in ev["tiers"]}
        self.assertEqual(tiers["stalls"]["price"], {"amount": 4000, "currency": "EUR"})
        self.assertEqual((tiers["stalls"]["available"], tiers["floor"]["available"]), (10, 40))
        self.assertEqual(ev["policy"]["max_per_order"], 3)

        v = expect(get_projected(s, f"/venues/{vid}", pub["commit_seq"]), 200)
        self.assertEqual((v["name"], v["capacity"]), ("E2E Hall", 50))
        secs = {x["key"]: x for x in v["sections"]}
        self.assertEqual(secs["FL"]["capacity"], 40)
        self.assertEqual([(w["label"], w["seats"]) for w in secs["S"]["rows"]],
                         [("1", 6), ("2", 4)])

        m = expect(get_projected(s, f"/events/{eid}/seats", pub["commit_seq"]), 200)
        self.assertEqual([x["key"] for x in m["sections"]], ["S", "FL"])
        seats = m["sections"][0]["seats"]
        self.assertEqual([x["id"] for x in seats],
                         [f"S-1-{n}" for n in range(1, 7)] + [f"S-2-{n}" for n in range(1, 5)])
        self.assertEqual([x["id"] for x in seats if x["accessible"]], ["S-1-1"])
        self.assertEqual(m["sections"][1]["available"], 40)

        # Hold seats, and GA units (RULE-PRICE-1 on the totals).
        b = expect(r("POST", f"/events/{eid}/holds", {"seats": ["S-1-3", "S-1-4"]},
                     token=tok), 201)
        self.assertEqual(b["status"], "held")
        self.assertEqual(b["subtotal"], {"amount": 8000, "currency": "EUR"})
        self.assertEqual(b["service_fee"]["amount"], 800)
        self.assertEqual(b["total"]["amount"], 8800)
        self.assertEqual(b["vat_included"]["amount"], 1760)  # 8800 * 2500 / 12500
        g = expect(r("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 3},
                     token=tok), 201)
        self.assertEqual(g["subtotal"]["amount"], 5997)
        self.assertEqual(g["service_fee"]["amount"], 600)  # 599.7, half-up
        self.assertEqual(g["total"]["amount"], 6597)
        self.assertEqual(g["vat_included"]["amount"], 1319)  # 1319.4
        # RULE-HOLD-2: more than max_per_order is refused with the limit.
        p = r("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 4}, token=tok)
        self.assertEqual((p[0], p[2]["code"], p[2]["limit"]), (422, "limit_exceeded", 3))

        got = expect(get_projected(s, f"/bookings/{b['booking_id']}", g["commit_seq"],
                                   token=tok), 200)
        for k in ("booking_id", "event_id", "status", "expires_at", "items", "total"):
            self.assertEqual(got[k], b[k], k)
        m = expect(get_projected(s, f"/events/{eid}/seats", g["commit_seq"]), 200)
        st = {x["id"]: x["status"] for x in m["sections"][0]["seats"]}
        self.assertEqual(sorted(k for k, x in st.items() if x == "held"), ["S-1-3", "S-1-4"])
        self.assertEqual(m["sections"][1]["available"], 37)

        # Release.
        rel = expect(r("DELETE", f"/bookings/{b['booking_id']}", token=tok), 200)
        self.assertEqual(rel["status"], "released")
        got = expect(get_projected(s, f"/bookings/{b['booking_id']}", rel["commit_seq"],
                                   token=tok), 200)
        self.assertEqual(got["status"], "released")
        m = expect(get_projected(s, f"/events/{eid}/seats", rel["commit_seq"]), 200)
        self.assertTrue(all(x["status"] == "free" for x in m["sections"][0]["seats"]))

        # The audit log: HoldPlaced and HoldReleased, chained per subject.
        audit = expect(r("GET", f"/audit/events?subject=tix.inv.{eid}.>", token=tok), 200)
        commits = audit["items"]
        self.assertIsNone(audit["next_cursor"])
        types = [(c["subject"], e["type"]) for c in commits for e in c["events"]]
        self.assertIn((f"tix.inv.{eid}.S", "HoldPlaced"), types)
        self.assertIn((f"tix.inv.{eid}.S", "HoldReleased"), types)
        self.assertIn((f"tix.inv.{eid}.FL", "HoldPlaced"), types)
        by_seq = {c["seq"]: c for c in commits}
        placed = [e["data"] for e in by_seq[b["commit_seq"]]["events"]
                  if e["type"] == "HoldPlaced"]
        self.assertEqual([d["booking_id"] for d in placed], [b["booking_id"]])
        released = [e["data"] for e in by_seq[rel["commit_seq"]]["events"]
                    if e["type"] == "HoldReleased"]
        self.assertEqual([d["booking_id"] for d in released], [b["booking_id"]])
        self.assertEqual(by_seq[b["commit_seq"]]["actor"], me["user_id"])
        last_hash = {}
        for c in commits:
            self.assertRegex(c["hash"], "^[0-9a-f]{64}$")
            # Each commit's prev_hash is the hash of the previous commit on
            # its subject; the first one's is all zeros.
            self.assertEqual(c["prev_hash"], last_hash.get(c["subject"], ZERO_HASH), c["seq"])
            last_hash[c["subject"]] = c["hash"]
        self.assertEqual(set(last_hash), {f"tix.inv.{eid}.S", f"tix.inv.{eid}.FL"})
        self.assertEqual(len({c["hash"] for c in commits}), len(commits))
        # The type filter narrows to commits with that event type.
        only = expect(r("GET", f"/audit/events?subject=tix.inv.{eid}.>&type=HoldReleased",
                        token=tok), 200)
        self.assertEqual([c["seq"] for c in only["items"]], [rel["commit_seq"]])

        # Operations.
        status, headers, metrics = r("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn("text/plain", headers["Content-Type"])
        holds_ok = re.search(r'^turnstile_commands_total\{type="hold",outcome="ok"\} (\d+)$',
                             metrics, re.M)
        self.assertIsNotNone(holds_ok, metrics[:2000])
        self.assertEqual(int(holds_ok.group(1)), 2)
        rejected = re.search(
            r'^turnstile_commands_total\{type="hold",outcome="rejected"\} (\d+)$', metrics, re.M)
        self.assertEqual(int(rejected.group(1)), 1)
        # DELETE /bookings/{id} is one command for held and confirmed bookings.
        self.assertRegex(metrics,
                         r'(?m)^turnstile_commands_total\{type="cancel_booking",outcome="ok"\} 1$')
        self.assertRegex(metrics, r'(?m)^turnstile_command_seconds_count\{type="hold"\} 3$')
        self.assertRegex(metrics, r'(?m)^turnstile_projection_lag_events\{projection="catalog"\} \d+$')

        status, _, ready = r("GET", "/readyz")
        self.assertEqual(status, 200, ready)
        self.assertTrue(ready["ready"])
        self.assertEqual(expect(r("GET", "/healthz"), 200)["status"], "ok")

        status, headers, spec = r("GET", "/api/v1/openapi.json")
        self.assertEqual(status, 200)
        self.assertIn("application/json", headers["Content-Type"])
        self.assertIsInstance(spec, dict, spec)
        self.assertTrue(spec["openapi"].startswith("3."))
        self.assertIn("/events/{id}/holds", spec["paths"])

        # The journey ends at a waitlist (RULE-WL-1): a tier sold out, a fan
        # waiting, a release, and the waitlisted user receives an offer: a
        # hold in their own name.
        booth = expect(r("POST", "/venues", {
            "name": "E2E Booth", "city": "Split", "country": "HR",
            "sections": [{"key": "ONE", "name": "Booth", "kind": "standing", "capacity": 1}]},
            token=tok), 201)
        be = expect(r("POST", "/events", {
            "venue_id": booth["venue_id"], "title": "E2E Encore", "genre": "concert",
            "starts_at": rfc3339(starts), "ends_at": rfc3339(starts + 3600),
            "tiers": [dict(key="booth", name="Booth", sections=["ONE"],
                           price={"amount": 9900, "currency": "EUR"}, **sale)]}, token=tok), 201)
        bid = be["event_id"]
        expect(r("POST", f"/events/{bid}/publish", token=tok), 200)
        last = expect(r("POST", f"/events/{bid}/holds", {"tier": "booth", "quantity": 1},
                        token=tok), 201)
        sold = r("POST", f"/events/{bid}/holds", {"tier": "booth", "quantity": 1}, token=tok)
        self.assertEqual((sold[0], sold[2]["code"]), (409, "sold_out"))
        fan_id, fan = s.register(name="E2E Fan")
        joined = expect(r("POST", f"/events/{bid}/waitlist", {"quantity": 1}, token=fan), 201)
        self.assertEqual((joined["position"], joined["tier"]), (1, "booth"))
        expect(r("DELETE", f"/bookings/{last['booking_id']}", token=tok), 200)
        deadline = time.monotonic() + 30
        while True:
            mine = expect(r("GET", "/users/me/waitlist", token=fan), 200)["items"]
            if mine and mine[0]["offer"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(mine), 1, mine)
        offer = mine[0]["offer"]
        self.assertIsNotNone(offer, "the waitlisted user received no offer")
        self.assertEqual((mine[0]["entry_id"], mine[0]["position"]), (joined["entry_id"], 1))
        got = expect(r("GET", f"/bookings/{offer['booking_id']}", token=fan), 200)
        self.assertEqual((got["status"], got["user_id"], got["event_id"]), ("held", fan_id, bid))
        self.assertEqual(got["expires_at"], offer["expires_at"])


if __name__ == "__main__":
    unittest.main()
