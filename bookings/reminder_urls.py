"""URLs of the reminder part of bookings (one-click opt-out); included under the bookings namespace."""

from django.urls import path

from bookings.views.reminders import NudgeOptOutView

urlpatterns: list = [
    path("nudges/stop/<str:token>/", NudgeOptOutView.as_view(), name="nudge_opt_out"),
]
