from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy: export, erasure, retention")

    def ready(self) -> None:
        from clinic.links import Link, register_link

        # The profile page (clinic) leads a patient to their data: download it or delete the account.
        register_link(
            "profile.actions",
            Link(
                key="privacy",
                label=_("Your data: download or delete"),
                url_name="privacy:overview",
                shown_to=lambda user, subject: hasattr(user, "patient"),
            ),
        )
