"""The patient's own data: download it all, or delete the account."""

from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.PrivacyView.as_view(), name="overview"),
    path("my-data.zip", views.DataExportView.as_view(), name="export"),
    path("delete/", views.AccountDeleteView.as_view(), name="delete"),
]
