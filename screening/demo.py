"""Demo screenings for ``make run``."""

from __future__ import annotations

from clinic.demo import DemoPeople


def demo_screenings_create(*, people: DemoPeople) -> None:
    """Give the demo patients a cleared screening (filled in by the screening app)."""
