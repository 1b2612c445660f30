"""Bad requests get clear RFC 7807 answers (API.md Conventions, STYLE.md 9:
bad input never crashes), and the server stays healthy after all of them."""

import http.client
import json
import time
import unittest

from harness import StackTestCase, expect
from helpers import mint_token, published_event, rfc3339

PROBLEM = "application/problem+json"


class ApiErrors(StackTestCase):
    def setUp(self):
        super().setUp()
        self.tok = self.stack.admin_token()
        self.venue, e, _ = published_event(self.stack, self.tok)
        self.ev = e["event_id"]
        self.holds = f"/events/{self.ev}/holds"

    def tearDown(self):
        # Whatever a test threw at it, the server still answers.
        self.assertEqual(self.stack.request("GET", "/healthz")[0], 200)
        self.assertEqual(self.stack.request("GET", "/readyz")[0], 200)
        super().tearDown()

    def assert_problem(self, response, status, code):
        got, headers, p = response
        self.assertEqual(got, status, p)
        self.assertIn(PROBLEM, headers["Content-Type"])
        self.assertIsInstance(p, dict, p)
        self.assertEqual(p["code"], code, p)
        self.assertEqual(p["status"], status, p)
        self.assertEqual(p["type"], f"/problems/{code}", p)
        self.assertTrue(p["title"], p)
        return p

    def test_malformed_json_is_validation_failed(self):
        s = self.stack
        for raw in ["{not json", '{"seats": ["A-1-1"]', "", "[1, 2]", '"a string"',
                    '{"seats": ["A-1-1"], "seats": ["A-1-2"]}', "\xff\xfe"]:
            p = self.assert_problem(s.request("POST", self.holds, raw=raw, token=self.tok),
                                    400, "validation_failed")
            self.assertEqual(p["errors"][0]["field"], "body", (raw, p))
            self.assertTrue(p["errors"][0]["message"], p)
        p = self.assert_problem(s.request("POST", "/venues", raw="{", token=self.tok),
                                400, "validation_failed")
        self.assertEqual(p["errors"][0]["field"], "body")

    def test_wrong_types_name_the_field(self):
        s = self.stack
        cases = [
            ({"seats": "A-1-1"}, "seats"),
            ({"seats": [1, 2]}, "seats"),
            ({"seats": []}, "seats"),
            ({"tier": "floor", "quantity": "2"}, "quantity"),
            ({"tier": "floor", "quantity": 2.0}, "quantity"),
            ({"tier": "floor", "quantity": -1}, "quantity"),
            ({"tier": 7, "quantity": 1}, "tier"),
            ({"seats": ["A-1-1"], "promo_code": 5}, "promo_code"),
        ]
        for body, field in cases:
            p = self.assert_problem(s.request("POST", self.holds, body, token=self.tok),
                                    400, "validation_failed")
            self.assertEqual(p["errors"][0]["field"], field, (body, p))
        # RULE-PRICE-1: money is integer minor units, never a float.
        now = time.time()
        tier = {"key": "std", "name": "Standard", "price": {"amount": 25.5, "currency": "EUR"},
                "sections": ["A"]}
        event = {"venue_id": self.venue["venue_id"], "title": "Float", "tiers": [tier],
                 "starts_at": rfc3339(now + 86400), "ends_at": rfc3339(now + 90000)}
        p = self.assert_problem(s.request("POST", "/events", event, token=self.tok),
                                400, "validation_failed")
        self.assertEqual(p["errors"][0]["field"], "tiers.price.amount", p)
        tier["price"] = {"amount": "2500", "currency": "EUR"}
        p = self.assert_problem(s.request("POST", "/events", event, token=self.tok),
                                400, "validation_failed")
        self.assertEqual(p["errors"][0]["field"], "tiers.price.amount", p)
        tier["price"] = {"amount": 2500, "currency": "EUR"}
        event["starts_at"] = 12345
        p = self.assert_problem(s.request("POST", "/events", event, token=self.tok),
                                400, "validation_failed")
        self.assertEqual(p["errors"][0]["field"], "starts_at", p)
        venue = {"name": "V", "city": "C", "country": "HR",
                 "sections": [{"key": "A", "kind": "seated", "rows": [{"label": "1",
                                                                      "seats": "10"}]}]}
        p = self.assert_problem(s.request("POST", "/venues", venue, token=self.tok),
                                400, "validation_failed")
        self.assertEqual(p["errors"][0]["field"], "sections.rows.seats", p)

    def test_unknown_seats_are_named(self):
        s = self.stack
        # RULE-HOLD-2: unknown seats reject the whole hold and are named.
        for seats, named in [(["A-99-1"], ["A-99-1"]), (["A-1-999"], ["A-1-999"]),
                             (["garbage"], ["garbage"]), (["A-1-0"], ["A-1-0"]),
                             (["A-1-1", "A-99-1", "A-1-999"], ["A-99-1", "A-1-999"]),
                             (["Z-1-1"], ["Z-1-1"])]:
            p = self.assert_problem(s.request("POST", self.holds, {"seats": seats},
                                              token=self.tok), 409, "seat_unavailable")
            self.assertEqual(sorted(p["seats"]), sorted(named), (seats, p))
        # The valid seat of the refused mix was not held.
        expect(s.request("POST", self.holds, {"seats": ["A-1-1"]}, token=self.tok), 201)

    def test_bodies_over_64_kib_are_refused(self):
        s = self.stack
        big = json.dumps({"seats": ["A-1-1"], "pad": "x" * (64 * 1024)})
        self.assert_problem(s.request("POST", self.holds, raw=big, token=self.tok),
                            413, "payload_too_large")
        # Chunked, so the size is not announced up front.
        conn = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=30)
        try:
            chunks = (big[i:i + 8192].encode() for i in range(0, len(big), 8192))
            conn.request("POST", "/api/v1" + self.holds, body=chunks, encode_chunked=True,
                         headers={"Authorization": "Bearer " + self.tok,
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            p = json.loads(r.read())
            self.assertEqual((r.status, p["code"]), (413, "payload_too_large"), p)
            self.assertIn(PROBLEM, r.getheader("Content-Type"))
        finally:
            conn.close()
        # Exactly 64 KiB is still read (and judged on its content).
        pad = 64 * 1024 - len(json.dumps({"seats": ["A-1-2"], "pad": ""}))
        body = json.dumps({"seats": ["A-1-2"], "pad": "x" * pad})
        self.assertEqual(len(body), 64 * 1024)
        status, _, p = s.request("POST", self.holds, raw=body, token=self.tok)
        self.assertEqual(status, 201, p)

    def test_bad_tokens_are_401(self):
        s = self.stack
        me = expect(s.request("GET", "/users/me", token=self.tok), 200)
        body = {"seats": ["A-2-1"]}
        tokens = {
            "missing": None,
            "garbage": "not-a-jwt",
            "expired": mint_token(s, me["user_id"], ("admin",), ttl=-60),
            "wrong key": mint_token(s, me["user_id"], ("admin",), key="another-secret-0123456789"),
            "alg none": mint_token(s, me["user_id"], ("admin",), alg="none"),
            "wrong issuer": mint_token(s, me["user_id"], ("admin",), iss="someone-else"),
            "tampered": self.tok[:-2] + ("AA" if not self.tok.endswith("AA") else "BB"),
        }
        for what, tok in tokens.items():
            self.assert_problem(s.request("POST", self.holds, body, token=tok),
                                401, "unauthorized")
            self.assert_problem(s.request("GET", "/users/me", token=tok), 401, "unauthorized")
        self.assert_problem(s.request("POST", self.holds, body, headers={
            "Authorization": "Basic YWRtaW46YWRtaW4="}), 401, "unauthorized")
        # The same claims, properly signed, are accepted: the refusals above
        # were about the token, not the claims.
        ok = mint_token(s, me["user_id"], ("admin",))
        expect(s.request("POST", self.holds, body, token=ok), 201)
        # Wrong password at login is a 401 too.
        self.assert_problem(s.request("POST", "/auth/login", {
            "email": s.admin_email, "password": "wrong-password-1"}), 401, "unauthorized")

    def test_roles_and_ownership_are_403(self):
        s = self.stack
        _, attendee = s.register()
        # RULE-AUTH-2: an attendee creates neither venues nor events.
        self.assert_problem(s.request("POST", "/venues", {"name": "Mine", "city": "C",
                                                          "country": "HR", "sections": []},
                                      token=attendee), 403, "forbidden")
        self.assert_problem(s.request("POST", "/events", {"venue_id": self.venue["venue_id"]},
                                      token=attendee), 403, "forbidden")
        self.assert_problem(s.request("POST", f"/events/{self.ev}/publish", token=attendee),
                            403, "forbidden")
        self.assert_problem(s.request("GET", f"/audit/events?subject=tix.inv.{self.ev}.>",
                                      token=attendee), 403, "forbidden")
        # The forged role claim of a token signed with another key is no way in.
        uid = expect(s.request("GET", "/users/me", token=attendee), 200)["user_id"]
        forged = mint_token(s, uid, ("admin",), key="x" * 32)
        self.assert_problem(s.request("POST", "/venues", {"name": "X"}, token=forged),
                            401, "unauthorized")

    def test_unknown_things_are_404(self):
        s = self.stack
        for path in ["/events/evdoesnotexist1", "/events/evdoesnotexist1/seats",
                     "/venues/vndoesnotexist1", "/nope", "/events/" + self.ev + "/nope",
                     "/api/v2/events", "/nope-at-the-root"]:
            self.assert_problem(s.request("GET", path, token=self.tok), 404, "not_found")
        for booking in ["bk-evdoesnotexist1-A-0123456789abcdef", "garbage",
                        f"bk-{self.ev}-A-0123456789abcdef", f"bk-{self.ev}-Q-0123456789abcdef"]:
            self.assert_problem(s.request("GET", f"/bookings/{booking}", token=self.tok),
                                404, "not_found")
            self.assert_problem(s.request("DELETE", f"/bookings/{booking}", token=self.tok),
                                404, "not_found")
        self.assert_problem(s.request("POST", "/events/evdoesnotexist1/publish",
                                      token=self.tok), 404, "not_found")

    def test_hold_on_an_unknown_event_is_404(self):
        s = self.stack
        # API.md: 404 when the resource does not exist (not "not on sale").
        for body in [{"seats": ["A-1-1"]}, {"tier": "floor", "quantity": 1}]:
            self.assert_problem(s.request("POST", "/events/evdoesnotexist1/holds", body,
                                          token=self.tok), 404, "not_found")

    def test_hold_on_a_draft_event_is_not_on_sale(self):
        s = self.stack
        draft = s.create_event(self.tok, self.venue["venue_id"])["event_id"]
        # RULE-EVT-1: only published events sell.
        for body in [{"seats": ["A-1-1"]}, {"tier": "floor", "quantity": 1}]:
            self.assert_problem(s.request("POST", f"/events/{draft}/holds", body,
                                          token=self.tok), 422, "not_on_sale")


if __name__ == "__main__":
    unittest.main()
