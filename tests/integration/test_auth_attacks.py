"""Attacks on authentication and authorisation, each refused (RULE-AUTH-1,
RULE-AUTH-2, API.md Conventions): forged access tokens (alg none, another
key, expired, wrong issuer, algorithm confusion against an RS256 server,
claims edited after signing), role claims the user does not have, an
attendee publishing an event, an organizer publishing another organizer's
event, and servers whose keys are wrong refusing to start."""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import Stack, StackError, StackTestCase, expect
from helpers import _b64url, mint_token

PROBLEM = "application/problem+json"


def jwt(header, claims, sign):
    """A JWT from dicts; sign(signing_input bytes) -> signature bytes, or
    None for an empty signature."""
    signing_input = (_b64url(json.dumps(header).encode()) + "." +
                     _b64url(json.dumps(claims).encode()))
    sig = sign(signing_input.encode()) if sign else b""
    return signing_input + "." + _b64url(sig)


def claims_for(sub, roles=("attendee",), ttl=900, **extra):
    now = int(time.time())
    c = {"sub": sub, "roles": list(roles), "iat": now, "exp": now + ttl, "iss": "turnstile",
         "jti": "x1"}
    c.update(extra)
    return c


def hmac_signer(key):
    def sign(data, digest=hashlib.sha256):
        return hmac.new(key, data, digest).digest()
    return sign


def openssl(*args, data=None):
    r = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)}: {r.stderr.decode()}")
    return r.stdout


def make_keys(directory, name, kind):
    """A key pair in PEM files: (private path, public path)."""
    priv = os.path.join(directory, name + ".pem")
    pub = os.path.join(directory, name + ".pub.pem")
    if kind == "rsa":
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", priv)
    else:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", priv)
    openssl("pkey", "-in", priv, "-pubout", "-out", pub)
    return priv, pub


def rsa_signer(private_pem_path):
    """RS256: RSASSA-PKCS1-v1_5 with SHA-256, which `openssl dgst -sign`
    makes for an RSA key."""
    return lambda data: openssl("dgst", "-sha256", "-sign", private_pem_path, data=data)


class Checks(StackTestCase):
    def assert_problem(self, response, status, code):
        got, headers, p = response
        self.assertEqual(got, status, p)
        self.assertIn(PROBLEM, headers["Content-Type"])
        self.assertEqual(p["code"], code, p)
        return p

    def assert_refused(self, token, what):
        s = self.stack
        for method, path, body in (("GET", "/users/me", None),
                                   ("POST", "/venues", {"name": "X"})):
            got, headers, p = s.request(method, path, body, token=token)
            self.assertEqual((got, p["code"] if isinstance(p, dict) else p),
                             (401, "unauthorized"), f"{what}: {method} {path}")


