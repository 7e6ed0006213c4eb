from django.urls import path

from treatments import privacy_views, views

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
    # The patient's own data: download it all, or delete the account
    path("privacy/", privacy_views.PrivacyView.as_view(), name="privacy"),
    path("privacy/my-data.zip", privacy_views.DataExportView.as_view(), name="privacy_export"),
    path("privacy/delete/", privacy_views.AccountDeleteView.as_view(), name="privacy_delete"),
]
