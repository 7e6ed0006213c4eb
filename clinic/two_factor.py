"""Two-factor authentication with an authenticator app (TOTP) and one-time recovery codes.

Built on django-otp: a person has at most one confirmed ``TOTPDevice`` (the app) and
one ``StaticDevice`` holding their unused recovery codes.  A session counts as
verified once ``django_otp.login`` has recorded the device that accepted a code.
"""

from __future__ import annotations

import base64
from io import BytesIO

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import User

AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_CODES_NAME = "Recovery codes"


def is_staff_user(user: User) -> bool:
    """Practitioners, the front desk, clinic admins and anyone with Django admin access."""
    return bool(getattr(user, "is_clinic_staff", False) or user.is_staff or user.is_superuser)


def two_factor_has_device(*, user: User) -> bool:
    """Whether the person has confirmed an authenticator app (recovery codes alone do not count)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def two_factor_pending_device(*, user: User) -> TOTPDevice:
    """The not yet confirmed authenticator the setup page shows, created on first visit.

    Reusing it across page loads keeps the QR code stable while the person scans it.
    """
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def totp_secret_for_display(device: TOTPDevice) -> str:
    """The secret in base32, grouped in fours for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_code_data_url(device: TOTPDevice) -> str:
    """The provisioning QR code as a ``data:`` SVG image (allowed by the CSP's img-src)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@transaction.atomic
def recovery_codes_replace(*, user: User) -> list[str]:
    """Give the person a fresh set of one-time recovery codes; any old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_CODES_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.CLINIC_RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_confirm_device(*, request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from the app.

    On success the device becomes the person's only authenticator, the session is
    verified and a new set of recovery codes is returned (to be shown once).
    Returns None when the code is wrong.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user)
    if not device.verify_token(_normalise_code(code)):
        return None
    TOTPDevice.objects.devices_for_user(request.user, confirmed=None).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    django_otp.login(request, device)
    return recovery_codes_replace(user=request.user)


def two_factor_verify(*, request: HttpRequest, code: str) -> bool:
    """Check a code from the app or an unused recovery code; on success verify the session.

    A recovery code is used up by this call.  Each device throttles repeated failures.
    """
    device = django_otp.match_token(request.user, _normalise_code(code))
    if device is None:
        return False
    django_otp.login(request, device)
    return True


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    """Remove the person's authenticator and recovery codes."""
    TOTPDevice.objects.devices_for_user(user, confirmed=None).delete()
    StaticDevice.objects.devices_for_user(user, confirmed=None).delete()


def recovery_codes_remaining(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def _normalise_code(code: str) -> str:
    """People type codes with spaces or dashes and in any case; the stored forms have none."""
    return "".join(code.split()).replace("-", "").lower()
