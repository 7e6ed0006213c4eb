from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = _("Clinic: people and catalogue")

    def ready(self) -> None:
        from clinic.roles import roles_sync

        post_migrate.connect(roles_sync, dispatch_uid="clinic.roles_sync")
