"""Finding patients: the staff's patient search by name, date of birth, phone or email.

``patient_search`` is the one way a page, the Django admin or the API looks a patient up:

- it searches only the patients the actor may find (``clinic.care_team.patients_findable_by``),
  narrowed further by the caller's ``within`` (e.g. the patients a practitioner may book);
- an empty query finds nobody: there is never a list of every patient;
- each search is one row of the audit trail: who searched, for what kind of thing, how many were
  found.  A name or email is kept as typed; a date of birth or phone number is recorded only as
  "a date of birth"/"a phone number" (they identify one person; the trail says a search happened);
- it costs the same number of queries whatever it finds (one page query, one audit row, and on
  PostgreSQL one statement that sets the similarity thresholds for the transaction).

Names are typo-tolerant on PostgreSQL: trigram similarity (``pg_trgm``) of the whole name and of
its words, served by a GIN index (migration ``clinic.0011``), so "Jonh Smyth" finds John Smith.
SQLite has no trigrams: there each word of the query must appear in the first name, last name or
email address.  Phone numbers compare digits only, without the trunk zero or country code, so
'+44 7700 900123', '07700 900123' and '+447700900123' all find one another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, F, Func, Q, QuerySet, Value
from django.db.models.functions import Greatest, Replace
from django.http import HttpRequest

from clinic.audit import audit_record
from clinic.care_team import patients_findable_by
from clinic.models import AuditEvent, Patient, User

PAGE_SIZE = 20
MIN_TEXT_LENGTH = 2
MIN_PHONE_DIGITS = 5
# Trigram thresholds: "Jonh Smyth" is 0.29 similar to "John Smith" (pg_trgm's default is 0.3).
NAME_SIMILARITY_THRESHOLD = 0.2
WORD_SIMILARITY_THRESHOLD = 0.5
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y")
PHONE_PATTERN = re.compile(r"\+?[\d\s().\-/]+")
# What a stored phone number may contain besides digits (free text today, E.164 once converted).
PHONE_PUNCTUATION = (" ", "-", "(", ")", ".", "/", "+")


@dataclass(frozen=True)
class PatientQuery:
    """What a typed query asks for: words of a name or email, a date of birth, digits of a phone number."""

    text: str = ""
    date_of_birth: date | None = None
    phone_digits: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.date_of_birth or self.phone_digits)

    def audit_description(self) -> str:
        parts = []
        if self.text:
            parts.append(f"“{self.text[:80]}”")
        if self.date_of_birth:
            parts.append("a date of birth")
        if self.phone_digits:
            parts.append("a phone number")
        return " and ".join(parts)


@dataclass(frozen=True)
class PatientSearchPage:
    """One page of results, best match first; ``number`` counts from 1."""

    query: str
    patients: list[Patient]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def _date_parse(word: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(word, pattern).date()  # noqa: DTZ007 (a calendar date, no time)
        except ValueError:
            continue
    return None


def phone_search_digits(text: str) -> str:
    """The digits of a phone number as the search compares them: the national number, no trunk zero.

    A whole number is read in the clinic's region (``PHONENUMBER_DEFAULT_REGION``, else GB), so
    '+44 7700 900123' and '07700 900123' both give '7700900123'; a fragment ('900 123') is kept
    as its digits, without a leading zero.
    """
    digits = re.sub(r"\D", "", text)
    region = getattr(settings, "PHONENUMBER_DEFAULT_REGION", None) or "GB"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return str(number.national_number)
    return digits.lstrip("0")


def patient_query_parse(query: str) -> PatientQuery:
    """Split what was typed into a date of birth (any word that is a date) and a name, email or phone."""
    words = query.split()
    date_of_birth = None
    rest = []
    for word in words:
        day = _date_parse(word) if date_of_birth is None else None
        if day is not None:
            date_of_birth = day
        else:
            rest.append(word)
    remaining = " ".join(rest)
    if remaining and PHONE_PATTERN.fullmatch(remaining):
        digits = phone_search_digits(remaining)
        if len(digits) >= MIN_PHONE_DIGITS:
            return PatientQuery(date_of_birth=date_of_birth, phone_digits=digits)
        return PatientQuery(date_of_birth=date_of_birth, phone_digits="") if date_of_birth else PatientQuery()
    text = remaining.lower()[:150] if len(remaining) >= MIN_TEXT_LENGTH else ""
    return PatientQuery(text=text, date_of_birth=date_of_birth)


def _phone_digits_expression() -> Func:
    # Plain text, whatever the field's type (a phone-number field would parse the digits back).
    expression: Func | F = F("phone")
    for mark in PHONE_PUNCTUATION:
        expression = Replace(expression, Value(mark), Value(""), output_field=CharField())
    return expression


class _NameText(Func):
    """``lower(first_name) || ' ' || lower(last_name)``: exactly the expression the trigram index holds."""

    template = "(LOWER(%(expressions)s))"
    arg_joiner = ") || ' ' || LOWER("


class _TrigramMatch(Func):
    """``name % query``: the whole name is similar to the query (pg_trgm's operator, served by the index)."""

    template = "(%(expressions)s)"
    arg_joiner = " %% "
    output_field = BooleanField()


class _TrigramWordMatch(Func):
    """``query <% name``: the query is similar to a part of the name, e.g. a surname alone."""

    template = "(%(expressions)s)"
    arg_joiner = " <%% "
    output_field = BooleanField()


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def patients_matching(patients: QuerySet[Patient], query: PatientQuery) -> QuerySet[Patient]:
    """``patients`` that match ``query``, best first (no visibility rule: see ``patient_search``)."""
    if query.is_empty:
        return patients.none()
    if query.date_of_birth is not None:
        patients = patients.filter(date_of_birth=query.date_of_birth)
    if query.phone_digits:
        patients = patients.alias(phone_digits=_phone_digits_expression()).filter(
            phone_digits__contains=query.phone_digits
        )
    order: list = ["user__last_name", "user__first_name", "pk"]
    if "@" in query.text:
        # An email address (or the part of one typed): a contained match, on any database.
        patients = patients.filter(user__email__icontains=query.text)
    elif query.text and _is_postgresql():
        name = _NameText(F("user__first_name"), F("user__last_name"))
        needle = Value(query.text)
        patients = patients.alias(
            name_match=_TrigramMatch(name, needle), word_match=_TrigramWordMatch(needle, name)
        ).filter(Q(name_match=True) | Q(word_match=True))
        patients = patients.annotate(
            match_score=Greatest(TrigramSimilarity(name, needle), TrigramWordSimilarity(needle, name))
        )
        order = [F("match_score").desc(), *order]
    elif query.text:
        for word in query.text.split():
            patients = patients.filter(Q(user__first_name__icontains=word) | Q(user__last_name__icontains=word))
    return patients.order_by(*order)


def patient_search_thresholds_set(*, local: bool = True) -> None:
    """Set pg_trgm's thresholds that ``patients_matching`` relies on (nothing on SQLite).

    ``local``: for the current transaction only; else for the connection (the admin's list runs
    its queries outside one transaction; only the patient search uses these operators).
    """
    if not _is_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, %s), "
            "set_config('pg_trgm.word_similarity_threshold', %s, %s)",
            [str(NAME_SIMILARITY_THRESHOLD), local, str(WORD_SIMILARITY_THRESHOLD), local],
        )


