from django.urls import include, path

app_name = "bookings"

# Care plans and reminders live in their own URL modules so they can grow apart.
urlpatterns = [
    path("plans/", include("bookings.plan_urls")),
    path("reminders/", include("bookings.reminder_urls")),
]
