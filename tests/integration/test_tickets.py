"""Tickets and gates through HTTP (RULE-TKT-1..3): a paid booking's tickets
with Ed25519-signed codes and their QR, check-in at the gate (admitted,
already_used with the first scan, a scanner's retry, revoked, invalid,
wrong_event), transfer with its cutoff and the revocation list, and the
event keys: the private key stays in the data directory, never in the log.

The e2e segment: tickets -> QR -> check-in admitted -> rescan already_used
-> transfer -> old code revoked, new one admitted."""

import base64
import ctypes
import ctypes.util
import json
import os
import secrets
import stat
import subprocess
import time
import unittest
import xml.etree.ElementTree as ET

from harness import StackTestCase, expect
from helpers import audit, get_projected, rfc3339
from pay_util import PAY_ENV, paid_booking

SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------- a gate's view

def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _libcrypto():
    lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
    lib.EVP_PKEY_new_raw_public_key.restype = ctypes.c_void_p
    lib.EVP_PKEY_new_raw_public_key.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p,
                                                ctypes.c_size_t]
    lib.EVP_MD_CTX_new.restype = ctypes.c_void_p
    lib.EVP_DigestVerifyInit.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                         ctypes.c_void_p, ctypes.c_void_p]
    lib.EVP_DigestVerify.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                     ctypes.c_char_p, ctypes.c_size_t]
    lib.EVP_MD_CTX_free.argtypes = [ctypes.c_void_p]
    lib.EVP_PKEY_free.argtypes = [ctypes.c_void_p]
    return lib


def gate_verify(code, public_key_b64):
    """What a gate does offline with only the published key (engine.h,
    "tickets"): split at '.', base64url-decode, Ed25519-verify the payload
    bytes with libcrypto directly (not our code), then read the JSON.
    Returns the payload, or None when the signature does not verify."""
    lib = _libcrypto()
    payload_b64, sig_b64 = code.split(".")
    payload, sig = b64url_decode(payload_b64), b64url_decode(sig_b64)
    raw = base64.b64decode(public_key_b64)
    assert len(raw) == 32 and len(sig) == 64, (len(raw), len(sig))
    evp_pkey_ed25519 = 1087  # NID_ED25519
    key = lib.EVP_PKEY_new_raw_public_key(evp_pkey_ed25519, None, raw, 32)
    md = lib.EVP_MD_CTX_new()
    try:
        ok = (lib.EVP_DigestVerifyInit(md, None, None, None, key) == 1 and
              lib.EVP_DigestVerify(md, sig, 64, payload, len(payload)) == 1)
    finally:
        lib.EVP_MD_CTX_free(md)
        lib.EVP_PKEY_free(key)
    return json.loads(payload) if ok else None


def change_one_byte(code, i):
    """code with the character at i replaced by another base64url one."""
    c = code[i]
    other = "B" if c == "A" else "A"
    return code[:i] + other + code[i + 1:]


# ---------------------------------------------------------------- flows

def confirmed_tickets(s, token, event_id, seats):
    """Holds seats, pays with the simulated provider (a real signed webhook)
    and returns the booking's tickets, as GET /users/me/tickets lists them
    once the booking is confirmed (sorted by seat)."""
    _, _, booking = paid_booking(s, token, event_id, {"seats": seats})
    self_check = sorted(t["ticket_id"] for t in booking["tickets"])
    mine = expect(get_projected(s, "/users/me/tickets?limit=200", booking["commit_seq"],
                                token=token), 200)
    got = [t for t in mine["items"] if t["booking_id"] == booking["booking_id"]]
    assert sorted(t["ticket_id"] for t in got) == self_check, (got, booking)
    assert len(got) == len(seats), got
    return sorted(got, key=lambda t: t["seat"])


def event_with_seats(s, admin, starts_in_hours=30 * 24, **policy):
    v = s.create_venue(admin)
    now = time.time()
    starts = now + starts_in_hours * 3600
    sale = {"sale_starts_at": rfc3339(now - 3600), "sale_ends_at": rfc3339(starts)}
    body = {"starts_at": rfc3339(starts), "ends_at": rfc3339(starts + 2 * 3600),
            "tiers": [dict(key="std", name="Standard", sections=["A", "B"],
                           price={"amount": 2500, "currency": "EUR"}, **sale),
                      dict(key="floor", name="Floor", sections=["GA"],
                           price={"amount": 1500, "currency": "EUR"}, **sale)]}
    if policy:
        body["policy"] = policy
    e = s.create_event(admin, v["venue_id"], **body)
    published = s.publish(admin, e["event_id"])
    # The keys of GET /events/{id}/keys are there once the read model has
    # the event (the key itself comes from the engine).
    expect(get_projected(s, f"/events/{e['event_id']}/keys", published["commit_seq"]), 200)
    return e["event_id"]


