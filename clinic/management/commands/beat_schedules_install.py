"""Install the clinic's periodic tasks into beat's tables.

Each app declares its clinic-wide periodic tasks in ``BEAT_SCHEDULES`` in its own ``tasks``
module; this command collects them from every installed app (so it names none of them).
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


def beat_schedules_declared() -> dict[str, dict[str, Any]]:
    """Every installed app's ``tasks.BEAT_SCHEDULES``, merged by entry name."""
    declared: dict[str, dict[str, Any]] = {}
    for app_config in apps.get_app_configs():
        module_name = f"{app_config.name}.tasks"
        if find_spec(module_name) is None:
            continue
        declared |= getattr(import_module(module_name), "BEAT_SCHEDULES", {})
    return declared


class Command(BaseCommand):
    help = (
        "Create the clinic-wide periodic tasks (plan and send due reminders) in django-celery-beat's "
        "tables. Idempotent: intervals the admin tuned and tasks the admin disabled are kept."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for name, spec in beat_schedules_declared().items():
            if PeriodicTask.objects.filter(name=name).exists():
                PeriodicTask.objects.filter(name=name).exclude(task=spec["task"]).update(task=spec["task"])
                self.stdout.write(f"kept: {name}")
                continue
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=spec["every_seconds"], period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.create(
                name=name, task=spec["task"], interval=interval, description=spec["description"]
            )
            self.stdout.write(self.style.SUCCESS(f"installed: {name}"))
