from django.urls import path

from treatments import followup_views, views

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
    path("q/<str:token>/", followup_views.QuestionnaireAnswerView.as_view(), name="questionnaire_answer"),
    path("checkin/<str:token>/", followup_views.ReliefCheckInView.as_view(), name="checkin_answer"),
    path("plans/<int:pk>/cadence/", followup_views.ReliefCadenceView.as_view(), name="relief_cadence"),
]
