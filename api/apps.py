from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API: tokens, endpoints and webhooks"

    def ready(self) -> None:
        from api.tasks import webhooks_events_published
        from notifications.events import event_listener_register

        # Webhooks: after each commit that published domain events, deliver them (see api/tasks.py).
        event_listener_register(webhooks_events_published)
