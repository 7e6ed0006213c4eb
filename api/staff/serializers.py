"""What the staff endpoints answer, field by field (the OpenAPI description is read from these).

Each serializer renders facts the staff pages already show to the same person; none carries
a screening answer or reason.  Clinical fields (notes, readings, plans, pain figures) appear
only in the responses of endpoints that require a practitioner of the patient's care team.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bookings.models import Appointment, CarePlan
from clinic.models import Modality, Patient
from screening.eligibility import GateStatus
from treatments.models import AdverseEvent, SessionLog

SCREENING_STATUSES = [
    GateStatus.ELIGIBLE,
    GateStatus.NOT_SCREENED,
    GateStatus.NEEDS_REVIEW,
    GateStatus.NOT_ELIGIBLE,
    GateStatus.EXPIRED,
    GateStatus.CONSENT_NEEDED,
]


class ModalityBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Modality.Kind.choices)


class PersonBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class DayAppointmentSerializer(serializers.Serializer):
    """One appointment of the day; ``patient`` is null when the caller may not see who it is."""

    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Appointment.Status.choices)
    cancelled_late = serializers.BooleanField()
    modality = ModalityBriefSerializer()
    practitioner = PersonBriefSerializer()
    room_or_device = serializers.CharField(source="resource.name", allow_null=True, default=None)
    patient = serializers.SerializerMethodField(
        help_text="The patient, when the caller may see their name (the desk and admins always, a "
        "practitioner for the patients of their care team); otherwise null: the time is only 'booked'."
    )
    screening_status = serializers.SerializerMethodField(
        help_text="The screening gate's status for this treatment on the day, as a word (never answers or "
        "reasons); null with the patient's name."
    )

    @extend_schema_field(PersonBriefSerializer(allow_null=True))
    def get_patient(self, appointment: Appointment) -> dict[str, Any] | None:
        if appointment.pk not in self.context["named"]:
            return None
        return {"id": appointment.patient_id, "name": appointment.patient.full_name}

    @extend_schema_field(serializers.ChoiceField(choices=SCREENING_STATUSES, allow_null=True))
    def get_screening_status(self, appointment: Appointment) -> str | None:
        if appointment.pk not in self.context["named"]:
            return None
        decision = self.context["decisions"].get(appointment.pk)
        return decision.status if decision is not None else None


class DayListSerializer(serializers.Serializer):
    date = serializers.DateField()
    practitioner = serializers.IntegerField(
        allow_null=True, help_text="Whose day this is; null: every practitioner's (the desk and admins)."
    )
    appointments = DayAppointmentSerializer(many=True)


class PatientFoundSerializer(serializers.Serializer):
    """A patient found by the search: who they are and how to reach them, nothing clinical."""

    id = serializers.IntegerField()
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    date_of_birth = serializers.DateField()
    phone = serializers.SerializerMethodField()
    email = serializers.CharField(source="user.email", allow_blank=True)

    def get_phone(self, patient: Patient) -> str:
        return str(patient.phone or "")


class PatientSearchPageSerializer(serializers.Serializer):
    query = serializers.CharField()
    page = serializers.IntegerField(source="number")
    has_next = serializers.BooleanField()
    results = PatientFoundSerializer(many=True, source="patients")


class AdverseEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AdverseEvent.Kind.choices)
    severity = serializers.ChoiceField(choices=AdverseEvent.Severity.choices)
    description = serializers.CharField(allow_blank=True)
    action_taken = serializers.CharField()


class AmendmentSerializer(serializers.Serializer):
    changed_at = serializers.DateTimeField()
    changed_by = serializers.CharField(source="changed_by.get_full_name")
    reason = serializers.CharField()
    changed_fields = serializers.ListField(child=serializers.CharField())


class SessionLogSerializer(serializers.ModelSerializer):
    """A session log as its page shows it to the patient's care team."""

    modality = ModalityBriefSerializer()
    practitioner = PersonBriefSerializer()
    recorded_by = serializers.CharField(source="recorded_by.get_full_name")
    signed_by = serializers.CharField(source="signed_by.get_full_name", allow_null=True, default=None)
    resource = serializers.CharField(source="resource.name", allow_null=True, default=None)
    cold_method = serializers.CharField(source="cold_method.name", allow_null=True, default=None)
    adverse_events = AdverseEventSerializer(many=True)

    class Meta:
        model = SessionLog
        fields = (
            "id",
            "appointment",
            "patient",
            "practitioner",
            "modality",
            "kind",
            "status",
            "started_at",
            "pain_before",
            "pain_after",
            "duration_minutes",
            "pain_location",
            "subjective",
            "objective",
            "assessment",
            "plan",
            "resource",
            "temperature_c",
            "exposure_seconds",
            "bp_systolic",
            "bp_diastolic",
            "unchanged_since_screening",
            "body_area",
            "points_used",
            "needle_count",
            "electro_stimulation",
            "cold_method",
            "adverse_events",
            "recorded_by",
            "signed_at",
            "signed_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class SessionLogDetailSerializer(SessionLogSerializer):
    amendments = AmendmentSerializer(many=True)

    class Meta(SessionLogSerializer.Meta):
        fields = (*SessionLogSerializer.Meta.fields, "amendments")
        read_only_fields = fields


class AdverseEventInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AdverseEvent.Kind.choices)
    severity = serializers.ChoiceField(choices=AdverseEvent.Severity.choices)
    description = serializers.CharField(required=False, allow_blank=True, help_text="Required for 'other'.")
    action_taken = serializers.CharField()


