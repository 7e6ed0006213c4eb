"""``manage.py generate_clinic --appointments 20000``: fill an empty database with a realistic clinic.

Point it at a database of its own (the benchmark does: ``var/bench-<size>.sqlite3`` or a
``*_bench_<size>`` PostgreSQL database), e.g.::

    export DJANGO_SETTINGS_MODULE=benchmarks.settings DATABASE_URL=sqlite:///var/try.sqlite3
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py generate_clinic --appointments 20000

(``benchmarks.settings`` installs the benchmarks app; the clinic's own settings do not.)
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.generator import clinic_generate


class Command(BaseCommand):
    help = "Fill an empty database with practitioners, patients, appointments, session logs and reminders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--appointments", type=int, default=20_000, help="How many appointments (default 20000).")
        parser.add_argument("--seed", type=int, default=20_000, help="Random seed, for a reproducible clinic.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["appointments"] < 1:
            raise CommandError("--appointments must be at least 1.")
        started = time.perf_counter()
        try:
            clinic_generate(
                appointments=options["appointments"],
                seed=options["seed"],
                progress=lambda line: self.stdout.write(line),
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Generated in {time.perf_counter() - started:.1f} s")
