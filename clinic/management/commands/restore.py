"""``manage.py restore FILE``: replace the database's contents with a backup (see ``clinic.backups``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from clinic.backups import BackupError, database_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by 'manage.py backup', replacing every row in the database. "
        "Stop web, worker and beat first; run 'manage.py migrate' afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The backup file to restore.")
        parser.add_argument("--database", default="default", help="The database alias (default: default).")
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive", help="Do not ask for confirmation."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["file"])
        using = options["database"]
        if options["interactive"]:
            name = connections[using].settings_dict["NAME"]
            answer = input(
                f"This replaces everything in the database {name} with the backup {source}.\n"
                "Type 'yes' to continue, or anything else to stop: "
            )
            if answer != "yes":
                raise CommandError("Restore stopped; nothing was changed.")
        try:
            database_restore(source=source, using=using)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {source}"))
