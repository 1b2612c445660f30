"""Helpers of the replay tests (test_replay_*.py): running `turnstile replay`
against a Stack, and comparing read models table by table."""

import json
import subprocess

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
