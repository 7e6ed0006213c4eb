"""A patient's own data: download all of it, or delete the account.

The ``privacy`` app sits at the top of the layers: it reads every app below
(clinic, screening, bookings, treatments) and nothing imports it.

Export (``patient_data_export``): one zip with ``data.json`` (everything, nested)
and one CSV per table (profile, screenings, answers, consents, appointments, care
plans, session logs, adverse events, reminders).  Fields the staff were told only
staff see (``STAFF_ONLY_FIELDS``: a care plan's clinical notes) are left out, and
every CSV cell goes through ``clinic.csv_cells.csv_cell`` so that text the patient
or staff typed never opens as a live spreadsheet formula.

Erasure (``patient_erase``), decided as follows and shown to the patient first:

- future appointments are cancelled through ``bookings``' own service (so the
  pending reminders of each are cancelled with it), active care plans are ended,
  every other pending reminder is cancelled, the calendar feed link stops working;
- personal details are anonymised: name -> "Erased patient", email -> a unique
  address under ``erased.invalid`` (a reserved domain: nothing can be delivered
  there), phone and emergency contact emptied, reminders and nudges switched off;
- the date of birth is kept as its year only (1 January of that year), on the
  profile and on every screening submission and its history rows: the kept
  clinical records need the age band for their meaning (e.g. the under-18 rule),
  not the birthday.  1 January is the sentinel because it is what the profile
  already used; it can make a record read up to a year older, never a birthday;
- the login-attempt log (django-axes: attempts, successful logins, failures) is
  deleted for the account's email, since each row holds the email and the address
  it came from; the account can no longer log in, so there is nothing to protect
  with it any more;
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

Both take the acting user (``actor``) and check the right themselves, so every
caller (page, command, a future API) is held to it: the export is the patient's
own; erasure is the patient's, or a clinic admin's acting on the patient's request
(with the request as ``reason``, and not held to the online cut-off: the clinic may
cancel late).  Both write the audit trail in the service, with the actor (actions
``export`` and ``delete``; a refusal as ``denied``); the erasure's audit row is also
how the retention command finds erased patients.
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
from typing import Any, NoReturn

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models.functions import TruncYear
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from modeltranslation.utils import build_localized_fieldname
from phonenumber_field.phonenumber import PhoneNumber

from bookings.models import Appointment, BookingPolicy, CalendarFeed, CarePlan
from bookings.services.appointments import appointment_can_change_online, appointment_cancel
from bookings.services.plans import care_plan_end
from clinic.audit import audit_record
from clinic.care_team import care_team_end_all
from clinic.clinic_time import format_when
from clinic.csv_cells import csv_cell
from clinic.models import AuditEvent, Patient, User
from notifications.models import Reminder
from screening.models import Answer, Consent, Submission, TreatmentHold
from treatments.models import AdverseEvent, QuestionnaireRequest, ReliefCheckIn, SessionLog

ERASED_EMAIL_DOMAIN = "erased.invalid"
# Fields the staff's forms promise are "seen by staff only": the self-service export
# leaves them out.  A formal subject access request goes to the clinic's records
# officer, who decides what of them to release.
STAFF_ONLY_FIELDS: dict[type[models.Model], list[str]] = {CarePlan: ["notes"]}
ERASURE_DESCRIPTION = "Account erased at the patient's request"
ERASURE_REASON = "The patient deleted their account."


class ErasureRefused(Exception):
    """The account cannot be erased right now; the message says why and what to do."""


# --- Who may ------------------------------------------------------------------------------


def may_export(*, actor: User, patient: Patient) -> bool:
    """The self-service export is the patient's own, while their account is active."""
    return actor.is_active and actor.pk == patient.user_id


def may_erase(*, actor: User, patient: Patient) -> bool:
    """The patient, or a clinic admin acting on the patient's request."""
    return actor.is_active and (actor.pk == patient.user_id or actor.is_clinic_admin)


