"""Creating and revoking personal access tokens (the rules of api.authentication, at the moment of creation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import TOKEN_KIND, PersonalAccessToken, token_new_prefix, token_new_secret, token_secret_hash
from clinic.models import User
from clinic.two_factor import two_factor_has_device, two_factor_required


class TokenRefused(Exception):
    """A token that may not be made or changed; ``message`` is written for its owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its full text, which exists only here: show it once, then forget it."""

    token: PersonalAccessToken
    plaintext: str


def token_max_days(*, user: User) -> int:
    """The longest life a token of ``user`` may have (staff tokens are shorter-lived)."""
    return (
        settings.CLINIC_API_STAFF_TOKEN_MAX_DAYS if user.is_clinic_staff else settings.CLINIC_API_PATIENT_TOKEN_MAX_DAYS
    )


@transaction.atomic
def token_create(*, actor: User, name: str, scope: str, valid_days: int, session_verified: bool) -> IssuedToken:
    """Make a token for ``actor`` (people make tokens only for themselves).

    ``session_verified`` says whether the session creating it passed two-factor
    authentication; staff must have, while the clinic requires two-factor for staff,
    because a token then acts without a second factor until it expires or is revoked.
    """
    name = name.strip()
    if not actor.is_authenticated or not actor.is_active:
        raise TokenRefused(_("Only an active account can make tokens."))
    if not name:
        raise TokenRefused(_("Give the token a name, so you can tell it from your others."))
    if scope not in PersonalAccessToken.Scope.values:
        raise TokenRefused(_("Choose read only or read and write."))
    max_days = token_max_days(user=actor)
    if not 1 <= valid_days <= max_days:
        raise TokenRefused(_("A token can be valid for 1 to %(days)d days.") % {"days": max_days})
    staff = actor.is_clinic_staff
    if staff and two_factor_required(user=actor) and not (session_verified and two_factor_has_device(user=actor)):
        raise TokenRefused(_("Staff make tokens only after logging in with two-factor authentication."))
    now = timezone.now()
    secret = token_new_secret()
    for _attempt in range(3):  # a prefix is 32 random bits: a clash is rare, but possible
        prefix = token_new_prefix()
        try:
            with transaction.atomic():
                token = PersonalAccessToken.objects.create(
                    user=actor,
                    name=name[:100],
                    prefix=prefix,
                    secret_hash=token_secret_hash(secret),
                    scope=scope,
                    issued_to_staff=staff,
                    created_at=now,
                    expires_at=now + timedelta(days=valid_days),
                )
        except IntegrityError:
            continue
        return IssuedToken(token=token, plaintext=f"{TOKEN_KIND}_{prefix}_{secret}")
    raise TokenRefused(_("The token could not be made; please try again."))


@transaction.atomic
def token_revoke(*, actor: User, token: PersonalAccessToken) -> PersonalAccessToken:
    """Stop ``token`` working for good.  Its owner or a clinic admin may; revoking twice changes nothing."""
    token = PersonalAccessToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk and not (actor.is_active and actor.is_clinic_admin):
        raise TokenRefused(_("You can only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
