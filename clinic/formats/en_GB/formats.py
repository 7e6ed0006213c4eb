"""English dates as the clinic writes them: 24-hour times, day before month."""

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "d/m/Y"
