"""Rate limits per token (and per session user, or per address for anonymous calls).

The counts live in the Django cache (Redis in production, so every web process shares
them).  Rates come from ``CLINIC_API_RATE`` and ``CLINIC_API_ANONYMOUS_RATE``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from api.models import PersonalAccessToken
from clinic.client_address import client_ip_address


class PerTokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, PersonalAccessToken):
            ident = f"token:{request.auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None  # AnonymousRateThrottle counts these
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(SimpleRateThrottle):
    scope = "anonymous"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client_ip_address(request._request)}
