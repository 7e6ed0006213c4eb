"""Spanish dates as a Spanish-speaking patient reads them: "martes, 1 de diciembre, 08:30".

The same names as ``clinic.formats.en_GB.formats.CLINIC_FORMATS``; day and month names come
from Django's Spanish translation.
"""

TIME_FORMAT = "H:i"
DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
DATE_FORMAT = r"j \d\e F \d\e Y"
SHORT_DATE_FORMAT = "d/m/Y"

CLINIC_FORMATS = {
    "time": "H:i",  # 08:30
    "day": r"l, j \d\e F",  # martes, 1 de diciembre
    "day_time": r"l, j \d\e F, H:i",  # martes, 1 de diciembre, 08:30
    "day_year": r"l, j \d\e F \d\e Y",  # martes, 1 de diciembre de 2026
    "day_year_time": r"l, j \d\e F \d\e Y, H:i",  # martes, 1 de diciembre de 2026, 08:30
    "short_day": "D j M",  # mar 1 Dic
    "short_day_time": "D j M, H:i",
    "short_day_year": "D j M Y",
    "short_day_year_time": "D j M Y, H:i",
    "weekday": "D",
    "date": "j M Y",  # 1 Dic 2026
    "date_time": "j M Y, H:i",
    "long_date": r"j \d\e F \d\e Y",  # 1 de diciembre de 2026
    "long_date_time": r"j \d\e F \d\e Y, H:i",
    "day_month": r"j \d\e F",  # 1 de diciembre
    "short_day_month": "j M",
    "short_day_month_time": "j M, H:i",
    "day_number": "j",
    # Text messages: no weekday, since "sáb" (á is not GSM-7) would turn a Saturday's SMS into UCS-2
    # (70 characters a segment instead of 160).
    "sms_day": "j M",  # 1 Dic
}
