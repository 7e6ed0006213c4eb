from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        from bookings.notifications import booking_message_kinds_register

        booking_message_kinds_register()

        from bookings.events import appointment_event_types_register

        appointment_event_types_register()

        from bookings.schedule_signals import schedule_signals_connect

        # New hours and removed time off offer their slots to the waitlist (see the module for why signals).
        schedule_signals_connect()

        from clinic.links import Link, register_link

        # A patient cleared for a treatment on their screening page (screening) can book it straight away.
        register_link(
            "screening.cleared",
            Link(
                key="book",
                label=_("Book"),
                url_name="bookings:book_times",
                url_args=lambda modality: (modality.slug,),
                emphasis="success",
            ),
        )
