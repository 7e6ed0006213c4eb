"""Every URL pattern of the project, read from the resolver, with who may open it.

A pattern missing from ``RULES`` makes the walking tests fail: whoever adds a page
must say here who it is for and how to fill its URL from the test world.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.world import World, nudge_token, password_reset_kwargs


class Access(Enum):
    PUBLIC = "public"  # anyone, no login (home, login, register, password reset)
    TOKEN = "token"  # anyone holding the secret in the URL (calendar feed, opt-out link)
    ACCOUNT = "account"  # any logged-in person, about themselves (profile, two-factor)
    PATIENT = "patient"  # patients only, about themselves; no id of anyone in the URL
    PATIENT_OBJECT = "patient_object"  # a patient's own record by id: the owner only, everyone else 404/403
    STAFF = "staff"  # practitioners and admins; lists filtered to their own patients
    STAFF_OBJECT = "staff_object"  # one patient's record for staff: related practitioners and admins only
    DESK = "desk"  # the front desk and admins only (registering patients)


@dataclass(frozen=True)
class Rule:
    access: Access
    kwargs: Callable[[World], dict[str, Any]] = lambda world: {}
    get_ok: bool = True  # False for POST-only views (GET answers 405 to those allowed in)
    desk: bool = False  # the front desk may open it too (STAFF and STAFF_OBJECT pages); else 403/404
    needs_query: bool = False  # answers 400 to a GET without its query (an API search asked for nothing)


def _pk(attr: str) -> Callable[[World], dict[str, Any]]:
    return lambda world: {"pk": getattr(world, attr).pk}


RULES: dict[str, Rule] = {
    # clinic
    "home": Rule(Access.PUBLIC),
    "register": Rule(Access.PUBLIC),
    "register_done": Rule(Access.PUBLIC),
    "email_confirm": Rule(Access.TOKEN, lambda w: {"uidb64": "MQ", "token": "not-a-token"}),
    "account_claim": Rule(Access.TOKEN, lambda w: {"token": "an-unknown-claim-secret"}),
    "login": Rule(Access.PUBLIC),
    "logout": Rule(Access.PUBLIC, get_ok=False),
    "password_reset": Rule(Access.PUBLIC),
    "password_reset_done": Rule(Access.PUBLIC),
    "password_reset_confirm": Rule(Access.TOKEN, lambda w: password_reset_kwargs(w.patient_a.user)),
    "password_reset_complete": Rule(Access.PUBLIC),
    "password_change": Rule(Access.ACCOUNT),
    "password_change_done": Rule(Access.ACCOUNT),
    "profile": Rule(Access.ACCOUNT),
    "profile_edit": Rule(Access.PATIENT),
    "profile_language": Rule(Access.ACCOUNT),
    "set_language": Rule(Access.PUBLIC),  # Django's set_language: a GET changes nothing and redirects back
    "two_factor": Rule(Access.ACCOUNT),
    "two_factor_setup": Rule(Access.ACCOUNT),
    "two_factor_verify": Rule(Access.ACCOUNT),
    "two_factor_enrol": Rule(Access.TOKEN, lambda w: {"token": "an-unknown-enrolment-secret"}),
    "two_factor_recovery_codes": Rule(Access.ACCOUNT),
    "two_factor_disable": Rule(Access.ACCOUNT, get_ok=False),
    "health": Rule(Access.PUBLIC),  # statuses and ages only, for load balancers
    "favicon": Rule(Access.PUBLIC),  # a redirect to the static icon
    # screening
    "screening:mine": Rule(Access.PATIENT),
    "screening:questionnaire": Rule(Access.PATIENT),
    "screening:submission": Rule(Access.PATIENT_OBJECT, _pk("submission_a")),
    "screening:consent": Rule(Access.PATIENT, lambda w: {"slug": w.modality.slug}),
    "screening:review_queue": Rule(Access.STAFF),
    "screening:review": Rule(Access.STAFF_OBJECT, _pk("submission_a")),
    "screening:patient": Rule(Access.STAFF_OBJECT, lambda w: {"patient_id": w.patient_a.pk}),
    "screening:patient_questionnaire": Rule(Access.STAFF_OBJECT, lambda w: {"patient_id": w.patient_a.pk}),
    # bookings: patients
    "bookings:appointment_list": Rule(Access.PATIENT),
    "bookings:book": Rule(Access.PATIENT),
    "bookings:book_times": Rule(Access.PATIENT, lambda w: {"slug": w.modality.slug}),
    "bookings:book_confirm": Rule(Access.PATIENT, lambda w: {"slug": w.modality.slug}),
    "bookings:appointment_detail": Rule(Access.PATIENT_OBJECT, _pk("appointment_a")),
    "bookings:appointment_cancel": Rule(Access.PATIENT_OBJECT, _pk("appointment_a")),
    "bookings:appointment_reschedule": Rule(Access.PATIENT_OBJECT, _pk("appointment_a")),
    "bookings:my_plans": Rule(Access.PATIENT),
    "bookings:my_plan_detail": Rule(Access.PATIENT_OBJECT, _pk("plan_a")),
    "bookings:calendar_feed": Rule(Access.ACCOUNT),
    "bookings:feed": Rule(Access.TOKEN, lambda w: {"token": w.feed_a.token}),
    "bookings:nudge_opt_out": Rule(Access.TOKEN, lambda w: {"token": nudge_token(w.patient_a)}),
    "bookings:waitlist": Rule(Access.PATIENT),
    "bookings:waitlist_join": Rule(Access.PATIENT),
    "bookings:waitlist_leave": Rule(Access.PATIENT_OBJECT, _pk("waitlist_entry_a"), get_ok=False),
    "bookings:waitlist_offer": Rule(Access.PATIENT_OBJECT, _pk("waitlist_offer_a")),
    # bookings: staff
    "bookings:practitioner_day": Rule(Access.STAFF, desk=True),
    "bookings:practitioner_week": Rule(Access.STAFF, desk=True),
    "bookings:staff_book": Rule(Access.STAFF, desk=True),
    "bookings:staff_calendar": Rule(Access.STAFF, desk=True),
    "bookings:staff_calendar_week": Rule(Access.STAFF, desk=True),
    "bookings:staff_appointment_move": Rule(Access.STAFF_OBJECT, _pk("appointment_a"), desk=True),
    "bookings:time_off_create": Rule(Access.STAFF),
    "bookings:appointment_mark": Rule(Access.STAFF_OBJECT, _pk("appointment_a"), get_ok=False),
    "bookings:staff_appointment_cancel": Rule(Access.STAFF_OBJECT, _pk("appointment_a"), desk=True),
    "bookings:staff_waitlist": Rule(Access.STAFF, desk=True),
    "bookings:staff_waitlist_join": Rule(Access.STAFF, desk=True),
    "bookings:staff_waitlist_leave": Rule(Access.STAFF_OBJECT, _pk("waitlist_entry_a"), get_ok=False, desk=True),
    # care team and front desk
    "bookings:care_team": Rule(Access.STAFF_OBJECT, lambda w: {"pk": w.patient_a.pk}, desk=True),
    "bookings:break_glass": Rule(Access.STAFF),
    "bookings:desk_patient_register": Rule(Access.DESK),
    "bookings:desk_account_link": Rule(Access.DESK, lambda w: {"pk": w.patient_a.pk}),
    "bookings:plan_list": Rule(Access.STAFF),
    "bookings:plan_create": Rule(Access.STAFF),
    "bookings:plan_detail": Rule(Access.STAFF_OBJECT, _pk("plan_a")),
    "bookings:plan_end": Rule(Access.STAFF_OBJECT, _pk("plan_a"), get_ok=False),
    "bookings:plan_improvement": Rule(Access.STAFF_OBJECT, _pk("plan_a"), get_ok=False),
    "bookings:plan_series_create": Rule(Access.STAFF_OBJECT, _pk("plan_a")),
    "bookings:plan_cancel_remaining": Rule(Access.STAFF_OBJECT, _pk("plan_a"), get_ok=False),
    "bookings:plan_series_detail": Rule(Access.STAFF_OBJECT, _pk("series_a")),
    "bookings:plan_occurrence_book_alternative": Rule(Access.STAFF_OBJECT, _pk("occurrence_a"), get_ok=False),
    "bookings:plan_occurrence_cancel": Rule(Access.STAFF_OBJECT, _pk("occurrence_a"), get_ok=False),
    # treatments
    "treatments:log_create": Rule(Access.STAFF_OBJECT, _pk("appointment_a")),
    "treatments:log_detail": Rule(Access.PATIENT_OBJECT, _pk("log_a")),  # and staff of the patient
    "treatments:log_amend": Rule(Access.STAFF_OBJECT, _pk("log_a")),
    "treatments:log_sign": Rule(Access.STAFF_OBJECT, _pk("log_a"), get_ok=False),
    "treatments:patient_chart": Rule(Access.STAFF_OBJECT, lambda w: {"pk": w.patient_a.pk}),
    "treatments:my_progress": Rule(Access.PATIENT),
    "treatments:report": Rule(Access.STAFF),
    "treatments:report_csv": Rule(Access.STAFF),
    "treatments:questionnaire_answer": Rule(Access.TOKEN, lambda w: {"token": "not-a-questionnaire-token"}),
    "treatments:checkin_answer": Rule(Access.TOKEN, lambda w: {"token": "not-a-check-in-token"}),
    "treatments:relief_cadence": Rule(Access.STAFF_OBJECT, _pk("plan_a"), get_ok=False),
    "privacy:overview": Rule(Access.PATIENT),
    "privacy:export": Rule(Access.PATIENT),
    "privacy:delete": Rule(Access.PATIENT),
    # the REST API (api/): the public catalogue and docs, the patient's own appointments
    "api:modality-list": Rule(Access.PUBLIC),
    "api:modality-availability": Rule(Access.PUBLIC, lambda w: {"slug": w.modality.slug}),
    "api:schema": Rule(Access.PUBLIC),
    "api:docs": Rule(Access.PUBLIC),
    "api:not-found": Rule(Access.PUBLIC),
    "api:appointment-list": Rule(Access.PATIENT),
    "api:appointment-detail": Rule(Access.PATIENT_OBJECT, _pk("appointment_a")),
    "api:appointment-cancel": Rule(Access.PATIENT_OBJECT, _pk("appointment_a"), get_ok=False),
    "api:appointment-reschedule": Rule(Access.PATIENT_OBJECT, _pk("appointment_a"), get_ok=False),
    "api_tokens:list": Rule(Access.ACCOUNT),
    "api_tokens:revoke": Rule(Access.ACCOUNT, lambda w: {"prefix": "deadbeef"}, get_ok=False),
    # the REST API's staff endpoints (api/staff/): the same people as the pages, 401 instead of the login page
    "api:staff-day": Rule(Access.STAFF, desk=True),
    "api:patient-search": Rule(Access.STAFF, desk=True, needs_query=True),
    "api:patient-session-logs": Rule(Access.STAFF_OBJECT, lambda w: {"pk": w.patient_a.pk}),
    "api:patient-care-plans": Rule(Access.STAFF_OBJECT, lambda w: {"pk": w.patient_a.pk}),
    "api:patient-outcomes": Rule(Access.STAFF_OBJECT, lambda w: {"pk": w.patient_a.pk}),
    "api:session-log-detail": Rule(Access.STAFF_OBJECT, _pk("log_a")),
    "api:session-log-create": Rule(Access.STAFF, get_ok=False),
    # the SMS provider's webhooks: POST only, refused (403) without the provider's signature
    "notifications:sms_status": Rule(Access.TOKEN, lambda w: {"reminder_id": 1}, get_ok=False),
    "notifications:sms_inbound": Rule(Access.TOKEN, get_ok=False),
}

# Pages that staff of patient A reach too, besides A (a patient-facing page shared with the chart).
STAFF_ALSO = {"treatments:log_detail"}
# Account pages that need a patient or practitioner profile, which an admin or the desk may not have (403).
NEEDS_PROFILE = {"bookings:calendar_feed"}


@dataclass(frozen=True)
class Pattern:
    name: str
    route: str


def _walk(patterns: list[Any], namespace: str = "", prefix: str = "") -> Iterator[Pattern]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            route = prefix + str(entry.pattern)
            if route.startswith("admin/") or route.startswith("static/"):
                continue  # the Django admin's own pages: tested as a whole below
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner, route)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if route.startswith("static/") or route.startswith("media/"):
                continue
            if entry.name is None:
                raise AssertionError(f"URL pattern {route!r} has no name, so it cannot be classified.")
            yield Pattern(name=f"{namespace}{entry.name}", route=route)


def project_patterns() -> list[Pattern]:
    return list(_walk(get_resolver().url_patterns))


def url_for(name: str, world: World) -> str:
    rule = RULES[name]
    return reverse(name, kwargs=rule.kwargs(world) or None)
