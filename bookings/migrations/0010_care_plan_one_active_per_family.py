"""Hold "one active care plan per patient and modality family" in the database.

The family lives on the plan's template; a constraint sees one row, so the plan gets a copy of it
(filled in here for existing plans) and the per-template constraint becomes a per-family one.
An existing database with two active plans of one family for a patient fails here: end one first.
"""

from django.db import migrations, models


def family_copy(apps, schema_editor):
    PlanTemplate = apps.get_model("bookings", "PlanTemplate")
    for model_name in ("CarePlan", "HistoricalCarePlan"):
        model = apps.get_model("bookings", model_name)
        for template_id, family in PlanTemplate.objects.values_list("pk", "family"):
            model.objects.filter(template_id=template_id).update(family=family)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0009_settings_single_row"),
    ]

    operations = [
        migrations.AddField(
            model_name="careplan",
            name="family",
            field=models.CharField(
                choices=[
                    ("wbc", "Whole-body cryotherapy"),
                    ("local_cryo", "Localized cryotherapy"),
                    ("acupuncture", "Acupuncture"),
                ],
                default="",
                editable=False,
                help_text="Copied from the template when saved, so the database can hold one active plan per family.",
                max_length=20,
                verbose_name="modality family",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalcareplan",
            name="family",
            field=models.CharField(
                choices=[
                    ("wbc", "Whole-body cryotherapy"),
                    ("local_cryo", "Localized cryotherapy"),
                    ("acupuncture", "Acupuncture"),
                ],
                default="",
                editable=False,
                help_text="Copied from the template when saved, so the database can hold one active plan per family.",
                max_length=20,
                verbose_name="modality family",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(family_copy, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="careplan", name="care_plan_one_active_per_template"),
        migrations.AddConstraint(
            model_name="careplan",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "active")),
                fields=("patient", "family"),
                name="care_plan_one_active_per_family",
                violation_error_message="This patient already has an active plan for this kind of treatment; "
                "end it first.",
            ),
        ),
    ]
