from django.urls import include, path

app_name = "bookings"

urlpatterns = [
    path("reminders/", include("bookings.reminder_urls")),
]
