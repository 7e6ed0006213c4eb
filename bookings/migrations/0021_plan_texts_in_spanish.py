"""Plan texts: English from today's values, Spanish for the seeded templates and phases.

Apart from the migration that adds the columns: on PostgreSQL that one's unique indexes are created
at its end, which fails once rows were updated in the same transaction.
"""

from django.db import migrations


def copy_english(Model, fields):
    """Today's single-language values are English: they become the English column."""
    for row in Model.objects.all():
        changed = []
        for field in fields:
            if not getattr(row, f"{field}_en_gb"):
                setattr(row, f"{field}_en_gb", getattr(row, field))
                changed.append(f"{field}_en_gb")
        if changed:
            row.save(update_fields=changed)


def fill_spanish(queryset, values):
    """Spanish for a seeded row, unless the clinic already wrote its own."""
    for row in queryset:
        changed = [f"{field}_es" for field, text in values.items() if not getattr(row, f"{field}_es")]
        for name in changed:
            setattr(row, name, values[name[: -len("_es")]])
        if changed:
            row.save(update_fields=changed)


# Seeded plan templates (bookings 0006, 0019), by English name; phases by English label.
TEMPLATES = {
    "Cryotherapy \u2014 every 3 weeks": {
        "name": "Crioterapia: cada 3 semanas",
        "description": "El alivio tras la crioterapia de cuerpo entero dura de 2 a 3 semanas, así que le "
        "proponemos una sesión cada tres semanas.",
    },
    "Localized cryotherapy \u2014 every 3 weeks": {
        "name": "Crioterapia localizada: cada 3 semanas",
        "description": "El alivio tras la crioterapia dura de 2 a 3 semanas, así que le proponemos una sesión "
        "cada tres semanas.",
    },
    "Acupuncture \u2014 weekly for 6 weeks, then every 2-4 weeks": {
        "name": "Acupuntura: semanal durante 6 semanas, después cada 2 a 4 semanas",
        "description": "Sesiones semanales para ver cómo responde (la primera puede ser la consulta inicial) y, "
        "cuando su dolor haya disminuido o su terapeuta lo decida, mantenimiento una vez cada 2 a 4 semanas.",
    },
}
PHASE_LABELS = {
    "Every 3 weeks": "Cada 3 semanas",
    "Initial phase": "Fase inicial",
    "Maintenance": "Mantenimiento",
}


def forwards(apps, schema_editor):
    PlanTemplate = apps.get_model("bookings", "PlanTemplate")
    PlanPhase = apps.get_model("bookings", "PlanPhase")
    copy_english(PlanTemplate, ["name", "description"])
    copy_english(PlanPhase, ["label"])
    for name, values in TEMPLATES.items():
        fill_spanish(PlanTemplate.objects.filter(name_en_gb=name), values)
    for label, spanish in PHASE_LABELS.items():
        fill_spanish(PlanPhase.objects.filter(label_en_gb=label), {"label": spanish})



class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0020_plan_texts_per_language'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
