"""Accounts over HTTP against the real stack (RULE-AUTH-1, RULE-AUTH-2,
API.md "Auth and users"): sessions with rotating refresh tokens, reuse that
revokes a family, logout, the lockout after 5 failed logins, roles granted
by an admin and blocks, each taking effect on the very next request, and
every endpoint's bad input answered with its problem code."""

import base64
import hashlib
import json
import os
import secrets
import unittest

from harness import StackTestCase, expect
from helpers import audit, published_event

PROBLEM = "application/problem+json"
PASSWORD = "attendee-pass-1"


class AuthCase(StackTestCase):
    def assert_problem(self, response, status, code):
        got, headers, p = response
        self.assertEqual(got, status, p)
        self.assertIn(PROBLEM, headers["Content-Type"])
        self.assertEqual((p["code"], p["status"], p["type"]), (code, status, f"/problems/{code}"),
                         p)
        return p

    def new_user(self):
        """A registered attendee: (user_id, email)."""
        s = self.stack
        email = f"user-{secrets.token_hex(4)}@turnstile.test"
        uid = expect(s.request("POST", "/auth/register",
                               {"email": email, "password": PASSWORD, "name": "Ann"}),
                     201)["user_id"]
        return uid, email

    def login(self, email, password=PASSWORD):
        return self.stack.request("POST", "/auth/login", {"email": email, "password": password})

    def refresh(self, token):
        return self.stack.request("POST", "/auth/refresh", {"refresh_token": token})

    def user_events(self, uid):
        """[(type, data)] of every event on tix.user.<uid>, in order."""
        return [(e["type"], e["data"]) for c in audit(self.stack, self.stack.admin_token(),
                                                      f"tix.user.{uid}")
                for e in c["events"]]


