"""Bookings' models, one module per concern; import them from here."""

from bookings.models.appointments import *  # noqa: F403
from bookings.models.plans import *  # noqa: F403
from bookings.models.reminders import *  # noqa: F403
from bookings.models.schedules import *  # noqa: F403
from bookings.models.waitlist import *  # noqa: F403
