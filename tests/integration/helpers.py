"""Helpers shared by the integration tests, on top of harness.py.

Everything here talks to a running Stack through its public surfaces (HTTP,
psql, the data directory); nothing reaches into the processes.

    rfc3339(t)                       epoch seconds as the API's time strings
    mint_token(stack, sub, ...)      an access JWT made with the Stack's secret
                                     (expired, alg none, wrong key ... on demand)
    register_users(stack, n)         n registered attendees, (user_id, token) each
    published_event(stack, token)    a venue plus a published event on it
    seatmap(stack, event_id, seq)    GET /events/{id}/seats?min_seq=seq, retried
                                     while the projection lags
    seat_statuses(seatmap)           {seat id: status}
    section(seatmap, key)            one section of a seat map
    checkpoint(stack) / wait_checkpoint(stack, seq)
    log_head(stack)                  the stream's last sequence (from /metrics)
    audit(stack, token, subject)     every commit on a subject filter, in order
    quota_subject(event_id, user_id) the user's bucket of the event's quota
    quota_types(stack, token, event_id, user_id)
                                     the types of that user's quota events
    run_together(fn, args)           calls fn(arg) for each arg in its own thread,
                                     released at the same instant
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import expect


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def rfc3339(t):
    """Epoch seconds as an RFC 3339 UTC time, as the API takes them."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def mint_token(stack, sub, roles=("attendee",), ttl=900, alg="HS256", key=None, iss="turnstile",
               iat=None):
    """An access JWT for user id `sub` with the claims of API.md, signed
    HS256 with the Stack's TURNSTILE_JWT_SECRET (or `key`). ttl may be
    negative (an expired token); alg="none" makes an unsigned token."""
    now = int(time.time()) if iat is None else iat
    header = {"alg": alg, "typ": "JWT"}
    claims = {"sub": sub, "roles": list(roles), "iat": now, "exp": now + ttl, "iss": iss,
              "jti": secrets.token_hex(12)}
    signing_input = (_b64url(json.dumps(header).encode()) + "." +
                     _b64url(json.dumps(claims).encode()))
    if alg == "none":
        return signing_input + "."
    secret = (key if key is not None else stack.jwt_secret).encode()
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64url(sig)


def register_users(stack, n, workers=8):
    """Registers n attendees concurrently (POST /auth/register, scrypt on
    the server) and returns [(user_id, access token)]. The tokens are minted
    with the Stack's secret rather than logged in, which would cost a second
    scrypt each; /users/me proves the first one is accepted."""
    tag = secrets.token_hex(3)

    def one(i):
        user = expect(stack.request("POST", "/auth/register",
                                    {"email": f"user{i}-{tag}@turnstile.test",
                                     "password": "attendee-pass-1", "name": f"User {i}"}), 201)
        return user["user_id"], mint_token(stack, user["user_id"])

    with ThreadPoolExecutor(workers) as ex:
        users = list(ex.map(one, range(n)))
    me = expect(stack.request("GET", "/users/me", token=users[0][1]), 200)
    assert me["user_id"] == users[0][0], me
    return users


def published_event(stack, token, venue=None, event=None):
    """Creates a venue (harness defaults, top-level keys replaced by the
    dict `venue`) and an event on it (likewise `event`), publishes it and
    returns (venue answer, event answer, publish answer)."""
    v = stack.create_venue(token, **(venue or {}))
    e = stack.create_event(token, v["venue_id"], **(event or {}))
    p = stack.publish(token, e["event_id"])
    return v, e, p


def get_projected(stack, path, min_seq, token=None, timeout=30.0):
    """GET path?min_seq=N, retried while the answer is 503
    projection_lagging (the server itself waits only 2 s, and a loaded
    machine may need longer). Returns (status, headers, data) of the first
    other answer."""
    sep = "&" if "?" in path else "?"
    deadline = time.monotonic() + timeout
    while True:
        r = stack.request("GET", f"{path}{sep}min_seq={min_seq}", token=token)
        if r[0] != 503 or time.monotonic() > deadline:
            return r
        if not isinstance(r[2], dict) or r[2].get("code") != "projection_lagging":
            return r
        time.sleep(0.2)


