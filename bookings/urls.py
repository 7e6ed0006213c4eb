from django.urls import include, path

from bookings.views import booking, calendar, feeds, practitioner, waitlist

app_name = "bookings"

# Care plans and reminders live in their own URL modules so they can grow apart.
urlpatterns = [
    path("plans/", include("bookings.plan_urls")),
    path("reminders/", include("bookings.reminder_urls")),
    path("care-team/", include("bookings.care_team_urls")),
    # Patients
    path("", booking.AppointmentListView.as_view(), name="appointment_list"),
    path("book/", booking.ModalityChooseView.as_view(), name="book"),
    path("book/<slug:slug>/", booking.SlotWeekView.as_view(), name="book_times"),
    path("book/<slug:slug>/confirm/", booking.BookingConfirmView.as_view(), name="book_confirm"),
    path("appointments/<int:pk>/", booking.AppointmentDetailView.as_view(), name="appointment_detail"),
    path("appointments/<int:pk>/cancel/", booking.AppointmentCancelView.as_view(), name="appointment_cancel"),
    path(
        "appointments/<int:pk>/reschedule/",
        booking.AppointmentRescheduleView.as_view(),
        name="appointment_reschedule",
    ),
    path("waitlist/", waitlist.WaitlistListView.as_view(), name="waitlist"),
    path("waitlist/join/", waitlist.WaitlistJoinView.as_view(), name="waitlist_join"),
    path("waitlist/<int:pk>/leave/", waitlist.WaitlistLeaveView.as_view(), name="waitlist_leave"),
    path("waitlist/offers/<int:pk>/", waitlist.WaitlistOfferView.as_view(), name="waitlist_offer"),
    # Staff
    path("staff/waitlist/", waitlist.StaffWaitlistView.as_view(), name="staff_waitlist"),
    path("staff/waitlist/add/", waitlist.StaffWaitlistJoinView.as_view(), name="staff_waitlist_join"),
    path("staff/waitlist/<int:pk>/leave/", waitlist.StaffWaitlistLeaveView.as_view(), name="staff_waitlist_leave"),
    path("staff/day/", practitioner.PractitionerDayView.as_view(), name="practitioner_day"),
    path("staff/week/", practitioner.PractitionerWeekView.as_view(), name="practitioner_week"),
    path("staff/calendar/", calendar.StaffCalendarView.as_view(), name="staff_calendar"),
    path("staff/calendar/week/", calendar.StaffCalendarWeekView.as_view(), name="staff_calendar_week"),
    path(
        "staff/appointments/<int:pk>/move/",
        calendar.AppointmentMoveView.as_view(),
        name="staff_appointment_move",
    ),
    path("staff/book/", practitioner.StaffBookView.as_view(), name="staff_book"),
    path("staff/time-off/", practitioner.TimeOffCreateView.as_view(), name="time_off_create"),
    path("staff/appointments/<int:pk>/mark/", practitioner.AppointmentMarkView.as_view(), name="appointment_mark"),
    path(
        "staff/appointments/<int:pk>/cancel/",
        practitioner.StaffAppointmentCancelView.as_view(),
        name="staff_appointment_cancel",
    ),
    # Calendar feeds
    path("calendar/", feeds.CalendarFeedSettingsView.as_view(), name="calendar_feed"),
    path("calendar/<str:token>.ics", feeds.feed_ics, name="feed"),
]
