"""No double booking where no code path can bypass it (PostgreSQL only).

A btree_gist exclusion constraint refuses two active appointments of one practitioner whose
blocked time (start up to ``blocked_until``, buffer included) overlaps, and the same for a
room or device that holds one session at a time (``holds_resource_exclusively``, set when
booked, because a constraint cannot read the resource's capacity from another table).
SQLite has no exclusion constraints; there the booking transaction serialises instead.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINTS = {
    "appointment_no_practitioner_overlap": (
        "EXCLUDE USING gist (practitioner_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
        "WHERE (status <> 'cancelled')"
    ),
    "appointment_no_exclusive_resource_overlap": (
        "EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
        "WHERE (status <> 'cancelled' AND holds_resource_exclusively)"
    ),
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in CONSTRAINTS.items():
        schema_editor.execute(f"ALTER TABLE bookings_appointment ADD CONSTRAINT {name} {definition}")


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_schedules_and_exclusive_resource"),
    ]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraints, drop_constraints),
    ]
