"""English (any region the browser names) with the clinic's 24-hour clock and day-first dates."""

from clinic.formats.en_GB.formats import (  # noqa: F401
    CLINIC_FORMATS,
    DATE_FORMAT,
    DATETIME_FORMAT,
    SHORT_DATE_FORMAT,
    SHORT_DATETIME_FORMAT,
    TIME_FORMAT,
)
