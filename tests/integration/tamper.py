"""Helpers for the tests that forge what Turnstile must detect (altered logs,
wrong snapshots) and run the `turnstile audit` and `turnstile snapshots`
command-line tools against a Stack.

    run_cli(stack, *args, nats=None, stream=None, data=True)
                                  runs `turnstile ARGS --nats ... --stream ...
                                  [--data ...]`; returns (status, stdout, stderr)
    cli_json(stack, *args, ...)   the same, stdout parsed as one JSON value
    tamper(*args)                 runs the ts_tamper test tool (tests/tools);
                                  returns its stdout parsed as JSON
    ScratchNats(stack)            a second nats-server with JetStream for
                                  forged copies of the log (two streams on one
                                  server cannot both hold tix.>); stopped by
                                  the test's cleanup

TS_TAMPER names the tool (ctest sets it); by default it is found next to the
turnstile binary's build tree (build/tests/tools/ts_tamper).
"""

import json
import os
import subprocess
import time

from harness import REPO, _die_with_parent, free_port, port_open

CLI_TIMEOUT = 300


def tamper_bin(stack):
    """Path of ts_tamper: TS_TAMPER, else build/tests/tools beside TS_BIN's build tree."""
    if os.environ.get("TS_TAMPER"):
        return os.environ["TS_TAMPER"]
    build = os.path.dirname(os.path.dirname(os.path.abspath(stack.bin)))
    path = os.path.join(build, "tests", "tools", "ts_tamper")
    return path if os.path.exists(path) else os.path.join(REPO, "build", "tests", "tools",
                                                          "ts_tamper")


def run_cli(stack, *args, nats=None, stream=None, data=True):
    """`turnstile ARGS` with the Stack's NATS (or `nats`), stream (default
    TICKETS) and, when data is set, its data directory. Returns (exit
    status, stdout, stderr)."""
    cmd = [stack.bin, *args, "--nats", nats or stack.nats_url]
    if stream:
        cmd += ["--stream", stream]
    if data:
        cmd += ["--data", stack.data_dir]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT,
                       env=stack._turnstile_env(), stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


def cli_json(stack, *args, expect_status=None, **kw):
    """run_cli, stdout parsed as JSON; returns (status, value). With
    expect_status, a different exit status fails with stderr in the message."""
    status, out, err = run_cli(stack, *args, **kw)
    if expect_status is not None and status != expect_status:
        raise AssertionError(f"turnstile {' '.join(args)}: exit {status}, expected "
                             f"{expect_status}\nstdout: {out}\nstderr: {err}")
    try:
        return status, json.loads(out)
    except ValueError:
        raise AssertionError(f"turnstile {' '.join(args)}: not JSON: {out!r}\nstderr: {err}")


def tamper(stack, *args):
    """Runs ts_tamper ARGS and returns its stdout as JSON (AssertionError
    with its stderr when it fails)."""
    r = subprocess.run([tamper_bin(stack), *args], capture_output=True, text=True,
                       timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise AssertionError(f"ts_tamper {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


class ScratchNats:
    """A second nats-server with JetStream, its store under the Stack's tmp."""

    def __init__(self, stack, test):
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        store = os.path.join(stack.tmp, "scratch-nats")
        log = open(os.path.join(stack.log_dir, "scratch-nats.log"), "ab")
        self.proc = subprocess.Popen(["nats-server", "-js", "-sd", store, "-a", "127.0.0.1",
                                      "-p", str(self.port)], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        log.close()
        test.addCleanup(self.stop)
        deadline = time.monotonic() + 30
        while not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the scratch nats-server did not start")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
