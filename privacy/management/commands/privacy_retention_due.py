"""List erased patients whose clinical records are past the clinic's retention period."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from privacy.services import erased_patients_past_retention


class Command(BaseCommand):
    help = (
        "List patients who deleted their account and whose clinical records are past "
        "CLINIC_RECORD_RETENTION_YEARS. Purging them is a records officer's decision "
        "(session logs refuse deletion by design), so this command only reports."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        due = erased_patients_past_retention()
        years = settings.CLINIC_RECORD_RETENTION_YEARS
        if not due:
            self.stdout.write(f"No erased patient is past the {years}-year retention period.")
            return
        for patient, ended in due:
            self.stdout.write(f"patient {patient.pk}: retention ended {ended.isoformat()}")
        self.stdout.write(f"{len(due)} erased patient(s) past the {years}-year retention period.")
