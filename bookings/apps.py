from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        from bookings.notifications import booking_message_kinds_register

        booking_message_kinds_register()
