"""A patient's own data: download all of it, or delete the account.

It lives in treatments because treatments sits at the bottom of the dependency
chain and may read every app (screening, bookings, the session logs here).

Export (``patient_data_export``): one zip with ``data.json`` (everything, nested)
and one CSV per table (profile, screenings, answers, consents, appointments, care
plans, session logs, adverse events, reminders).

Erasure (``patient_erase``), decided as follows and shown to the patient first:

- future appointments are cancelled through ``bookings``' own service (so the
  pending reminders of each are cancelled with it), active care plans are ended,
  every other pending reminder is cancelled, the calendar feed link stops working;
- personal details are anonymised: name -> "Erased patient", email -> a unique
  address under ``erased.invalid`` (a reserved domain: nothing can be delivered
  there), phone and emergency contact emptied, reminders and nudges switched off;
- the date of birth is kept as its year only (1 January of that year): the kept
  clinical records need the age band for their meaning (e.g. the under-18 rule),
  not the birthday;
- the login is disabled (inactive, unusable password, two-factor devices removed,
  open sessions end because the password changed);
- the patient's earlier profile versions in the model history are removed, since
  they hold the old phone and date of birth;
- clinical records (screenings with answers, consents, appointments, session
  logs) are kept for ``CLINIC_RECORD_RETENTION_YEARS`` (default 8) after the
  last one, as health records must be.  Consents keep the typed signature: a
  consent without it proves nothing.  ``manage.py privacy_retention_due`` lists
  erased patients whose retention has ended; the purge itself is left to the
  clinic's records officer (session logs refuse deletion by design).
- An appointment inside the online cancellation cut-off cannot be cancelled by
  the patient, so erasure is refused until it has passed (or the clinic cancels
  it): the late-cancellation rule stays where bookings keeps it.

Both are written to the audit trail (actions ``export`` and ``delete``); the
erasure's audit row is also how the retention command finds erased patients.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from bookings.models import Appointment, BookingPolicy, CalendarFeed, CarePlan
from bookings.services.appointments import appointment_can_change_online, appointment_cancel
from bookings.services.plans import care_plan_end
from clinic.audit import audit_record
from clinic.models import AuditEvent, Patient
from notifications.models import Reminder
from screening.models import Answer, Consent, Submission
from treatments.models import AdverseEvent, SessionLog

ERASED_EMAIL_DOMAIN = "erased.invalid"
ERASURE_DESCRIPTION = "Account erased at the patient's request"


class ErasureRefused(Exception):
    """The account cannot be erased right now; the message says why and what to do."""


# --- Export ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON- and CSV-friendly value."""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def _record(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every stored field of ``obj``; related rows by their name, choices by their label."""
    skip = {"patient", *exclude}
    row: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in skip:
            continue
        if field.is_relation:
            row[field.name] = _plain(getattr(obj, field.name))
        else:
            value = field.value_from_object(obj)
            # Words rather than codes ("Cancelled", not "cancelled"); numbers stay numbers.
            if field.choices and isinstance(value, str):
                value = getattr(obj, f"get_{field.name}_display")()
            row[field.name] = _plain(value)
    return row


def patient_data(*, patient: Patient) -> dict[str, Any]:
    """Everything the clinic holds about ``patient`` that is theirs to take away, nested."""
    user = patient.user
    submissions = Submission.objects.filter(patient=patient).select_related("questionnaire", "submitted_by")
    answers = Answer.objects.filter(submission__patient=patient).order_by("submission_id", "pk")
    answers_by_submission: dict[int, list[dict[str, Any]]] = {}
    for answer in answers:
        answers_by_submission.setdefault(answer.submission_id, []).append(
            {"question": answer.question_text, "answer": "yes" if answer.value else "no"}
        )
    logs = SessionLog.objects.filter(patient=patient).select_related("modality", "practitioner__user", "resource")
    events = AdverseEvent.objects.filter(session_log__patient=patient).order_by("session_log_id", "pk")
    events_by_log: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        events_by_log.setdefault(event.session_log_id, []).append(_record(event, exclude=["session_log"]))
    return {
        "exported_at": _plain(timezone.now()),
        "clinic": settings.CLINIC_NAME,
        "profile": {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "date_joined": _plain(user.date_joined),
            **_record(patient, exclude=["user", "id"]),
        },
        "screenings": [
            {**_record(s, exclude=["id"]), "id": s.pk, "answers": answers_by_submission.get(s.pk, [])}
            for s in submissions.order_by("submitted_at")
        ],
        "consents": [
            _record(c) for c in Consent.objects.filter(patient=patient).select_related("consent_text__modality")
        ],
        "appointments": [
            _record(a)
            for a in Appointment.objects.filter(patient=patient)
            .select_related("modality", "practitioner__user", "resource")
            .order_by("starts_at")
        ],
        "care_plans": [_record(p) for p in CarePlan.objects.filter(patient=patient).select_related("template")],
        "session_logs": [
            {**_record(log), "adverse_events": events_by_log.get(log.pk, [])} for log in logs.order_by("started_at")
        ],
        "reminders": [
            _record(r, exclude=["key", "about_type", "about_id", "enqueued_at", "last_error"])
            for r in Reminder.objects.filter(patient=patient).order_by("due_at")
        ],
    }


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {key: json.dumps(value) if isinstance(value, dict | list) else value for key, value in row.items()}
        )
    return buffer.getvalue()


def _tables(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The flat CSV tables: nested answers and adverse events get their own file."""
    screenings = [{k: v for k, v in s.items() if k != "answers"} for s in data["screenings"]]
    answers = [{"screening_id": s["id"], **a} for s in data["screenings"] for a in s["answers"]]
    logs = [{k: v for k, v in log.items() if k != "adverse_events"} for log in data["session_logs"]]
    events = [{"session_log_id": log["id"], **e} for log in data["session_logs"] for e in log["adverse_events"]]
    return {
        "profile": [data["profile"]],
        "screenings": screenings,
        "screening_answers": answers,
        "consents": data["consents"],
        "appointments": data["appointments"],
        "care_plans": data["care_plans"],
        "session_logs": logs,
        "adverse_events": events,
        "reminders": data["reminders"],
    }


README = """Your data from {clinic}, exported {exported_at}.

data.json holds everything in one file; each .csv file holds one table of it
(open them in a spreadsheet). Times are in the clinic's time zone.
"""


def patient_data_export(*, patient: Patient, request: HttpRequest | None) -> bytes:
    """The zip archive of ``patient``'s data (JSON and CSV), recorded in the audit trail."""
    data = patient_data(patient=patient)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(clinic=data["clinic"], exported_at=data["exported_at"]))
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, rows in _tables(data).items():
            archive.writestr(f"{name}.csv", _csv(rows))
    audit_record(
        request=request,
        patient=patient,
        action=AuditEvent.Action.EXPORT,
        target=patient,
        description="Patient downloaded all their data (zip: JSON and CSV)",
    )
    return buffer.getvalue()


