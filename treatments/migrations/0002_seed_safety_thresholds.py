"""The clinic's single safety-thresholds row, with the DESIGN.md defaults (160/100)."""

from django.db import migrations


def seed(apps, schema_editor):
    SafetyThresholds = apps.get_model("treatments", "SafetyThresholds")
    SafetyThresholds.objects.get_or_create(pk=1, defaults={"wbc_systolic_max": 160, "wbc_diastolic_max": 100})


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_session_log")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
