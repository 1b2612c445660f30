"""Integration-test harness: a whole Turnstile stack per test, on loopback.

Every integration test (STYLE.md 13) runs against real processes that this
module starts on free ports and removes afterwards. A Stack is

    tmp/            a temporary directory, removed at the end
      nats/         JetStream store of the Stack's own nats-server
      data/         --data of serve and project; data/engine is the LMDB cache
      pg/           the Stack's own PostgreSQL cluster (only without a shared one)
      logs/         nats.log, serve.log, project.log, audit.log (the audit
                    projector, when a test starts it), postgres.log, ops.log

plus a fresh database with a unique name. ops/test starts one PostgreSQL
cluster for the whole run and exports TS_TEST_PG_HOST / TS_TEST_PG_PORT; each
Stack then only creates and drops its database there. Without them the Stack
starts its own cluster through ops/lib.sh (the same code as ops/up, so as root
the cluster runs as the `postgres` account). Clients reach PostgreSQL over TCP
as database user `postgres` with trust authentication, so psql runs as
whatever OS user runs the test.

Processes write stdout and stderr to files under logs/ (never to pipes, which
fill up and stall them). When a test fails, the tails of the logs are printed.
When it passes, every turnstile process must have exited with status 0 on the
final SIGTERM (the binary's contract; under ASan this also catches leaks).

Typical use, one fresh stack per test:

    import unittest
    from harness import StackTestCase

    class TestHolds(StackTestCase):
        def test_hold_two_seats(self):
            s = self.stack
            tok = s.admin_token()
            venue = s.create_venue(tok)
            event = s.create_event(tok, venue["venue_id"])
            s.publish(tok, event["event_id"])
            status, _, booking = s.request("POST", f"/events/{event['event_id']}/holds",
                                           {"seats": ["A-1-1", "A-1-2"]}, token=tok)
            self.assertEqual(status, 201, booking)

    if __name__ == "__main__":
        unittest.main()

or `with Stack() as s: ...` anywhere. Stack(turnstile=False) starts only
nats-server and PostgreSQL.

Environment:
    TS_BIN           the turnstile binary (ctest sets it); default ./build/cli/turnstile
    TS_TEST_PG_PORT  port of a shared PostgreSQL; unset: one cluster per Stack
    TS_TEST_PG_HOST  its host (default 127.0.0.1)
    TS_TEST_TMPDIR   where temporary directories go (ops/test points it at its own
                     directory, so a test killed by ctest leaves nothing behind)
    TS_KEEP_TMP=1    keep the temporary directory for a post-mortem (its path is printed)
"""

import atexit
import ctypes
import glob
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPS_LIB = os.path.join(REPO, "ops", "lib.sh")
READY_TIMEOUT = 30.0  # seconds for /readyz after serve starts
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL
# A process is not sent SIGTERM before it is this old (seconds), so that it has
# installed its signal handlers (ASan start-up alone takes a while); otherwise
# a test that stops a process right after starting it would flake.
START_GRACE = 0.5


class StackError(Exception):
    """The stack could not be started or stopped as expected."""


# ---------------------------------------------------------------- utilities


def free_port():
    """A TCP port on 127.0.0.1 that the kernel says is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    """True when something accepts TCP connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Call predicate until it returns something truthy and return that;
    raise AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_request(method, url, body=None, token=None, headers=None, raw=None, timeout=30.0):
    """One HTTP request; returns (status, headers, data) and never raises on an
    HTTP error status (connection failures do raise OSError).

    body    -- a JSON-serialisable value, sent as application/json
    raw     -- bytes or str sent as they are (for malformed input); Content-Type
               is application/json unless `headers` says otherwise
    token   -- sent as `Authorization: Bearer <token>`
    headers -- extra headers, e.g. {"Idempotency-Key": "k1"}
    data    -- parsed JSON when the answer's Content-Type mentions json
               (application/json, application/problem+json), else text; None
               for an empty body. headers is case-insensitive (headers["Retry-After"]).
    """
    hdrs = {}
    data = None
    if raw is not None:
        data = raw.encode() if isinstance(raw, str) else raw
        hdrs["Content-Type"] = "application/json"
    elif body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    if token:
        hdrs["Authorization"] = "Bearer " + token
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _NO_PROXY.open(req, timeout=timeout) as r:
            status, rh, payload = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, rh, payload = e.code, e.headers, e.read()
    if not payload:
        return status, rh, None
    text = payload.decode("utf-8", errors="replace")
    if "json" in (rh.get("Content-Type") or ""):
        try:
            return status, rh, json.loads(text)
        except ValueError:
            pass
    return status, rh, text


