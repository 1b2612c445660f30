"""Helpers of the payment tests (test_payments*.py): signing and sending
provider webhooks as a provider would (RULE-PAY-1), and driving a booking
through hold, payment and the simulated provider's outcome.

    SECRET                      the webhook secret the tests give serve
    PAY_ENV                     Stack(env=PAY_ENV)
    sign(body, t)               the Payment-Signature header value
    webhook(stack, body, ...)   POST /webhooks/payments, signed (or not)
    hold / pay / simulate       the three API calls, each asserting its status
    wait_booking(stack, tok, id, status)
                                GET /bookings/{id} until status (the provider's
                                webhook arrives a moment after simulate)
    paid_booking(...)           hold + pay + simulate succeeded + confirmed
"""

import hashlib
import hmac
import json
import secrets
import time

from harness import expect

SECRET = "whsec_test_" + secrets.token_hex(16)
PAY_ENV = {"TURNSTILE_WEBHOOK_SECRET": SECRET}


def sign(raw, t=None, secret=SECRET):
    """Payment-Signature for raw (bytes or str) at unix time t (now)."""
    t = int(time.time()) if t is None else t
    raw = raw.encode() if isinstance(raw, str) else raw
    mac = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def webhook_body(payment_id, type_="payment.succeeded", amount=0, currency="EUR", event_id=None):
    return json.dumps({"id": event_id or "evt_" + secrets.token_hex(12), "type": type_,
                       "data": {"payment_id": payment_id, "amount": amount,
                                "currency": currency}}, separators=(",", ":"))


def webhook(stack, raw, signature="sign", t=None):
    """POSTs raw (str) to the webhook endpoint with `signature` as the
    Payment-Signature header ("sign": a valid one made now or at t; None:
    no header)."""
    headers = {}
    if signature == "sign":
        signature = sign(raw, t)
    if signature is not None:
        headers["Payment-Signature"] = signature
    return stack.request("POST", "/webhooks/payments", raw=raw, headers=headers)


def hold(stack, tok, event_id, body):
    return expect(stack.request("POST", f"/events/{event_id}/holds", body, token=tok), 201)


def pay(stack, tok, booking_id):
    return expect(stack.request("POST", f"/bookings/{booking_id}/payments", token=tok), 201)


def simulate(stack, tok, payment_id, outcome):
    return expect(stack.request("POST", f"/payments/{payment_id}/simulate",
                                {"outcome": outcome}, token=tok), 202)


def wait_booking(stack, tok, booking_id, status, timeout=30.0):
    """The booking (read model) once its status is `status`."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        st, _, b = stack.request("GET", f"/bookings/{booking_id}", token=tok)
        if st == 200:
            last = b
            if b["status"] == status:
                return b
        if time.monotonic() > deadline:
            raise AssertionError(f"booking {booking_id} not {status} after {timeout}s: "
                                 f"{st} {last or b}")
        time.sleep(0.1)


def paid_booking(stack, tok, event_id, body):
    """hold → pay → simulate succeeded → confirmed; returns (hold answer,
    payment answer, confirmed booking)."""
    h = hold(stack, tok, event_id, body)
    p = pay(stack, tok, h["booking_id"])
    simulate(stack, tok, p["payment_id"], "succeeded")
    return h, p, wait_booking(stack, tok, h["booking_id"], "confirmed")
