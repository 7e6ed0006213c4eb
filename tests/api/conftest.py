"""API fixtures: personal access tokens and a client that sends one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.services import token_create
from clinic.models import User


def token_for(user: User, *, scope: str = "write", valid_days: int = 30, name: str = "test program") -> str:
    """A new token of ``user``, as if made on the tokens page in a session that passed two-factor."""
    return token_create(actor=user, name=name, scope=scope, valid_days=valid_days, session_verified=True).plaintext


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counts live in the cache; each test starts with none (xdist workers have their own locmem)."""
    cache.clear()
    yield
    cache.clear()
