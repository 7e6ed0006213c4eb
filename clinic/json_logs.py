"""One JSON object per log line, for log collectors (``DJANGO_LOG_FORMAT=json``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else on a record came through ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_SCALARS = (str, int, float, bool, type(None))


class JsonLogFormatter(logging.Formatter):
    """time (UTC), level, logger, message, the traceback if any, and scalar extras (e.g. status_code).

    Extras that are not plain values (Django attaches the request object) are left out
    rather than turned into text that could carry a patient's details.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_") and isinstance(value, _SCALARS):
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)