# --- Erasure -----------------------------------------------------------------------------


def is_erased(patient: Patient) -> bool:
    return patient.user.email.endswith("@" + ERASED_EMAIL_DOMAIN)


def erasure_blocking_appointments(*, patient: Patient) -> list[Appointment]:
    """Future appointments the patient may no longer cancel online (inside the cut-off)."""
    policy = BookingPolicy.load()
    upcoming = Appointment.objects.filter(
        patient=patient, status=Appointment.Status.BOOKED, starts_at__gt=timezone.now()
    )
    return [a for a in upcoming if not appointment_can_change_online(appointment=a, policy=policy)]


@transaction.atomic
def patient_erase(*, patient: Patient, request: HttpRequest | None) -> Patient:
    """Delete the patient's account as described in the module docstring; returns the anonymised row."""
    patient = Patient.objects.select_for_update().select_related("user").get(pk=patient.pk)
    user = patient.user
    if is_erased(patient):
        return patient
    blocking = erasure_blocking_appointments(patient=patient)
    if blocking:
        when = timezone.localtime(blocking[0].starts_at)
        raise ErasureRefused(
            f"Your appointment on {when:%A %-d %B at %H:%M} is too close to cancel online. "
            "Please call the clinic to cancel it, or delete your account after it."
        )
    now = timezone.now()
    reason = "The patient deleted their account."
    for appointment in Appointment.objects.filter(
        patient=patient, status=Appointment.Status.BOOKED, starts_at__gt=now
    ).order_by("starts_at"):
        appointment_cancel(appointment=appointment, by=user, reason=reason)
    for plan in CarePlan.objects.filter(patient=patient).active():
        care_plan_end(plan=plan, by=user)
    Reminder.objects.pending().filter(patient=patient).update(
        state=Reminder.State.CANCELLED, last_error=reason, updated_at=now
    )
    CalendarFeed.objects.filter(patient=patient).delete()

    # Earlier versions of the profile hold the old phone and birthday.
    patient.history.all().delete()
    patient.phone = ""
    patient.emergency_contact_name = ""
    patient.emergency_contact_phone = ""
    patient.date_of_birth = date(patient.date_of_birth.year, 1, 1)
    patient.appointment_reminders = False
    patient.rebooking_nudges = False
    patient.save()

    user.first_name = "Erased"
    user.last_name = "patient"
    user.email = f"erased-{patient.pk}-{secrets.token_hex(6)}@{ERASED_EMAIL_DOMAIN}"
    user.is_active = False
    user.set_unusable_password()
    user.save()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()

    audit_record(
        request=request,
        patient=patient,
        action=AuditEvent.Action.DELETE,
        target=patient,
        description=f"{ERASURE_DESCRIPTION}; clinical records kept until {retention_ends(patient=patient)}",
    )
    return patient


def last_clinical_record_date(*, patient: Patient) -> date:
    """The day of the patient's newest clinical record (or today when there is none)."""
    moments = [
        SessionLog.objects.filter(patient=patient).aggregate(last=models.Max("started_at"))["last"],
        Appointment.objects.filter(patient=patient, starts_at__lte=timezone.now()).aggregate(
            last=models.Max("starts_at")
        )["last"],
        Submission.objects.filter(patient=patient).aggregate(last=models.Max("submitted_at"))["last"],
    ]
    known = [moment for moment in moments if moment is not None]
    return timezone.localdate(max(known)) if known else timezone.localdate()


def retention_ends(*, patient: Patient) -> date:
    """The day the clinic may purge the clinical records of an erased patient."""
    last = last_clinical_record_date(patient=patient)
    years = settings.CLINIC_RECORD_RETENTION_YEARS
    try:
        return last.replace(year=last.year + years)
    except ValueError:  # 29 February
        return last.replace(year=last.year + years, day=28)


def erased_patients_past_retention(*, today: date | None = None) -> list[tuple[Patient, date]]:
    """Erased patients whose clinical records are past the retention period, with the day it ended."""
    today = today or timezone.localdate()
    erased_ids = (
        AuditEvent.objects.filter(action=AuditEvent.Action.DELETE, target_type="clinic.patient")
        .values_list("patient_id", flat=True)
        .distinct()
    )
    due = []
    for patient in Patient.objects.filter(pk__in=erased_ids).select_related("user"):
        ends = retention_ends(patient=patient)
        if ends <= today:
            due.append((patient, ends))
    return due