def patient_search(
    *,
    actor: User | AnonymousUser,
    query: str,
    page: int = 1,
    within: QuerySet[Patient] | None = None,
    request: HttpRequest | None = None,
    page_size: int = PAGE_SIZE,
) -> PatientSearchPage:
    """One page of the patients ``actor`` may find that match ``query`` (see the module docstring).

    ``within`` narrows the search to a purpose (the patients the actor may book, or plan care
    for); it never widens it.  ``request`` adds the address and page to the audit row.
    """
    parsed = patient_query_parse(query or "")
    page = max(1, page)
    if parsed.is_empty or not actor.is_authenticated:
        return PatientSearchPage(query=query or "", patients=[], number=1, has_next=False)
    candidates = patients_findable_by(actor)
    if within is not None:
        candidates = candidates.filter(pk__in=within.values("pk"))
    with transaction.atomic():
        if parsed.text:
            patient_search_thresholds_set()
        start = (page - 1) * page_size
        found = list(patients_matching(candidates, parsed).select_related("user")[start : start + page_size + 1])
    audit_record(
        request=request,
        actor=actor,
        patient=None,
        action=AuditEvent.Action.SEARCH,
        description=f"Patient search for {parsed.audit_description()}: "
        f"{min(len(found), page_size)}{'+' if len(found) > page_size else ''} found (page {page})",
    )
    return PatientSearchPage(query=query, patients=found[:page_size], number=page, has_next=len(found) > page_size)
