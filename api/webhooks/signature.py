"""Signing webhook bodies as Stripe and GitHub do, and the check a receiver runs.

Header ``Clinic-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.  The
timestamp is signed with the body, so a captured request cannot be replayed later than the
receiver's tolerance; ``Clinic-Webhook-Id`` (the event id, the same on every retry) lets the
receiver drop a copy it has already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Clinic-Signature"
WEBHOOK_ID_HEADER = "Clinic-Webhook-Id"
EVENT_HEADER = "Clinic-Event"
ATTEMPT_HEADER = "Clinic-Delivery-Attempt"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureInvalid(Exception):
    """The body was not signed with the secret, was changed, or the timestamp is outside the tolerance."""


def _digest(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Clinic-Signature`` value for ``body`` signed now (or at ``timestamp``, unix seconds)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *,
    secret: str,
    body: bytes,
    header: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a ``Clinic-Signature`` header against the raw request ``body``; returns its timestamp.

    Raises ``SignatureInvalid`` when the header is malformed, no ``v1`` matches (compared in
    constant time; several ``v1`` are accepted, for a secret being rotated), or the timestamp is
    more than ``tolerance_seconds`` away from ``now``.
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureInvalid("The signature header has no timestamp or no v1 signature.")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureInvalid("The signature's timestamp is outside the tolerance (a replay or a wrong clock).")
    expected = _digest(secret=secret, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise SignatureInvalid("No signature matches the body and the secret.")
    return timestamp