class Sessions(AuthCase):
    def test_rule_auth_1_refresh_rotates_and_reuse_revokes_the_family(self):
        s = self.stack
        uid, email = self.new_user()
        first = expect(self.login(email), 200)
        self.assertEqual((first["token_type"], first["expires_in"]), ("Bearer", 900))
        r1 = first["refresh_token"]

        # Rotation: a new pair, and the new access token works.
        second = expect(self.refresh(r1), 200)
        r2 = second["refresh_token"]
        self.assertNotEqual(r2, r1)
        self.assertEqual(expect(s.request("GET", "/users/me", token=second["access_token"]),
                                200)["user_id"], uid)
        third = expect(self.refresh(r2), 200)
        r3 = third["refresh_token"]

        # RULE-AUTH-1: a spent token comes back (a thief, or a confused
        # client): 401, and the whole family is revoked, current token too.
        p = self.assert_problem(self.refresh(r1), 401, "unauthorized")
        self.assertIn("already used", p["detail"])
        self.assert_problem(self.refresh(r3), 401, "unauthorized")
        self.assert_problem(self.refresh(r2), 401, "unauthorized")
        # Once revoked, a spent token is merely unknown: no second revocation.
        self.assert_problem(self.refresh(r1), 401, "unauthorized")

        # Another session of the same user is untouched.
        other = expect(self.login(email), 200)["refresh_token"]
        expect(self.refresh(other), 200)

        events = self.user_events(uid)
        types = [t for t, _ in events]
        self.assertEqual(types, ["UserRegistered", "RefreshIssued", "RefreshRotated",
                                 "RefreshRotated", "RefreshRevoked", "RefreshIssued",
                                 "RefreshRotated"])
        issued, rot1, rot2, revoked = (d for _, d in events[1:5])
        self.assertEqual(revoked["reason"], "reuse")
        self.assertEqual(len({issued["family_id"], rot1["family_id"], rot2["family_id"],
                              revoked["family_id"]}), 1)
        self.assertNotEqual(events[5][1]["family_id"], issued["family_id"])
        self.assertEqual(r1.split(".")[:2], [uid, issued["family_id"]])

        # The log keeps the SHA-256 of each token, never a token: the
        # JetStream store itself holds every hash and no token's secret.
        store = b""
        for root, _, files in os.walk(os.path.join(s.tmp, "nats")):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    store += f.read()
        self.assertIn(f"tix.user.{uid}".encode(), store)
        for token in (r1, r2, r3, other):
            self.assertIn(hashlib.sha256(token.encode()).hexdigest().encode(), store)
            self.assertNotIn(token.split(".")[-1].encode(), store)

    def test_logout_ends_one_session(self):
        s = self.stack
        uid, email = self.new_user()
        a = expect(self.login(email), 200)
        b = expect(self.login(email), 200)
        status, headers, body = s.request("POST", "/auth/logout",
                                          {"refresh_token": a["refresh_token"]},
                                          token=a["access_token"])
        self.assertEqual((status, body), (204, None))
        self.assertIsNone(headers["Content-Type"])
        # Logout, then refresh: 401. The other session still refreshes.
        self.assert_problem(self.refresh(a["refresh_token"]), 401, "unauthorized")
        expect(self.refresh(b["refresh_token"]), 200)
        # Logging out twice is not an error: the session is over either way.
        self.assertEqual(s.request("POST", "/auth/logout", {"refresh_token": a["refresh_token"]},
                                   token=a["access_token"])[0], 204)
        revoked = [d for t, d in self.user_events(uid) if t == "RefreshRevoked"]
        self.assertEqual([d["reason"] for d in revoked], ["logout"])

        # Another user's refresh token: 403, and it still works afterwards.
        _, email2 = self.new_user()
        c = expect(self.login(email2), 200)
        self.assert_problem(s.request("POST", "/auth/logout", {"refresh_token": c["refresh_token"]},
                                      token=b["access_token"]), 403, "forbidden")
        expect(self.refresh(c["refresh_token"]), 200)

    def test_rule_auth_1_lockout_after_5_failures(self):
        s = self.stack
        uid, email = self.new_user()
        # 4 failures, then the right password works and ends the run.
        for _ in range(4):
            self.assert_problem(self.login(email, "wrong-password-1"), 401, "unauthorized")
        expect(self.login(email), 200)
        kept = expect(self.login(email), 200)["refresh_token"]
        # 5 consecutive failures lock the account.
        for _ in range(5):
            self.assert_problem(self.login(email, "wrong-password-1"), 401, "unauthorized")
        for password in (PASSWORD, "wrong-password-1"):
            status, headers, p = self.login(email, password)
            self.assert_problem((status, headers, p), 429, "rate_limited")
            # Retry-After: the seconds until the lock ends, 15 min after the 5th failure.
            retry = int(headers["Retry-After"])
            self.assertTrue(880 <= retry <= 900, retry)
            self.assertEqual(p["retry_after"], retry)
        # Attempts while locked are not recorded (they cannot extend the lock).
        types = [t for t, _ in self.user_events(uid)]
        self.assertEqual(types, ["UserRegistered"] + ["LoginFailed"] * 4 + ["RefreshIssued"] * 2 +
                         ["LoginFailed"] * 5)
        # A session from before the lock still refreshes: the lock is on
        # password guessing, and a refresh token is no password.
        expect(self.refresh(kept), 200)
        # Other accounts are not affected.
        _, other = self.new_user()
        expect(self.login(other), 200)
        # Unknown e-mails are 401, never 429, however often.
        for _ in range(6):
            self.assert_problem(self.login("nobody@turnstile.test", "wrong-password-1"), 401,
                                "unauthorized")


