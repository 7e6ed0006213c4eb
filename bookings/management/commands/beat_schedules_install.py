"""Install the clinic's periodic tasks (declared in ``bookings.tasks.BEAT_SCHEDULES``) into beat's tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from bookings.tasks import BEAT_SCHEDULES


class Command(BaseCommand):
    help = (
        "Create the clinic-wide periodic tasks (plan and send due reminders) in django-celery-beat's "
        "tables. Idempotent: intervals the admin tuned and tasks the admin disabled are kept."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for name, spec in BEAT_SCHEDULES.items():
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
