"""Load the demo clinic used by ``make run``.

It lives in ``treatments`` because that app sits at the bottom of the
dependency chain and may call every other app's demo builder.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from bookings.demo import demo_appointments_create
from clinic.demo import demo_logins_text, demo_people_create
from screening.demo import demo_screenings_create
from treatments.demo import demo_sessions_create


class Command(BaseCommand):
    help = "Create (once) the demo admin, desk, practitioners and patients, their care plans, appointments and history."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        people = demo_people_create()
        demo_screenings_create(people=people)
        demo_appointments_create(people=people)
        demo_sessions_create(people=people)
        if options["verbosity"] > 0:
            self.stdout.write(demo_logins_text())
