#!/usr/bin/env python3
"""tests/bench/seatmap_check.py — the seat-map benchmark's check of what it
serves (seatmap.sh runs it while holds change the map):

    seatmap_check.py URL EVENT SEATS SECONDS

For SECONDS, GETs URL/api/v1/events/EVENT/seats in turn with
`Accept-Encoding: gzip` and with none, on one keep-alive connection each.
Every gzip answer must carry Content-Encoding: gzip and decompress (Python's
gzip module checks the CRC-32 and the length in the trailer) to JSON with
SEATS seats; every identity answer must be JSON with SEATS seats and no
Content-Encoding. Prints one JSON line (answers, bytes per answer of each
encoding, the distinct as_of_seq seen) and exits 1 on the first failure."""

import gzip
import http.client
import json
import sys
import time
import urllib.parse


def seats_of(m):
    return sum(len(s.get("seats", [])) for s in m["sections"])


def main():
    url, event, want, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    u = urllib.parse.urlparse(url)
    path = f"/api/v1/events/{event}/seats"
    conns = {enc: http.client.HTTPConnection(u.hostname, u.port, timeout=10)
             for enc in ("gzip", "identity")}
    n = {"gzip": 0, "identity": 0}
    size = {"gzip": 0, "identity": 0}
    as_of = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for enc, conn in conns.items():
            # skip_accept_encoding: http.client would add "identity" itself.
            conn.putrequest("GET", path, skip_accept_encoding=True)
            if enc == "gzip":
                conn.putheader("Accept-Encoding", "gzip")
            conn.endheaders()
            r = conn.getresponse()
            body = r.read()
            coding = r.getheader("Content-Encoding")
            if r.status != 200 or coding != (None if enc == "identity" else "gzip"):
                sys.exit(f"seatmap_check: {enc}: status {r.status}, Content-Encoding {coding}")
            text = gzip.decompress(body) if enc == "gzip" else body
            m = json.loads(text)
            if seats_of(m) != want:
                sys.exit(f"seatmap_check: {enc}: {seats_of(m)} seats, not {want}")
            n[enc] += 1
            size[enc] += len(body)
            as_of.add(m["as_of_seq"])
    print(json.dumps({
        "gzip_answers": n["gzip"], "identity_answers": n["identity"],
        "gzip_bytes_per_answer": size["gzip"] // max(n["gzip"], 1),
        "identity_bytes_per_answer": size["identity"] // max(n["identity"], 1),
        "as_of_changes": len(as_of), "seats": want}))


if __name__ == "__main__":
    main()
