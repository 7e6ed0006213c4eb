from django.urls import path

from bookings.views import care_team

urlpatterns = [
    path("patients/new/", care_team.DeskPatientRegisterView.as_view(), name="desk_patient_register"),
    path("patients/<int:pk>/", care_team.CareTeamView.as_view(), name="care_team"),
    path("patients/<int:pk>/account-link/", care_team.DeskAccountLinkView.as_view(), name="desk_account_link"),
    path("emergency/", care_team.BreakGlassView.as_view(), name="break_glass"),
]
