from django.urls import path

from treatments import views

app_name = "treatments"

urlpatterns = [
    path("appointments/<int:pk>/log/", views.SessionLogCreateView.as_view(), name="log_create"),
    path("logs/<int:pk>/", views.SessionLogDetailView.as_view(), name="log_detail"),
    path("logs/<int:pk>/amend/", views.SessionLogAmendView.as_view(), name="log_amend"),
    path("logs/<int:pk>/sign/", views.SessionLogSignView.as_view(), name="log_sign"),
    path("patients/<int:pk>/", views.PatientChartView.as_view(), name="patient_chart"),
    path("progress/", views.MyProgressView.as_view(), name="my_progress"),
    path("reports/", views.SessionReportView.as_view(), name="report"),
    path("reports/sessions.csv", views.SessionReportCsvView.as_view(), name="report_csv"),
]
