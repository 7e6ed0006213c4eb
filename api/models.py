"""Personal access tokens: how a program acts for a patient or a member of staff through the API.

The secret is shown once, when the token is created; only its SHA-256 is stored, so a
copy of the database does not hand out working tokens.  A token is found by its short
public prefix (the part before the secret, safe to show in lists and the audit trail)
and then its secret is compared in constant time.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

TOKEN_KIND = "cpat"  # noqa: S105 - "clinic personal access token": lets secret scanners recognise a leaked token


def token_secret_hash(secret: str) -> str:
    """The stored form of a token's secret (a high-entropy random string, so one round of SHA-256 is enough)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_new_prefix() -> str:
    return secrets.token_hex(4)


def token_new_secret() -> str:
    return secrets.token_urlsafe(32)


class PersonalAccessTokenQuerySet(models.QuerySet):
    def usable(self, *, at=None) -> PersonalAccessTokenQuerySet:
        """Not revoked and not yet expired (the staff rules are checked per request, see api.authentication)."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=at)


class PersonalAccessToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="The person the token acts for; it can do no more than they can in the pages.",
        verbose_name=_("user"),
    )
    name = models.CharField(
        max_length=100, help_text="What the owner uses it for, e.g. 'practice software'.", verbose_name=_("name")
    )
    prefix = models.CharField(
        max_length=16,
        unique=True,
        editable=False,
        help_text="Public part of the token, shown in lists and the audit trail; not a secret.",
        verbose_name=_("prefix"),
    )
    secret_hash = models.CharField(
        max_length=64,
        editable=False,
        help_text="SHA-256 of the secret part; the secret itself is never stored.",
        verbose_name=_("secret hash"),
    )
    scope = models.CharField(
        max_length=10,
        choices=Scope.choices,
        default=Scope.READ,
        help_text="Read only: GET requests. Read and write: may also book, cancel and change.",
        verbose_name=_("scope"),
    )
    issued_to_staff = models.BooleanField(
        default=False,
        editable=False,
        help_text="Whether the owner was clinic staff when it was created; the token stops working if that changes.",
        verbose_name=_("issued to staff"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    expires_at = models.DateTimeField(help_text="The token stops working at this moment.", verbose_name=_("expires at"))
    last_used_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Last authenticated request (to the minute).",
        verbose_name=_("last used at"),
    )
    revoked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the owner or an admin revoked it; it never works again.",
        verbose_name=_("revoked at"),
    )

    objects = PersonalAccessTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="api_token_expires_after_created"
            ),
            models.CheckConstraint(condition=Q(scope__in=["read", "write"]), name="api_token_scope_known"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, *, at=None) -> bool:
        return self.expires_at <= (at or timezone.now())

    def secret_matches(self, secret: str) -> bool:
        return secrets.compare_digest(self.secret_hash, token_secret_hash(secret))

    @property
    def allows_write(self) -> bool:
        return self.scope == self.Scope.WRITE


# The webhook tables live in their own module (api/webhooks/); Django finds models through this one.
from api.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: E402

__all__ = ["PersonalAccessToken", "WebhookDelivery", "WebhookEndpoint"]