def expect(response, status):
    """The data of a (status, headers, data) answer, or AssertionError naming
    both statuses and the body when its status is not `status`."""
    got, _, data = response
    if got != status:
        raise AssertionError(f"expected HTTP {status}, got {got}: {data}")
    return data


def _pg_bin(name):
    """Path of a PostgreSQL program: the newest /usr/lib/postgresql/*/bin, else PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return found[-1] if found else name


def _ops(function, *args, log):
    """Run an ops/lib.sh function with args, its output appended to file `log`."""
    with open(log, "ab") as out:
        rc = subprocess.call(["bash", "-c", '. "$0" && "$@"', OPS_LIB, function, *args],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    if rc != 0:
        raise StackError(f"ops/lib.sh {function} {' '.join(args)} failed ({rc}); see {log}")


# A child that outlives the test process (killed by a ctest timeout) would keep
# ports and files busy: each child asks the kernel to SIGKILL it when we die.
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_open_stacks = set()
atexit.register(lambda: [s.close() for s in list(_open_stacks)])


# ---------------------------------------------------------------- the stack


class Stack:
    """nats-server + PostgreSQL database + `turnstile serve` + `turnstile project`.

    Attributes (valid after start()):
      tmp, data_dir, lmdb_dir, log_dir  -- directories (see the module doc)
      root       -- http://127.0.0.1:<port>, where /healthz, /readyz, /metrics live
      base       -- root + "/api/v1"
      nats_url, nats_port, pg_host, pg_port, db, pg_conninfo
      jwt_secret -- TURNSTILE_JWT_SECRET given to serve (to mint tokens in tests)
      admin_email, admin_password -- the admin serve creates at start-up
      exit_codes -- {"serve": rc, ...} of processes stopped so far
    """

    ADMIN_EMAIL = "admin@turnstile.test"
    ADMIN_PASSWORD = "admin-password-1"

    def __init__(self, turnstile=True, project=True, env=None):
        """turnstile -- start serve (and project) at all; False: nats + PostgreSQL only
        project   -- also start `turnstile project`
        env       -- extra environment for the turnstile processes
                     (e.g. {"TURNSTILE_WEBHOOK_SECRET": "..."})"""
        self.with_turnstile = turnstile
        self.with_project = project
        self.extra_env = dict(env or {})
        self.bin = os.environ.get("TS_BIN") or os.path.join(REPO, "build", "cli", "turnstile")
        self.jwt_secret = secrets.token_hex(32)
        self.admin_email = self.ADMIN_EMAIL
        self.admin_password = self.ADMIN_PASSWORD
        self.tmp = self.data_dir = self.lmdb_dir = self.log_dir = None
        self.procs = {}  # name -> Popen of what runs now
        self.started_at = {}  # name -> time.monotonic() of its spawn
        self.exit_codes = {}  # name -> exit status once stopped (negative: signal)
        self.problems = []  # turnstile processes that died or did not exit 0
        self.db = None
        self.own_pg = False
        self._token = None
        self._closed = False

    # ---- lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(failed=exc_type is not None, check=exc_type is None)
        return False

    def start(self):
        """Start everything; on failure print the logs, clean up and raise."""
        _open_stacks.add(self)
        try:
            self.tmp = tempfile.mkdtemp(prefix="ts-it-", dir=os.environ.get("TS_TEST_TMPDIR"))
            os.chmod(self.tmp, 0o711)  # the postgres account passes through (root)
            self.data_dir = os.path.join(self.tmp, "data")
            self.lmdb_dir = os.path.join(self.data_dir, "engine")
            self.log_dir = os.path.join(self.tmp, "logs")
            os.makedirs(self.data_dir)
            os.makedirs(self.log_dir)
            self.http_port = free_port()  # kept across restarts, so base stays valid
            self.root = f"http://127.0.0.1:{self.http_port}"
            self.base = self.root + "/api/v1"
            self._start_nats()
            self._start_pg()
            if self.with_turnstile:
                self.start_serve()
                if self.with_project:
                    self.start_project()
        except BaseException:
            self.print_logs()
            self.close()
            raise

    def close(self, failed=False, check=False):
        """Stop everything (SIGTERM, then SIGKILL), drop the database, remove
        the temporary directory. failed: print the log tails first. check:
        raise StackError when a turnstile process died during the test or did
        not exit 0 on SIGTERM now. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        _open_stacks.discard(self)
        for name in ("serve", "project", "audit"):
            if name in self.procs:
                self._stop(name)
        if failed or self.problems:
            self.print_logs()
        self._stop("nats", checked=False)
        try:
            if self.db:
                self.psql(f'drop database if exists "{self.db}" with (force)', db="postgres")
        except StackError as e:
            print(f"harness: {e}", file=sys.stderr)
        if self.own_pg:
            try:
                _ops("ts_pg_destroy", os.path.join(self.tmp, "pg"), log=self._log("ops"))
            except StackError as e:
                print(f"harness: {e}", file=sys.stderr)
        if self.tmp and os.environ.get("TS_KEEP_TMP") == "1":
            print(f"harness: kept {self.tmp}", file=sys.stderr)
        elif self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if check and self.problems:
            raise StackError("; ".join(self.problems))

    # ---- nats-server and PostgreSQL

    def _start_nats(self):
        # The HTTP port is chosen first but bound only when serve starts, so
        # the kernel may offer it again here.
        self.nats_port = free_port()
        while self.nats_port == self.http_port:
            self.nats_port = free_port()
        self.nats_url = f"nats://127.0.0.1:{self.nats_port}"
        store = os.path.join(self.tmp, "nats")
        self._spawn("nats", ["nats-server", "-js", "-sd", store, "-a", "127.0.0.1",
                             "-p", str(self.nats_port)])
        self._wait_port("nats", self.nats_port, 30)

    def _start_pg(self):
        shared = os.environ.get("TS_TEST_PG_PORT")
        if shared:
            self.pg_host = os.environ.get("TS_TEST_PG_HOST") or "127.0.0.1"
            self.pg_port = int(shared)
        else:
            self.own_pg = True
            self.pg_host = "127.0.0.1"
            self.pg_port = free_port()
            while self.pg_port == self.http_port:  # see _start_nats
                self.pg_port = free_port()
            _ops("ts_start_pg", str(self.pg_port), os.path.join(self.tmp, "pg"),
                 self._log("postgres"), "fast", log=self._log("ops"))
        name = f"ts_it_{os.getpid()}_{secrets.token_hex(4)}"
        self.psql(f'create database "{name}"', db="postgres")
        self.db = name
        self.pg_conninfo = (f"host={self.pg_host} port={self.pg_port} user=postgres "
                            f"dbname={self.db}")

    def psql(self, sql, db=None):
        """Run `sql` with the psql CLI on the test database (or `db`); return
        the rows of the last statement as tuples of strings, NULL as None.
        Raises StackError with psql's message on an SQL error."""
        cmd = [_pg_bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-F", "\x1f", "-R", "\x1e", "-P", "null=\x01",
               "-h", self.pg_host, "-p", str(self.pg_port), "-U", "postgres",
               "-d", db or self.db, "-c", sql]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise StackError(f"psql failed ({r.returncode}) on {sql!r}: {r.stderr.strip()}")
        out = r.stdout[:-1] if r.stdout.endswith("\n") else r.stdout
        if not out:
            return []
        return [tuple(None if v == "\x01" else v for v in rec.split("\x1f"))
                for rec in out.split("\x1e")]

    # ---- turnstile processes

    def _turnstile_env(self):
        # The developer's own TURNSTILE_* settings must not leak into a test.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TURNSTILE_") and k != "LOKI_URL"}
        env.update(TURNSTILE_JWT_SECRET=self.jwt_secret,
                   TURNSTILE_ADMIN_EMAIL=self.admin_email,
                   TURNSTILE_ADMIN_PASSWORD=self.admin_password)
        env.update(self.extra_env)
        return env

    def _common_args(self):
        return ["--nats", self.nats_url, "--pg", self.pg_conninfo, "--data", self.data_dir]

    def start_serve(self, wait=True):
        """Start `turnstile serve` and wait until /readyz answers 200 (with
        wait=False only until it answers HTTP at all, e.g. for a test of a
        /readyz that is meant to fail)."""
        if not os.access(self.bin, os.X_OK):
            raise StackError(f"no turnstile binary at {self.bin} (build it, or set TS_BIN)")
        self._spawn("serve", [self.bin, "serve", "--port", str(self.http_port),
                              "--bind", "127.0.0.1"] + self._common_args(),
                    self._turnstile_env())
        if wait:
            self.wait_ready()
        else:
            self.wait_ready(path="/healthz")

    def wait_ready(self, timeout=READY_TIMEOUT, path="/readyz"):
        """Wait until GET /readyz (or path) answers 200; StackError when serve
        exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive("serve")
            try:
                if http_request("GET", self.root + path, timeout=2)[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass  # not listening yet, or not speaking HTTP yet
            if time.monotonic() > deadline:
                raise StackError(f"turnstile serve not ready after {timeout}s")
            time.sleep(0.05)

    def stop_serve(self, kill=False):
        """SIGTERM (or SIGKILL with kill=True) serve and wait; returns its exit status."""
        return self._stop("serve", kill)

    def restart_serve(self, kill=False):
        """stop_serve(kill), then start_serve() on the same port and data dir."""
        self.stop_serve(kill)
        self.start_serve()

    def start_project(self):
        """Start `turnstile project` (it has no port; see alive())."""
        self._spawn("project", [self.bin, "project"] + self._common_args(),
                    self._turnstile_env())

    def stop_project(self, kill=False):
        """SIGTERM (or SIGKILL) the projector and wait; returns its exit status."""
        return self._stop("project", kill)

    def start_audit(self, loki_url=None, batch=None, env=None):
        """Start `turnstile project --projection audit` as process "audit"
        (log logs/audit.log). loki_url: its LOKI_URL (None: it appends to
        data/audit/audit.log); env: more environment (TURNSTILE_AUDIT_KEY)."""
        args = [self.bin, "project", "--projection", "audit"] + self._common_args()
        if batch:
            args += ["--batch", str(batch)]
        e = self._turnstile_env()
        e.update(env or {})
        if loki_url:
            e["LOKI_URL"] = loki_url
        self._spawn("audit", args, e)

    def stop_audit(self, kill=False):
        """SIGTERM (or SIGKILL) the audit projector and wait; returns its exit status."""
        return self._stop("audit", kill)

    def alive(self, name):
        """True while process `name` ("serve", "project", "audit", "nats") runs."""
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def wait_exit(self, name, timeout=30.0):
        """Wait for process `name` to exit on its own (a test that expects it
        to) and return its exit status; it is then not reported as a problem."""
        p = self.procs.pop(name)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.procs[name] = p
            raise AssertionError(f"{name} still runs after {timeout}s")
        self.exit_codes[name] = p.returncode
        return p.returncode

    # ---- process plumbing

    def _log(self, name):
        return os.path.join(self.log_dir, name + ".log")

    def _spawn(self, name, args, env=None):
        if self.alive(name):
            raise StackError(f"{name} is already running")
        self.procs.pop(name, None)
        with open(self._log(name), "ab") as log:  # appends across restarts
            log.write(f"---- harness: starting {' '.join(args)}\n".encode())
            log.flush()
            self.procs[name] = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=self.tmp, preexec_fn=_die_with_parent)
        self.started_at[name] = time.monotonic()

    def _check_alive(self, name):
        # The error raised here reports the exit; close() need not again.
        p = self.procs[name]
        if p.poll() is not None:
            del self.procs[name]
            self.exit_codes[name] = p.returncode
            raise StackError(f"{name} exited with status {p.returncode}; see {self._log(name)}")

    def _wait_port(self, name, port, timeout):
        deadline = time.monotonic() + timeout
        while not port_open(port):
            self._check_alive(name)
            if time.monotonic() > deadline:
                raise StackError(f"{name} did not open port {port} in {timeout}s")
            time.sleep(0.05)

    def _stop(self, name, kill=False, checked=True):
        """Signal and reap process `name`; return its exit status. A process
        that died on its own, or did not exit 0 on SIGTERM, is a problem
        (checked=True) that close(check=True) reports."""
        p = self.procs.pop(name, None)
        if p is None:
            return self.exit_codes.get(name)
        if p.poll() is not None:
            if checked:
                self.problems.append(f"{name} died during the test (status {p.returncode})")
        else:
            if not kill:
                time.sleep(max(0.0, self.started_at[name] + START_GRACE - time.monotonic()))
            p.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                p.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                if checked:
                    self.problems.append(f"{name} ignored SIGTERM for {STOP_TIMEOUT}s")
            if checked and not kill and p.returncode != 0:
                self.problems.append(f"{name} exited with status {p.returncode} on SIGTERM")
        self.exit_codes[name] = p.returncode
        return p.returncode

    def print_logs(self, lines=60):
        """Print the last `lines` lines of each log to stderr."""
        if not self.log_dir or not os.path.isdir(self.log_dir):
            return
        for name in ("serve", "project", "audit", "nats", "postgres", "ops"):
            path = self._log(name)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                tail = f.read().decode("utf-8", errors="replace").splitlines()[-lines:]
            print(f"----- last {len(tail)} lines of {path}", file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)
        sys.stderr.flush()

    # ---- HTTP

    ROOT_PATHS = ("/healthz", "/readyz", "/metrics")

    def url(self, path):
        """The URL of `path`: /api/..., /healthz, /readyz and /metrics are
        taken from the server root; any other path is relative to /api/v1."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/api/") or path.split("?")[0] in self.ROOT_PATHS:
            return self.root + path
        return self.base + path

    def request(self, method, path, body=None, token=None, headers=None, raw=None, timeout=30.0):
        """http_request() on url(path): (status, headers, data); never raises
        on 4xx/5xx."""
        return http_request(method, self.url(path), body, token, headers, raw, timeout)

    def login(self, email, password):
        """An access token for email/password (AssertionError unless 200)."""
        return expect(self.request("POST", "/auth/login", {"email": email, "password": password}),
                      200)["access_token"]

    def admin_token(self):
        """An access token of the start-up admin, cached (valid 15 min)."""
        if self._token is None:
            self._token = self.login(self.admin_email, self.admin_password)
        return self._token

    def register(self, email=None, password="attendee-pass-1", name="Test Attendee"):
        """Register a new attendee; returns (user_id, access_token)."""
        email = email or f"user-{secrets.token_hex(4)}@turnstile.test"
        user = expect(self.request("POST", "/auth/register",
                                   {"email": email, "password": password, "name": name}), 201)
        return user["user_id"], self.login(email, password)

    # ---- domain helpers (each returns the parsed 2xx answer)

    def create_venue(self, token, **overrides):
        """POST /venues: sections A (seated, rows 1-3 of 10 seats, A-1-1 and
        A-1-2 accessible), B (seated, rows 1-2 of 10) and GA (standing, 100);
        top-level keys in overrides replace the defaults."""
        body = {
            "name": "Test Arena", "city": "Zagreb", "country": "HR",
            "sections": [
                {"key": "A", "name": "North", "kind": "seated",
                 "rows": [{"label": "1", "seats": 10, "accessible": [1, 2]},
                          {"label": "2", "seats": 10}, {"label": "3", "seats": 10}]},
                {"key": "B", "name": "South", "kind": "seated",
                 "rows": [{"label": "1", "seats": 10}, {"label": "2", "seats": 10}]},
                {"key": "GA", "name": "Floor", "kind": "standing", "capacity": 100},
            ],
        }
        body.update(overrides)
        return expect(self.request("POST", "/venues", body, token=token), 201)

    def create_event(self, token, venue_id, **overrides):
        """POST /events for the default venue: starts in 30 days, tiers std
        (A, B; 25.00 EUR) and floor (GA; 15.00 EUR), on sale now, default
        policy; top-level keys in overrides replace the defaults."""
        now = time.time()
        starts = now + 30 * 86400
        body = {
            "venue_id": venue_id, "title": "Test Event", "genre": "football",
            "starts_at": _rfc3339(starts), "ends_at": _rfc3339(starts + 2 * 3600),
            "tiers": [
                {"key": "std", "name": "Standard", "price": {"amount": 2500, "currency": "EUR"},
                 "sections": ["A", "B"], "sale_starts_at": _rfc3339(now - 3600),
                 "sale_ends_at": _rfc3339(starts)},
                {"key": "floor", "name": "Floor", "price": {"amount": 1500, "currency": "EUR"},
                 "sections": ["GA"], "sale_starts_at": _rfc3339(now - 3600),
                 "sale_ends_at": _rfc3339(starts)},
            ],
        }
        body.update(overrides)
        return expect(self.request("POST", "/events", body, token=token), 201)

    def publish(self, token, event_id):
        """POST /events/{id}/publish."""
        return expect(self.request("POST", f"/events/{event_id}/publish", token=token), 200)

    def grant_role(self, user_id, role, token=None):
        """POST /users/{id}/roles as the admin (or `token`); returns the answer."""
        return expect(self.request("POST", f"/users/{user_id}/roles", {"role": role},
                                   token=token or self.admin_token()), 200)

    def register_as(self, role, **kwargs):
        """register(), then the admin grants `role`; returns (user_id, token).
        Roles are read from the user on every request, so the token from
        before the grant already carries it."""
        user_id, token = self.register(**kwargs)
        self.grant_role(user_id, role)
        return user_id, token


def _rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class StackTestCase(unittest.TestCase):
    """A TestCase with a fresh Stack per test method as self.stack.

    Set `stack_options` (keyword arguments of Stack) on the subclass to change
    it. When the test fails the log tails are printed; when it passes, a
    turnstile process that died or did not exit 0 on SIGTERM fails it."""

    stack_options = {}

    def setUp(self):
        self.stack = Stack(**self.stack_options)
        self.stack.start()
        self.addCleanup(self._close_stack)

    def _close_stack(self):
        # unittest records the outcome of the test (and of tearDown) here.
        outcome = getattr(self, "_outcome", None)
        passed = bool(getattr(outcome, "success", False))
        self.stack.close(failed=not passed, check=passed)
