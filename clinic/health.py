"""``/health/``: can this clinic serve pages and send its messages?  For load balancers and monitors.

Five checks, each ``ok``, ``fail`` or ``skipped``:

- database: one ``SELECT 1`` on the default connection;
- cache: a value written and read back;
- broker: a connection to Celery's broker, given up after a short timeout;
- outbox: the age of the oldest message that is due and not yet sent, failing past
  ``CLINIC_HEALTH_OUTBOX_MAX_DELAY_MINUTES`` (workers or the dispatcher are stuck);
- beat: how long ago beat last ran one of the clinic's periodic tasks, failing past
  ``CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES``; skipped while no schedule is installed.

The answer is 200 when nothing fails and 503 otherwise.  It needs no login, so it says
only statuses and ages: why a check failed goes to the log, never to the caller.  Its
cost is fixed (three small queries on indexed columns), so it may be called every few
seconds.  This module sits in the composition root and imports no upper app: the outbox
model is looked up by name, wherever it lives now.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connections, models
from django.db.models import Count, Max, Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

OK, FAIL, SKIPPED = "ok", "fail", "skipped"
# Where the outbox may live, first match wins (it is moving from bookings to notifications).
OUTBOX_APP_LABELS = ("notifications", "bookings")
CACHE_KEY = "clinic:health"

Check = dict[str, Any]


def outbox_model() -> type[models.Model] | None:
    """The outbox: the model whose manager knows which rows are ``sendable(now)``."""
    for label in OUTBOX_APP_LABELS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            names = {field.name for field in model._meta.get_fields()}
            if {"state", "next_attempt_at"} <= names and hasattr(model._default_manager, "sendable"):
                return model
    return None


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


def check_outbox(now: datetime) -> Check:
    model = outbox_model()
    if model is None:
        return {"status": SKIPPED}
    oldest = model._default_manager.sendable(now).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    if oldest is None:
        return {"status": OK, "oldest_due_seconds": None}
    age = _seconds_since(oldest, now)
    limit = settings.CLINIC_HEALTH_OUTBOX_MAX_DELAY_MINUTES * 60
    return {"status": OK if age <= limit else FAIL, "oldest_due_seconds": age}


def check_beat(now: datetime) -> Check:
    from django_celery_beat.models import PeriodicTask

    # Celery's own housekeeping is not the clinic's work; a task never run counts from its installation.
    clinic_tasks = PeriodicTask.objects.filter(enabled=True).exclude(task__startswith="celery.")
    seen = clinic_tasks.aggregate(tasks=Count("id"), last_run=Max("last_run_at"), installed=Max("date_changed"))
    if not seen["tasks"]:
        return {"status": SKIPPED}
    age = _seconds_since(seen["last_run"] or seen["installed"], now)
    limit = settings.CLINIC_HEALTH_BEAT_MAX_SILENCE_MINUTES * 60
    return {"status": OK if age <= limit else FAIL, "last_run_seconds_ago": age}


def _seconds_since(moment: datetime, now: datetime) -> int:
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
        "outbox": _run("outbox", lambda: check_outbox(now)),
        "beat": _run("beat", lambda: check_beat(now)),
    }
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
