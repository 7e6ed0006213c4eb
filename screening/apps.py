from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"

    def ready(self) -> None:
        from screening.notifications import screening_message_kinds_register

        screening_message_kinds_register()

        from screening.events import screening_event_types_register

        screening_event_types_register()
