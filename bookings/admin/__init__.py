"""Bookings' admin, one module per concern."""

from bookings.admin import appointments, plans, waitlist  # noqa: F401
