"""An existing clinic's database survives the move to one home per concern (issue 12).

A database filled by ``generate_clinic`` is migrated back to the migrations of commit 43e6a65
(the layout before the outbox moved to ``notifications`` and privacy to ``privacy``) and forward
to the latest again; every table must then hold exactly the rows it held before. The check is
generic, over every table the database has, so a model moved between apps later (by
``SeparateDatabaseAndState`` or ``db_table``) is checked too, and a migration that cannot be
reversed fails here rather than on a clinic's server.

The default suite uses a small clinic. The full size the issue asks for runs by hand:
``CLINIC_SLOW_TESTS=1 .venv/bin/python -m pytest tests/benchmarks/test_layout_migration.py -m slow``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from benchmarks.management.commands.generate_clinic import Command as GenerateClinic
from bookings.models import Appointment

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The newest migration of each project app at commit 43e6a65, from
# ``git ls-tree --name-only 43e6a65 <app>/migrations/``. A project app not named here did not
# exist then and is migrated to zero; third-party apps stay where they are.
OLD_LAYOUT_LEAVES = {
    "clinic": "0006_modality_max_span",
    "screening": "0003_history",
    "bookings": "0009_settings_single_row",
    "treatments": "0003_history",
}

# Tables a forward data migration rightly adds rows to (e.g. an audit row for each record it
# backfills), each with the reason: their count may grow on the way forward, never shrink. Every
# other table must end with exactly the rows it started with.
ROWS_ADDED_ON_THE_WAY_FORWARD: dict[str, str] = {
    "clinic_auditevent": "the care-team backfill (bookings 0011) records each membership it grants from an appointment",
}

RUN_SLOW = bool(os.environ.get("CLINIC_SLOW_TESTS"))
SIZES = [
    pytest.param(300, id="300-appointments"),
    pytest.param(
        20_000,
        id="20000-appointments",
        marks=[
            pytest.mark.slow,
            pytest.mark.skipif(not RUN_SLOW, reason="a few minutes: set CLINIC_SLOW_TESTS=1 to run it"),
        ],
    ),
]


def _is_project_app(path: str) -> bool:
    return Path(path).resolve().parent == Path(settings.BASE_DIR).resolve()


def _old_layout_targets(loader: MigrationLoader) -> list[tuple[str, str | None]]:
    targets: list[tuple[str, str | None]] = []
    for app_config in apps.get_app_configs():
        label = app_config.label
        if label not in loader.migrated_apps:
            continue
        if label in OLD_LAYOUT_LEAVES:
            targets.append((label, OLD_LAYOUT_LEAVES[label]))
        elif _is_project_app(app_config.path):
            targets.append((label, None))
        else:
            targets.extend(node for node in loader.graph.leaf_nodes() if node[0] == label)
    return targets


def _row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected
            counts[table] = cursor.fetchone()[0]
    return counts


def _newest_applied(executor: MigrationExecutor, label: str) -> str | None:
    applied = [name for app, name in executor.loader.applied_migrations if app == label]
    return max(applied, default=None)


@pytest.mark.parametrize("appointments", SIZES)
def test_a_generated_clinic_keeps_every_row_when_migrated_to_the_old_layout_and_back(appointments: int) -> None:
    call_command(GenerateClinic(), appointments=appointments, stdout=io.StringIO())
    assert Appointment.objects.count() == appointments
    before = _row_counts()

    executor = MigrationExecutor(connection)
    executor.migrate(_old_layout_targets(executor.loader))
    executor.loader.build_graph()
    for label, name in OLD_LAYOUT_LEAVES.items():
        assert _newest_applied(executor, label) == name, f"{label} did not go back to {name}"
    executor.migrate(executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())

    after = _row_counts()
    assert set(after) == set(before)
    changed = {
        table: (before[table], after[table])
        for table in before
        if after[table] != before[table]
        and not (table in ROWS_ADDED_ON_THE_WAY_FORWARD and after[table] > before[table])
    }
    assert changed == {}, "rows of these tables (before, after) differ after the round trip"
