"""Bookings' admin, one module per concern."""

from bookings.admin import appointments, plans, reminders, waitlist  # noqa: F401
