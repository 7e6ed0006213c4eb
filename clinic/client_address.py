"""Who is on the other end of a request: the client's address and the login name tried.

Login lockout and the audit trail both record the client's address, so both take it
from here.  Behind reverse proxies the address is read from ``X-Forwarded-For``, but
only as many hops as ``TRUSTED_PROXY_COUNT`` says are ours: everything further left
in that header was written by the client and may be made up.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def _valid_address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_address(request: HttpRequest) -> str | None:
    """The address of the client, trusting exactly ``TRUSTED_PROXY_COUNT`` proxies.

    Each trusted proxy appends the address it received the request from, so with N
    proxies the client is the N-th entry from the right of ``X-Forwarded-For``
    (and REMOTE_ADDR is the innermost proxy).  With no trusted proxy the header is
    ignored.  A header shorter than the number of proxies means the request did not
    come through them; then the peer address is the only one we know to be true.
    """
    remote_address = _valid_address(request.META.get("REMOTE_ADDR", "") or "")
    proxy_count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxy_count <= 0:
        return remote_address
    forwarded = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(forwarded) < proxy_count:
        return remote_address
    return _valid_address(forwarded[-proxy_count]) or remote_address


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The account a login attempt was for, as the lockout counts it.

    Email addresses log in in any case, so the lockout key is lower-cased too:
    ``KIM@example.com`` and ``kim@example.com`` share one failure count.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    value = (credentials or {}).get(field)
    if value is None:
        value = request.POST.get(field, "") if request is not None else ""
    return str(value).strip().lower()
