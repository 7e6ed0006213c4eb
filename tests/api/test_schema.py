"""The OpenAPI description: valid OpenAPI 3, served at /api/schema/, and every endpoint in it with its errors."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema() -> dict:
    """The description as /api/schema/ serves it (generated once for the module; it reads no rows)."""
    generator = SchemaGenerator(patterns=None, urlconf=None)
    return json.loads(json.dumps(generator.get_schema(request=None, public=True), default=str))


@pytest.mark.django_db
def test_schema_is_served_as_yaml_without_login(client, schema):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["paths"].keys() == schema["paths"].keys()


def _api_v1_routes() -> list[str]:
    """Every route under /api/v1/ in the URLconf, its parameters written '{}' (as OpenAPI paths, unnamed)."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
                route = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", route).replace("^", "").replace("$", "")
                routes.append("/" + re.sub(r"<(?:\w+:)?\w+>", "{}", route))

    walk(get_resolver().url_patterns, "")
    return routes


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_api_route_is_in_the_schema(schema):
    routes = _api_v1_routes()
    assert "/api/v1/appointments/" in routes
    documented = {re.sub(r"\{\w+\}", "{}", path) for path in schema["paths"]}
    missing = [route for route in routes if route not in documented]
    assert missing == []


def test_every_operation_lists_its_problem_responses(schema):
    gaps = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation["responses"]
            needed = {"400", "404", "405", "429"}
            public = {} in operation.get("security", [{}])
            if not public:
                needed |= {"401", "403"}
            if method != "get":
                needed |= {"415"}
            for code in sorted(needed - set(responses)):
                gaps.append(f"{method.upper()} {path}: no {code}")
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    content = response.get("content", {})
                    if "application/problem+json" not in content:
                        gaps.append(f"{method.upper()} {path} {code}: not application/problem+json")
    assert gaps == []


def test_problem_shape_is_documented(schema):
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert {"errors", "nearest_times"} <= set(problem["properties"])


def test_token_authentication_is_described(schema):
    scheme = schema["components"]["securitySchemes"]["personalAccessToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    booking = schema["paths"]["/api/v1/appointments/"]["post"]
    assert {"personalAccessToken": []} in booking["security"]
    assert {"409", "422"} <= set(booking["responses"])
