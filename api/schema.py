"""The problem details shape in the OpenAPI description, and the error responses each endpoint lists."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from api.problems import PROBLEM_TYPES

ProblemSerializer = inline_serializer(
    name="Problem",
    fields={
        "type": serializers.URLField(help_text="Names the kind of problem: one of " + ", ".join(PROBLEM_TYPES)),
        "title": serializers.CharField(help_text="Short summary, the same for every problem of this type."),
        "status": serializers.IntegerField(help_text="The HTTP status code."),
        "detail": serializers.CharField(help_text="What went wrong, in words for a person."),
        "instance": serializers.CharField(required=False, help_text="The address that was asked for."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="400 validation-error: messages per field (nested fields as 'a.b').",
        ),
        "nearest_times": serializers.ListField(
            child=serializers.DateTimeField(),
            required=False,
            help_text="409 slot-taken and 422 booking-refused: the nearest free start times.",
        ),
        "retry_after_seconds": serializers.IntegerField(required=False, help_text="429: when to try again."),
    },
)


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ProblemSerializer, description=description)


PUBLIC_ERRORS = {
    400: problem("validation-error: the query or body is not valid (errors per field)."),
    404: problem("not-found"),
    405: problem("method-not-allowed"),
    429: problem("rate-limited: too many requests from this address or token."),
}
AUTHENTICATED_ERRORS = {
    **PUBLIC_ERRORS,
    401: problem("not-authenticated or token-invalid: no token, or it is revoked, expired or no longer allowed."),
    403: problem("forbidden or token-scope: not allowed for this account, or a read-only token tried to change data."),
}
