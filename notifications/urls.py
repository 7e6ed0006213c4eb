from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("sms/status/<int:reminder_id>/", views.sms_status_view, name="sms_status"),
    path("sms/inbound/", views.sms_inbound_view, name="sms_inbound"),
]
