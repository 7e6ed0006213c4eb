"""The project's URLs and error handlers, plus two pages that fail on purpose."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from clinic.urls import handler500  # noqa: F401  (the project's handler)
from clinic.urls import urlpatterns as project_urlpatterns

SECRET_IN_THE_TRACEBACK = "patient-note-that-must-never-reach-a-page"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_IN_THE_TRACEBACK)


def denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("This page is for clinic staff.")


urlpatterns = [
    *project_urlpatterns,
    path("test-errors/boom/", boom, name="test_boom"),
    path("test-errors/denied/", denied, name="test_denied"),
]
