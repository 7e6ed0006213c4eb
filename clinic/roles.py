"""The permission groups behind the roles, rebuilt after every migrate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

ADMIN_GROUP = "Clinic admins"
PRACTITIONER_GROUP = "Practitioners"
FRONT_DESK_GROUP = "Front desk"

# Admins manage every model of the project and the beat schedules from the admin.
ADMIN_APPS = ("clinic", "notifications", "screening", "bookings", "treatments", "django_celery_beat")
# Practitioners work in the clinic's own pages; in the permission system they may
# view and change clinical records but not the catalogue or people.
PRACTITIONER_APPS = ("notifications", "screening", "bookings", "treatments")
PRACTITIONER_ACTIONS = ("view", "add", "change")
# Admins look at login lockouts and two-factor devices and may delete them (to unlock
# an account, or to reset the authenticator of someone who lost their phone), but
# never create a device for somebody else.
ADMIN_SECURITY_APPS = ("axes", "otp_totp", "otp_static")
ADMIN_SECURITY_ACTIONS = ("view", "delete")


def roles_sync(**kwargs: Any) -> None:
    admins, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    admins.permissions.set(
        Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
        | Permission.objects.filter(content_type__app_label__in=ADMIN_SECURITY_APPS).filter(
            codename__regex=rf"^({'|'.join(ADMIN_SECURITY_ACTIONS)})_"
        )
    )
    # The front desk works in the clinic's own pages only (no admin site, no clinical models).
    Group.objects.get_or_create(name=FRONT_DESK_GROUP)
    practitioners, _ = Group.objects.get_or_create(name=PRACTITIONER_GROUP)
    practitioners.permissions.set(
        Permission.objects.filter(content_type__app_label__in=PRACTITIONER_APPS).filter(
            codename__regex=rf"^({'|'.join(PRACTITIONER_ACTIONS)})_"
        )
    )
