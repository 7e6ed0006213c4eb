"""The safety tests log sessions as the treatment tests do: the same fixtures, defined once."""

from tests.treatments.conftest import _staff_without_second_factor, admin_user, patient_client, practitioner_client

__all__ = ["_staff_without_second_factor", "admin_user", "patient_client", "practitioner_client"]