class RolesAndBlocks(AuthCase):
    def test_rule_auth_2_roles_granted_count_at_once(self):
        s = self.stack
        uid, email = self.new_user()
        tok = expect(self.login(email), 200)["access_token"]
        venue = {"name": "Mine", "city": "Split", "country": "HR",
                 "sections": [{"key": "GA", "name": "Floor", "kind": "standing", "capacity": 10}]}
        self.assert_problem(s.request("POST", "/venues", venue, token=tok), 403, "forbidden")
        got = s.grant_role(uid, "organizer")
        self.assertEqual(got["roles"], ["attendee", "organizer"])
        self.assertGreater(got["commit_seq"], 0)
        # The same access token (issued with roles [attendee]) may now create:
        # roles are read from the user, not trusted from the token.
        expect(s.request("POST", "/venues", venue, token=tok), 201)
        self.assertEqual(expect(s.request("GET", "/users/me", token=tok), 200)["roles"],
                         ["attendee", "organizer"])
        # Granting it again changes nothing and says so.
        again = s.grant_role(uid, "organizer")
        self.assertEqual(again, {"roles": ["attendee", "organizer"],
                                 "commit_seq": got["commit_seq"]})
        self.assertEqual(s.grant_role(uid, "box_office")["roles"],
                         ["attendee", "organizer", "box_office"])
        # A fresh login carries the roles in its token too.
        fresh = expect(self.login(email), 200)["access_token"]
        payload = fresh.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims["roles"], ["attendee", "organizer", "box_office"])
        self.assertEqual((claims["sub"], claims["iss"]), (uid, "turnstile"))
        self.assertEqual(claims["exp"] - claims["iat"], 900)

    def test_rule_auth_2_blocked_user_cannot_hold(self):
        s = self.stack
        admin = s.admin_token()
        _, e, _ = published_event(s, admin)
        holds = f"/events/{e['event_id']}/holds"
        uid, email = self.new_user()
        tok = expect(self.login(email), 200)["access_token"]
        blocked = expect(s.request("POST", f"/users/{uid}/block", {"reason": "scalping"},
                                   token=admin), 200)
        self.assertEqual(blocked["blocked"], True)
        p = self.assert_problem(s.request("POST", holds, {"seats": ["A-1-1"]}, token=tok), 403,
                                "forbidden")
        self.assertIn("blocked", p["detail"])
        self.assert_problem(s.request("POST", holds, {"tier": "floor", "quantity": 1}, token=tok),
                            403, "forbidden")
        # Blocked is not banned: the user may log in and see their account.
        tok = expect(self.login(email), 200)["access_token"]
        expect(s.request("GET", "/users/me", token=tok), 200)
        # Blocking twice changes nothing (commit_seq: the user's last commit,
        # which the login above made).
        again = expect(s.request("POST", f"/users/{uid}/block", token=admin), 200)
        self.assertEqual(again["blocked"], True)
        self.assertGreater(again["commit_seq"], blocked["commit_seq"])
        unblocked = expect(s.request("DELETE", f"/users/{uid}/block", token=admin), 200)
        self.assertEqual(unblocked["blocked"], False)
        self.assertGreater(unblocked["commit_seq"], blocked["commit_seq"])
        booking = expect(s.request("POST", holds, {"seats": ["A-1-1"]}, token=tok), 201)
        self.assertEqual(booking["status"], "held")
        types = [(t, d.get("reason")) for t, d in self.user_events(uid) if t.startswith("User")]
        self.assertEqual(types, [("UserRegistered", None), ("UserBlocked", "scalping"),
                                 ("UserUnblocked", None)])

    def test_admin_endpoints_refuse_others(self):
        s = self.stack
        uid, email = self.new_user()
        tok = expect(self.login(email), 200)["access_token"]
        _, org = s.register_as("organizer")
        for who in (tok, org):
            self.assert_problem(s.request("POST", f"/users/{uid}/roles", {"role": "admin"},
                                          token=who), 403, "forbidden")
            self.assert_problem(s.request("POST", f"/users/{uid}/block", token=who), 403,
                                "forbidden")
            self.assert_problem(s.request("DELETE", f"/users/{uid}/block", token=who), 403,
                                "forbidden")
        for method, path, body in (("POST", f"/users/{uid}/roles", {"role": "admin"}),
                                   ("POST", f"/users/{uid}/block", None),
                                   ("DELETE", f"/users/{uid}/block", None)):
            self.assert_problem(s.request(method, path, body), 401, "unauthorized")
        self.assertEqual(expect(s.request("GET", "/users/me", token=tok), 200)["roles"],
                         ["attendee"])


