from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = _("Screening")

    def ready(self) -> None:
        from screening.notifications import screening_message_kinds_register

        screening_message_kinds_register()

        from screening.events import screening_event_types_register

        screening_event_types_register()
