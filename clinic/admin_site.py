"""The Django admin as a clinic manager meets it: the clinic's name, and an index grouped by task.

Django groups the admin's index by app, which follows how the code is laid out (a
``bookings`` box holding hours, appointments and care plans).  A manager looks for what
they do: people, the catalogue, schedules, screening, clinical records, messages,
security.  Each ``ModelAdmin`` of this project names its section (``admin_section``);
the third-party tables are placed here by their model label.  Tables only an engineer
needs (scheduler internals, login-attempt logs, OTP devices) sit in a last section that
only a superuser sees; their URLs still answer to whoever has the permission.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

SECTIONS: tuple[str, ...] = (
    "People",
    "Catalogue",
    "Schedules",
    "Screening",
    "Clinical records",
    "Messages",
    "Security",
)
ENGINEERING = "Engineering"
# What the index shows for each section (the names above stay the keys and the anchors).
SECTION_LABELS = {
    "People": gettext_lazy("People"),
    "Catalogue": gettext_lazy("Catalogue"),
    "Schedules": gettext_lazy("Schedules"),
    "Screening": pgettext_lazy("admin section", "Screening"),
    "Clinical records": gettext_lazy("Clinical records"),
    "Messages": gettext_lazy("Messages"),
    "Security": gettext_lazy("Security"),
    ENGINEERING: gettext_lazy("Engineering"),
}

# Tables from the libraries the app is built on, by model label.
THIRD_PARTY_SECTIONS: dict[str, str] = {
    "auth.group": "Security",
    "django_celery_beat.periodictask": "Messages",
    "django_celery_beat.crontabschedule": ENGINEERING,
    "django_celery_beat.intervalschedule": ENGINEERING,
    "django_celery_beat.clockedschedule": ENGINEERING,
    "django_celery_beat.solarschedule": ENGINEERING,
    "axes.accessattempt": ENGINEERING,
    "axes.accesslog": ENGINEERING,
    "axes.accessfailurelog": ENGINEERING,
    "otp_totp.totpdevice": ENGINEERING,
    "otp_static.staticdevice": ENGINEERING,
}


def admin_section_of(model_admin: admin.ModelAdmin) -> str:
    """The index section a registered model appears in (``Engineering`` when nobody placed it)."""
    declared = getattr(model_admin, "admin_section", None)
    if declared:
        return declared
    return THIRD_PARTY_SECTIONS.get(model_admin.model._meta.label_lower, ENGINEERING)


class ClinicAdminSite(admin.AdminSite):
    enable_nav_sidebar = True

    @property
    def site_header(self) -> str:  # type: ignore[override]
        return _("%(clinic)s: administration") % {"clinic": settings.CLINIC_NAME}

    @property
    def site_title(self) -> str:  # type: ignore[override]
        return settings.CLINIC_NAME

    index_title = gettext_lazy("What would you like to manage?")

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        if app_label is not None:
            return super().get_app_list(request, app_label)  # an app's own page keeps Django's grouping
        sections: dict[str, list[dict[str, Any]]] = {name: [] for name in (*SECTIONS, ENGINEERING)}
        for app in super().get_app_list(request):
            for entry in app["models"]:
                section = admin_section_of(self._registry[entry["model"]])
                sections.setdefault(section, []).append(entry)
        index = reverse("admin:index", current_app=self.name)
        app_list = []
        for name, entries in sections.items():
            if not entries or (name == ENGINEERING and not request.user.is_superuser):
                continue
            slug = slugify(name)
            app_list.append(
                {
                    "name": SECTION_LABELS.get(name, name),
                    "app_label": slug,
                    "app_url": f"{index}#{slug}",
                    "has_module_perms": True,
                    "models": sorted(entries, key=lambda entry: str(entry["name"])),
                }
            )
        return app_list


class ClinicAdminConfig(AdminConfig):
    """``django.contrib.admin`` with the clinic's site as ``admin.site``."""

    default_site = "clinic.admin_site.ClinicAdminSite"
