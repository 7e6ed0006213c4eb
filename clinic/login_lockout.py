"""Login lockout per account and address, and per account across all addresses.

django-axes counts failures per ``AXES_LOCKOUT_PARAMETERS`` group but compares every
group with one limit.  A per-address limit alone lets guesses from many addresses go
on without end; the same low limit per account would let anyone lock a patient out
with five wrong passwords.  This handler keeps the low limit per account and address
(``AXES_FAILURE_LIMIT``) and a higher one per account from anywhere
(``CLINIC_LOGIN_ACCOUNT_FAILURE_LIMIT``), both within the cool-off time.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest


def _failures(attempts: QuerySet) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class AccountAndAddressLockoutHandler(AxesDatabaseHandler):
    """Needs ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]``, in that order."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        """Failures as axes compares them with ``AXES_FAILURE_LIMIT``.

        The per-address count as it is; once the account's count from all addresses
        reaches its own limit, at least the failure limit, so every address is locked.
        """
        per_address, per_account = (_failures(attempts) for attempts in self.get_user_attempts(request, credentials))
        if per_account >= settings.CLINIC_LOGIN_ACCOUNT_FAILURE_LIMIT:
            return max(per_address, get_failure_limit(request, credentials))
        return per_address
