"""Shapes of the API's requests and answers (input checked here; rules stay in the services)."""

from __future__ import annotations

from rest_framework import serializers

from clinic.models import Modality


class ModalitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Modality
        fields = ["slug", "name", "kind", "description", "preparation", "slot_minutes"]
        read_only_fields = fields
