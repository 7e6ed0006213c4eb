from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import views
from api.problems import problem_not_found_view

app_name = "api"

router = SimpleRouter()
router.register("appointments", views.AppointmentViewSet, basename="appointment")

v1_patterns = [
    path("modalities/", views.ModalityListView.as_view(), name="modality-list"),
    path("modalities/<slug:slug>/availability/", views.AvailabilityView.as_view(), name="modality-availability"),
    *router.urls,
]

urlpatterns = [
    path("v1/", include(v1_patterns)),
    # The staff endpoints (day list, patient search, session logs, care plans, outcomes): api/staff/urls.py.
    path("v1/", include("api.staff.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    # Anything else under /api/ answers with a 404 problem rather than the clinic's HTML page.
    # [\s\S], not ".": an address with an encoded line break (%0A) must not slip past to the HTML page.
    re_path(r"^[\s\S]*$", problem_not_found_view, name="not-found"),
]
