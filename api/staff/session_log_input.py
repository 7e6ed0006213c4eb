"""A session log posted as JSON, checked by the page's own form (``treatments.forms.SessionLogForm``).

The API does not restate the rules: the JSON body is turned into the form data the log page
posts, so the same fields are required for the treatment's kind, the same messages come back
per field, and ``SessionLog.clean()`` (which the form runs) decides plausibility.  Two things
differ from the page, both about the shape of the input only:

- JSON has types, so a field of the wrong type (a string for the number of needles, a number
  for a note) is refused before the form sees it, instead of being read generously;
- needle retention is given in seconds, as every other exposure (``exposure_seconds``); the
  page asks for minutes because a person types it.

A field the treatment's kind does not record (a needle count on a whole-body log) is refused
rather than silently dropped, so a client learns of its mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext

from treatments.forms import AdverseEventFormSet, SessionLogForm
from treatments.models import KIND_ACUPUNCTURE, SessionLog

# Fields of the request body that are not readings of the log.
CONTROL_FIELDS = ("appointment", "sign", "adverse_events")
EVENT_FIELDS = ("kind", "severity", "description", "action_taken")
INTEGER_FIELDS = (
    "pain_before",
    "pain_after",
    "duration_minutes",
    "exposure_seconds",
    "bp_systolic",
    "bp_diastolic",
    "needle_count",
    "resource",
)
BOOLEAN_FIELDS = ("unchanged_since_screening", "electro_stimulation")
DECIMAL_FIELDS = ("temperature_c",)
MAX_EVENTS = 10


class ApiSessionLogForm(SessionLogForm):
    """The page's form with needle retention in seconds (the page converts minutes to seconds)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.kind == KIND_ACUPUNCTURE and "exposure_seconds" in self.fields:
            self.fields["exposure_seconds"] = forms.IntegerField(label="Needle retention (seconds)", min_value=1)


@dataclass
class SessionLogInput:
    """What a valid body asks for: the form's cleaned readings, the adverse events, whether to sign."""

    values: dict[str, Any] = field(default_factory=dict)
    adverse_events: list[dict[str, Any]] = field(default_factory=list)
    sign: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def _type_error(name: str, value: Any) -> str | None:
    """The message for a JSON value of the wrong type, or None when its type fits the field."""
    if value is None:
        return None  # "not given": the form says whether it is required
    if name in INTEGER_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return gettext("Must be a whole number.")
        return None
    if name in BOOLEAN_FIELDS:
        return None if isinstance(value, bool) else "Must be true or false."
    if name in DECIMAL_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return gettext("Must be a number.")
        return None
    return None if isinstance(value, str) else "Must be text."


def _form_value(name: str, value: Any) -> Any:
    """The value as the page's form would receive it from a browser (or None: field left out)."""
    if value is None:
        return None
    if name == "unchanged_since_screening":
        return "on" if value else None
    if name == "electro_stimulation":
        return "yes" if value else "no"
    if isinstance(value, float) and name in INTEGER_FIELDS:
        return repr(value)  # 4.5 stays 4.5, so the form refuses it instead of truncating it
    if isinstance(value, float):
        return str(Decimal(repr(value)))
    return str(value)


def _events_data(events: Any, errors: dict[str, list[str]]) -> dict[str, str]:
    if events is None:
        events = []
    if not isinstance(events, list):
        errors["adverse_events"] = ["Must be a list of adverse events (an empty list when there were none)."]
        return {}
    if len(events) > MAX_EVENTS:
        errors["adverse_events"] = [f"At most {MAX_EVENTS} adverse events per session."]
        return {}
    data = {
        "events-TOTAL_FORMS": str(len(events)),
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": str(MAX_EVENTS),
    }
    for index, event in enumerate(events):
        where = f"adverse_events.{index}"
        if not isinstance(event, dict) or not any(event.get(name) for name in EVENT_FIELDS):
            errors[where] = [gettext("Describe the event: kind, severity and the action taken.")]
            continue
        for name, value in event.items():
            if name not in EVENT_FIELDS:
                errors.setdefault(f"{where}.{name}", []).append(gettext("Unknown field of an adverse event."))
            elif value is not None and not isinstance(value, str):
                errors.setdefault(f"{where}.{name}", []).append(gettext("Must be text."))
            elif value is not None:
                data[f"events-{index}-{name}"] = value
    return data


def session_log_input_read(*, body: Any, log: SessionLog) -> SessionLogInput:
    """Check ``body`` (the parsed JSON) for the unsaved ``log`` prepared from its appointment."""
    result = SessionLogInput()
    if not isinstance(body, dict):
        result.errors["non_field_errors"] = ["Send the session log as a JSON object."]
        return result
    form_fields = set(ApiSessionLogForm(instance=log).fields) - {"reason"}
    data: dict[str, Any] = {}
    for name, value in body.items():
        if name in CONTROL_FIELDS:
            continue
        if name not in form_fields:
            result.errors[name] = ["This treatment's log does not record this field."]
            continue
        message = _type_error(name, value)
        if message:
            result.errors[name] = [message]
            continue
        form_value = _form_value(name, value)
        if form_value is not None:
            data[name] = form_value
    sign = body.get("sign", False)
    if not isinstance(sign, bool):
        result.errors["sign"] = [gettext("Must be true or false.")]
    result.sign = sign is True
    data |= _events_data(body.get("adverse_events"), result.errors)
    if result.errors:
        return result
    form = ApiSessionLogForm(data, instance=log)
    events = AdverseEventFormSet(data, prefix="events")
    form_ok, events_ok = form.is_valid(), events.is_valid()
    if not (form_ok and events_ok):
        for name, messages in form.errors.items():
            result.errors[name if name != "__all__" else "non_field_errors"] = list(messages)
        for index, event_errors in enumerate(events.errors):
            for name, messages in event_errors.items():
                key = f"adverse_events.{index}" if name == "__all__" else f"adverse_events.{index}.{name}"
                result.errors[key] = list(messages)
        if events.non_form_errors():
            result.errors["adverse_events"] = list(events.non_form_errors())
        return result
    result.values = form.clinical_values()
    result.adverse_events = events.events()
    return result
