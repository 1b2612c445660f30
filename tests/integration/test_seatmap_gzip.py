"""The seat map's gzip and zstd content codings against the real stack.

GET /events/{id}/seats answers `Content-Encoding: zstd` when the request's
Accept-Encoding names zstd and takes it at least as much as gzip (browsers
send "gzip, deflate, br, zstd"), `Content-Encoding: gzip` when it takes gzip
otherwise (RFC 9110 section 12.5.3), with `Vary: Accept-Encoding` on every
answer; otherwise the identity body exactly as before. The gzip body is put
together from pieces compressed when the sections were serialised
(projections/gzpiece.c), the zstd body is one frame of the whole text made
once per map and checkpoint (projections/zstpiece.c), so these tests check
what a client sees: the gzip member decompresses (its CRC-32 and length
check), and the zstd frame decompresses with the `zstd` tool (its checksum
checked, no window above RFC 9659's 8 MB; one frame), to the very bytes of the
identity answer at the same as_of_seq, including while holds change the
map, and q=0 refuses a coding. Python on Debian 12 has no zstd module: the
`zstd` package's CLI decodes (ops/lib.sh installs it)."""

import gzip
import http.client
import json
import shutil
import struct
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import zlib

from harness import StackTestCase, expect
from helpers import seat_statuses, seatmap, wait_checkpoint


def fetch(stack, path, accept_encoding=None):
    """GET path with exactly this Accept-Encoding (None: no such field at
    all); returns (status, headers, raw body bytes), nothing decoded."""
    u = urllib.parse.urlsplit(stack.url(path))
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest("GET", u.path + (f"?{u.query}" if u.query else ""),
                        skip_accept_encoding=True)
        if accept_encoding is not None:
            conn.putheader("Accept-Encoding", accept_encoding)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def gunzip_checked(test, body):
    """The text of a gzip member, checked three ways: Python's gzip module
    (which verifies CRC-32 and ISIZE), a second zlib inflate that must end
    exactly at the member's end, and the trailer against the text."""
    text = gzip.decompress(body)
    test.assertEqual(body[:3], b"\x1f\x8b\x08")
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    test.assertEqual(d.decompress(body) + d.flush(), text)
    test.assertTrue(d.eof)
    test.assertEqual(d.unused_data, b"")
    crc, isize = struct.unpack("<II", body[-8:])
    test.assertEqual(crc, zlib.crc32(text))
    test.assertEqual(isize, len(text) & 0xFFFFFFFF)
    return text


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # RFC 8878 section 3.1.1: every frame starts so
ZSTD = shutil.which("zstd")


def unzstd_checked(test, body):
    """The text of a zstd body, decoded by the zstd CLI, which checks the
    frame's checksum (and would read any further frames) and, with
    --memory=8MB, refuses a frame that needs a window above 8 MiB (RFC 9659
    section 3). A body cut short or changed fails to decode."""
    test.assertIsNotNone(ZSTD, "the zstd tool is missing (ops/lib.sh installs it)")
    test.assertEqual(body[:4], ZSTD_MAGIC)
    p = subprocess.run([ZSTD, "-dc", "--memory=8MB"], input=body, capture_output=True,
                       timeout=60, check=False)
    test.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
    return p.stdout


def big_venue(stack, token):
    """Sections A and B of 20 rows x 50 seats (2,000 seats) and GA: blobs
    large enough to take several deflate blocks each."""
    rows = [{"label": str(i), "seats": 50, **({"accessible": [1, 2]} if i == 1 else {})}
            for i in range(1, 21)]
    return stack.create_venue(token, sections=[
        {"key": "A", "name": "North", "kind": "seated", "rows": rows},
        {"key": "B", "name": "South", "kind": "seated", "rows": rows},
        {"key": "GA", "name": "Floor", "kind": "standing", "capacity": 100},
    ])