class ForgedTokens(Checks):
    def test_forged_access_tokens_are_refused(self):
        s = self.stack
        admin = s.admin_token()
        admin_id = expect(s.request("GET", "/users/me", token=admin), 200)["user_id"]
        right = hmac_signer(s.jwt_secret.encode())
        cases = {
            "alg none": mint_token(s, admin_id, ("admin",), alg="none"),
            "alg None": jwt({"alg": "None", "typ": "JWT"}, claims_for(admin_id, ("admin",)), None),
            "alg none, with our HMAC anyway": jwt({"alg": "none"},
                                                  claims_for(admin_id, ("admin",)), right),
            "no alg": jwt({"typ": "JWT"}, claims_for(admin_id, ("admin",)), right),
            "another HS256 key": mint_token(s, admin_id, ("admin",), key="another-secret-0123456789"),
            "expired a second ago": mint_token(s, admin_id, ("admin",), ttl=-1),
            "expired long ago": mint_token(s, admin_id, ("admin",), ttl=-86400),
            "wrong issuer": mint_token(s, admin_id, ("admin",), iss="someone-else"),
            "no issuer": jwt({"alg": "HS256"}, {k: v for k, v in claims_for(admin_id).items()
                                                if k != "iss"}, right),
            "no exp": jwt({"alg": "HS256"}, {k: v for k, v in claims_for(admin_id).items()
                                             if k != "exp"}, right),
            "exp as a string": jwt({"alg": "HS256"},
                                   claims_for(admin_id, exp=str(int(time.time()) + 900)), right),
            "no sub": jwt({"alg": "HS256"}, {k: v for k, v in claims_for(admin_id).items()
                                             if k != "sub"}, right),
            "sub of nobody": mint_token(s, "usnobody00000000", ("admin",)),
            "sub not an id": mint_token(s, "../../etc", ("admin",)),
            # Our secret, another HMAC: only the configured algorithm counts.
            "HS512 with our secret": jwt({"alg": "HS512"}, claims_for(admin_id, ("admin",)),
                                         lambda d: hmac_signer(s.jwt_secret.encode())(
                                             d, hashlib.sha512)),
            "RS256 header, our HMAC": jwt({"alg": "RS256"}, claims_for(admin_id, ("admin",)),
                                          right),
            "two segments": mint_token(s, admin_id).rsplit(".", 1)[0],
            "four segments": mint_token(s, admin_id) + ".x",
            "garbage": "not-a-jwt",
        }
        # Claims edited after signing: the signature no longer matches.
        _, attendee = s.register()
        head, payload, sig = attendee.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
        claims["roles"] = ["admin"]
        claims["sub"] = admin_id
        cases["claims edited after signing"] = ".".join([head, _b64url(json.dumps(claims).encode()),
                                                         sig])
        for what, token in cases.items():
            self.assert_refused(token, what)
        # The same claims, properly signed, are accepted: the refusals were
        # about the tokens.
        expect(s.request("GET", "/users/me", token=mint_token(s, admin_id, ("admin",))), 200)
        self.assertEqual(s.request("GET", "/healthz")[0], 200)

    def test_rule_auth_2_role_claims_are_not_trusted(self):
        """A token carries the roles of its issue; what a user may do is
        read from the user. A properly signed token claiming admin for an
        attendee gives the attendee nothing."""
        s = self.stack
        uid, _ = s.register()
        boasting = mint_token(s, uid, ("admin", "organizer", "auditor"))
        self.assertEqual(expect(s.request("GET", "/users/me", token=boasting), 200)["roles"],
                         ["attendee"])
        self.assert_problem(s.request("POST", "/venues", {"name": "X"}, token=boasting), 403,
                            "forbidden")
        self.assert_problem(s.request("POST", f"/users/{uid}/roles", {"role": "admin"},
                                      token=boasting), 403, "forbidden")
        self.assert_problem(s.request("GET", "/audit/verify", token=boasting), 403, "forbidden")


class Ownership(Checks):
    def test_rule_auth_2_only_the_owner_or_an_admin_publishes(self):
        s = self.stack
        admin = s.admin_token()
        _, org_a = s.register_as("organizer")
        _, org_b = s.register_as("organizer")
        _, attendee = s.register()
        venue = s.create_venue(org_a)["venue_id"]
        ev = s.create_event(org_a, venue)["event_id"]
        # An attendee publishing: 403 (the role); another organizer: 403
        # (not theirs), even one whose token claims admin.
        self.assert_problem(s.request("POST", f"/events/{ev}/publish", token=attendee), 403,
                            "forbidden")
        p = self.assert_problem(s.request("POST", f"/events/{ev}/publish", token=org_b), 403,
                                "forbidden")
        self.assertIn("organizer", p["detail"])
        b_id = expect(s.request("GET", "/users/me", token=org_b), 200)["user_id"]
        self.assert_problem(s.request("POST", f"/events/{ev}/publish",
                                      token=mint_token(s, b_id, ("admin", "organizer"))),
                            403, "forbidden")
        # Nothing was written: the event is still a draft its owner publishes.
        done = s.publish(org_a, ev)
        self.assertEqual(done["status"], "published")
        # B's own event is B's to publish; an admin may publish anyone's.
        ev_b = s.create_event(org_b, venue)["event_id"]
        self.assert_problem(s.request("POST", f"/events/{ev_b}/publish", token=org_a), 403,
                            "forbidden")
        self.assertEqual(s.publish(admin, ev_b)["status"], "published")
        # An attendee cannot create events either (RULE-AUTH-2).
        self.assert_problem(s.request("POST", "/events", {"venue_id": venue}, token=attendee),
                            403, "forbidden")


