"""Run the reminder beat tasks once by hand (or from cron where no beat runs)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bookings.tasks import reminders_plan_due
from notifications.tasks import reminders_send_due


class Command(BaseCommand):
    help = "Plan the reminders that are due, then hand the due ones to the Celery workers (each once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-plan", action="store_true", help="Only hand out already planned reminders.")

    def handle(self, *args: Any, no_plan: bool, **options: Any) -> None:
        if not no_plan:
            planned = reminders_plan_due()
            self.stdout.write(f"planned: {planned}")
        self.stdout.write(f"handed to workers: {reminders_send_due()}")
