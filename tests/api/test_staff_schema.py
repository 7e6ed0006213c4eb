"""Every staff endpoint is in the OpenAPI description, with the problem details it can answer."""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_spec_validator import validate

STAFF_OPERATIONS = {
    ("/api/v1/staff/appointments/", "get"): {200, 400, 401, 403, 404, 429},
    ("/api/v1/patients/", "get"): {200, 400, 401, 403, 429},
    ("/api/v1/patients/{id}/session-logs/", "get"): {200, 401, 403, 404, 429},
    ("/api/v1/patients/{id}/care-plans/", "get"): {200, 401, 403, 404, 429},
    ("/api/v1/patients/{id}/outcomes/", "get"): {200, 401, 403, 404, 429},
    ("/api/v1/session-logs/{id}/", "get"): {200, 401, 403, 404, 429},
    ("/api/v1/session-logs/", "post"): {201, 400, 401, 403, 404, 409, 415, 429},
}


@pytest.fixture(scope="module")
def schema() -> dict:
    """The description /api/schema/ serves, generated once for the module."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


def test_the_schema_with_the_staff_endpoints_is_valid_openapi_3(schema: dict) -> None:
    validate(schema)
    assert schema["openapi"].startswith("3.")


@pytest.mark.parametrize(("path", "method"), sorted(STAFF_OPERATIONS))
def test_each_staff_endpoint_lists_its_errors_as_problem_details(schema: dict, path: str, method: str) -> None:
    operation = schema["paths"][path][method]
    statuses = {int(code) for code in operation["responses"]}
    assert STAFF_OPERATIONS[(path, method)] <= statuses
    for code, response in operation["responses"].items():
        if int(code) >= 400:
            content = response["content"]["application/problem+json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Problem"}, (path, code)
    assert "staff" in operation["tags"]


def test_path_ids_are_declared_once(schema: dict) -> None:
    for path, methods in schema["paths"].items():
        for operation in methods.values():
            names = [(p["in"], p["name"]) for p in operation.get("parameters", [])]
            assert len(names) == len(set(names)), path
            if "{id}" in path:
                assert ("path", "pk") not in names


def test_the_session_log_body_is_described(schema: dict) -> None:
    body = schema["paths"]["/api/v1/session-logs/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert {"appointment", "pain_before", "pain_after", "exposure_seconds", "adverse_events", "sign"} <= set(
        component["properties"]
    )
