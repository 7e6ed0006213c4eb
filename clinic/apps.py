import os

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic: people and catalogue"

    def ready(self) -> None:
        from django.conf import settings

        from clinic.roles import roles_sync

        post_migrate.connect(roles_sync, dispatch_uid="clinic.roles_sync")
        # The filesystem broker needs its folders before the first message.
        if settings.CELERY_BROKER_URL == "filesystem://":
            for folder in ("data_folder_in", "processed_folder"):
                os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[folder], exist_ok=True)