def seatmap(stack, event_id, min_seq=0, timeout=30.0):
    """The seat map of event_id as of at least commit min_seq; asserts 200
    and that as_of_seq really is >= min_seq."""
    m = expect(get_projected(stack, f"/events/{event_id}/seats", min_seq, timeout=timeout), 200)
    assert m["as_of_seq"] >= min_seq, (m["as_of_seq"], min_seq)
    return m


def section(m, key):
    for s in m["sections"]:
        if s["key"] == key:
            return s
    raise AssertionError(f"no section {key} in seat map: {[s['key'] for s in m['sections']]}")


def seat_statuses(m):
    """{seat id: status} over every seated section of a seat map."""
    return {seat["id"]: seat["status"] for s in m["sections"] for seat in s.get("seats", [])}


def checkpoint(stack):
    """The catalog projection's checkpoint (0 before the schema exists)."""
    try:
        rows = stack.psql("select last_seq from catalog.checkpoints where projection = 'catalog'")
    except Exception:  # the projector has not created the schema yet
        return 0
    return int(rows[0][0]) if rows else 0


def wait_checkpoint(stack, seq, timeout=60.0):
    """Waits until the catalog checkpoint is >= seq; returns it."""
    got = []

    def reached():
        got[:] = [checkpoint(stack)]
        return got[0] >= seq

    deadline = time.monotonic() + timeout
    while not reached():
        if time.monotonic() > deadline:
            raise AssertionError(f"checkpoint {got[0]} did not reach {seq} in {timeout}s")
        time.sleep(0.1)
    return got[0]


def log_head(stack):
    """turnstile_log_last_seq of /metrics: the stream's last sequence."""
    text = expect(stack.request("GET", "/metrics"), 200)
    m = re.search(r"^turnstile_log_last_seq (\d+)$", text, re.M)
    assert m, "turnstile_log_last_seq missing from /metrics"
    return int(m.group(1))


def audit(stack, token, subject, **filters):
    """Every commit on `subject` (a filter such as tix.inv.<event>.>), in
    stream order, following next_cursor. filters go to the query string."""
    items, cursor = [], None
    query = "".join(f"&{k}={v}" for k, v in filters.items())
    while True:
        path = f"/audit/events?subject={subject}&limit=200{query}"
        if cursor:
            path += f"&cursor={cursor}"
        page = expect(stack.request("GET", path, token=token), 200)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor or not page["items"]:
            return items


def hold_events(commits, type_name):
    """[(commit seq, event data)] of every event named type_name."""
    return [(c["seq"], ev["data"]) for c in commits for ev in c["events"]
            if ev["type"] == type_name]


# ENG_QUOTA_BUCKETS (engine/engine.h).
QUOTA_BUCKETS = 4


def quota_subject(event_id, user_id):
    """tix.quota.<event>.<bucket>: the aggregate holding user_id's quota for
    the event (RULE-HOLD-4), as eng_quota_subject names it: bucket = first
    byte of SHA-256(user id) mod QUOTA_BUCKETS."""
    bucket = hashlib.sha256(user_id.encode()).digest()[0] % QUOTA_BUCKETS
    return f"tix.quota.{event_id}.{bucket}"


def quota_types(stack, token, event_id, user_id):
    """The types of user_id's quota events for the event, in log order (its
    bucket also holds other users')."""
    return [x["type"] for c in audit(stack, token, quota_subject(event_id, user_id))
            for x in c["events"] if x["data"].get("user_id") == user_id]


def run_together(fn, args, timeout=120.0):
    """Runs fn(arg) for every arg, each in its own thread, all released by
    one barrier so the requests really overlap. Returns the results in the
    order of args; re-raises the first exception."""
    barrier = threading.Barrier(len(args))
    results = [None] * len(args)
    errors = []

    def body(i, arg):
        try:
            barrier.wait(timeout)
            results[i] = fn(arg)
        except BaseException as e:  # reported to the test below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i, a), daemon=True)
               for i, a in enumerate(args)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if any(t.is_alive() for t in threads):
        raise AssertionError(f"some of {len(args)} concurrent calls did not finish in {timeout}s")
    if errors:
        raise errors[0]
    return results
