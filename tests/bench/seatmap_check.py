#!/usr/bin/env python3
"""tests/bench/seatmap_check.py — the seat-map benchmark's check of what it
serves (seatmap.sh runs it while holds change the map):

    seatmap_check.py URL EVENT SEATS SECONDS

For SECONDS, GETs URL/api/v1/events/EVENT/seats in turn with
`Accept-Encoding: gzip, deflate, br, zstd` (what Chrome 123+ sends), with
`Accept-Encoding: gzip` and with none, on one keep-alive connection each.
Every zstd answer must carry Content-Encoding: zstd and decompress with the
`zstd` tool (Python on Debian 12 has no zstd module; `zstd -dc` reads every
frame and checks each one's checksum, and --memory=8MB refuses a window
above RFC 9659's 8 MB); every gzip answer must carry Content-Encoding: gzip
and decompress (Python's gzip module checks the CRC-32 and the length in
the trailer); each to JSON with SEATS seats; every identity answer must be
JSON with SEATS seats and no Content-Encoding. Prints one JSON line
(answers, bytes per answer of each encoding, the distinct as_of_seq seen)
and exits 1 on the first failure."""

import gzip
import http.client
import json
import shutil
import subprocess
import sys
import time
import urllib.parse

ACCEPT = {"zstd": "gzip, deflate, br, zstd", "gzip": "gzip", "identity": None}


def seats_of(m):
    return sum(len(s.get("seats", [])) for s in m["sections"])


def unzstd(body):
    p = subprocess.run([ZSTD, "-dc", "--memory=8MB"], input=body, capture_output=True,
                       timeout=30, check=False)
    if p.returncode != 0:
        sys.exit(f"seatmap_check: zstd: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


ZSTD = shutil.which("zstd")


def main():
    url, event, want, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    if not ZSTD:
        sys.exit("seatmap_check: the zstd tool is missing (ops/lib.sh ts_install_deps)")
    u = urllib.parse.urlparse(url)
    path = f"/api/v1/events/{event}/seats"
    conns = {enc: http.client.HTTPConnection(u.hostname, u.port, timeout=10) for enc in ACCEPT}
    n = dict.fromkeys(ACCEPT, 0)
    size = dict.fromkeys(ACCEPT, 0)
    as_of = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for enc, conn in conns.items():
            # skip_accept_encoding: http.client would add "identity" itself.
            conn.putrequest("GET", path, skip_accept_encoding=True)
            if ACCEPT[enc]:
                conn.putheader("Accept-Encoding", ACCEPT[enc])
            conn.endheaders()
            r = conn.getresponse()
            body = r.read()
            coding = r.getheader("Content-Encoding")
            if r.status != 200 or coding != (None if enc == "identity" else enc):
                sys.exit(f"seatmap_check: {enc}: status {r.status}, Content-Encoding {coding}")
            text = (unzstd(body) if enc == "zstd" else
                    gzip.decompress(body) if enc == "gzip" else body)
            m = json.loads(text)
            if seats_of(m) != want:
                sys.exit(f"seatmap_check: {enc}: {seats_of(m)} seats, not {want}")
            n[enc] += 1
            size[enc] += len(body)
            as_of.add(m["as_of_seq"])
    out = {}
    for enc in ACCEPT:
        out[f"{enc}_answers"] = n[enc]
        out[f"{enc}_bytes_per_answer"] = size[enc] // max(n[enc], 1)
    out.update({"as_of_changes": len(as_of), "seats": want})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
