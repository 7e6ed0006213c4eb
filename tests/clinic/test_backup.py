"""``manage.py backup`` / ``restore`` (``make backup`` / ``make restore FILE=...``): a backup
that does not restore is no backup.

A small clinic is generated, backed up, the database emptied, the backup restored, and
every row of every table must be back exactly.  This runs on the engine configured for
the test run: SQLite by default, PostgreSQL (pg_dump / pg_restore) with DATABASE_URL.
"""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from clinic.models import Patient
from tests.factories import PatientFactory, PractitionerFactory
from tests.treatments.factories import session_logged

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="module", autouse=True)
def _leave_the_seeded_rows_behind(django_db_blocker):
    """The last flush here empties every table; put the migrations' seed rows back for later tests."""
    yield
    with django_db_blocker.unblock():
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized:
            connection.creation.deserialize_db_from_string(serialized)


def _clinic_generated(wbc) -> Patient:
    practitioner = PractitionerFactory()
    patients = [PatientFactory() for _ in range(3)]
    for days_ago, patient in enumerate(patients, start=1):
        session_logged(
            patient=patient,
            practitioner=practitioner,
            modality=wbc,
            starts_at=(timezone.now() - timedelta(days=days_ago)).replace(hour=10, minute=0, second=0, microsecond=0),
            adverse_events=[{"kind": "redness", "severity": "mild", "action_taken": "Observed"}],
        )
    return patients[0]


def _every_row() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  (names from the schema)
            rows[table] = sorted(repr(row) for row in cursor.fetchall())
    return rows


def test_a_backup_restored_into_an_emptied_database_has_every_row_back(tmp_path: Path, wbc) -> None:
    patient = _clinic_generated(wbc)
    before = _every_row()
    backup = tmp_path / "clinic.backup"

    call_command("backup", output=str(backup))
    call_command("flush", interactive=False)
    assert not Patient.objects.exists()
    call_command("restore", str(backup), interactive=False)

    after = _every_row()
    assert after.keys() == before.keys()
    missing = {table: len(before[table]) for table in before if after[table] != before[table]}
    assert not missing, f"tables not restored exactly: {missing}"
    assert sum(len(rows) for rows in after.values()) > 50
    assert Patient.objects.get(pk=patient.pk).user.email == patient.user.email


def test_a_backup_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    backup = tmp_path / "clinic.backup"

    call_command("backup", output=str(backup))

    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_a_backup_never_overwrites_an_earlier_one(tmp_path: Path) -> None:
    backup = tmp_path / "clinic.backup"
    backup.write_bytes(b"yesterday's backup")

    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", output=str(backup))

    assert backup.read_bytes() == b"yesterday's backup"


def test_restoring_a_file_that_is_not_a_backup_changes_nothing(tmp_path: Path, wbc) -> None:
    patient = _clinic_generated(wbc)
    before = _every_row()
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("a shopping list")

    with pytest.raises(CommandError, match="not a"):
        call_command("restore", str(not_a_backup), interactive=False)

    assert _every_row() == before
    assert Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.postgres
def test_postgresql_backups_are_pg_dump_archives(tmp_path: Path) -> None:
    backup = tmp_path / "clinic.backup"

    call_command("backup", output=str(backup))

    assert backup.read_bytes().startswith(b"PGDMP")