def _refuse(*, actor: User, patient: Patient, request: HttpRequest | None, why: str) -> NoReturn:
    """Record the refusal (outside any transaction that would roll it back), then refuse."""
    audit_record(
        request=request,
        actor=actor,
        patient=patient,
        action=AuditEvent.Action.DENIED,
        target=patient,
        description=f"Refused: {why}",
    )
    raise PermissionDenied(why)


# --- Export ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON- and CSV-friendly value."""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model | PhoneNumber):
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
            {"question": answer.question_text, "answer": _("yes") if answer.value else _("no")}
        )
    logs = SessionLog.objects.filter(patient=patient).select_related(
        "modality", "practitioner__user", "resource", "cold_method"
    )
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
            # The version and the language signed, with the very wording the patient read.
            {
                **_record(c),
                "version": c.consent_text.version,
                "wording": getattr(c.consent_text, build_localized_fieldname("body", c.language), "")
                or c.consent_text.body,
            }
            for c in Consent.objects.filter(patient=patient).select_related("consent_text__modality")
        ],
        "appointments": [
            _record(a)
            for a in Appointment.objects.filter(patient=patient)
            .select_related("modality", "practitioner__user", "resource")
            .order_by("starts_at")
        ],
        "care_plans": [
            _record(p, exclude=STAFF_ONLY_FIELDS[CarePlan])
            for p in CarePlan.objects.filter(patient=patient).select_related("template")
        ],
        "session_logs": [
            {**_record(log), "adverse_events": events_by_log.get(log.pk, [])} for log in logs.order_by("started_at")
        ],
        "treatment_holds": [
            _record(h, exclude=["source", "lifted_by_review"])
            for h in TreatmentHold.objects.filter(patient=patient).select_related("placed_by", "lifted_by")
        ],
        "reminders": [
            _record(r, exclude=["key", "about_type", "about_id", "enqueued_at", "last_error"])
            for r in Reminder.objects.filter(patient=patient).order_by("due_at")
        ],
        "questionnaires": [
            _record(q) for q in QuestionnaireRequest.objects.filter(patient=patient).select_related("instrument")
        ],
        "relief_checkins": [_record(c) for c in ReliefCheckIn.objects.filter(patient=patient).order_by("due_on")],
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
            {
                key: csv_cell(json.dumps(value) if isinstance(value, dict | list) else value)
                for key, value in row.items()
            }
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
        "treatment_holds": data["treatment_holds"],
        "reminders": data["reminders"],
        "questionnaires": data["questionnaires"],
        "relief_checkins": data["relief_checkins"],
    }


README = gettext_lazy(
    """Your data from {clinic}, exported {exported_at}.

data.json holds everything in one file; each .csv file holds one table of it
(open them in a spreadsheet). Times are in the clinic's time zone.
"""
)


def patient_data_export(*, actor: User, patient: Patient, request: HttpRequest | None = None) -> bytes:
    """The zip archive of ``patient``'s data (JSON and CSV), recorded in the audit trail.

    Only the patient takes it (``PermissionDenied`` otherwise, audited as a refusal):
    it is the self-service copy, with none of the care team's reasons to limit it.
    """
    if not may_export(actor=actor, patient=patient):
        _refuse(actor=actor, patient=patient, request=request, why=_("Only the patient may download their data."))
    data = patient_data(patient=patient)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(clinic=data["clinic"], exported_at=data["exported_at"]))
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, rows in _tables(data).items():
            archive.writestr(f"{name}.csv", _csv(rows))
    audit_record(
        request=request,
        actor=actor,
        patient=patient,
        action=AuditEvent.Action.EXPORT,
        target=patient,
        description="Patient downloaded all their data (zip: JSON and CSV)",
    )
    return buffer.getvalue()


# --- Erasure -----------------------------------------------------------------------------


def is_erased(patient: Patient) -> bool:
    return (patient.user.email or "").endswith("@" + ERASED_EMAIL_DOMAIN)


