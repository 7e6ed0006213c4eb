from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic: people and catalogue"

    def ready(self) -> None:
        from clinic.roles import roles_sync

        post_migrate.connect(roles_sync, dispatch_uid="clinic.roles_sync")
