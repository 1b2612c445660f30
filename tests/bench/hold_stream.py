#!/usr/bin/env python3
"""tests/bench/hold_stream.py — a steady stream of one-seat holds, so that a
read benchmark (seatmap.sh) measures a seat map that keeps changing.

    hold_stream.py URL TOKENS EVENT SECTIONS ROWS SEATS RATE

POSTs {"seats": ["<section>-<row>-<n>"]} to URL/api/v1/events/EVENT/holds
RATE times a second on one keep-alive connection, walking the seats so
that consecutive holds land in different sections (section keys S00..).
TOKENS is one access token or several separated by commas, taken in turn:
a user holds at most the event's max_per_user seats (RULE-HOLD-4, at most
1,000), so a stream of thousands of holds needs several users.
Runs until SIGTERM or SIGINT, then prints one JSON line: holds sent,
answers by status, seconds, and the last commit_seq it was told."""

import http.client
import json
import signal
import sys
import time
import urllib.parse


def main():
    url, tokens, event = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    sections, rows, seats, rate = (int(x) for x in sys.argv[4:8])
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    path = f"/api/v1/events/{event}/holds"
    statuses, last_seq, sent = {}, 0, 0
    total = sections * rows * seats
    start = time.monotonic()
    while not stop and sent < total:
        # Seat k: section k mod S, then row and number from k div S.
        k = sent
        sec, rest = k % sections, k // sections
        row, num = rest // seats + 1, rest % seats + 1
        body = json.dumps({"seats": [f"S{sec:02d}-{row}-{num}"]})
        headers = {"Authorization": "Bearer " + tokens[sent % len(tokens)],
                   "Content-Type": "application/json"}
        try:
            conn.request("POST", path, body, headers)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            statuses["error"] = statuses.get("error", 0) + 1
            time.sleep(0.1)
            continue
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
        if r.status == 201:
            last_seq = max(last_seq, json.loads(data).get("commit_seq", 0))
        sent += 1
        # Pace to RATE a second from the start (no catching up in bursts).
        delay = start + sent / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    print(json.dumps({"holds": sent, "statuses": statuses, "last_commit_seq": last_seq,
                      "seconds": round(time.monotonic() - start, 3)}))


if __name__ == "__main__":
    main()