class SessionLogCreateSerializer(serializers.Serializer):
    """The body of a new log (documentation of the shape; the log page's form checks it).

    Send the readings of the appointment's kind of treatment only: whole-body cryotherapy
    ``temperature_c``, ``exposure_seconds``, ``bp_systolic``, ``bp_diastolic``,
    ``unchanged_since_screening``; localized cryotherapy ``body_area``, ``resource``,
    ``temperature_c``, ``exposure_seconds``; acupuncture ``points_used``, ``needle_count``,
    ``exposure_seconds`` (needle retention, in seconds), ``electro_stimulation``.
    """

    appointment = serializers.IntegerField(help_text="The appointment whose session this logs.")
    pain_before = serializers.IntegerField(min_value=0, max_value=10)
    pain_after = serializers.IntegerField(min_value=0, max_value=10)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=240)
    pain_location = serializers.ChoiceField(choices=SessionLog.PainLocation.choices)
    subjective = serializers.CharField(required=False, allow_blank=True)
    objective = serializers.CharField(required=False, allow_blank=True)
    assessment = serializers.CharField(required=False, allow_blank=True)
    plan = serializers.CharField(required=False, allow_blank=True)
    temperature_c = serializers.DecimalField(max_digits=5, decimal_places=1, required=False)
    exposure_seconds = serializers.IntegerField(required=False, min_value=1)
    bp_systolic = serializers.IntegerField(required=False)
    bp_diastolic = serializers.IntegerField(required=False)
    unchanged_since_screening = serializers.BooleanField(required=False)
    body_area = serializers.CharField(required=False)
    resource = serializers.IntegerField(required=False, help_text="Localized cryotherapy: the device used.")
    points_used = serializers.CharField(required=False)
    needle_count = serializers.IntegerField(required=False, min_value=1, max_value=60)
    electro_stimulation = serializers.BooleanField(required=False)
    adverse_events = AdverseEventInputSerializer(many=True, required=False, max_length=10)
    sign = serializers.BooleanField(required=False, default=False, help_text="Sign the log now (default: a draft).")


class PhaseSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    description = serializers.CharField(source="describe")
    ends_on_improvement = serializers.BooleanField()


class CadenceSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    sessions_attended = serializers.IntegerField()
    last_attended_on = serializers.DateField(allow_null=True)
    phase = PhaseSerializer(allow_null=True, help_text="Null once every phase of the plan is done.")
    phase_session_number = serializers.IntegerField(allow_null=True)
    next_due_on = serializers.DateField(allow_null=True)
    latest_due_on = serializers.DateField(allow_null=True)
    next_booked_at = serializers.DateTimeField(allow_null=True)
    interval_learned = serializers.BooleanField()
    improvement_awaited = serializers.BooleanField()
    is_overdue = serializers.BooleanField()
    is_complete = serializers.BooleanField()


class CarePlanSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template.name")
    practitioner = PersonBriefSerializer(allow_null=True)
    cadence = serializers.SerializerMethodField(help_text="Where an active plan stands today; null for an ended plan.")

    class Meta:
        model = CarePlan
        fields = (
            "id",
            "template",
            "family",
            "practitioner",
            "start_date",
            "status",
            "ended_at",
            "notes",
            "learned_interval_days",
            "cadence_locked",
            "improved_on",
            "improvement_basis",
            "improvement_evidence",
            "cadence",
        )
        read_only_fields = fields

    @extend_schema_field(CadenceSerializer(allow_null=True))
    def get_cadence(self, plan: CarePlan) -> dict[str, Any] | None:
        if not plan.is_active:
            return None
        return CadenceSerializer(plan.cadence(self.context["today"])).data


class SessionPointSerializer(serializers.Serializer):
    log_id = serializers.IntegerField()
    day = serializers.DateField()
    modality_name = serializers.CharField()
    pain_before = serializers.IntegerField()
    pain_after = serializers.IntegerField()
    immediate_change = serializers.IntegerField()
    adverse_event_count = serializers.IntegerField()


class CourseOutcomeSerializer(serializers.Serializer):
    """One course (a kind of treatment) as the chart and 'My progress' show it."""

    kind = serializers.ChoiceField(choices=Modality.Kind.choices)
    label = serializers.CharField()
    baseline = serializers.IntegerField(help_text="Pain before the course's first signed session.")
    latest = serializers.IntegerField(help_text="Pain before its latest signed session.")
    change_points = serializers.IntegerField(help_text="Points better than the baseline (negative: worse).")
    change_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    mean_immediate_change = serializers.DecimalField(max_digits=4, decimal_places=1)
    is_responder = serializers.BooleanField(help_text="A reduction of at least 30 % or 2 points (2+ sessions).")
    is_low_baseline = serializers.BooleanField(help_text="Baseline below the clinic's floor: no response judged.")
    baseline_floor = serializers.IntegerField()
    sessions = SessionPointSerializer(many=True)


class QuestionnairePointSerializer(serializers.Serializer):
    day = serializers.DateField()
    score = serializers.DecimalField(max_digits=7, decimal_places=3)
    occasion = serializers.CharField()


class QuestionnaireTrendSerializer(serializers.Serializer):
    instrument = serializers.CharField(source="instrument.name")
    first = serializers.DecimalField(max_digits=7, decimal_places=3)
    latest = serializers.DecimalField(max_digits=7, decimal_places=3)
    improvement = serializers.DecimalField(max_digits=7, decimal_places=3)
    is_meaningful = serializers.BooleanField()
    meaningful_score = serializers.DecimalField(max_digits=7, decimal_places=3)
    points = QuestionnairePointSerializer(many=True)


class OutcomesSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    courses = CourseOutcomeSerializer(many=True)
    questionnaires = QuestionnaireTrendSerializer(many=True)
