"""The staff endpoints, included under /api/v1/ by ``api.urls`` (names in the ``api`` namespace)."""

from __future__ import annotations

from django.urls import path

from api.staff import views

urlpatterns = [
    path("staff/appointments/", views.StaffDayView.as_view(), name="staff-day"),
    path("patients/", views.PatientSearchView.as_view(), name="patient-search"),
    path("patients/<int:pk>/session-logs/", views.PatientSessionLogListView.as_view(), name="patient-session-logs"),
    path("patients/<int:pk>/care-plans/", views.PatientCarePlanListView.as_view(), name="patient-care-plans"),
    path("patients/<int:pk>/outcomes/", views.PatientOutcomesView.as_view(), name="patient-outcomes"),
    path("session-logs/", views.SessionLogCreateView.as_view(), name="session-log-create"),
    path("session-logs/<int:pk>/", views.SessionLogDetailView.as_view(), name="session-log-detail"),
]
