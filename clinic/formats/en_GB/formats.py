"""English dates as the clinic writes them: 24-hour times, day before month.

``CLINIC_FORMATS`` names the clinic's own formats (``clinic.clinic_time.format_when`` and the
``when`` template filter); every language module defines the same names.
"""

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "d/m/Y"

CLINIC_FORMATS = {
    "time": "H:i",  # 08:30
    "day": "l j F",  # Tuesday 1 December
    "day_time": "l j F, H:i",  # Tuesday 1 December, 08:30
    "day_year": "l j F Y",  # Tuesday 1 December 2026
    "day_year_time": "l j F Y, H:i",  # Tuesday 1 December 2026, 08:30
    "short_day": "D j M",  # Tue 1 Dec
    "short_day_time": "D j M, H:i",  # Tue 1 Dec, 08:30
    "short_day_year": "D j M Y",  # Tue 1 Dec 2026
    "short_day_year_time": "D j M Y, H:i",  # Tue 1 Dec 2026, 08:30
    "weekday": "D",  # Tue
    "date": "j M Y",  # 1 Dec 2026
    "date_time": "j M Y, H:i",  # 1 Dec 2026, 08:30
    "long_date": "j F Y",  # 1 December 2026
    "long_date_time": "j F Y, H:i",  # 1 December 2026, 08:30
    "day_month": "j F",  # 1 December
    "short_day_month": "j M",  # 1 Dec
    "short_day_month_time": "j M, H:i",  # 1 Dec, 08:30
    "day_number": "j",  # 1
    # Text messages: English keeps the weekday ("Tue 1 Dec"); see the Spanish module for why it may not.
    "sms_day": "D j M",  # Tue 1 Dec
}
