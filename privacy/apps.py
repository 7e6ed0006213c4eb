from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy: export, erasure, retention"

    def ready(self) -> None:
        from clinic.links import Link, register_link

        # The profile page (clinic) leads a patient to their data: download it or delete the account.
        register_link(
            "profile.actions",
            Link(
                key="privacy",
                label="Your data: download or delete",
                url_name="privacy:overview",
                shown_to=lambda user, subject: hasattr(user, "patient"),
            ),
        )
