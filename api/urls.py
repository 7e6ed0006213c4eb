from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api import views
from api.problems import problem_not_found_view

app_name = "api"

v1_patterns = [
    path("modalities/", views.ModalityListView.as_view(), name="modality-list"),
]

urlpatterns = [
    path("v1/", include(v1_patterns)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ answers with a 404 problem rather than the clinic's HTML page.
    re_path(r"^.*$", problem_not_found_view, name="not-found"),
]
