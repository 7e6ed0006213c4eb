"""Seed the catalogue with the values in shared/DESIGN.md (sources: shared/seeds/).

Admins edit every value afterwards; this migration only creates rows that are
missing, so re-running it never overwrites a clinic's own settings.
"""

from django.db import migrations

RESOURCES = [
    # The chamber: the articles quote -110 to -140 °C in practice and -129 to -200 °C
    # at the extremes; the device range covers all of them.
    {"name": "Whole-body cryotherapy chamber", "kind": "device", "capacity": 1,
     "temperature_min_c": -200, "temperature_max_c": -100},
    {"name": "Localized cryotherapy device", "kind": "device", "capacity": 1,
     "temperature_min_c": -160, "temperature_max_c": 0},
    {"name": "Acupuncture rooms", "kind": "room", "capacity": 2},
]

MODALITIES = [
    {
        "name": "Whole-body cryotherapy", "slug": "whole-body-cryotherapy", "kind": "wbc",
        "description": "A short stay (1 to 3 minutes) in a nitrogen-cooled chamber at about -110 to -140 °C "
        "to reduce pain and inflammation.",
        "preparation": "Come with dry skin and no lotion or oil. Bring socks and gloves; "
        "remove jewellery and anything metal before the session.",
        "slot_minutes": 15, "buffer_minutes": 10,
        "exposure_min_seconds": 60, "exposure_max_seconds": 180,  # 1-3 minutes (articles 002, 003)
        "resource": "Whole-body cryotherapy chamber", "display_order": 1,
    },
    {
        "name": "Localized cryotherapy", "slug": "localized-cryotherapy", "kind": "local_cryo",
        "description": "Cold air or cold packs applied to the painful area of the back.",
        "preparation": "Wear clothing that leaves the treated area easy to reach; no lotion on the area.",
        "slot_minutes": 20, "buffer_minutes": 5,
        "exposure_min_seconds": 60, "exposure_max_seconds": 900,
        "resource": "Localized cryotherapy device", "display_order": 2,
    },
    {
        "name": "Acupuncture initial consultation", "slug": "acupuncture-initial", "kind": "acupuncture",
        "description": "A first visit: your history and pain levels, then needles retained for 20-30 minutes.",
        "preparation": "Wear loose, comfortable clothing and eat a light meal beforehand.",
        "slot_minutes": 60, "buffer_minutes": 10,
        "exposure_min_seconds": 20 * 60, "exposure_max_seconds": 30 * 60,  # retention 20-30 min (004)
        "resource": "Acupuncture rooms", "display_order": 3,
    },
    {
        "name": "Acupuncture follow-up", "slug": "acupuncture-follow-up", "kind": "acupuncture",
        "description": "A treatment visit with needles retained for 20-30 minutes.",
        "preparation": "Wear loose, comfortable clothing and eat a light meal beforehand.",
        "slot_minutes": 45, "buffer_minutes": 10,
        "exposure_min_seconds": 20 * 60, "exposure_max_seconds": 30 * 60,
        "resource": "Acupuncture rooms", "display_order": 4,
    },
]


def seed(apps, schema_editor):
    Resource = apps.get_model("clinic", "Resource")
    Modality = apps.get_model("clinic", "Modality")
    resources = {}
    for row in RESOURCES:
        name = row["name"]
        resources[name], _ = Resource.objects.get_or_create(
            name=name, defaults={k: v for k, v in row.items() if k != "name"}
        )
    for row in MODALITIES:
        defaults = {k: v for k, v in row.items() if k not in ("slug", "resource")}
        defaults["resource"] = resources[row["resource"]]
        Modality.objects.get_or_create(slug=row["slug"], defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
