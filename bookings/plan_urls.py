"""URLs of care plans; included under the bookings namespace at ``plans/``."""

from django.urls import path

from bookings.views import plans

urlpatterns = [
    # Practitioners (and admins)
    path("", plans.CarePlanListView.as_view(), name="plan_list"),
    path("new/", plans.CarePlanCreateView.as_view(), name="plan_create"),
    path("<int:pk>/", plans.CarePlanDetailView.as_view(), name="plan_detail"),
    path("<int:pk>/end/", plans.CarePlanEndView.as_view(), name="plan_end"),
    path("<int:pk>/move-on/", plans.CarePlanImprovementView.as_view(), name="plan_improvement"),
    path("<int:pk>/series/new/", plans.PlanSeriesCreateView.as_view(), name="plan_series_create"),
    path("<int:pk>/cancel-remaining/", plans.CarePlanCancelRemainingView.as_view(), name="plan_cancel_remaining"),
    path("series/<int:pk>/", plans.PlanSeriesDetailView.as_view(), name="plan_series_detail"),
    path(
        "occurrences/<int:pk>/book-alternative/",
        plans.OccurrenceBookAlternativeView.as_view(),
        name="plan_occurrence_book_alternative",
    ),
    path("occurrences/<int:pk>/cancel/", plans.OccurrenceCancelView.as_view(), name="plan_occurrence_cancel"),
    # Patients: their own plans only
    path("mine/", plans.MyCarePlanListView.as_view(), name="my_plans"),
    path("mine/<int:pk>/", plans.MyCarePlanDetailView.as_view(), name="my_plan_detail"),
]