class TestSeatMapCodings(StackTestCase):

    def assert_identity(self, answer):
        status, headers, body = answer
        self.assertEqual(status, 200)
        self.assertIsNone(headers["Content-Encoding"])
        self.assertIn("Accept-Encoding", headers["Vary"] or "")
        self.assertEqual(int(headers["Content-Length"]), len(body))
        return body

    def assert_coded_as(self, answer, coding):
        """The body of a 200 answer in this Content-Encoding, as sent."""
        status, headers, body = answer
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Encoding"], coding)
        self.assertIn("Accept-Encoding", headers["Vary"] or "")
        self.assertIn("application/json", headers["Content-Type"])
        self.assertEqual(int(headers["Content-Length"]), len(body))
        return body

    def assert_gzip(self, answer):
        return gunzip_checked(self, self.assert_coded_as(answer, "gzip"))

    def assert_zstd(self, answer):
        return unzstd_checked(self, self.assert_coded_as(answer, "zstd"))

    def assert_coded(self, answer):
        """The text of a gzip or zstd answer, whichever it is."""
        if answer[1]["Content-Encoding"] == "zstd":
            return self.assert_zstd(answer)
        return self.assert_gzip(answer)

    def test_gzip_and_zstd_are_the_identity_document_and_q0_refuses_them(self):
        s = self.stack
        tok = s.admin_token()
        eid = s.create_event(tok, big_venue(s, tok)["venue_id"])["event_id"]
        pub = s.publish(tok, eid)
        last = pub["commit_seq"]
        for seats in (["A-1-1"], ["A-2-3", "A-2-4"], ["B-20-50"]):
            last = expect(s.request("POST", f"/events/{eid}/holds", {"seats": seats}, token=tok),
                          201)["commit_seq"]
        last = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 3},
                                token=tok), 201)["commit_seq"]
        # Settled: nothing commits any more, so every read below is at the
        # same checkpoint and the answers must be the same document.
        wait_checkpoint(s, last)
        path = f"/events/{eid}/seats?min_seq={last}"
        plain = self.assert_identity(fetch(s, path))
        m = json.loads(plain)
        self.assertGreaterEqual(m["as_of_seq"], last)
        self.assertEqual(len(seat_statuses(m)), 2000)
        self.assertEqual(seat_statuses(m)["B-20-50"], "held")
        # gzip also for "*": zstd only goes to a client that names it.
        for ae in ("gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1", "x-gzip",
                   "GZIP;q=0.5", "gzip, zstd;q=0", "gzip;q=0.8, zstd;q=0.7", "zstd;q=0, *",
                   "*", "gzip, *"):
            text = self.assert_gzip(fetch(s, path, ae))
            # Byte for byte the identity answer, not only the same JSON.
            self.assertEqual(text, plain, ae)
        # zstd when named and taken at least as much as gzip: what browsers
        # send (zstd the smallest).
        for ae in ("gzip, deflate, br, zstd", "zstd", "ZSTD;q=0.5", "zstd, *",
                   "gzip;q=0.5, zstd;q=0.5", "identity;q=0.5, zstd;q=0.5"):
            text = self.assert_zstd(fetch(s, path, ae))
            self.assertEqual(text, plain, ae)
        gz = fetch(s, path, "gzip")[2]
        self.assertLess(len(gz) * 5, len(plain))  # it is worth it
        zst = fetch(s, path, "gzip, deflate, br, zstd")[2]
        self.assertLess(len(zst) * 10, len(plain))
        self.assertLess(len(zst), len(gz))  # the reason to send it
        # One frame: decoders that stop after the first frame (Node's zlib,
        # which Node's fetch uses) get the whole map too.
        with tempfile.NamedTemporaryFile(suffix=".zst") as f:
            f.write(zst)
            f.flush()
            p = subprocess.run([ZSTD, "-lv", f.name], capture_output=True, text=True,
                               timeout=60, check=True)
        self.assertIn("# Zstandard Frames: 1\n", p.stdout + p.stderr)
        # A body cut short or with a changed byte does not decode: the
        # check above could fail.
        for bad in (zst[:-1], zst[:-4] + bytes(b ^ 1 for b in zst[-4:])):
            p = subprocess.run([ZSTD, "-dc"], input=bad, capture_output=True, timeout=60,
                               check=False)
            self.assertNotEqual(p.returncode, 0)
        # Refused, not named or preferred less than identity: identity.
        for ae in (None, "", "identity", "gzip;q=0", "gzip;q=0.000, deflate", "*;q=0",
                   "gzip;q=0, zstd;q=0, *", "deflate, br", "gzip;q=0.5, identity", "zstd;q=0",
                   "zstd;q=0.5, identity", "gzip;q=0, zstd;q=0.000"):
            self.assertEqual(self.assert_identity(fetch(s, path, ae)), plain, ae)
        # The harness's own reads (urllib sends "identity") are unchanged.
        self.assertEqual(seatmap(s, eid, last), m)
        # A map without seated sections (a draft) and errors: errors are
        # never compressed.
        draft = s.create_event(tok, big_venue(s, tok)["venue_id"])
        wait_checkpoint(s, draft["commit_seq"])
        dpath = f"/events/{draft['event_id']}/seats?min_seq={draft['commit_seq']}"
        dplain = self.assert_identity(fetch(s, dpath))
        self.assertEqual(json.loads(dplain)["sections"], [])
        self.assertEqual(self.assert_gzip(fetch(s, dpath, "gzip")), dplain)
        self.assertEqual(self.assert_zstd(fetch(s, dpath, "zstd")), dplain)
        for ae in ("gzip", "gzip, deflate, br, zstd"):
            status, headers, body = fetch(s, "/events/ev_nosuchevent/seats", ae)
            self.assertEqual(status, 404)
            self.assertIsNone(headers["Content-Encoding"])
            self.assertEqual(json.loads(body)["code"], "not_found")

    def test_every_gzip_and_zstd_answer_checks_while_holds_change_the_map(self):
        s = self.stack
        tok = s.admin_token()
        venue = big_venue(s, tok)
        # One user holds every seat here (RULE-HOLD-4: max_per_user raised).
        eid = s.create_event(tok, venue["venue_id"], policy={"max_per_user": 1000})["event_id"]
        pub = s.publish(tok, eid)
        seatmap(s, eid, pub["commit_seq"])
        seats = [f"{k}-{r}-{n}" for k in "AB" for r in (1, 7, 20) for n in (1, 25, 50)]
        errors, stop = [], threading.Event()
        counts = {"gzip": 0, "zstd": 0, "identity": 0}

        def holder(mine):
            # Each hold, then the map asked for at its commit, as gzip and
            # as zstd in turn: it decompresses and shows the seat held, at
            # least that new.
            try:
                for i, seat in enumerate(mine):
                    h = expect(s.request("POST", f"/events/{eid}/holds", {"seats": [seat]},
                                         token=tok), 201)
                    ae = "gzip, deflate, br, zstd" if i % 2 else "gzip"
                    ans = fetch(s, f"/events/{eid}/seats?min_seq={h['commit_seq']}", ae)
                    m = json.loads(self.assert_zstd(ans) if i % 2 else self.assert_gzip(ans))
                    if m["as_of_seq"] < h["commit_seq"] or seat_statuses(m)[seat] != "held":
                        errors.append(f"{seat}: as_of_seq {m['as_of_seq']}, "
                                      f"{seat_statuses(m)[seat]} after {h['commit_seq']}")
            except BaseException as e:  # reported below
                errors.append(repr(e))

        def reader(ae):
            # Plain reads meanwhile, gzip, zstd or identity: every answer
            # parses, as_of_seq never goes back, and a held seat stays held.
            last, held = 0, set()
            try:
                while not stop.is_set():
                    ans = fetch(s, f"/events/{eid}/seats", ae)
                    coding = ans[1]["Content-Encoding"] or "identity"
                    text = self.assert_coded(ans) if ae else self.assert_identity(ans)
                    m = json.loads(text)
                    st = seat_statuses(m)
                    now = {k for k, v in st.items() if v == "held"}
                    if len(st) != 2000 or m["as_of_seq"] < last or not held <= now:
                        errors.append(f"{ae}: went back or lost seats at {m['as_of_seq']}")
                    last, held = m["as_of_seq"], now
                    counts[coding] += 1
            except BaseException as e:
                errors.append(repr(e))

        readers = [threading.Thread(target=reader, args=(ae,))
                   for ae in ("gzip", "gzip, deflate, br", "gzip, deflate, br, zstd", None)]
        holders = [threading.Thread(target=holder, args=(seats[i::3],)) for i in range(3)]
        for t in readers + holders:
            t.start()
        for t in holders:
            t.join(120)
        stop.set()
        for t in readers:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertGreater(counts["gzip"], 0)
        self.assertGreater(counts["zstd"], 0)
        self.assertGreater(counts["identity"], 0)
        # At the end, settled: gzip, zstd and identity are the same document.
        final = seatmap(s, eid, 0)
        self.assertEqual({k for k, v in seat_statuses(final).items() if v == "held"}, set(seats))
        wait_checkpoint(s, final["as_of_seq"])
        path = f"/events/{eid}/seats?min_seq={final['as_of_seq']}"
        plain = self.assert_identity(fetch(s, path))
        self.assertEqual(self.assert_gzip(fetch(s, path, "gzip")), plain)
        self.assertEqual(self.assert_zstd(fetch(s, path, "gzip, deflate, br, zstd")), plain)


if __name__ == "__main__":
    unittest.main()
