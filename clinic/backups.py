"""Backups of the clinic's database that restore: one file per backup, chosen by engine.

- SQLite (the embedded default): SQLite's online backup API, a consistent copy of the
  live file even while web, worker and beat write to it (WAL included).
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --single-transaction``,
  so a restore either replaces the whole database or leaves it as it was.

A backup holds every patient's health data: it is written readable by its owner only and
never over an earlier backup.  Restore replaces everything in the configured database with
the backup's rows and schema; stop web, worker and beat first, and run ``migrate`` after
restoring a backup taken with an older version of the app.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connections

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, for the operator."""


def backup_suffix(*, using: str = "default") -> str:
    return {"sqlite": "sqlite3", "postgresql": "pgdump"}.get(connections[using].vendor, "backup")


def database_backup(*, output: Path, using: str = "default") -> Path:
    """Write a backup of the database ``using`` to ``output`` (a new file)."""
    connection = connections[using]
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Created here, empty and private, so the dump never exists readable by others.
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{output} already exists; a backup never overwrites an earlier one.") from None
    os.close(descriptor)
    try:
        if connection.vendor == "sqlite":
            _sqlite_backup(connection, output)
        elif connection.vendor == "postgresql":
            _run(_pg_command("pg_dump", connection.settings_dict, "--format=custom", f"--file={output}"))
        else:
            raise BackupError(f"No backup method for the {connection.vendor} database engine.")
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    return output


def database_restore(*, source: Path, using: str = "default") -> None:
    """Replace the contents of the database ``using`` with the backup in ``source``."""
    connection = connections[using]
    try:
        header = source.open("rb").read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"Cannot read {source}: {error.strerror}.") from None
    if connection.vendor == "sqlite":
        if not header.startswith(SQLITE_HEADER):
            raise BackupError(f"{source} is not a SQLite backup; nothing was changed.")
        _sqlite_restore(connection, source)
    elif connection.vendor == "postgresql":
        if not header.startswith(PG_DUMP_HEADER):
            raise BackupError(f"{source} is not a pg_dump archive (pg_dump --format=custom); nothing was changed.")
        # An open transaction of this process would block the DROPs of --clean.
        connection.close()
        _run(
            _pg_command(
                "pg_restore",
                connection.settings_dict,
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                str(source),
            )
        )
    else:
        raise BackupError(f"No restore method for the {connection.vendor} database engine.")


def _sqlite_backup(connection: Any, output: Path) -> None:
    connection.ensure_connection()
    target = sqlite3.connect(output)
    try:
        connection.connection.backup(target)
    finally:
        target.close()


def _sqlite_restore(connection: Any, source: Path) -> None:
    connection.ensure_connection()
    backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        backup.backup(connection.connection)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} could not be restored: {error}.") from None
    finally:
        backup.close()


def _pg_command(program: str, settings_dict: dict[str, Any], *arguments: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment for a PostgreSQL client, from Django's database settings."""
    options = settings_dict.get("OPTIONS", {})
    command = [program, "--no-owner", "--no-privileges"]
    for flag, value in (
        ("--host", settings_dict.get("HOST")),
        ("--port", settings_dict.get("PORT")),
        ("--username", settings_dict.get("USER")),
    ):
        if value:
            command.append(f"{flag}={value}")
    command.append(f"--dbname={settings_dict['NAME']}")
    environment = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(option):
            environment[variable] = str(options[option])
    return [*command, *arguments], environment


def _run(command_and_environment: tuple[list[str], dict[str, str]]) -> None:
    command, environment = command_and_environment
    try:
        result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (the PostgreSQL client tools are needed).") from None
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")
