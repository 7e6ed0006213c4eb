"""PEG and cold method texts: English from today's values, Spanish for the seeded rows.

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


PEG = {
    "name": "Escala PEG de dolor (dolor, disfrute de la vida, actividad general)",
    "instructions": "Tres preguntas sobre su dolor durante la última semana. Elija un número para cada una.",
}
# By position; the wording follows the published Spanish structure of the PEG items.
PEG_ITEMS = {
    1: {
        "text": "¿Qué número describe mejor su dolor, como promedio, durante la última semana?",
        "min_label": "Ningún dolor",
        "max_label": "El peor dolor que se pueda imaginar",
    },
    2: {
        "text": "¿Qué número describe mejor cuánto ha interferido el dolor, durante la última semana, en su "
        "disfrute de la vida?",
        "min_label": "No interfiere",
        "max_label": "Interfiere por completo",
    },
    3: {
        "text": "¿Qué número describe mejor cuánto ha interferido el dolor, durante la última semana, en su "
        "actividad general?",
        "min_label": "No interfiere",
        "max_label": "Interfiere por completo",
    },
}
COLD_METHODS = {
    "Cryogenic spray or cold air": "Espray criogénico o aire frío",
    "Cold pack or compress": "Compresa o bolsa fría",
}


def forwards(apps, schema_editor):
    Instrument = apps.get_model("treatments", "Instrument")
    InstrumentItem = apps.get_model("treatments", "InstrumentItem")
    ColdApplicationMethod = apps.get_model("treatments", "ColdApplicationMethod")
    copy_english(Instrument, ["name", "instructions"])
    copy_english(InstrumentItem, ["text", "min_label", "max_label"])
    copy_english(ColdApplicationMethod, ["name"])
    fill_spanish(Instrument.objects.filter(code="peg"), PEG)
    for position, values in PEG_ITEMS.items():
        fill_spanish(InstrumentItem.objects.filter(instrument__code="peg", position=position), values)
    for name, spanish in COLD_METHODS.items():
        fill_spanish(ColdApplicationMethod.objects.filter(name_en_gb=name), {"name": spanish})



class Migration(migrations.Migration):

    dependencies = [
        ('treatments', '0006_instrument_and_method_texts_per_language'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
