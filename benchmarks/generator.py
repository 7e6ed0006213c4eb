"""Build a realistic clinic of a given size, fast, for benchmarks.

What it builds (sizes are driven by the number of appointments ``N``):

- practitioners: 5 per 20,000 appointments (at least one), working Mon-Sat 08:00-20:00
  (``WorkingHours`` rows, as the admin would enter them);
- a chain of sites: every 5 practitioners share one site with its own whole-body chamber
  (capacity 1), localized-cryotherapy device (capacity 1) and acupuncture rooms.  Site 1 is
  the seeded catalogue itself; further sites get copies of the seeded modalities, resources,
  consent texts and contraindication rules ("Whole-body cryotherapy (site 2)", ...), because a
  modality books exactly one resource.  The acupuncture rooms hold 3 sessions at once, so five
  practitioners can really be 85% busy (with 2 rooms only four sessions could run at once);
- patients: N/10 (2,000 at 20,000), adults, each with a cleared screening (a current
  submission answering "no" to every question and signed consents for their site's
  modalities), a main kind of treatment and, for cryotherapy and acupuncture, an active
  care plan on the seeded template;
- appointments: day by day, each practitioner's day is filled on the 15-minute booking grid
  with the modality mix of a back-pain clinic until about 85% of their working time is
  blocked (slot + buffer), never overlapping for a practitioner, never beyond a room's or
  device's capacity, never two at once for a patient; 5% extra rows are cancelled bookings
  whose time was booked again.  The last 8 weeks (the booking horizon) lie in the future,
  the rest in the past: at 85% density 5 practitioners deliver about 80 sessions a day, so
  20,000 appointments span about ten months (six months cannot hold them);
- past appointments are attended (with a signed session log whose readings satisfy every
  plausibility rule, a few with an adverse event) or, 4%, no-shows; future ones are booked;
- the reminder outbox as the booking flow leaves it: a sent confirmation for every booking,
  a sent reminder for every past session and a pending one (due 24 h before) for every
  future session, so the ones in the next day are due;
- one patient with exactly 50 logged sessions (the chart benchmark), one patient with no
  appointments for the booking benchmark, and 20 for the concurrent-booking benchmark.

Everything is written with ``bulk_create`` in one transaction; the generator refuses to
run on a database that already has appointments (it would not respect their capacity).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from bookings.models import Appointment, CarePlan, PlanTemplate, WorkingHours
from bookings.services.reminders import BookingMessage
from clinic.models import CareTeamMembership, Modality, Patient, Practitioner, Resource, Role, User
from notifications.models import Reminder, ReminderSettings
from screening.models import Answer, Consent, ConsentText, ContraindicationRule, Questionnaire, Submission
from treatments.models import AdverseEvent, SafetyThresholds, SessionLog

GENERATOR_VERSION = 1
EMAIL_DOMAIN = "bench.invalid"
CHART_PATIENT_EMAIL = f"chart-patient@{EMAIL_DOMAIN}"
BOOKING_PATIENT_EMAIL = f"booking-patient@{EMAIL_DOMAIN}"
CONTENDER_COUNT = 20
CHART_SESSIONS = 50

OPENING = time(8)
CLOSING = time(20)
CELL_MINUTES = 15
DAY_CELLS = (20 - 8) * 60 // CELL_MINUTES
WORKING_WEEKDAYS = range(6)  # Monday to Saturday
DENSITY = 0.85
IDLE_CELLS = (1, 2, 2, 3, 4)
PRACTITIONERS_PER_SITE = 5
ROOM_CAPACITY = 3
FUTURE_WORKING_DAYS = 8 * 6  # the default booking horizon of 8 weeks
CANCELLED_SHARE = 0.05
NO_SHOW_SHARE = 0.04
ADVERSE_EVENT_SHARE = 0.01
BATCH = 2000
FLUSH_EVERY = 20_000

# Which kind of treatment the patients come for (and so which modality books a free slot).
KIND_WEIGHTS = {
    Modality.Kind.WHOLE_BODY_CRYO: 0.40,
    Modality.Kind.LOCALIZED_CRYO: 0.25,
    Modality.Kind.ACUPUNCTURE: 0.35,
}
SEEDED_SLUGS = {
    "wbc": "whole-body-cryotherapy",
    "local_cryo": "localized-cryotherapy",
    "acupuncture_initial": "acupuncture-initial",
    "acupuncture_follow_up": "acupuncture-follow-up",
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ClinicSize:
    appointments: int
    practitioners: int
    patients: int
    sites: int


def clinic_size(*, appointments: int) -> ClinicSize:
    """5 practitioners and 2,000 patients per 20,000 appointments, at least one practitioner."""
    practitioners = max(1, round(appointments * 5 / 20_000))
    return ClinicSize(
        appointments=appointments,
        practitioners=practitioners,
        patients=max(20, round(appointments / 10)),
        sites=math.ceil(practitioners / PRACTITIONERS_PER_SITE),
    )


@dataclass
class Site:
    number: int
    modalities: dict[str, Modality]  # keys of SEEDED_SLUGS
    practitioners: list[Practitioner] = field(default_factory=list)
    patients_by_kind: dict[str, list[Patient]] = field(default_factory=lambda: defaultdict(list))

    def cells(self, modality: Modality) -> int:
        return _cells(modality)


def _cells(modality: Modality) -> int:
    """Quarter hours of the booking grid the session and its buffer take."""
    return math.ceil((modality.slot_minutes + modality.buffer_minutes) / CELL_MINUTES)


@dataclass
class GeneratedClinic:
    size: ClinicSize
    appointments: int
    session_logs: int
    reminders: int
    first_day: date
    last_day: date
    density: float


def _working_days_back(day: date, count: int) -> date:
    while count > 0:
        day -= timedelta(days=1)
        if day.weekday() in WORKING_WEEKDAYS:
            count -= 1
    return day


class _Builder:
    def __init__(self, *, size: ClinicSize, seed: int, progress: Progress) -> None:
        self.size = size
        self.random = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
        self.progress = progress
        self.zone = ZoneInfo(timezone.get_default_timezone_name())
        self.now = timezone.now()
        self.password = make_password(None)  # unusable: bench accounts log in with force_login only
        self.thresholds = SafetyThresholds.load()
        self.questionnaire = Questionnaire.objects.current().get()
        self.questions = list(self.questionnaire.questions.all())
        self.templates = {template.family: template for template in PlanTemplate.objects.active()}
        self.sites: list[Site] = []
        self.user_counter = 0
        self.created = 0
        # Buffers flushed together, so every batch's appointments already have their ids.
        self.pending_appointments: list[Appointment] = []
        self.counts = defaultdict(int)
        self.blocked_minutes = 0
        self.working_minutes = 0
        self.chart_patient: Patient | None = None
        self.chart_sessions = 0
        self.patient_history: dict[int, int] = defaultdict(int)  # patient id -> sessions so far
        self.patient_baseline: dict[int, int] = {}

    # --- Catalogue and people -------------------------------------------------------------

    def catalogue(self) -> None:
        Resource.objects.filter(
            modalities__slug=SEEDED_SLUGS["acupuncture_initial"], capacity__lt=ROOM_CAPACITY
        ).update(capacity=ROOM_CAPACITY)
        seeded = {key: Modality.objects.select_related("resource").get(slug=slug) for key, slug in SEEDED_SLUGS.items()}
        self.sites.append(Site(number=1, modalities=seeded))
        consent_texts = {text.modality_id: text for text in ConsentText.objects.current()}
        rules = list(ContraindicationRule.objects.all())
        for number in range(2, self.size.sites + 1):
            resources: dict[int, Resource] = {}
            modalities: dict[str, Modality] = {}
            for key, original in seeded.items():
                resource = original.resource
                if resource.pk not in resources:
                    copy = Resource.objects.get(pk=resource.pk)
                    copy.pk = None
                    copy.name = f"{resource.name} (site {number})"
                    copy.save()
                    resources[resource.pk] = copy
                modality = Modality.objects.get(pk=original.pk)
                modality.pk = None
                modality.name = f"{original.name} (site {number})"
                modality.slug = f"{original.slug}-site-{number}"
                modality.resource = resources[resource.pk]
                modality.display_order = original.display_order + 10 * number
                modality.save()
                modalities[key] = modality
                text = consent_texts.get(original.pk)
                if text is not None:
                    ConsentText.objects.create(modality=modality, version=1, body=text.body, is_current=True)
                ContraindicationRule.objects.bulk_create(
                    ContraindicationRule(
                        contraindication_id=rule.contraindication_id,
                        modality=modality,
                        severity=rule.severity,
                        rationale=rule.rationale,
                    )
                    for rule in rules
                    if rule.modality_id == original.pk
                )
            self.sites.append(Site(number=number, modalities=modalities))
        self.consent_texts = {text.modality_id: text for text in ConsentText.objects.current()}

    def _users(self, *, prefix: str, count: int, role: str, emails: list[str] | None = None) -> list[User]:
        users = []
        for index in range(count):
            self.user_counter += 1
            users.append(
                User(
                    email=emails[index] if emails else f"{prefix}-{self.user_counter}@{EMAIL_DOMAIN}",
                    first_name=self.random.choice(FIRST_NAMES),
                    last_name=f"{self.random.choice(LAST_NAMES)}-{self.user_counter}",
                    role=role,
                    password=self.password,
                    date_joined=self.now,
                )
            )
        return User.objects.bulk_create(users, batch_size=BATCH)

    def practitioners(self) -> None:
        users = self._users(
            prefix="practitioner",
            count=self.size.practitioners,
            role=Role.PRACTITIONER,
            emails=[f"practitioner-{index}@{EMAIL_DOMAIN}" for index in range(self.size.practitioners)],
        )
        practitioners = Practitioner.objects.bulk_create(
            [Practitioner(user=user, title="Cryotherapy and acupuncture") for user in users], batch_size=BATCH
        )
        links = []
        for index, practitioner in enumerate(practitioners):
            practitioner.user = users[index]
            site = self.sites[index // PRACTITIONERS_PER_SITE]
            site.practitioners.append(practitioner)
            links += [
                Practitioner.modalities.through(practitioner_id=practitioner.pk, modality_id=modality.pk)
                for modality in site.modalities.values()
            ]
        Practitioner.modalities.through.objects.bulk_create(links, batch_size=BATCH)
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(practitioner=practitioner, weekday=weekday, start_time=OPENING, end_time=CLOSING)
                for practitioner in practitioners
                for weekday in WORKING_WEEKDAYS
            ],
            batch_size=BATCH,
        )
        self.progress(f"  {len(practitioners)} practitioners at {len(self.sites)} site(s)")

    def patients(self) -> None:
        special = [CHART_PATIENT_EMAIL, BOOKING_PATIENT_EMAIL] + [
            f"contender-{index}@{EMAIL_DOMAIN}" for index in range(CONTENDER_COUNT)
        ]
        regular = self._users(prefix="patient", count=self.size.patients, role=Role.PATIENT)
        specials = self._users(prefix="patient", count=len(special), role=Role.PATIENT, emails=special)
        users = regular + specials
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    user=user,
                    date_of_birth=date(self.random.randint(1945, 2000), self.random.randint(1, 12), 15),
                    phone=f"+44 20 7946 {index % 10000:04d}",
                )
                for index, user in enumerate(users)
            ],
            batch_size=BATCH,
        )
        kinds = list(KIND_WEIGHTS)
        weights = list(KIND_WEIGHTS.values())
        self.patient_site: dict[int, Site] = {}
        self.patient_kind: dict[int, str] = {}
        for index, patient in enumerate(patients):
            patient.user = users[index]
            if index < len(regular):
                site = self.sites[index % len(self.sites)]
                kind = self.random.choices(kinds, weights)[0]
                site.patients_by_kind[kind].append(patient)
            else:
                site, kind = self.sites[0], Modality.Kind.WHOLE_BODY_CRYO
            self.patient_site[patient.pk] = site
            self.patient_kind[patient.pk] = kind
            self.patient_baseline[patient.pk] = self.random.randint(5, 9)
        self.chart_patient = patients[len(regular)]
        self.screenings(patients)
        self.care_plans(patients[: len(regular)])
        self.progress(f"  {len(patients)} patients with cleared screenings")

    def screenings(self, patients: list[Patient]) -> None:
        submissions = []
        for patient in patients:
            # Valid for 12 months: submitted 10 to 290 days ago, so every booking in the horizon passes.
            submitted = self.now - timedelta(days=self.random.randint(10, 290), hours=self.random.randint(0, 8))
            submissions.append(
                Submission(
                    patient=patient,
                    questionnaire=self.questionnaire,
                    submitted_at=submitted,
                    submitted_by=patient.user,
                    date_of_birth=patient.date_of_birth,
                )
            )
        submissions = Submission.objects.bulk_create(submissions, batch_size=BATCH)
        Answer.objects.bulk_create(
            (
                Answer(submission=submission, question=question, question_text=question.text, value=False)
                for submission in submissions
                for question in self.questions
            ),
            batch_size=BATCH,
        )
        consents = []
        for patient in patients:
            for modality in self.patient_site[patient.pk].modalities.values():
                text = self.consent_texts.get(modality.pk)
                if text is not None:
                    consents.append(
                        Consent(
                            patient=patient,
                            consent_text=text,
                            typed_name=patient.full_name,
                            recorded_by=patient.user,
                            signed_at=self.now - timedelta(days=300),
                        )
                    )
        Consent.objects.bulk_create(consents, batch_size=BATCH)

    def care_plans(self, patients: list[Patient]) -> None:
        plans = []
        for patient in patients:
            template = self.templates.get(self.patient_kind[patient.pk])
            site = self.patient_site[patient.pk]
            if template is None or not site.practitioners:
                continue
            practitioner = self.random.choice(site.practitioners)
            plans.append(
                CarePlan(
                    patient=patient,
                    template=template,
                    practitioner=practitioner,
                    start_date=self.first_day,
                    assigned_by=practitioner.user,
                )
            )
        CarePlan.objects.bulk_create(plans, batch_size=BATCH)

    # --- Calendar ---------------------------------------------------------------------

    def plan_days(self) -> None:
        cells = {key: _cells(modality) for key, modality in self.sites[0].modalities.items()}
        average_cells = (
            KIND_WEIGHTS[Modality.Kind.WHOLE_BODY_CRYO] * cells["wbc"]
            + KIND_WEIGHTS[Modality.Kind.LOCALIZED_CRYO] * cells["local_cryo"]
            + KIND_WEIGHTS[Modality.Kind.ACUPUNCTURE] * cells["acupuncture_follow_up"]
        )
        per_day = self.size.practitioners * DAY_CELLS * DENSITY / average_cells * (1 + CANCELLED_SHARE)
        total_days = max(1, math.ceil(self.size.appointments / per_day))
        future_days = min(FUTURE_WORKING_DAYS, total_days // 3)
        today = timezone.localdate(self.now)
        self.first_day = _working_days_back(today, total_days - future_days)
        # The chart patient comes every few days over the past, not 50 times in a week.
        self.chart_every_days = max(1, (today - self.first_day).days // (CHART_SESSIONS + 5))

    def _instant(self, day: date, cell: int) -> datetime:
        wall = datetime.combine(day, OPENING) + timedelta(minutes=cell * CELL_MINUTES)
        return wall.replace(tzinfo=self.zone).astimezone(UTC)

    def calendar(self) -> None:
        day = self.first_day
        kinds = list(KIND_WEIGHTS)
        weights = list(KIND_WEIGHTS.values())
        while self.created < self.size.appointments:
            if day.weekday() not in WORKING_WEEKDAYS:
                day += timedelta(days=1)
                continue
            for site in self.sites:
                self._site_day(site=site, day=day, kinds=kinds, weights=weights)
            if len(self.pending_appointments) >= FLUSH_EVERY:
                self.flush()
                self.progress(f"  {self.created:,} appointments (up to {day:%a %d %b %Y})")
            day += timedelta(days=1)
        self.last_day = day - timedelta(days=1)
        self.flush()

    def _site_day(self, *, site: Site, day: date, kinds: list[str], weights: list[float]) -> int:
        if not site.practitioners:
            return 0
        capacity = {}
        for modality in site.modalities.values():
            capacity[modality.resource_id] = modality.resource.capacity if modality.resource_id else 0
        used = {resource_id: [0] * DAY_CELLS for resource_id in capacity}
        free_at = {practitioner.pk: 0 for practitioner in site.practitioners}
        busy = {practitioner.pk: 0 for practitioner in site.practitioners}
        patient_free_at: dict[int, int] = {}
        created = 0
        order = list(site.practitioners)
        for cell in range(DAY_CELLS):
            self.random.shuffle(order)
            for practitioner in order:
                if self.created >= self.size.appointments:
                    return created
                if free_at[practitioner.pk] > cell:
                    continue
                if busy[practitioner.pk] >= DENSITY * (cell + 1) * CELL_MINUTES:
                    # Free time keeps the day at ~85%; it comes in gaps of 15 to 60 minutes, as in a real
                    # diary, so some of it fits a session (a calendar of lone quarter hours would offer none).
                    free_at[practitioner.pk] = cell + self.random.choice(IDLE_CELLS)
                    continue
                booked = self._book_one(
                    site=site,
                    day=day,
                    cell=cell,
                    practitioner=practitioner,
                    kinds=self.random.choices(kinds, weights, k=1) + kinds,
                    used=used,
                    capacity=capacity,
                    patient_free_at=patient_free_at,
                )
                if booked is None:
                    free_at[practitioner.pk] = cell + 1
                    continue
                free_at[practitioner.pk] = cell + booked[0]
                busy[practitioner.pk] += booked[2]
                created += booked[1]
        self.working_minutes += len(site.practitioners) * DAY_CELLS * CELL_MINUTES
        return created

    def _book_one(
        self,
        *,
        site: Site,
        day: date,
        cell: int,
        practitioner: Practitioner,
        kinds: list[str],
        used: dict[int, list[int]],
        capacity: dict[int, int],
        patient_free_at: dict[int, int],
    ) -> tuple[int, int, int] | None:
        """Book the first kind that fits at ``cell``: (cells taken, rows created, minutes blocked), or None."""
        starts_at = self._instant(day, cell)
        past = starts_at < self.now
        for kind in dict.fromkeys(kinds):
            patient = self._pick_patient(
                site=site, kind=kind, day=day, cell=cell, past=past, patient_free_at=patient_free_at
            )
            if patient is None:
                continue
            modality = self._modality_for(site=site, kind=kind, patient=patient)
            cells = site.cells(modality)
            if cell * CELL_MINUTES + modality.slot_minutes > DAY_CELLS * CELL_MINUTES:
                continue  # the session itself must end by closing time
            cells_in_day = min(cells, DAY_CELLS - cell)
            resource_cells = used[modality.resource_id][cell : cell + cells_in_day]
            if any(count >= capacity[modality.resource_id] for count in resource_cells):
                continue
            for index in range(cell, cell + cells_in_day):
                used[modality.resource_id][index] += 1
            patient_free_at[patient.pk] = cell + cells
            self._appointment(
                patient=patient, practitioner=practitioner, modality=modality, starts_at=starts_at, past=past
            )
            rows = 1
            if self.random.random() < CANCELLED_SHARE and self.created < self.size.appointments:
                other = self.random.choice(site.patients_by_kind[kind]) if site.patients_by_kind[kind] else None
                if other is not None and other.pk != patient.pk:
                    self._appointment(
                        patient=other,
                        practitioner=practitioner,
                        modality=modality,
                        starts_at=starts_at,
                        past=past,
                        cancelled=True,
                    )
                    rows += 1
            minutes = modality.slot_minutes + modality.buffer_minutes
            self.blocked_minutes += minutes
            return cells, rows, minutes
        return None

    def _pick_patient(
        self, *, site: Site, kind: str, day: date, cell: int, past: bool, patient_free_at: dict[int, int]
    ) -> Patient | None:
        chart = self.chart_patient
        if (
            past
            and kind == Modality.Kind.WHOLE_BODY_CRYO
            and site.number == 1
            and self.chart_sessions < CHART_SESSIONS
            and chart.pk not in patient_free_at
            and (day - self.first_day).days >= self.chart_sessions * self.chart_every_days
        ):
            self.chart_sessions += 1
            return chart
        pool = site.patients_by_kind.get(kind) or []
        for _ in range(6):
            if not pool:
                return None
            patient = self.random.choice(pool)
            if patient.pk not in patient_free_at:  # one session a day per patient
                return patient
        return None

    def _modality_for(self, *, site: Site, kind: str, patient: Patient) -> Modality:
        if kind == Modality.Kind.WHOLE_BODY_CRYO:
            return site.modalities["wbc"]
        if kind == Modality.Kind.LOCALIZED_CRYO:
            return site.modalities["local_cryo"]
        if self.patient_history[patient.pk] == 0:
            return site.modalities["acupuncture_initial"]
        return site.modalities["acupuncture_follow_up"]

    def _appointment(
        self,
        *,
        patient: Patient,
        practitioner: Practitioner,
        modality: Modality,
        starts_at: datetime,
        past: bool,
        cancelled: bool = False,
    ) -> None:
        if cancelled:
            status = Appointment.Status.CANCELLED
        elif not past:
            status = Appointment.Status.BOOKED
        elif patient is not self.chart_patient and self.random.random() < NO_SHOW_SHARE:
            status = Appointment.Status.NO_SHOW
        else:
            status = Appointment.Status.ATTENDED
        if not cancelled:
            self.patient_history[patient.pk] += 1
        self.created += 1
        appointment = Appointment(
            patient=patient,
            practitioner=practitioner,
            status=status,
            cancelled_at=starts_at - timedelta(days=2) if cancelled else None,
            cancelled_by=patient.user if cancelled else None,
            created_by=patient.user,
        )
        appointment.place(modality=modality, starts_at=starts_at)
        appointment.bench_session_number = self.patient_history[patient.pk]
        self.pending_appointments.append(appointment)

    # --- Clinical records and outbox ----------------------------------------------------

    def flush(self) -> None:
        if not self.pending_appointments:
            return
        appointments = Appointment.objects.bulk_create(self.pending_appointments, batch_size=BATCH)
        self.pending_appointments = []
        self.counts["appointments"] += len(appointments)
        self._care_team(appointments)
        logs = [self._session_log(appointment) for appointment in appointments if appointment.status == "attended"]
        logs = SessionLog.objects.bulk_create(logs, batch_size=BATCH)
        self.counts["session_logs"] += len(logs)
        events = [
            AdverseEvent(
                session_log=log,
                kind=AdverseEvent.Kind.REDNESS if log.kind != "acupuncture" else AdverseEvent.Kind.SORENESS,
                severity=AdverseEvent.Severity.MILD,
                action_taken="Observed; resolved within 15 minutes.",
            )
            for log in logs
            if self.random.random() < ADVERSE_EVENT_SHARE
        ]
        AdverseEvent.objects.bulk_create(events, batch_size=BATCH)
        reminders = []
        for appointment in appointments:
            reminders += self._reminders(appointment)
        Reminder.objects.bulk_create(reminders, batch_size=BATCH)
        self.counts["reminders"] += len(reminders)

    def _care_team(self, appointments: list[Appointment]) -> None:
        """What the booking service does: each booking puts the practitioner on the patient's care team."""
        if not hasattr(self, "_care_team_pairs"):
            self._care_team_pairs: set[tuple[int, int]] = set()
            self._practitioner_users = dict(Practitioner.objects.values_list("pk", "user_id"))
            self._patient_users = dict(Patient.objects.values_list("pk", "user_id"))
        memberships = []
        for appointment in appointments:
            pair = (appointment.patient_id, appointment.practitioner_id)
            if appointment.status == Appointment.Status.CANCELLED or pair in self._care_team_pairs:
                continue
            self._care_team_pairs.add(pair)
            memberships.append(
                CareTeamMembership(
                    patient_id=appointment.patient_id,
                    member_id=self._practitioner_users[appointment.practitioner_id],
                    kind=CareTeamMembership.Kind.BOOKING,
                    granted_by_id=self._patient_users[appointment.patient_id],
                    starts_at=appointment.starts_at - timedelta(days=30),
                    ends_at=appointment.starts_at + timedelta(days=3 * 365),
                )
            )
        CareTeamMembership.objects.bulk_create(memberships, batch_size=BATCH)

    def _session_log(self, appointment: Appointment) -> SessionLog:
        modality = appointment.modality
        kind = modality.kind
        number = appointment.bench_session_number
        baseline = self.patient_baseline[appointment.patient_id]
        before = max(1, min(10, baseline - number // 4 + self.random.randint(-1, 1)))
        after = max(0, before - self.random.randint(0, 3))
        practitioner_user_id = appointment.practitioner.user_id
        log = SessionLog(
            appointment=appointment,
            patient_id=appointment.patient_id,
            practitioner_id=appointment.practitioner_id,
            modality=modality,
            kind=kind,
            resource=appointment.resource,
            started_at=appointment.starts_at,
            status=SessionLog.Status.SIGNED,
            pain_before=before,
            pain_after=after,
            duration_minutes=modality.slot_minutes,
            subjective="Lower back pain, sleeping better.",
            exposure_min_seconds=modality.exposure_min_seconds,
            exposure_max_seconds=modality.exposure_max_seconds,
            recorded_by_id=practitioner_user_id,
            signed_at=appointment.ends_at,
            signed_by_id=practitioner_user_id,
        )
        resource = appointment.resource
        if kind == Modality.Kind.WHOLE_BODY_CRYO:
            log.temperature_c = Decimal(self.random.randint(-140, -110))
            log.exposure_seconds = self.random.randint(max(120, modality.exposure_min_seconds), 180)
            log.bp_systolic = self.random.randint(110, 150)
            log.bp_diastolic = self.random.randint(65, 95)
            log.unchanged_since_screening = True
            log.bp_systolic_max = self.thresholds.wbc_systolic_max
            log.bp_diastolic_max = self.thresholds.wbc_diastolic_max
            log.temperature_min_c = resource.temperature_min_c
            log.temperature_max_c = resource.temperature_max_c
        elif kind == Modality.Kind.LOCALIZED_CRYO:
            # A cryogenic spray or cold-air device: 1-3 minutes (the seeded cold application method).
            log.temperature_c = Decimal(self.random.randint(-140, -100))
            log.exposure_seconds = self.random.randint(60, 180)
            log.body_area = "Lumbar, L4-L5"
            log.temperature_min_c = resource.temperature_min_c
            log.temperature_max_c = resource.temperature_max_c
        else:
            log.points_used = "BL23, BL25, GB30, BL40"
            log.needle_count = self.random.randint(6, 14)
            log.exposure_seconds = self.random.choice([20, 25, 30]) * 60
            log.electro_stimulation = self.random.random() < 0.3
        return log

    def _reminders(self, appointment: Appointment) -> list[Reminder]:
        key_time = appointment.starts_at.astimezone(UTC).isoformat()
        booked_at = min(appointment.starts_at - timedelta(days=7), self.now)
        rows = [
            Reminder(
                key=f"booked:{appointment.pk}",
                kind=BookingMessage.BOOKING_CONFIRMED,
                patient_id=appointment.patient_id,
                about=appointment,
                about_at=appointment.starts_at,
                due_at=booked_at,
                next_attempt_at=booked_at,
                state=Reminder.State.SENT,
                attempts=1,
                enqueued_at=booked_at,
                sent_at=booked_at,
            )
        ]
        if appointment.status == Appointment.Status.CANCELLED:
            return rows
        due_at = appointment.starts_at - timedelta(hours=24)
        sent = appointment.status != Appointment.Status.BOOKED
        rows.append(
            Reminder(
                key=f"upcoming:{appointment.pk}:{key_time}",
                kind=BookingMessage.UPCOMING_APPOINTMENT,
                patient_id=appointment.patient_id,
                about=appointment,
                about_at=appointment.starts_at,
                due_at=due_at,
                next_attempt_at=due_at,
                state=Reminder.State.SENT if sent else Reminder.State.PENDING,
                attempts=1 if sent else 0,
                enqueued_at=due_at if sent else None,
                sent_at=due_at if sent else None,
            )
        )
        return rows


def clinic_generate(*, appointments: int, seed: int = 20_000, progress: Progress = print) -> GeneratedClinic:
    """Fill the (empty) default database with a clinic of ``appointments`` appointments."""
    if Appointment.objects.exists() or User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").exists():
        raise ValueError(
            "This database already has appointments or a generated clinic; generate into an empty database "
            "(e.g. DATABASE_URL=sqlite:///var/bench.sqlite3 manage.py migrate first)."
        )
    size = clinic_size(appointments=appointments)
    progress(
        f"Generating {size.appointments:,} appointments: {size.practitioners} practitioners, "
        f"{size.patients:,} patients, {size.sites} site(s) (database: {connection.vendor})"
    )
    builder = _Builder(size=size, seed=seed, progress=progress)
    with transaction.atomic():
        ReminderSettings.load()
        builder.catalogue()
        builder.plan_days()
        builder.practitioners()
        builder.patients()
        builder.calendar()
    generated = GeneratedClinic(
        size=size,
        appointments=builder.counts["appointments"],
        session_logs=builder.counts["session_logs"],
        reminders=builder.counts["reminders"],
        first_day=builder.first_day,
        last_day=builder.last_day,
        density=builder.blocked_minutes / builder.working_minutes if builder.working_minutes else 0.0,
    )
    progress(
        f"Done: {generated.appointments:,} appointments from {generated.first_day} to {generated.last_day}, "
        f"{generated.session_logs:,} session logs, {generated.reminders:,} outbox rows, "
        f"{generated.density:.0%} of practitioner time blocked"
    )
    return generated


FIRST_NAMES = [
    "Alex", "Sam", "Jordan", "Priya", "Mohammed", "Olivia", "Noah", "Amelia", "Jack", "Isla",
    "Aisha", "Leo", "Freya", "Oscar", "Grace", "Yusuf", "Maya", "Harry", "Zara", "Ethan",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "Clarke",
]  # fmt: skip
