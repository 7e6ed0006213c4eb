"""Bookings' admin, one module per concern."""

from bookings.admin import appointments, plans, reminders  # noqa: F401
