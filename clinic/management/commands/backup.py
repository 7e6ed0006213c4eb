"""``manage.py backup``: a backup of the clinic's database, by engine (see ``clinic.backups``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from clinic.backups import BackupError, backup_suffix, database_backup


class Command(BaseCommand):
    help = (
        "Back up the database: SQLite's backup API for SQLite, pg_dump --format=custom for PostgreSQL. "
        "The file holds patients' health data and is written readable by its owner only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            help="Where to write the backup (a new file). Default: var/backups/clinic-<date>-<time>.<engine>.",
        )
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"]) if options["output"] else self._default_path(options["database"])
        try:
            database_backup(output=output, using=options["database"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Backup written to {output}"))

    @staticmethod
    def _default_path(using: str) -> Path:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return settings.VAR_DIR / "backups" / f"clinic-{stamp}.{backup_suffix(using=using)}"
