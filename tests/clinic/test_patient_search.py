"""Patient search: who it finds for whom, what it records, what it costs."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.care_team import care_team_assign, care_team_end, patients_findable_by
from clinic.models import AuditEvent, Patient, Role
from clinic.selectors import PAGE_SIZE, patient_query_parse, patient_search, phone_search_digits
from tests.factories import AdminFactory, FrontDeskFactory, PatientFactory, PractitionerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _patient(first: str, last: str, **kwargs: object) -> Patient:
    email = kwargs.pop("email", None)
    user_kwargs = {"first_name": first, "last_name": last}
    if email:
        user_kwargs["email"] = email
    return PatientFactory(user=UserFactory(**user_kwargs), **kwargs)


def _found(actor: object, query: str, **kwargs: object) -> list[Patient]:
    return patient_search(actor=actor, query=query, **kwargs).patients


@pytest.fixture
def desk():
    return FrontDeskFactory()


@pytest.fixture
def john():
    return _patient("John", "Smith", date_of_birth=date(1971, 3, 12), phone="+44 7700 900123", email="js@mail.test")


def test_desk_finds_a_patient_by_name_date_of_birth_phone_and_email(desk, john):
    _patient("Mary", "Jones", date_of_birth=date(1990, 1, 1), phone="020 7946 0001")
    assert _found(desk, "smith") == [john]
    assert _found(desk, "John Smith") == [john]
    assert _found(desk, "12/03/1971") == [john]
    assert _found(desk, "1971-03-12") == [john]
    assert _found(desk, "js@mail") == [john]
    assert _found(desk, "smith 12/03/1971") == [john]
    assert _found(desk, "smith 13/03/1971") == []


@pytest.mark.parametrize("typed", ["+44 7700 900123", "07700 900123", "+447700900123", "07700-900-123", "900123"])
@pytest.mark.parametrize("stored", ["+44 7700 900123", "07700 900123", "+447700900123"])
def test_phone_search_compares_digits_whatever_the_format(desk, typed, stored):
    patient = _patient("Phone", "Owner", phone=stored)
    _patient("Someone", "Else", phone="+44 7700 900999")
    assert _found(desk, typed) == [patient]


def test_phone_digits_are_the_national_number():
    assert phone_search_digits("+44 7700 900123") == "7700900123"
    assert phone_search_digits("07700 900123") == "7700900123"
    assert phone_search_digits("0044 7700 900123") == "7700900123"
    assert phone_search_digits("900 123") == "900123"


def test_empty_or_too_short_query_finds_nobody_and_records_nothing(desk, john):
    for query in ["", "   ", "s", "12", "+"]:
        assert _found(desk, query) == []
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH).exists()


def test_search_is_audited_without_the_date_of_birth_or_phone_number(desk, john):
    patient_search(actor=desk, query="Smith")
    patient_search(actor=desk, query="12/03/1971")
    patient_search(actor=desk, query="07700 900123")
    events = list(AuditEvent.objects.filter(action=AuditEvent.Action.SEARCH, actor=desk).order_by("id"))
    assert [event.patient for event in events] == [None, None, None]
    assert "“smith”" in events[0].description
    assert "1 found" in events[0].description
    assert "1971" not in events[1].description
    assert "date of birth" in events[1].description
    assert "900123" not in events[2].description
    assert "phone number" in events[2].description


def test_results_are_paged(desk):
    for number in range(PAGE_SIZE + 3):
        _patient(f"Anne{number:02d}", "Pager")
    first = patient_search(actor=desk, query="pager")
    second = patient_search(actor=desk, query="pager", page=2)
    assert len(first.patients) == PAGE_SIZE
    assert first.has_next
    assert not first.has_previous
    assert len(second.patients) == 3
    assert not second.has_next
    assert second.has_previous
    assert not set(first.patients) & set(second.patients)


def test_the_desk_does_not_find_a_closed_account(desk, john):
    john.user.is_active = False
    john.user.save()
    assert _found(desk, "smith") == []


def test_practitioner_finds_only_their_care_team(desk, john):
    practitioner = PractitionerFactory()
    assert _found(practitioner.user, "smith") == []
    membership = care_team_assign(patient=john, practitioner=practitioner, actor=desk)
    assert _found(practitioner.user, "smith") == [john]
    care_team_end(membership=membership, actor=desk)
    assert _found(practitioner.user, "smith") == []


def test_patients_and_anonymous_find_nobody(john):
    other = _patient("Other", "Smith")
    assert _found(other.user, "smith") == []
    from django.contrib.auth.models import AnonymousUser

    assert _found(AnonymousUser(), "smith") == []


def test_within_narrows_the_search(desk, john):
    other = _patient("Jack", "Smith")
    assert _found(desk, "smith", within=Patient.objects.filter(pk=other.pk)) == [other]


def test_query_cost_does_not_grow_with_the_patients_found(desk, john):
    def queries(query: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            patient_search(actor=desk, query=query)
        return len(captured.captured_queries)

    one = queries("smith")
    for number in range(15):
        _patient(f"Joe{number}", "Smith")
    assert queries("smith") == one
    assert one <= 5  # savepoint, (thresholds on PostgreSQL), the page, the audit row, release


def test_query_parse_separates_the_date_of_birth():
    parsed = patient_query_parse("Smith 12.03.1971")
    assert parsed.text == "smith"
    assert parsed.date_of_birth == date(1971, 3, 12)
    assert not parsed.phone_digits


@pytest.mark.postgres
def test_typo_tolerant_name_search_on_postgresql(desk, john):
    _patient("Mary", "Jones")
    assert _found(desk, "Jonh Smyth") == [john]
    assert _found(desk, "smyth") == [john]


def test_sqlite_fallback_needs_every_word(desk, john, is_postgres):
    if is_postgres:
        pytest.skip("the SQLite fallback")
    assert _found(desk, "jonh smyth") == []
    assert _found(desk, "oh mit") == [john]


# --- the visibility property ----------------------------------------------------------------

GRANTS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 3), st.booleans()),  # practitioner, patient, ended at once
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grants=GRANTS, closed=st.sets(st.integers(0, 3)))
def test_search_never_returns_a_patient_the_actor_may_not_find(django_db_blocker, grants, closed):
    """For any care-team grants, ends and closed accounts, each actor's results lie within what they may find."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        desk = FrontDeskFactory()
        admin = AdminFactory()
        practitioners = [PractitionerFactory() for _ in range(3)]
        patients = [_patient(f"Sam{index}", "Searchable") for index in range(4)]
        for practitioner_index, patient_index, ended in grants:
            membership = care_team_assign(
                patient=patients[patient_index], practitioner=practitioners[practitioner_index], actor=desk
            )
            if ended:
                care_team_end(membership=membership, actor=desk)
        for index in closed:
            patients[index].user.is_active = False
            patients[index].user.save(update_fields=["is_active"])
        actors = [desk, admin, patients[0].user, *(practitioner.user for practitioner in practitioners)]
        for actor in actors:
            found = set(_found(actor, "searchable"))
            allowed = set(patients_findable_by(actor))
            assert found <= allowed
            if actor.role == Role.PATIENT:
                assert found == set()
            if actor.role == Role.PRACTITIONER:
                assert found == {
                    patient for patient in patients if patient.care_team.active().filter(member=actor).exists()
                }
        transaction.set_rollback(True)
