"""Run the whole clinic on one machine: web, Celery worker and Celery beat.

Used by ``make run``.  It migrates, loads the demo data, starts the three
processes under a :class:`~clinic.process_supervisor.Supervisor` (a crashed worker
or beat is restarted with a back-off, logged; the web server is never taken down
with it), waits until the web server answers, then prints where to go and how to
log in, last, so nothing scrolls it away.  Ctrl-C or SIGTERM stops every process.

Worker and beat write their banners and logs to ``var/log/``; without Redis the
broker is the SQLite file ``var/celery-broker.sqlite3`` (clinic.sqlite_broker).
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.demo import demo_logins_text
from clinic.process_supervisor import ChildSpec, Supervisor


class Command(BaseCommand):
    help = "Migrate, load demo data and run web + Celery worker + Celery beat until Ctrl-C or SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo data.")
        parser.add_argument(
            "--ready-timeout", type=float, default=120, help="Seconds to wait for the web server to answer."
        )

    def handle(self, *args: Any, port: int, no_demo: bool, ready_timeout: float, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if _has_command("beat_schedules_install"):
            call_command("beat_schedules_install", verbosity=0)
        if not no_demo:
            call_command("demo_data", verbosity=0)

        log_dir = Path(settings.VAR_DIR) / "log"
        supervisor = Supervisor(
            children=_children(port=port, log_dir=log_dir),
            report=lambda line: self.stderr.write(f"[runlocal {time.strftime('%H:%M:%S')}] {line}"),
            cwd=Path(settings.BASE_DIR),
            pid_dir=Path(settings.VAR_DIR) / "run",
        )
        supervisor.install_signal_handlers()
        supervisor.start()
        try:
            exit_code = self._serve(supervisor, port=port, no_demo=no_demo, log_dir=log_dir, timeout=ready_timeout)
        finally:
            supervisor.stop()
        if exit_code:
            raise CommandError("The web server stopped; the worker and beat were stopped with it.")

    def _serve(self, supervisor: Supervisor, *, port: int, no_demo: bool, log_dir: Path, timeout: float) -> int:
        url = f"http://127.0.0.1:{port}/"
        if not _wait_until_answers(url, supervisor=supervisor, timeout=timeout):
            if supervisor.stop_requested:
                return supervisor.watch()
            raise CommandError(f"The web server did not answer at {url} within {timeout:g} s.")
        self.stdout.write(self.style.SUCCESS(f"\nThe clinic is running at {url}"))
        self.stdout.write(f"Django admin: {url}admin/")
        self.stdout.write(f"Worker and beat logs: {log_dir}/ (a crashed one is restarted and the reason logged here)")
        self.stdout.write(f"Emails: {_email_destination()}")
        if not settings.CLINIC_STAFF_2FA_REQUIRED:
            self.stdout.write("Staff two-factor authentication is off for this local run (CLINIC_STAFF_2FA_REQUIRED).")
        if not no_demo:
            self.stdout.write(demo_logins_text())
        self.stdout.write("Press Ctrl-C to stop web, worker and beat.\n")
        self.stdout.flush()
        return supervisor.watch()


def _children(*, port: int, log_dir: Path) -> list[ChildSpec]:
    python = sys.executable
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    celery = [python, "-m", "celery", "-A", "clinic"]
    return [
        # The web server keeps the terminal: its request log is what a person trying the app watches.
        ChildSpec("web", [python, manage, "runserver", f"127.0.0.1:{port}", "--noreload"], restart=False),
        ChildSpec(
            "worker",
            [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--without-gossip", "--without-mingle"],
            log_path=log_dir / "celery-worker.log",
        ),
        ChildSpec(
            "beat",
            [*celery, "beat", "--loglevel=INFO", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME],
            log_path=log_dir / "celery-beat.log",
        ),
    ]


def _wait_until_answers(url: str, *, supervisor: Supervisor, timeout: float) -> bool:
    """Poll ``url`` until any HTTP response comes back, keeping the children supervised."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not supervisor.stop_requested:
        supervisor.check()
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local URL
                return True
        except urllib.error.HTTPError:
            return True  # a 302 to the login page or a 404 is still an answer
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def _email_destination() -> str:
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return f"one file per message in {settings.EMAIL_FILE_PATH}"
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        return "printed in this terminal"
    return settings.EMAIL_BACKEND


def _has_command(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()
