from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from clinic.health import register_health_check
        from notifications.health import check_beat, check_outbox

        register_health_check("outbox", check_outbox)
        register_health_check("beat", check_beat)
