from django.urls import path

from screening import views

app_name = "screening"

urlpatterns = [
    path("", views.MyScreeningView.as_view(), name="mine"),
    path("questions/", views.QuestionnaireView.as_view(), name="questionnaire"),
    path("answers/<int:pk>/", views.SubmissionDetailView.as_view(), name="submission"),
    path("consent/<slug:slug>/", views.ConsentView.as_view(), name="consent"),
    path("reviews/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("reviews/<int:pk>/", views.ReviewView.as_view(), name="review"),
    path("patients/<int:patient_id>/", views.PatientScreeningView.as_view(), name="patient"),
    path(
        "patients/<int:patient_id>/questions/",
        views.PractitionerQuestionnaireView.as_view(),
        name="patient_questionnaire",
    ),
]
