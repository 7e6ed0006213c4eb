"""Run the whole clinic on one machine: web, Celery worker and Celery beat.

Used by ``make run``.  It migrates, loads the demo data, starts the three
processes, prints where to go and how to log in, and stops all of them on Ctrl-C.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from clinic.demo import demo_logins_text


class Command(BaseCommand):
    help = "Migrate, load demo data and run web + Celery worker + Celery beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo data.")

    def handle(self, *args: Any, port: int, no_demo: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if _has_command("beat_schedules_install"):
            call_command("beat_schedules_install", verbosity=0)
        if not no_demo:
            call_command("demo_data", verbosity=0)
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [python, "-m", "celery", "-A", "clinic", "worker", "--loglevel=INFO", "--concurrency=2"],
            "beat": [python, "-m", "celery", "-A", "clinic", "beat", "--loglevel=INFO"],
        }
        processes = {name: subprocess.Popen(command) for name, command in commands.items()}  # noqa: S603
        time.sleep(3)
        self.stdout.write(self.style.SUCCESS(f"\nThe clinic is running at http://127.0.0.1:{port}/"))
        self.stdout.write(f"Django admin: http://127.0.0.1:{port}/admin/")
        if not no_demo:
            self.stdout.write(demo_logins_text())
        self.stdout.write(f"Emails: {_email_destination()}")
        if not settings.CLINIC_STAFF_2FA_REQUIRED:
            self.stdout.write("Staff two-factor authentication is off for this local run (CLINIC_STAFF_2FA_REQUIRED).")
        self.stdout.write("Press Ctrl-C to stop web, worker and beat.\n")
        try:
            while all(process.poll() is None for process in processes.values()):
                time.sleep(1)
            stopped = [name for name, process in processes.items() if process.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def _email_destination() -> str:
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return f"one file per message in {settings.EMAIL_FILE_PATH}"
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        return "printed in this terminal"
    return settings.EMAIL_BACKEND


def _has_command(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()
