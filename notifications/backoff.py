"""Exponential back-off between attempts, shared by everything that retries a delivery
(the message outbox and the API's webhooks)."""

from __future__ import annotations

from datetime import timedelta


def retry_backoff(*, attempts: int, first_seconds: float, cap_seconds: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: ``first_seconds``, doubling, at most ``cap_seconds``."""
    return timedelta(seconds=min(cap_seconds, first_seconds * 2 ** max(0, attempts - 1)))
