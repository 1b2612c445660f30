"""The harness itself: nats-server, PostgreSQL and cleanup, without turnstile.

Runs without the turnstile binary (Stack(turnstile=False)), so it checks the
test infrastructure before any integration test depends on it.
"""

import http.server
import json
import os
import socket
import threading
import unittest

from harness import Stack, StackTestCase, http_request, port_open


class HarnessSmoke(unittest.TestCase):
    def test_nats_and_postgres_start_and_are_removed(self):
        with Stack(turnstile=False) as s:
            self.assertEqual(s.psql("select 1"), [("1",)])
            # Several columns and rows, NULL, and a statement without rows.
            s.psql("create table t (a int, b text)")
            self.assertEqual(s.psql("insert into t values (1, 'x'), (2, null)"), [])
            self.assertEqual(s.psql("select a, b from t order by a"), [("1", "x"), ("2", None)])
            self.assertEqual(s.psql("select a from t where a > 5"), [])
            self.assertEqual(s.psql("select current_database()"), [(s.db,)])
            # nats-server greets with INFO and has JetStream on.
            with socket.create_connection(("127.0.0.1", s.nats_port), timeout=5) as c:
                info = c.makefile("rb").readline()
            self.assertTrue(info.startswith(b"INFO "), info)
            self.assertTrue(json.loads(info[5:])["jetstream"], info)
            tmp, nats_port, db, pg_port = s.tmp, s.nats_port, s.db, s.pg_port
        self.assertFalse(os.path.exists(tmp))
        self.assertFalse(port_open(nats_port))
        if os.environ.get("TS_TEST_PG_PORT"):
            # The shared cluster keeps running, without the test's database.
            probe = Stack(turnstile=False)
            probe.pg_host, probe.pg_port = os.environ.get("TS_TEST_PG_HOST") or "127.0.0.1", pg_port
            rows = probe.psql(f"select 1 from pg_database where datname = '{db}'", db="postgres")
            self.assertEqual(rows, [])
        else:
            self.assertFalse(port_open(pg_port))

    def test_sql_error_raises_with_the_message(self):
        with Stack(turnstile=False) as s:
            with self.assertRaisesRegex(Exception, "no_such_table"):
                s.psql("select * from no_such_table")

    def test_failure_inside_the_stack_propagates_and_cleans_up(self):
        with self.assertRaises(ZeroDivisionError):
            with Stack(turnstile=False) as s:
                tmp = s.tmp
                1 / 0
        self.assertFalse(os.path.exists(tmp))


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers like turnstile's error responses: a problem+json per status."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = int(self.path.strip("/"))
        payload = json.dumps({"status": status, "echo": body.decode(),
                              "auth": self.headers.get("Authorization"),
                              "key": self.headers.get("Idempotency-Key")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class HttpRequest(unittest.TestCase):
    def test_error_statuses_are_answers_not_exceptions(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            for code in (201, 404, 409, 503):
                status, headers, data = http_request(
                    "POST", f"{url}/{code}", {"a": 1}, token="tok", headers={"Idempotency-Key": "k"})
                self.assertEqual(status, code)
                self.assertEqual(headers["content-type"], "application/problem+json")
                self.assertEqual(data, {"status": code, "echo": '{"a": 1}',
                                        "auth": "Bearer tok", "key": "k"})
            status, _, data = http_request("POST", f"{url}/400", raw=b"{not json")
            self.assertEqual((status, data["echo"]), (400, "{not json"))
        finally:
            server.shutdown()
            server.server_close()


class StackPerTest(StackTestCase):
    stack_options = {"turnstile": False}

    def test_each_test_gets_its_own_database(self):
        self.assertTrue(self.stack.db.startswith("ts_it_"))
        self.assertEqual(self.stack.psql("select count(*) from pg_tables where schemaname = 'public'"),
                         [("0",)])


if __name__ == "__main__":
    unittest.main()
