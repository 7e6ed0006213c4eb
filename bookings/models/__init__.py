"""Bookings' models, one module per concern; import them from here."""

from bookings.models.appointments import Appointment, AppointmentQuerySet
from bookings.models.reminders import *  # noqa: F403

__all__ = ["Appointment", "AppointmentQuerySet"]
