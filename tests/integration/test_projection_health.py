"""Projection health: the lag of each projection on /metrics, and /readyz
failing on the projection that is behind or required and not running.

catalog is judged by its checkpoint in PostgreSQL; every other projection
(audit) by its durable JetStream consumer proj_<name>. The audit projector is
not part of this stack: the test makes and moves a durable proj_audit itself
through the NATS protocol (a few lines below), as a projector would."""

import json
import re
import secrets
import socket
import time
import unittest

from harness import StackTestCase, expect, wait_until


class Nats:
    """Just enough of the NATS client protocol for JetStream API requests,
    one pull and an ack."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.line()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\nPING\r\n')
        while self.line() != b"PONG":
            pass

    def close(self):
        self.sock.close()

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def pub(self, subject, payload=b"", reply=None):
        head = f"PUB {subject} {reply + ' ' if reply else ''}{len(payload)}\r\n".encode()
        self.sock.sendall(head + payload + b"\r\n")

    def messages(self, inbox, n):
        """Subscribes to inbox and yields (reply, headers+payload) of up to
        n messages (stops at a status message)."""
        got = 0
        while got < n:
            line = self.line()
            if line == b"PING":
                self.sock.sendall(b"PONG\r\n")
                continue
            if line.startswith(b"-ERR"):
                raise AssertionError(line)
            if not (line.startswith(b"MSG ") or line.startswith(b"HMSG ")):
                continue
            parts = line.split()
            data = self.read(int(parts[-1]))
            reply = parts[3].decode() if len(parts) == (6 if parts[0] == b"HMSG" else 5) else None
            if data.startswith(b"NATS/1.0 4") or data.startswith(b"NATS/1.0 1"):
                return  # 404 no messages, 408 timeout, 100 idle heartbeat
            got += 1
            yield reply, data

    def request(self, subject, body):
        inbox = "_INBOX." + secrets.token_hex(8)
        self.sock.sendall(f"SUB {inbox} 1\r\n".encode())
        self.pub(subject, json.dumps(body).encode(), inbox)
        for _, data in self.messages(inbox, 1):
            self.sock.sendall(b"UNSUB 1\r\n")
            return json.loads(data)
        raise AssertionError(f"no answer to {subject}")


def metrics(s):
    """{(name, projection): value} of the turnstile_projection_* gauges."""
    text = expect(s.request("GET", "/metrics"), 200)
    out = {}
    for m in re.finditer(r'^(turnstile_projection_\w+)\{projection="(\w+)"\} (\S+)$', text, re.M):
        out[(m.group(1), m.group(2))] = float(m.group(3))
    head = re.search(r"^turnstile_log_last_seq (\d+)$", text, re.M)
    return out, int(head.group(1))


class TestProjectionHealth(StackTestCase):
    # /readyz: behind past 5 events; the seconds threshold out of the way
    # (a loaded machine must not make a test flaky).
    stack_options = {"env": {"TURNSTILE_READY_MAX_LAG_EVENTS": "5",
                             "TURNSTILE_READY_MAX_LAG_SECONDS": "3600"}}

    def commits(self, tok, n):
        """n more commits in the log (venues); returns the last commit_seq."""
        seq = 0
        for _ in range(n):
            seq = self.stack.create_venue(tok)["commit_seq"]
        return seq

    def test_catalog_lag_is_measured_and_fails_readiness_when_behind(self):
        s = self.stack
        tok = s.admin_token()
        seq = self.commits(tok, 2)
        # Caught up: lag 0 in events and seconds, ready.
        wait_until(lambda: metrics(s)[0][("turnstile_projection_lag_events", "catalog")] == 0,
                   timeout=30, what="catalog lag 0")
        m, head = metrics(s)
        self.assertGreaterEqual(head, seq)
        self.assertEqual(m[("turnstile_projection_lag_seconds", "catalog")], 0)
        self.assertEqual(m[("turnstile_projection_running", "catalog")], 1)
        status, _, ready = s.request("GET", "/readyz")
        self.assertEqual(status, 200, ready)
        self.assertEqual(ready["projections"]["catalog"]["status"], "ok")
        self.assertEqual(ready["projections"]["catalog"]["lag_events"], 0)
        self.assertEqual(ready["projections"]["catalog"]["position"], head)
        self.assertEqual(ready["lagging"], [])

        # The projector stops; six commits later catalog is behind.
        self.assertEqual(s.stop_project(), 0)
        seq = self.commits(tok, 6)
        time.sleep(1.1)
        m, head = metrics(s)
        self.assertEqual(m[("turnstile_projection_lag_events", "catalog")], 6)
        self.assertGreater(m[("turnstile_projection_lag_seconds", "catalog")], 1.0)
        status, headers, ready = s.request("GET", "/readyz")
        self.assertEqual(status, 503, ready)
        self.assertEqual(headers["Retry-After"], "1")
        self.assertFalse(ready["ready"])
        self.assertEqual(ready["lagging"], ["catalog"])
        self.assertEqual(ready["projections"]["catalog"]["status"], "behind")
        self.assertEqual(ready["projections"]["catalog"]["lag_events"], 6)
        self.assertEqual(ready["checks"], {"jetstream_lmdb": "ok", "postgres": "ok"})

        # It comes back and catches up: ready again.
        s.start_project()
        s.wait_ready()
        m, head = metrics(s)
        self.assertEqual(m[("turnstile_projection_lag_events", "catalog")], 0)
        self.assertGreaterEqual(head, seq)

    def test_other_projections_are_judged_by_their_consumer(self):
        s = self.stack
        tok = s.admin_token()
        self.commits(tok, 6)  # more commits in the log than the 5 allowed
        # No proj_audit consumer: audit is not running, reported with the
        # whole log as its lag, never as healthy; not required by default.
        m, head = metrics(s)
        self.assertEqual(m[("turnstile_projection_running", "audit")], 0)
        self.assertEqual(m[("turnstile_projection_lag_events", "audit")], head)
        self.assertGreater(m[("turnstile_projection_lag_seconds", "audit")], 0)
        status, _, ready = s.request("GET", "/readyz")
        self.assertEqual(status, 200, ready)
        self.assertEqual(ready["projections"]["audit"]["status"], "not_running")
        self.assertFalse(ready["projections"]["audit"]["required"])
        self.assertTrue(ready["projections"]["catalog"]["required"])

        # A durable proj_audit that has acked nothing: running, and behind
        # by the whole log.
        nats = Nats(s.nats_port)
        self.addCleanup(nats.close)
        made = nats.request("$JS.API.CONSUMER.DURABLE.CREATE.TICKETS.proj_audit",
                            {"stream_name": "TICKETS",
                             "config": {"durable_name": "proj_audit", "ack_policy": "all",
                                        "deliver_policy": "all"}})
        self.assertNotIn("error", made, made)
        m, head = metrics(s)
        self.assertEqual(m[("turnstile_projection_running", "audit")], 1)
        self.assertEqual(m[("turnstile_projection_lag_events", "audit")], head)
        status, _, ready = s.request("GET", "/readyz")
        self.assertEqual(status, 503, ready)
        self.assertEqual(ready["lagging"], ["audit"])
        self.assertEqual(ready["projections"]["audit"]["position"], 0)

        # It folds and acks all but the last 2 commits: lag 2, ready.
        inbox = "_INBOX." + secrets.token_hex(8)
        nats.sock.sendall(f"SUB {inbox} 2\r\n".encode())
        nats.pub("$JS.API.CONSUMER.MSG.NEXT.TICKETS.proj_audit",
                 json.dumps({"batch": head - 2, "no_wait": True}).encode(), inbox)
        replies = [reply for reply, _ in nats.messages(inbox, head - 2)]
        self.assertEqual(len(replies), head - 2)
        nats.pub(replies[-1], b"+ACK")  # AckAll: everything up to it
        nats.request("$JS.API.CONSUMER.INFO.TICKETS.proj_audit", {})  # a round trip: acked
        m, head2 = metrics(s)
        self.assertEqual(head2, head)
        self.assertEqual(m[("turnstile_projection_lag_events", "audit")], 2)
        self.assertGreater(m[("turnstile_projection_lag_seconds", "audit")], 0)
        status, _, ready = s.request("GET", "/readyz")
        self.assertEqual(status, 200, ready)
        self.assertEqual(ready["projections"]["audit"]["position"], head - 2)
        self.assertEqual(ready["projections"]["audit"]["status"], "ok")

        # Required but missing: /readyz names it.
        nats.request("$JS.API.CONSUMER.DELETE.TICKETS.proj_audit", {})
        s.stop_serve()
        s.extra_env["TURNSTILE_READY_PROJECTIONS"] = "catalog,audit"
        s.start_serve(wait=False)
        status, _, ready = s.request("GET", "/readyz")
        self.assertEqual(status, 503, ready)
        self.assertEqual(ready["lagging"], ["audit"])
        self.assertEqual(ready["projections"]["audit"]["status"], "not_running")
        self.assertTrue(ready["projections"]["audit"]["required"])


if __name__ == "__main__":
    unittest.main()
