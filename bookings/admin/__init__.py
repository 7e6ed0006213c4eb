"""Bookings' admin, one module per concern."""

from bookings.admin import appointments, reminders  # noqa: F401
