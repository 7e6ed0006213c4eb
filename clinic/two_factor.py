"""Two-factor authentication with an authenticator app (TOTP) and one-time recovery codes.

Built on django-otp: a person has at most one confirmed ``TOTPDevice`` (the app) and
one ``StaticDevice`` holding their unused recovery codes.  A session counts as
verified once ``django_otp.login`` has recorded the device that accepted a code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from io import BytesIO

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import TwoFactorEnrolment, User

AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_CODES_NAME = "Recovery codes"


def two_factor_required(*, user: User) -> bool:
    """Whether this person must use two-factor authentication (staff, when the clinic requires it)."""
    return bool(settings.CLINIC_STAFF_2FA_REQUIRED and user.is_authenticated and user.is_clinic_staff)


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
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_CODES_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.CLINIC_RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _enrolment_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def two_factor_enrolment_needed(*, user: User) -> bool:
    """Staff enrol an authenticator only with a link an admin sent them; patients need none."""
    return user.is_clinic_staff


def two_factor_enrolment_send(*, user: User, actor: User) -> TwoFactorEnrolment:
    """Email ``user`` a one-time link to enrol an authenticator, valid for a few hours.

    The secret travels only in the email; the row keeps its hash.  An admin cannot
    send a link to themselves (another admin must), and only a superuser sends one
    to a superuser.  Earlier unused links of the person stop working.
    """
    if not (actor.is_active and actor.is_staff and actor.has_perm("clinic.change_user")):
        raise PermissionDenied(_("Only clinic admins send two-factor enrolment links."))
    if actor.pk == user.pk:
        raise PermissionDenied(_("Ask another admin to send you an enrolment link."))
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser sends a superuser an enrolment link."))
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        TwoFactorEnrolment.objects.filter(user=user).usable().update(expires_at=now)
        enrolment = TwoFactorEnrolment.objects.create(
            user=user,
            token_hash=_enrolment_token_hash(token),
            issued_by=actor,
            expires_at=now + timedelta(hours=settings.CLINIC_TWO_FACTOR_ENROLMENT_HOURS),
        )
    context = {
        "user": user,
        "link": settings.SITE_URL + reverse("two_factor_enrol", args=[token]),
        "hours": settings.CLINIC_TWO_FACTOR_ENROLMENT_HOURS,
        "clinic_name": settings.CLINIC_NAME,
    }
    with translation.override(user.message_language):
        send_mail(
            subject=_("%(clinic)s: set up two-factor authentication") % {"clinic": settings.CLINIC_NAME},
            message=render_to_string("registration/two_factor_enrolment_email.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    return enrolment


def two_factor_enrolment_find(*, token: str, user: User) -> TwoFactorEnrolment | None:
    """The usable enrolment behind a link's secret, if it was issued to ``user``."""
    return TwoFactorEnrolment.objects.usable().filter(token_hash=_enrolment_token_hash(token), user=user).first()


@transaction.atomic
def two_factor_confirm_device(
    *, request: HttpRequest, device: TOTPDevice, code: str, enrolment: TwoFactorEnrolment | None = None
) -> list[str] | None:
    """Confirm the pending authenticator with a code from the app.

    On success the device becomes the person's only authenticator, the session is
    verified and a new set of recovery codes is returned (to be shown once); the
    enrolment link it came through is used up.  Returns None when the code is wrong.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user)
    if two_factor_enrolment_needed(user=request.user):
        if enrolment is None:
            raise PermissionDenied(_("An enrolment link from an admin is needed."))
        enrolment = TwoFactorEnrolment.objects.select_for_update().usable().filter(pk=enrolment.pk).first()
        if enrolment is None or enrolment.user_id != request.user.pk:
            raise PermissionDenied(_("The enrolment link has expired or was used."))
    if not device.verify_token(_normalise_code(code)):
        return None
    if enrolment is not None:
        enrolment.used_at = timezone.now()
        enrolment.save(update_fields=["used_at"])
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
