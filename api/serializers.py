"""Shapes of the API's requests and answers.  Input shape is checked here; the rules stay in the services."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import serializers

from bookings.models import Appointment
from bookings.services.appointments import appointment_can_change_online
from clinic.models import Modality, Practitioner

# The longest stretch one availability call may ask for (a month of a busy clinic stays a quick answer),
# and how far from today it may lie (bookings open weeks ahead; the ends of the calendar overflow).
AVAILABILITY_MAX_DAYS = 31
AVAILABILITY_REACH_DAYS = 366
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


class PractitionerSummarySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="full_name", read_only=True)

    class Meta:
        model = Practitioner
        fields = ["id", "name"]
        read_only_fields = fields


class ModalitySerializer(serializers.ModelSerializer):
    practitioners = serializers.SerializerMethodField(help_text="Who delivers it (book with one, or with anyone).")

    class Meta:
        model = Modality
        fields = ["slug", "name", "kind", "description", "preparation", "slot_minutes", "practitioners"]
        read_only_fields = fields

    def get_practitioners(self, modality: Modality) -> list[dict]:
        people = [p for p in modality.practitioners.all() if p.is_active and p.user.is_active]
        return PractitionerSummarySerializer(people, many=True).data


class AvailabilityQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="First local date (clinic time zone); default today.")
    end = serializers.DateField(required=False, help_text="Last local date, inclusive; default six days after start.")
    practitioner = serializers.IntegerField(
        required=False, min_value=1, help_text="Only this practitioner's free times (id from /modalities/)."
    )

    def validate(self, attrs: dict) -> dict:
        today = timezone.localdate()
        reach = timedelta(days=AVAILABILITY_REACH_DAYS)
        for name in ("start", "end"):
            day = attrs.get(name)
            if day is not None and not today - reach <= day <= today + reach:
                raise serializers.ValidationError({name: [gettext("Ask for dates within a year of today.")]})
        start = attrs.get("start") or today
        end = attrs.get("end") or start + timedelta(days=6)
        if end < start:
            raise serializers.ValidationError({"end": [gettext("The end date must not be before the start date.")]})
        if (end - start).days + 1 > AVAILABILITY_MAX_DAYS:
            raise serializers.ValidationError({"end": [f"Ask for at most {AVAILABILITY_MAX_DAYS} days at once."]})
        return {**attrs, "start": start, "end": end}


class FreeSlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class DayAvailabilitySerializer(serializers.Serializer):
    day = serializers.DateField()
    closed_reason = serializers.CharField(help_text="Why the clinic is closed that day; empty when open.")
    slots = FreeSlotSerializer(many=True)


class ModalityNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Modality
        fields = ["slug", "name"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    modality = ModalityNameSerializer(read_only=True)
    practitioner = PractitionerSummarySerializer(read_only=True)
    can_change_online = serializers.SerializerMethodField(
        help_text="Whether the patient may still cancel or move it here (before the clinic's cut-off)."
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "modality",
            "practitioner",
            "starts_at",
            "ends_at",
            "status",
            "can_change_online",
            "cancelled_at",
            "cancelled_late",
            "created_at",
        ]
        read_only_fields = fields

    def get_can_change_online(self, appointment: Appointment) -> bool:
        return appointment_can_change_online(appointment=appointment, policy=self.context.get("policy"))


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """Looks a slug up only when it is one: a NUL character would make PostgreSQL refuse the query (a 500)."""

    def to_internal_value(self, data: object) -> object:
        if not isinstance(data, str) or not SLUG.fullmatch(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:100])
        return super().to_internal_value(data)


class AppointmentBookSerializer(serializers.Serializer):
    modality = StrictSlugRelatedField(
        slug_field="slug", queryset=Modality.objects.active(), help_text="The treatment's slug (see /modalities/)."
    )
    starts_at = serializers.DateTimeField(
        help_text="A free start time from /availability/, ISO 8601 with its offset (a time without one is read "
        "in the clinic's time zone)."
    )
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=Practitioner.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Book with this practitioner; leave out for whoever is free.",
    )


class AppointmentRescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="The new start time (same practitioner when free).")


class AppointmentCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
