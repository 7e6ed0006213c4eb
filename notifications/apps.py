from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from clinic.health import register_health_check
        from notifications.health import check_beat, check_outbox

        register_health_check("outbox", check_outbox)
        register_health_check("beat", check_beat)
