"""``Authorization: Bearer cpat_<prefix>_<secret>``: personal access tokens (api.models).

A token works while it is neither revoked nor expired and its owner could still log
in.  Staff tokens also follow the staff login rules (DESIGN.md, two-factor and idle):

* the owner's account is active, and they are still staff if they were staff when it
  was made (and a patient's token stops if the patient becomes staff: it was not made
  in a two-factor session);
* while the clinic requires two-factor authentication for staff, the owner still has a
  confirmed authenticator (the token was created in a verified session, see api.services);
* a staff token unused for ``CLINIC_API_STAFF_TOKEN_IDLE_DAYS`` stops working, as a
  staff session does after its idle minutes.

Every refusal is a 401 with a problem body saying why (never 403 or 500).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import TOKEN_KIND, PersonalAccessToken
from clinic.models import User
from clinic.two_factor import two_factor_has_device, two_factor_required

# last_used_at is written at most this often per token, so busy clients do not write on every call.
LAST_USED_PRECISION = timedelta(minutes=1)


def token_refusal(token: PersonalAccessToken, *, at=None) -> str | None:
    """Why ``token`` may not be used now, in words for its owner; None when it may."""
    at = at or timezone.now()
    user: User = token.user
    if token.is_revoked:
        return _("This token has been revoked.")
    if token.is_expired(at=at):
        return _("This token has expired.")
    if not user.is_active:
        return _("The account of this token is inactive.")
    if token.issued_to_staff != user.is_clinic_staff:
        return _("The owner's role has changed since this token was made; make a new one.")
    if token.issued_to_staff:
        if two_factor_required(user=user) and not two_factor_has_device(user=user):
            return _("Staff tokens need two-factor authentication on the account.")
        idle_days = settings.CLINIC_API_STAFF_TOKEN_IDLE_DAYS
        last_activity = token.last_used_at or token.created_at
        if idle_days and at - last_activity > timedelta(days=idle_days):
            return _("This staff token was not used for more than %(days)d days; make a new one.") % {"days": idle_days}
    return None


def token_split(raw: str) -> tuple[str, str] | None:
    """``cpat_<prefix>_<secret>`` -> (prefix, secret); None when it does not have that shape."""
    kind, _, rest = raw.partition("_")
    prefix, _, secret = rest.partition("_")
    if kind != TOKEN_KIND or not prefix or not secret or len(prefix) > 16 or len(secret) > 200:
        return None
    return prefix, secret


class PersonalAccessTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, PersonalAccessToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header should be 'Bearer <token>'."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        parts = token_split(raw)
        if parts is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid."))
        prefix, secret = parts
        token = PersonalAccessToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None or not token.secret_matches(secret):
            raise exceptions.AuthenticationFailed(_("This token is not valid."))
        now = timezone.now()
        refusal = token_refusal(token, at=now)
        if refusal:
            raise exceptions.AuthenticationFailed(refusal)
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


class ClinicSessionAuthentication(authentication.SessionAuthentication):
    """The app's own pages calling the API with the login cookie (CSRF checked, as DRF does).

    The session middleware has already applied the idle and two-factor rules to the
    session; a staff session still owing its second factor is not accepted here.
    """

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        django_request = request._request
        verified = getattr(django_request.user, "is_verified", lambda: False)()
        if two_factor_required(user=user) and not verified:
            return None
        return result
