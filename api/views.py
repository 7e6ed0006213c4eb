"""API views of the public catalogue (no login needed)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny

from api.schema import PUBLIC_ERRORS
from api.serializers import ModalitySerializer
from clinic.models import Modality


@extend_schema(tags=["public"], responses={200: ModalitySerializer(many=True), **PUBLIC_ERRORS})
class ModalityListView(generics.ListAPIView):
    """The treatments that can be booked online."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = ModalitySerializer
    queryset = Modality.objects.active()
    pagination_class = None
