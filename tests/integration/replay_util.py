"""Helpers of the replay tests (test_replay_*.py): running `turnstile replay`
against a Stack, and comparing read models table by table."""

import json
import os
import subprocess

from harness import REPO

# Every table of a catalog schema, with the columns that identify a row; the
# checkpoint's updated_at and version say when and by which build the row was
# written, not what the model holds, so they are left out.
TABLES = {
    "checkpoints": ("projection", "projection, last_seq"),
    "venues": ("venue_id", "*"),
    "events": ("event_id", "*"),
    "sections": ("event_id, key", "*"),
    "seats": ("event_id, seat_id", "*"),
    "bookings": ("booking_id", "*"),
    "waitlist": ("entry_id", "*"),
    "tickets": ("ticket_id", "*"),
    "sales_tiers": ("event_id, tier", "*"),
    "sales_minutes": ("event_id, minute, tier", "*"),
}


def replay(stack, *args, timeout=300):
    """Runs `turnstile replay --projection catalog ARGS` on the Stack; returns
    (exit status, summary JSON or None, stderr)."""
    cmd = [stack.bin, "replay", "--projection", "catalog", "--nats", stack.nats_url,
           "--pg", stack.pg_conninfo, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=stack._turnstile_env())
    summary = None
    if r.returncode == 0:
        summary = json.loads(r.stdout)
    return r.returncode, summary, r.stderr


def dump(stack, schema):
    """{table: ordered rows} of a catalog schema, every column as text."""
    out = {}
    for table, (key, cols) in TABLES.items():
        out[table] = stack.psql(f"select {cols} from {schema}.{table} order by {key}")
    return out


def schemas(stack):
    """The names of the schemas of the test database (pg_* left out)."""
    return [r[0] for r in stack.psql("select nspname from pg_namespace "
                                     "where nspname not like 'pg\\_%' order by 1")]


def fill(stack, events, **options):
    """Appends `events` events with the ts_fill test tool (tests/tools: a
    venue, published events, grouped holds and releases) to the Stack's
    stream; options are its --shows, --sections, --rows, --seats. TS_FILL
    names the tool (ctest sets it), else it is found in the build tree of
    TS_BIN. Returns its summary."""
    path = os.environ.get("TS_FILL")
    if not path:
        build = os.path.dirname(os.path.dirname(os.path.abspath(stack.bin)))
        path = os.path.join(build, "tests", "tools", "ts_fill")
        if not os.path.exists(path):
            path = os.path.join(REPO, "build", "tests", "tools", "ts_fill")
    args = [path, "--nats", stack.nats_url, "--events", str(events)]
    for k, v in options.items():
        args += [f"--{k}", str(v)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise AssertionError(f"ts_fill failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)
