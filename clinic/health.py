"""``/health/``: can this clinic serve pages and send its messages?  For load balancers and monitors.

Five checks, each ``ok``, ``fail`` or ``skipped``:

- database: one ``SELECT 1`` on the default connection;
- cache: a value written and read back;
- broker: a connection to Celery's broker, given up after a short timeout;
- and what the apps above register with ``register_health_check`` in their
  ``AppConfig.ready()``: notifications adds the outbox (the oldest message due and not
  yet sent) and beat (how long ago it last ran a clinic task).

The answer is 200 when nothing fails and 503 otherwise.  It needs no login, so it says
only statuses and ages: why a check failed goes to the log, never to the caller.  Its
cost is fixed (three small queries on indexed columns), so it may be called every few
seconds.  clinic imports no app above it: those apps hand their checks down by registering them.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
CACHE_KEY = "clinic:health"

Check = dict[str, Any]
# name -> check(now); filled by register_health_check, run in registration order after the three above.
_REGISTERED: dict[str, Callable[[datetime], Check]] = {}


def register_health_check(name: str, check: Callable[[datetime], Check]) -> None:
    """Add a check to ``/health/``; registering a name again replaces it (ready() may run twice in tests)."""
    _REGISTERED[name] = check


def check_database() -> Check:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": OK}


def check_cache() -> Check:
    token = secrets.token_hex(8)
    cache.set(CACHE_KEY, token, timeout=30)
    return {"status": OK if cache.get(CACHE_KEY) == token else FAIL}


def check_broker() -> Check:
    # Imported here: the Celery app loads settings, and this module is imported by the URLconf.
    from clinic.celery import app

    timeout = settings.CLINIC_HEALTH_BROKER_TIMEOUT_SECONDS
    with app.connection_for_write(connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)
    return {"status": OK}


def seconds_since(moment: datetime, now: datetime) -> int:
    return max(0, int((now - moment).total_seconds()))


def _run(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:  # any failure is an answer ("fail"), never a 500
        logger.warning("Health check %s failed: %s: %s", name, type(error).__name__, error)
        return {"status": FAIL}


def health_report() -> dict[str, Any]:
    now = timezone.now()
    checks = {
        "database": _run("database", check_database),
        "cache": _run("cache", check_cache),
        "broker": _run("broker", check_broker),
    }
    for name, check in _REGISTERED.items():
        checks[name] = _run(name, lambda check=check: check(now))
    failed = any(check["status"] == FAIL for check in checks.values())
    return {"status": FAIL if failed else OK, "checks": checks}


@never_cache
@require_safe  # GET, and HEAD for probes that only read the status
def health_view(request: HttpRequest) -> JsonResponse:
    report = health_report()
    response = JsonResponse(report, status=503 if report["status"] == FAIL else 200)
    # Each failing check is logged once above as a warning; Django would add an ERROR for the
    # 503 on every probe, which error tracking would turn into an event every few seconds.
    response._has_been_logged = True
    return response
