"""Modality texts: English from today's values, Spanish for the seeded modalities.

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


# Seeded modalities (clinic 0002), by slug.
SPANISH = {
    "whole-body-cryotherapy": {
        "name": "Crioterapia de cuerpo entero",
        "description": "Una estancia corta (de 1 a 3 minutos) en una cámara enfriada con nitrógeno a unos "
        "-110 a -140 °C para reducir el dolor y la inflamación.",
        "preparation": "Venga con la piel seca, sin crema ni aceite. Traiga calcetines y guantes; quítese las "
        "joyas y cualquier objeto de metal antes de la sesión.",
    },
    "localized-cryotherapy": {
        "name": "Crioterapia localizada",
        "description": "Aire frío o compresas frías aplicados en la zona de la espalda que le duele.",
        "preparation": "Lleve ropa que deje fácil acceso a la zona tratada; no se ponga crema en esa zona.",
    },
    "acupuncture-initial": {
        "name": "Acupuntura: primera consulta",
        "description": "Una primera visita: hablamos de su historia y de su nivel de dolor, y después se colocan "
        "las agujas durante 20 a 30 minutos.",
        "preparation": "Lleve ropa holgada y cómoda, y coma algo ligero antes de venir.",
    },
    "acupuncture-follow-up": {
        "name": "Acupuntura: sesión de seguimiento",
        "description": "Una sesión de tratamiento con las agujas colocadas durante 20 a 30 minutos.",
        "preparation": "Lleve ropa holgada y cómoda, y coma algo ligero antes de venir.",
    },
}


def forwards(apps, schema_editor):
    Modality = apps.get_model("clinic", "Modality")
    copy_english(Modality, ["name", "description", "preparation"])
    for slug, values in SPANISH.items():
        fill_spanish(Modality.objects.filter(slug=slug), values)



class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0014_modality_texts_per_language'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