def erasure_blocking_appointments(*, patient: Patient) -> list[Appointment]:
    """Future appointments the patient may no longer cancel online (inside the cut-off)."""
    policy = BookingPolicy.load()
    upcoming = Appointment.objects.filter(
        patient=patient, status=Appointment.Status.BOOKED, starts_at__gt=timezone.now()
    )
    return [a for a in upcoming if not appointment_can_change_online(appointment=a, policy=policy)]


def patient_erase(*, actor: User, patient: Patient, reason: str = "", request: HttpRequest | None = None) -> Patient:
    """Delete the patient's account as described in the module docstring; returns the anonymised row.

    ``actor`` is the patient, or a clinic admin acting on the patient's request, who
    must give ``reason`` (the request's date and reference) and is not held to the
    online cancellation cut-off.  Anyone else gets ``PermissionDenied``, audited as a
    refusal; the erasure is audited with the actor's name.
    """
    if not may_erase(actor=actor, patient=patient):
        why = _("Only the patient, or a clinic admin on the patient's request, may erase an account.")
        _refuse(actor=actor, patient=patient, request=request, why=why)
    by_admin = actor.pk != patient.user_id
    if by_admin and not reason.strip():
        why = _("An admin erasing an account must give the patient's request as the reason.")
        _refuse(actor=actor, patient=patient, request=request, why=why)
    return _erase(actor=actor, patient=patient, reason=reason.strip(), by_admin=by_admin, request=request)


@transaction.atomic
def _erase(*, actor: User, patient: Patient, reason: str, by_admin: bool, request: HttpRequest | None) -> Patient:
    patient = Patient.objects.select_for_update().select_related("user").get(pk=patient.pk)
    user = patient.user
    if is_erased(patient):
        return patient
    blocking = [] if by_admin else erasure_blocking_appointments(patient=patient)
    if blocking:
        raise ErasureRefused(
            _(
                "Your appointment on %(when)s is too close to cancel online. "
                "Please call the clinic to cancel it, or delete your account after it."
            )
            % {"when": format_when(blocking[0].starts_at, "day_time")}
        )
    now = timezone.now()
    why = f"The clinic erased the account on the patient's request: {reason}" if by_admin else ERASURE_REASON
    for appointment in Appointment.objects.upcoming(now).filter(patient=patient).order_by("starts_at"):
        appointment_cancel(appointment=appointment, by=actor, reason=why)
    for plan in CarePlan.objects.filter(patient=patient).active():
        care_plan_end(plan=plan, by=actor)
    # Nobody keeps reading the kept records through an old relationship (the records officer still can).
    care_team_end_all(patient=patient, actor=actor)
    Reminder.objects.pending().filter(patient=patient).update(
        state=Reminder.State.CANCELLED, last_error=why, updated_at=now
    )
    CalendarFeed.objects.filter(patient=patient).delete()

    # Earlier versions of the profile hold the old phone and birthday.
    patient.history.all().delete()
    patient.phone = ""
    patient.emergency_contact_name = ""
    patient.emergency_contact_phone = ""
    patient.date_of_birth = date(patient.date_of_birth.year, 1, 1)
    # Screenings are never edited, so the birthday goes by a plain update, history included.
    Submission.objects.filter(patient=patient).update(date_of_birth=TruncYear("date_of_birth"))
    Submission.history.filter(patient_id=patient.pk).update(date_of_birth=TruncYear("date_of_birth"))
    for login_log in (AccessAttempt, AccessLog, AccessFailureLog) if user.email else ():
        login_log.objects.filter(username__iexact=user.email).delete()
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

    description = ERASURE_DESCRIPTION if not by_admin else f"{ERASURE_DESCRIPTION} ({reason})"
    audit_record(
        request=request,
        actor=actor,
        patient=patient,
        action=AuditEvent.Action.DELETE,
        target=patient,
        description=f"{description}; clinical records kept until {retention_ends(patient=patient)}",
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
