"""Erase a patient's account on their request, by a clinic admin (the phone or letter route)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.models import Patient, User
from privacy.services import ErasureRefused, patient_erase


class Command(BaseCommand):
    help = (
        "Erase a patient's account on the patient's request, as the named clinic admin. "
        "The same erasure as the patient's own 'Delete my account' (see privacy/services.py), "
        "audited with the admin's name and the reason; future appointments are cancelled even "
        "inside the online cut-off. Whoever runs it on the server answers for the admin they name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("patient_id", type=int, help="The patient's id (clinic.Patient).")
        parser.add_argument("--admin", required=True, help="Email of the clinic admin acting on the request.")
        parser.add_argument("--reason", required=True, help="The patient's request: its date, channel and reference.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            patient = Patient.objects.select_related("user").get(pk=options["patient_id"])
            admin = User.objects.get(email__iexact=options["admin"])
        except (Patient.DoesNotExist, User.DoesNotExist) as missing:
            raise CommandError(str(missing)) from missing
        try:
            patient_erase(actor=admin, patient=patient, reason=options["reason"])
        except (PermissionDenied, ErasureRefused) as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(f"patient {patient.pk}: account erased; clinical records kept for the retention period.")