class KeyServers(unittest.TestCase):
    """Servers configured for RS256 and ES256 (TURNSTILE_JWT_ALG with
    TURNSTILE_JWT_PRIVATE_KEY / TURNSTILE_JWT_PUBLIC_KEY)."""

    @classmethod
    def setUpClass(cls):
        cls.keys = tempfile.mkdtemp(prefix="ts-keys-", dir=os.environ.get("TS_TEST_TMPDIR"))
        cls.rsa = make_keys(cls.keys, "rsa", "rsa")
        cls.rsa_other = make_keys(cls.keys, "rsa-other", "rsa")
        cls.ec = make_keys(cls.keys, "ec", "ec")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.keys, ignore_errors=True)

    def env(self, alg, pair):
        return {"TURNSTILE_JWT_ALG": alg, "TURNSTILE_JWT_PRIVATE_KEY": pair[0],
                "TURNSTILE_JWT_PUBLIC_KEY": pair[1]}

    def test_rs256_server_refuses_algorithm_confusion(self):
        with Stack(env=self.env("RS256", self.rsa)) as s:
            session = expect(s.request("POST", "/auth/login", {"email": s.admin_email,
                                                              "password": s.admin_password}), 200)
            tok = session["access_token"]
            header = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "==="))
            self.assertEqual(header["alg"], "RS256")
            me = expect(s.request("GET", "/users/me", token=tok), 200)
            uid = me["user_id"]
            # Refresh issues RS256 tokens too.
            again = expect(s.request("POST", "/auth/refresh",
                                     {"refresh_token": session["refresh_token"]}), 200)
            expect(s.request("GET", "/users/me", token=again["access_token"]), 200)

            with open(self.rsa[1], "rb") as f:
                public_pem = f.read()
            claims = claims_for(uid, ("admin",))
            forged = {
                # The classic: HS256 keyed with the public key, which anyone has.
                "HS256 keyed with the public key": jwt({"alg": "HS256", "typ": "JWT"}, claims,
                                                       hmac_signer(public_pem)),
                "HS256 keyed with the public key, trimmed": jwt(
                    {"alg": "HS256"}, claims, hmac_signer(public_pem.strip())),
                "HS256 with the old shared secret": mint_token(s, uid, ("admin",)),
                "alg none": mint_token(s, uid, ("admin",), alg="none"),
                "RS256 signed with another key": jwt({"alg": "RS256"}, claims,
                                                     rsa_signer(self.rsa_other[0])),
                "RS256 expired": jwt({"alg": "RS256"}, claims_for(uid, ttl=-5),
                                     rsa_signer(self.rsa[0])),
                "RS256 wrong issuer": jwt({"alg": "RS256"}, claims_for(uid, iss="evil"),
                                          rsa_signer(self.rsa[0])),
            }
            for what, token in forged.items():
                got, _, p = s.request("GET", "/users/me", token=token)
                self.assertEqual((got, p["code"]), (401, "unauthorized"), what)
            # A token made with the right private key is accepted: the
            # refusals above were about the forgeries, not about RS256.
            good = jwt({"alg": "RS256", "typ": "JWT"}, claims, rsa_signer(self.rsa[0]))
            self.assertEqual(expect(s.request("GET", "/users/me", token=good), 200)["user_id"], uid)

    def test_es256_server(self):
        with Stack(env=self.env("ES256", self.ec)) as s:
            tok = s.admin_token()
            header = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "==="))
            self.assertEqual(header["alg"], "ES256")
            uid = expect(s.request("GET", "/users/me", token=tok), 200)["user_id"]
            with open(self.ec[1], "rb") as f:
                public_pem = f.read()
            for what, token in {
                "HS256 keyed with the public key": jwt({"alg": "HS256"}, claims_for(uid, ("admin",)),
                                                       hmac_signer(public_pem)),
                "RS256 from some RSA key": jwt({"alg": "RS256"}, claims_for(uid),
                                               rsa_signer(self.rsa[0])),
                "alg none": mint_token(s, uid, alg="none"),
                "tampered": tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB"),
            }.items():
                got, _, p = s.request("GET", "/users/me", token=token)
                self.assertEqual((got, p["code"]), (401, "unauthorized"), what)

    def test_wrong_key_configuration_refuses_to_start(self):
        missing = os.path.join(self.keys, "missing.pem")
        for what, env in {
            "unknown algorithm": {"TURNSTILE_JWT_ALG": "HS999"},
            "alg none": {"TURNSTILE_JWT_ALG": "none"},
            "no key files": {"TURNSTILE_JWT_ALG": "RS256"},
            "a missing file": self.env("RS256", (missing, self.rsa[1])),
            "public key of another pair": self.env("RS256", (self.rsa[0], self.rsa_other[1])),
            "an EC pair for RS256": self.env("RS256", self.ec),
        }.items():
            stack = Stack(env=env)
            with self.assertRaises(StackError, msg=what):
                stack.start()
            self.assertEqual(stack.exit_codes.get("serve"), 1, what)


if __name__ == "__main__":
    unittest.main()
