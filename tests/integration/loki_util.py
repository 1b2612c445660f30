"""The audit projector's tests' tools: a loopback Loki receiver, and the
expected Loki entries rebuilt independently from GET /audit/events.

    LokiReceiver()          an HTTP server on 127.0.0.1 that records the raw
                            body of every POST /loki/api/v1/push; its mode says
                            how it answers (see LokiReceiver.mode)
    expected_entries(items, key)
                            {(seq, index): Entry} of every event of the audit
                            items, as projections/audit.h specifies them
    expected_body(entries)  the push body of entries (in batch order), bytes
    body_keys(body)         [(seq, index)] of the lines of a push body
    wait_audit_checkpoint(stack, seq)

The expectations here are written from the contract in projections/audit.h,
not from the C code: line keys and their order, masking by field name with
HMAC-SHA256, timestamps in ns as strings, streams by label set.
"""

import calendar
import hashlib
import hmac
import http.server
import json
import os
import socket
import threading
import time
from collections import namedtuple

Entry = namedtuple("Entry", "seq index ns aggregate event_type line")

PUSH_PATH = "/loki/api/v1/push"


# ---------------------------------------------------------------- the receiver


class LokiReceiver:
    """A loopback stand-in for Loki's push endpoint.

    mode (set at any time):
      "ok"    record the body, answer 204 (Loki's answer)
      "500"   answer 500, record nothing (Loki down behind a proxy)
      "429"   answer 429 (rate limited), record nothing
      "400"   answer 400 (refused), record nothing
      "drop"  record the body, then close the connection without an answer:
              the push was in flight when the receiver failed
      "hold"  record the body, set `holding`, and answer 204 only once
              `release` is set (or after 10 s)
    down() closes the listening socket (connections refused); up() listens
    again on the same port.

    received: [{"t", "body", "path", "content_type", "mode"}] of every
    request that reached the handler, in arrival order ("body" is bytes).
    stored(): the bodies Loki would hold (modes ok, drop, hold)."""

    def __init__(self):
        self.mode = "ok"
        self.received = []
        self.lock = threading.Lock()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.delay = 0.0  # seconds to wait before answering (a slow Loki)
        self.port = None
        self._conns = set()
        self._server = None
        self._thread = None
        self.up()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def up(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver._conns.add(self.connection)

            def finish(self):
                with receiver.lock:
                    receiver._conns.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                mode = receiver.mode
                with receiver.lock:
                    receiver.received.append({
                        "t": time.monotonic(), "body": body, "path": self.path,
                        "content_type": self.headers.get("Content-Type"), "mode": mode})
                if mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if mode == "hold":
                    receiver.holding.set()
                    receiver.release.wait(10)
                time.sleep(receiver.delay)
                code = {"500": 500, "429": 429, "400": 400}.get(mode, 204)
                text = b"" if code == 204 else f"receiver in mode {mode}\n".encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:
                    pass  # the client is gone (killed while we held its push)

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a connection we dropped on purpose, or a killed client

        self._server = Server(("127.0.0.1", self.port or 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def down(self):
        """Stop listening and cut the open (keep-alive) connections, so that
        every push is refused until up()."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.release.set()
        self.down()

    def stored(self):
        with self.lock:
            return [r for r in self.received if r["mode"] in ("ok", "drop", "hold")]

    def count(self, mode=None):
        with self.lock:
            return sum(1 for r in self.received if mode is None or r["mode"] == mode)


# ---------------------------------------------------------------- expectations


PERSON_NAME_KEYS = {"full_name", "first_name", "last_name", "display_name", "holder_name",
                    "attendee_name", "recipient_name", "customer_name"}


def hmac_hex(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def ascii_lower(s):
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def hashed(value, key, lower):
    """A masked value, or NotImplemented for one that stays (bool, number)."""
    if isinstance(value, str):
        return hmac_hex(key, ascii_lower(value) if lower else value)
    if isinstance(value, list):
        return [hashed(v, key, lower) if isinstance(v, str) else None for v in value]
    if value is None or isinstance(value, dict):
        return None
    return NotImplemented


def mask(value, person_names, key):
    """The masking rules of audit.h, applied to an event's data."""
    if isinstance(value, list):
        return [mask(v, person_names, key) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if "password" in k or "secret" in k:
            continue
        if "email" in k:
            h = hashed(v, key, True)
        elif ("phone" in k or k in PERSON_NAME_KEYS
              or (person_names and (k == "name" or k.endswith("_name")))):
            h = hashed(v, key, False)
        else:
            out[k] = mask(v, person_names, key)
            continue
        if h is NotImplemented:
            out[k] = v
        else:
            out[k + "_hash"] = h
    return out


def subject_parts(subject, key):
    """(aggregate, id, subject as shipped): a claim's value is masked."""
    _, aggregate, rest = subject.split(".", 2)
    if aggregate == "claim":
        kind, value = rest.split(".", 1)
        rest = f"{kind}.{hmac_hex(key, value)}"
        subject = f"tix.claim.{rest}"
    return aggregate, rest, subject


def time_ms(text):
    """RFC 3339 'YYYY-MM-DDTHH:MM:SS[.mmm]Z' to ms since the epoch."""
    whole, _, frac = text.rstrip("Z").partition(".")
    secs = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + (int(frac.ljust(3, "0")) if frac else 0)


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def expected_entries(items, key):
    """{(seq, index): Entry} for every event of the audit items (commits
    of GET /audit/events, in stream order)."""
    out = {}
    for item in items:
        aggregate, ident, subject = subject_parts(item["subject"], key)
        n = len(item["events"])
        for i, ev in enumerate(item["events"]):
            line = {
                "seq": item["seq"], "subject": subject, "aggregate": aggregate, "id": ident,
                "version": item["version"], "time": item["time"],
                "actor": ev.get("actor", item["actor"]),
                "command_id": ev.get("command_id", item["command_id"]),
                "correlation_id": item["correlation_id"], "hash": item["hash"],
                "prev_hash": item["prev_hash"], "index": i, "n_events": n, "type": ev["type"],
                "data": mask(ev["data"], aggregate == "user", key),
            }
            out[(item["seq"], i)] = Entry(item["seq"], i, time_ms(item["time"]) * 1000000 + i,
                                          aggregate, ev["type"], compact(line))
    return out


def expected_body(entries):
    """The push body of entries (in batch order): one stream per label set
    in the order of first appearance, values by timestamp, ties in batch
    order."""
    streams, where = [], {}
    for pos, e in enumerate(entries):
        labels = (e.aggregate, e.event_type)
        if labels not in where:
            where[labels] = len(streams)
            streams.append((labels, []))
        streams[where[labels]][1].append((e.ns, pos, e.line))
    body = {"streams": [
        {"stream": {"app": "turnstile", "aggregate": a, "event_type": t},
         "values": [[str(ns), line] for ns, _, line in sorted(values)]}
        for (a, t), values in streams]}
    return compact(body).encode()


def body_keys(body):
    """[(seq, index)] of every line of a push body, in body order."""
    keys = []
    for stream in json.loads(body)["streams"]:
        for _, line in stream["values"]:
            obj = json.loads(line)
            keys.append((obj["seq"], obj.get("index", 0)))
    return keys


def audit_checkpoint(stack):
    """The audit projector's checkpoint file, 0 when it has none yet."""
    try:
        with open(os.path.join(stack.data_dir, "audit", "checkpoint")) as f:
            return int(f.read())
    except FileNotFoundError:
        return 0


def wait_audit_checkpoint(stack, seq, timeout=30.0):
    """Wait until the audit checkpoint reaches seq (AssertionError after
    timeout, or when the audit projector died)."""
    deadline = time.monotonic() + timeout
    while audit_checkpoint(stack) < seq:
        if not stack.alive("audit"):
            raise AssertionError("the audit projector is not running")
        if time.monotonic() > deadline:
            raise AssertionError(f"audit checkpoint {audit_checkpoint(stack)} did not reach "
                                 f"{seq} in {timeout}s")
        time.sleep(0.05)