class BadInput(AuthCase):
    def test_every_auth_endpoint_answers_bad_input_with_its_problem(self):
        s = self.stack
        admin = s.admin_token()
        uid, email = self.new_user()
        session = expect(self.login(email), 200)
        tok = session["access_token"]

        def bad(method, path, field, body=None, raw=None, token=None):
            p = self.assert_problem(s.request(method, path, body, token=token, raw=raw), 400,
                                    "validation_failed")
            self.assertEqual(p["errors"][0]["field"], field, p)

        # Malformed JSON and non-objects, everywhere a body is read.
        for method, path, token in (("POST", "/auth/login", None), ("POST", "/auth/refresh", None),
                                    ("POST", "/auth/logout", tok),
                                    ("POST", f"/users/{uid}/roles", admin),
                                    ("POST", f"/users/{uid}/block", admin),
                                    ("DELETE", f"/users/{uid}/block", admin)):
            bad(method, path, "body", raw="{not json", token=token)
            bad(method, path, "body", raw="[1, 2]", token=token)
        # Missing fields and wrong types.
        bad("POST", "/auth/login", "email", {"password": PASSWORD})
        bad("POST", "/auth/login", "password", {"email": email, "password": 1234567890123})
        bad("POST", "/auth/refresh", "refresh_token", {})
        bad("POST", "/auth/refresh", "refresh_token", {"refresh_token": 12})
        bad("POST", "/auth/refresh", "refresh_token", {"refresh_token": None})
        bad("POST", "/auth/logout", "refresh_token", {}, token=tok)
        bad("POST", "/auth/logout", "refresh_token", {"refresh_token": ["x"]}, token=tok)
        bad("POST", f"/users/{uid}/roles", "role", {}, token=admin)
        bad("POST", f"/users/{uid}/roles", "role", {"role": 1}, token=admin)
        bad("POST", f"/users/{uid}/roles", "role", {"role": "superuser"}, token=admin)
        bad("POST", f"/users/{uid}/roles", "role", {"role": "Admin"}, token=admin)
        bad("POST", f"/users/{uid}/block", "reason", {"reason": 7}, token=admin)
        bad("POST", f"/users/{uid}/block", "reason", {"reason": "x" * 201}, token=admin)
        # Tokens that are no refresh token of ours: 401 at refresh, whatever
        # their shape. At logout a well-formed token naming another user is
        # 403, and one naming a session of the caller that does not exist
        # (any more) is 204: the session is over either way.
        admin_id = expect(s.request("GET", "/users/me", token=admin), 200)["user_id"]
        r = session["refresh_token"]
        zeros = "0" * 64
        forged = [(r[:-1] + ("0" if r[-1] != "0" else "1"), 401, "unauthorized"),
                  ("garbage", 401, "unauthorized"), ("", 401, "unauthorized"),
                  ("a.b.c", 401, "unauthorized"), (r + ".x", 401, "unauthorized"),
                  (r.upper(), 401, "unauthorized"), ("x" * 300, 401, "unauthorized"),
                  ("../../etc.passwd.x", 401, "unauthorized"),
                  (f"usnobody00000000.f.{zeros}", 401, "unauthorized"),
                  (f"{admin_id}.f.{zeros}", 403, "forbidden"),
                  (f"{uid}.nofamily.{zeros}", 204, None)]
        for t, logout_status, logout_code in forged:
            self.assert_problem(self.refresh(t), 401, "unauthorized")
            answer = s.request("POST", "/auth/logout", {"refresh_token": t}, token=tok)
            if logout_code:
                self.assert_problem(answer, logout_status, logout_code)
            else:
                self.assertEqual(answer[0], logout_status, (t, answer))
        # Unknown users: 404 for the admin endpoints, however the id looks.
        for user in ("usdoesnotexist00", "no.such", "x" * 65):
            self.assert_problem(s.request("POST", f"/users/{user}/roles", {"role": "organizer"},
                                          token=admin), 404, "not_found")
            self.assert_problem(s.request("POST", f"/users/{user}/block", token=admin), 404,
                                "not_found")
            self.assert_problem(s.request("DELETE", f"/users/{user}/block", token=admin), 404,
                                "not_found")
        # Nothing above wrote a thing to the user, and the session still works.
        self.assertEqual([t for t, _ in self.user_events(uid)],
                         ["UserRegistered", "RefreshIssued"])
        expect(self.refresh(session["refresh_token"]), 200)
        self.assertEqual(s.request("GET", "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main()