def key_file(s, event_id):
    return os.path.join(s.data_dir, "keys", f"{event_id}.pem")


class Tickets(StackTestCase):
    stack_options = {"env": PAY_ENV}

    def setUp(self):
        super().setUp()
        s = self.stack
        self.admin = s.admin_token()
        self.alice_id, self.alice = s.register(email=f"alice-{secrets.token_hex(3)}@t.test")
        self.bob_email = f"bob-{secrets.token_hex(3)}@t.test"
        self.bob_id, self.bob = s.register(email=self.bob_email)
        self.carol_id, self.carol = s.register()
        # RULE-AUTH-2: check-in is for the box office; the admin grants the role
        # (roles are read from the user aggregate, not from the token).
        _, self.gate = s.register_as("box_office")

    def checkin(self, code, nonce=None, gate="N1", token=None, **extra):
        body = {"code": code, "gate": gate, "nonce": nonce or secrets.token_hex(8), **extra}
        return expect(self.stack.request("POST", "/checkin", body, token=token or self.gate), 200)

    def test_tickets_qr_checkin_transfer_revocation(self):
        s = self.stack
        eid = event_with_seats(s, self.admin)

        # RULE-TKT-1: the public key is published; the private one stays in
        # DATA/keys/<event>.pem, 0600 in a 0700 directory.
        keys = expect(s.request("GET", f"/events/{eid}/keys"), 200)
        self.assertEqual(len(keys["ed25519"]), 1)
        pub = keys["ed25519"][0]
        self.assertEqual(len(base64.b64decode(pub)), 32)
        expect(s.request("GET", "/events/evnope/keys"), 404)
        draft = s.create_event(self.admin, s.create_venue(self.admin)["venue_id"])
        expect(get_projected(s, f"/events/{draft['event_id']}/keys", draft["commit_seq"]), 404)
        self.assertFalse(os.path.exists(key_file(s, draft["event_id"])))
        self.assertEqual(stat.S_IMODE(os.stat(key_file(s, eid)).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(key_file(s, eid))).st_mode), 0o700)

        tickets = confirmed_tickets(s, self.alice, eid, ["A-1-3", "A-1-4"])
        t1, t2 = tickets
        self.assertEqual((t1["seat"], t1["status"]), ("A-1-3", "valid"))

        # GET /tickets/{id}: the holder sees the signed code; it is stable.
        got = expect(s.request("GET", f"/tickets/{t1['ticket_id']}", token=self.alice), 200)
        self.assertEqual({k: got[k] for k in ("ticket_id", "event_id", "seat", "tier", "status")},
                         {"ticket_id": t1["ticket_id"], "event_id": eid, "seat": "A-1-3",
                          "tier": "std", "status": "valid"})
        code1 = got["code"]
        again = expect(s.request("GET", f"/tickets/{t1['ticket_id']}", token=self.alice), 200)
        self.assertEqual(again["code"], code1)
        # A gate verifies it offline with the published key alone.
        payload = gate_verify(code1, pub)
        self.assertIsNotNone(payload)
        self.assertEqual((payload["ticket"], payload["event"], payload["seat"],
                          payload["version"]), (t1["ticket_id"], eid, "A-1-3", 1))
        self.assertLess(payload["valid_from"], time.time() + 1)
        self.assertGreater(payload["valid_until"], time.time() + 29 * 86400)
        # Someone else may not see it; an admin may.
        expect(s.request("GET", f"/tickets/{t1['ticket_id']}", token=self.carol), 403)
        expect(s.request("GET", f"/tickets/{t1['ticket_id']}", token=self.admin), 200)
        expect(s.request("GET", "/tickets/tk-nope-A-0000", token=self.alice), 404)

        # The QR: an SVG document drawing the code.
        status, headers, svg = s.request("GET", f"/tickets/{t1['ticket_id']}/qr.svg",
                                         token=self.alice)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("image/svg+xml"))
        root = ET.fromstring(svg)
        self.assertEqual(root.tag, SVG + "svg")
        self.assertGreater(int(root.get("width")), 100)
        rects = root.findall(SVG + "rect")
        self.assertGreater(len(rects), 50)
        expect(s.request("GET", f"/tickets/{t1['ticket_id']}/qr.svg", token=self.carol), 403)

        # RULE-AUTH-2: an attendee cannot check anyone in.
        expect(s.request("POST", "/checkin", {"code": code1, "gate": "N1", "nonce": "x"},
                         token=self.alice), 403)
        # A code with one byte changed is invalid (payload or signature).
        dot = code1.index(".")
        for i in (0, 5, dot - 2, dot + 3, len(code1) - 1):
            r = self.checkin(change_one_byte(code1, i))
            self.assertEqual(r["result"], "invalid", (i, r))
        # ... which a gate's own check also refuses.
        self.assertIsNone(gate_verify(change_one_byte(code1, 5), pub))
        self.assertIsNone(gate_verify(change_one_byte(code1, dot + 3), pub))
        # A gate of another event.
        other = event_with_seats(s, self.admin)
        self.assertEqual(self.checkin(code1, event_id=other)["result"], "wrong_event")

        # RULE-TKT-2: admitted once; a rescan names the first scan; the
        # scanner's retry with the same nonce gets the same answer.
        first = self.checkin(code1, nonce="scan-1", gate="N1", event_id=eid)
        self.assertEqual(first["result"], "admitted", first)
        self.assertEqual(first["first_scan"]["gate"], "N1")
        retry = self.checkin(code1, nonce="scan-1", gate="N1")
        self.assertEqual(retry["result"], "admitted", retry)
        self.assertEqual(retry["first_scan"], first["first_scan"])
        rescan = self.checkin(code1, nonce="scan-2", gate="S4")
        self.assertEqual(rescan["result"], "already_used", rescan)
        self.assertEqual(rescan["first_scan"], first["first_scan"])
        used = expect(s.request("GET", f"/tickets/{t1['ticket_id']}", token=self.alice), 200)
        self.assertEqual(used["status"], "used")

        # RULE-TKT-3: a used ticket cannot be transferred.
        expect(s.request("POST", f"/tickets/{t1['ticket_id']}/transfer",
                         {"to_email": self.bob_email}, token=self.alice), 409)
        # A holder transferring someone else's ticket: refused.
        r = expect(s.request("POST", f"/tickets/{t2['ticket_id']}/transfer",
                             {"to_email": self.bob_email}, token=self.carol), 403)
        self.assertEqual(r["code"], "forbidden")
        # An unknown recipient.
        expect(s.request("POST", f"/tickets/{t2['ticket_id']}/transfer",
                         {"to_email": "nobody-here@t.test"}, token=self.alice), 404)

        # The transfer: Bob gets a new ticket (version 2, a new code).
        code2 = expect(s.request("GET", f"/tickets/{t2['ticket_id']}", token=self.alice),
                       200)["code"]
        before = expect(s.request("GET", f"/events/{eid}/revocations", token=self.gate), 200)
        moved = expect(s.request("POST", f"/tickets/{t2['ticket_id']}/transfer",
                                 {"to_email": self.bob_email.upper()}, token=self.alice), 200)
        new_id = moved["ticket_id"]
        self.assertNotEqual(new_id, t2["ticket_id"])
        self.assertGreater(moved["commit_seq"], 0)
        old = expect(s.request("GET", f"/tickets/{t2['ticket_id']}", token=self.alice), 200)
        self.assertEqual((old["status"], old["code"]), ("transferred", None))
        expect(s.request("GET", f"/tickets/{new_id}", token=self.alice), 403)
        new = expect(s.request("GET", f"/tickets/{new_id}", token=self.bob), 200)
        self.assertEqual((new["seat"], new["status"]), ("A-1-4", "valid"))
        self.assertNotEqual(new["code"], code2)
        self.assertEqual(gate_verify(new["code"], pub)["version"], 2)

        # The old code still carries a good signature, but it is revoked.
        self.assertIsNotNone(gate_verify(code2, pub))
        self.assertEqual(self.checkin(code2)["result"], "revoked")
        admitted = self.checkin(new["code"], gate="E2")
        self.assertEqual(admitted["result"], "admitted")

        # The revocation list: the transferred ticket, from the commit on.
        revs = expect(s.request("GET", f"/events/{eid}/revocations", token=self.gate), 200)
        self.assertEqual([(i["ticket_id"], i["revoked_seq"]) for i in revs["items"]],
                         [(t2["ticket_id"], moved["commit_seq"])])
        self.assertEqual(revs["items"][0]["reason"], "transferred")
        self.assertEqual(before["items"], [])
        self.assertGreaterEqual(revs["next_since_seq"], moved["commit_seq"])
        newer = expect(s.request("GET", f"/events/{eid}/revocations?since_seq="
                                 f"{revs['next_since_seq']}", token=self.gate), 200)
        self.assertEqual(newer["items"], [])
        since = expect(s.request("GET", f"/events/{eid}/revocations?since_seq="
                                 f"{moved['commit_seq'] - 1}", token=self.gate), 200)
        self.assertEqual([i["ticket_id"] for i in since["items"]], [t2["ticket_id"]])
        expect(s.request("GET", f"/events/{eid}/revocations", token=self.alice), 403)
        expect(s.request("GET", "/events/evnope/revocations", token=self.gate), 404)

        # Bob's list has the new ticket, Alice's the old one as transferred.
        bobs = expect(get_projected(s, "/users/me/tickets", admitted["commit_seq"],
                                    token=self.bob), 200)
        self.assertEqual([(t["ticket_id"], t["status"], t["version"]) for t in bobs["items"]],
                         [(new_id, "used", 2)])  # admitted at gate E2 above
        alices = expect(get_projected(s, "/users/me/tickets", moved["commit_seq"],
                                      token=self.alice), 200)
        self.assertEqual({t["ticket_id"]: t["status"] for t in alices["items"]},
                         {t1["ticket_id"]: "used", t2["ticket_id"]: "transferred"})
        # Pages of one follow the cursor.
        page = expect(s.request("GET", "/users/me/tickets?limit=1", token=self.alice), 200)
        self.assertEqual(len(page["items"]), 1)
        rest = expect(s.request("GET", f"/users/me/tickets?limit=1&cursor={page['next_cursor']}",
                                token=self.alice), 200)
        self.assertEqual(len(rest["items"]), 1)
        self.assertNotEqual(rest["items"][0]["ticket_id"], page["items"][0]["ticket_id"])
        expect(s.request("GET", "/users/me/tickets?cursor=garbage", token=self.alice), 400)

        self.assert_private_key_never_logged(eid)

    def assert_private_key_never_logged(self, eid):
        """RULE-TKT-1: the private key is in its file and nowhere else: not
        in any commit (GET /audit/events and `turnstile audit log`), not in
        serve's or the projector's log."""
        s = self.stack
        with open(key_file(s, eid)) as f:
            pem = f.read()
        body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
        der = base64.b64decode(body)
        seed = der[-32:]  # PKCS#8 Ed25519: the 32-byte private seed ends the DER
        secrets_forms = [body, base64.b64encode(seed).decode(),
                         base64.urlsafe_b64encode(seed).decode().rstrip("="), seed.hex()]
        commits = audit(s, self.admin, "tix.>")
        self.assertTrue(any(ev["type"] == "EventPublished" for c in commits
                            for ev in c["events"]))
        cli = subprocess.run([s.bin, "audit", "log", "--nats", s.nats_url],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("EventPublished", cli.stdout)
        texts = {"GET /audit/events": json.dumps(commits), "turnstile audit log": cli.stdout}
        for name in os.listdir(s.log_dir):
            with open(os.path.join(s.log_dir, name), errors="replace") as f:
                texts[name] = f.read()
        for where, text in texts.items():
            for form in secrets_forms:
                self.assertNotIn(form, text, f"private key material in {where}")
        # ... while the public key is there, so the scan could find a key.
        published = [ev["data"]["ticket_key"] for c in commits for ev in c["events"]
                     if ev["type"] == "EventPublished" and ev["data"]["event_id"] == eid]
        self.assertEqual(published,
                         expect(s.request("GET", f"/events/{eid}/keys"), 200)["ed25519"])

    def test_transfer_closed_at_the_cutoff(self):
        """RULE-TKT-3: transfers close transfer_cutoff_hours (48 by default)
        before the start; an event starting in 24 h is past it."""
        s = self.stack
        soon = event_with_seats(s, self.admin, starts_in_hours=24)
        t = confirmed_tickets(s, self.alice, soon, ["B-1-1"])[0]
        r = expect(s.request("POST", f"/tickets/{t['ticket_id']}/transfer",
                             {"to_email": self.bob_email}, token=self.alice), 422)
        self.assertEqual(r["code"], "transfer_closed")
        # With a 12 h cutoff the same distance is still open.
        later = event_with_seats(s, self.admin, starts_in_hours=24, transfer_cutoff_hours=12)
        t = confirmed_tickets(s, self.alice, later, ["B-1-1"])[0]
        expect(s.request("POST", f"/tickets/{t['ticket_id']}/transfer",
                         {"to_email": self.bob_email}, token=self.alice), 200)

    def test_cancelled_tickets_are_revoked_and_listed(self):
        """RULE-TKT-2, RULE-REF-1: cancelling a confirmed booking, and then
        the whole event, revokes their tickets; the revocation list names
        every one, with the commit that cancelled it."""
        s = self.stack
        eid = event_with_seats(s, self.admin)
        mine = confirmed_tickets(s, self.alice, eid, ["A-1-1", "A-1-2"])
        bobs = confirmed_tickets(s, self.bob, eid, ["B-2-5"])
        codes = {t["ticket_id"]: expect(s.request("GET", f"/tickets/{t['ticket_id']}",
                                                  token=tok), 200)["code"]
                 for t, tok in ((mine[0], self.alice), (mine[1], self.alice),
                                (bobs[0], self.bob))}
        start = expect(s.request("GET", f"/events/{eid}/revocations", token=self.gate), 200)
        self.assertEqual(start["items"], [])

        gone = expect(s.request("DELETE", f"/bookings/{mine[0]['booking_id']}", token=self.alice),
                      200)
        self.assertEqual({t["status"] for t in gone["tickets"]}, {"cancelled"})
        for t in mine:
            self.assertEqual(self.checkin(codes[t["ticket_id"]])["result"], "revoked")
            got = expect(s.request("GET", f"/tickets/{t['ticket_id']}", token=self.alice), 200)
            self.assertEqual((got["status"], got["code"]), ("cancelled", None))
            expect(s.request("GET", f"/tickets/{t['ticket_id']}/qr.svg", token=self.alice), 409)
        revs = expect(s.request("GET", f"/events/{eid}/revocations?since_seq="
                                f"{start['next_since_seq']}", token=self.gate), 200)
        self.assertEqual(sorted((i["ticket_id"], i["reason"]) for i in revs["items"]),
                         sorted((t["ticket_id"], "cancelled") for t in mine))
        self.assertEqual({i["revoked_seq"] for i in revs["items"]}, {gone["commit_seq"]})

        # The organizer cancels the event: Bob's ticket goes too (saga_cancel).
        expect(s.request("POST", f"/events/{eid}/cancel", {"reason": "storm"},
                         token=self.admin), 200)
        deadline = time.monotonic() + 30
        while True:
            later = expect(s.request("GET", f"/events/{eid}/revocations?since_seq="
                                     f"{revs['next_since_seq']}", token=self.gate), 200)
            if later["items"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual([(i["ticket_id"], i["reason"]) for i in later["items"]],
                         [(bobs[0]["ticket_id"], "cancelled")])
        self.assertGreater(later["items"][0]["revoked_seq"], revs["next_since_seq"])
        self.assertEqual(self.checkin(codes[bobs[0]["ticket_id"]])["result"], "revoked")
        # From 0, the whole history; the key of a cancelled event stays served.
        everything = expect(s.request("GET", f"/events/{eid}/revocations", token=self.gate), 200)
        self.assertEqual(len(everything["items"]), 3)
        expect(s.request("GET", f"/events/{eid}/keys"), 200)

    def test_missing_key_file_is_unavailable_not_regenerated(self):
        """A published event's key is never made again: without its file the
        engine answers 503 for codes (and logs why), and check-in of codes
        made before still works (it needs only the public key)."""
        s = self.stack
        eid = event_with_seats(s, self.admin)
        t = confirmed_tickets(s, self.alice, eid, ["A-2-1"])[0]
        code = expect(s.request("GET", f"/tickets/{t['ticket_id']}", token=self.alice),
                      200)["code"]
        os.rename(key_file(s, eid), key_file(s, eid) + ".away")
        r = expect(s.request("GET", f"/tickets/{t['ticket_id']}", token=self.alice), 503)
        self.assertEqual(r["code"], "unavailable")
        expect(s.request("GET", f"/tickets/{t['ticket_id']}/qr.svg", token=self.alice), 503)
        self.assertFalse(os.path.exists(key_file(s, eid)))
        # Publishing again does not make a new key either (it is a conflict).
        expect(s.request("POST", f"/events/{eid}/publish", token=self.admin), 409)
        self.assertFalse(os.path.exists(key_file(s, eid)))
        self.assertEqual(self.checkin(code)["result"], "admitted")
        with open(os.path.join(s.log_dir, "serve.log"), errors="replace") as f:
            self.assertIn(f"key file of event {eid} is missing", f.read())
        # The file back: codes again, the same as before.
        os.rename(key_file(s, eid) + ".away", key_file(s, eid))
        again = expect(s.request("GET", f"/tickets/{t['ticket_id']}", token=self.alice), 200)
        self.assertEqual(again["code"], code)


if __name__ == "__main__":
    unittest.main()
