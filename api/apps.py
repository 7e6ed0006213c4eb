from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("REST API: tokens, endpoints and webhooks")

    def ready(self) -> None:
        import api.schema  # noqa: F401 - registers the authentication schemes with drf-spectacular
        from clinic.links import Link, register_link

        # The profile page (clinic) leads everyone with an account to their API tokens.
        register_link(
            "profile.actions",
            Link(key="api_tokens", label=_("API tokens"), url_name="api_tokens:list"),
        )

        from api.tasks import webhooks_events_published
        from notifications.events import event_listener_register

        # Webhooks: after each commit that published domain events, deliver them (see api/tasks.py).
        event_listener_register(webhooks_events_published)
