"""The database refuses to rewrite the audit trail on SQLite too, and PostgreSQL refuses TRUNCATE.

0004 put an UPDATE/DELETE trigger on PostgreSQL only, so on the SQLite default a raw
``DELETE FROM clinic_auditevent`` went through, and on PostgreSQL ``TRUNCATE`` (a
statement, not row changes) bypassed the row trigger.  The test suite's flush between
transactional tests lifts these triggers for its own statements (tests/conftest.py);
nothing in the application does.
"""

from django.db import migrations

POSTGRESQL_CREATE = """
CREATE TRIGGER clinic_auditevent_no_truncate
    BEFORE TRUNCATE ON clinic_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION clinic_auditevent_append_only();
"""
POSTGRESQL_DROP = "DROP TRIGGER IF EXISTS clinic_auditevent_no_truncate ON clinic_auditevent;"

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER clinic_auditevent_no_{operation.lower()}
        BEFORE {operation} ON clinic_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'clinic_auditevent is append-only: {operation} refused');
    END;
    """
    for operation in ("UPDATE", "DELETE")
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS clinic_auditevent_no_{operation};" for operation in ("update", "delete")]


def _for_vendor(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("clinic", "0006_modality_max_span")]

    operations = [
        migrations.RunPython(
            _for_vendor({"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}),
            _for_vendor({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}),
            elidable=False,
        )
    ]
