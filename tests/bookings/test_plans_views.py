"""The care-plan pages: practitioners assign and book plans, patients read only their own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from bookings.models import Appointment, CarePlan, PlanTemplate
from tests.bookings.plans_factories import ACUPUNCTURE_PLAN, CRYO_PLAN, local, open_every_day, plan_on, session_on
from tests.factories import AdminFactory, care_team_join
from tests.screening.factories import screening_cleared

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)  # a Sunday, two weeks before summer time
MONDAY = date(2026, 3, 16)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def staff_client(client, practitioner):
    client.force_login(practitioner.user)
    return client


@pytest.fixture
def acupuncture_plan(patient, practitioner):
    open_every_day(practitioner, start=time(9, 0), end=time(17, 0))
    return plan_on(patient=patient, template_name=ACUPUNCTURE_PLAN, start_date=MONDAY, practitioner=practitioner)


def test_practitioner_puts_a_patient_on_a_plan_and_sees_the_next_due_date(staff_client, patient, practitioner):
    care_team_join(patient=patient, practitioner=practitioner)  # a plan needs the care team first
    template = PlanTemplate.objects.get(name=CRYO_PLAN)
    response = staff_client.post(
        reverse("bookings:plan_create"),
        {"patient": patient.pk, "template": template.pk, "start_date": "2026-03-18", "practitioner": practitioner.pk},
    )
    plan = CarePlan.objects.get(patient=patient)
    assert response.status_code == 302
    assert response.url == reverse("bookings:plan_detail", args=[plan.pk])
    assert plan.assigned_by == practitioner.user

    page = staff_client.get(response.url)
    assert page.status_code == 200
    assert "Wed 18 Mar 2026" in page.content.decode()
    assert page.context["cadence"].next_due_on == date(2026, 3, 18)


def test_the_assign_form_explains_a_second_plan_of_the_same_treatment(staff_client, patient, practitioner):
    plan_on(patient=patient, template_name=CRYO_PLAN, start_date=MONDAY, practitioner=practitioner)
    template = PlanTemplate.objects.get(name=CRYO_PLAN)
    response = staff_client.post(
        reverse("bookings:plan_create"), {"patient": patient.pk, "template": template.pk, "start_date": "2026-03-18"}
    )
    assert response.status_code == 200
    assert "already on" in response.content.decode()
    assert CarePlan.objects.filter(patient=patient).count() == 1


def test_a_start_date_years_away_is_a_form_error(staff_client, patient):
    template = PlanTemplate.objects.get(name=CRYO_PLAN)
    response = staff_client.post(
        reverse("bookings:plan_create"), {"patient": patient.pk, "template": template.pk, "start_date": "2030-01-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["start_date"]
    assert not CarePlan.objects.exists()


def test_the_plan_list_shows_each_patients_next_due_date(staff_client, patient, practitioner, wbc):
    plan_on(patient=patient, template_name=CRYO_PLAN, start_date=date(2026, 3, 1), practitioner=practitioner)
    session_on(patient=patient, modality=wbc, practitioner=practitioner, day=date(2026, 3, 2))
    page = staff_client.get(reverse("bookings:plan_list"))
    assert page.status_code == 200
    assert patient.full_name in page.content.decode()
    assert "Mon 23 Mar 2026" in page.content.decode()


def test_patients_cannot_create_plans(client, patient):
    client.force_login(patient.user)
    template = PlanTemplate.objects.get(name=CRYO_PLAN)
    assert client.get(reverse("bookings:plan_create")).status_code == 403
    response = client.post(
        reverse("bookings:plan_create"), {"patient": patient.pk, "template": template.pk, "start_date": "2026-03-18"}
    )
    assert response.status_code == 403
    assert not CarePlan.objects.exists()


def test_patients_cannot_open_the_practitioner_plan_pages(client, patient, acupuncture_plan):
    client.force_login(patient.user)
    for name in ("bookings:plan_list", "bookings:plan_detail", "bookings:plan_series_create"):
        args = [] if name == "bookings:plan_list" else [acupuncture_plan.pk]
        assert client.get(reverse(name, args=args)).status_code == 403
    assert client.post(reverse("bookings:plan_cancel_remaining", args=[acupuncture_plan.pk])).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, acupuncture_plan):
    response = client.get(reverse("bookings:my_plans"))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_a_patient_sees_their_plan_with_the_next_due_date(client, patient, acupuncture_plan):
    client.force_login(patient.user)
    listing = client.get(reverse("bookings:my_plans"))
    assert listing.status_code == 200
    assert "Monday 16 March 2026" in listing.content.decode()

    page = client.get(reverse("bookings:my_plan_detail", args=[acupuncture_plan.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Initial phase" in body
    assert "Mon 16 Mar 2026" in body
    assert reverse("bookings:book_times", args=["acupuncture-follow-up"]) in body
    assert "Book a phase" not in body
    assert "Cancel all" not in body


def test_another_patients_plan_is_not_found(client, other_patient, acupuncture_plan):
    client.force_login(other_patient.user)
    assert client.get(reverse("bookings:my_plan_detail", args=[acupuncture_plan.pk])).status_code == 404
    assert acupuncture_plan.patient.full_name not in client.get(reverse("bookings:my_plans")).content.decode()


def _book_series(client, plan, *, count=6):
    phase = plan.template.phases.order_by("position").first()
    return client.post(
        reverse("bookings:plan_series_create", args=[plan.pk]),
        {
            "phase": phase.pk,
            "first_date": MONDAY.isoformat(),
            "weekday": "0",
            "local_time": "09:00",
            "count": str(count),
            "interval_days": "7",
            "practitioner": "",
        },
    )


def test_the_series_form_suggests_the_current_phase_weekly_from_the_due_date(staff_client, acupuncture_plan):
    page = staff_client.get(reverse("bookings:plan_series_create", args=[acupuncture_plan.pk]))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert initial["phase"].label == "Initial phase"
    assert (initial["first_date"], initial["count"], initial["interval_days"]) == (MONDAY, 6, 7)


def test_booking_a_series_shows_booked_and_unavailable_dates_with_a_button_for_the_alternative(
    staff_client, patient, other_patient, practitioner, acupuncture_follow_up, acupuncture_plan
):
    screening_cleared(patient=patient)
    third = MONDAY + timedelta(weeks=2)
    session_on(
        patient=other_patient,
        modality=acupuncture_follow_up,
        practitioner=practitioner,
        day=third,
        status=Appointment.Status.BOOKED,
    )

    response = _book_series(staff_client, acupuncture_plan)

    assert response.status_code == 302
    page = staff_client.get(response.url)
    body = page.content.decode()
    assert body.count("badge text-bg-success") == 5
    assert "just been taken" in body
    assert "Book Mon 30 Mar, 10:00 (nearest)" in body

    occurrence = page.context["series"].occurrences.get(sequence=3)
    chosen = staff_client.post(
        reverse("bookings:plan_occurrence_book_alternative", args=[occurrence.pk]),
        {"starts_at": occurrence.nearest_alternative.isoformat()},
    )
    assert chosen.status_code == 302
    occurrence.refresh_from_db()
    assert timezone.localtime(occurrence.appointment.starts_at) == local(third, time(10, 0))
    assert Appointment.objects.filter(patient=patient, status="booked").count() == 6


def test_the_series_page_gives_the_screening_reason_when_nothing_could_be_booked(
    staff_client, patient, acupuncture_plan
):
    response = _book_series(staff_client, acupuncture_plan, count=2)
    page = staff_client.get(response.url)
    reasons = {occurrence.refusal_reason for occurrence in page.context["series"].occurrences.all()}
    (reason,) = reasons
    assert "health screening" in reason
    assert page.content.decode().count(escape(reason)) == 2
    assert not Appointment.objects.filter(patient=patient).exists()


def test_an_interval_outside_the_phase_is_a_form_error(staff_client, acupuncture_plan):
    phase = acupuncture_plan.template.phases.order_by("position").first()
    response = staff_client.post(
        reverse("bookings:plan_series_create", args=[acupuncture_plan.pk]),
        {
            "phase": phase.pk,
            "first_date": MONDAY.isoformat(),
            "weekday": "0",
            "local_time": "09:00",
            "count": "3",
            "interval_days": "21",
        },
    )
    assert response.status_code == 200
    assert "does not fit" in response.content.decode()
    assert not acupuncture_plan.series.exists()


def test_cancel_one_then_all_remaining_from_the_pages(staff_client, patient, acupuncture_plan):
    screening_cleared(patient=patient)
    series_url = _book_series(staff_client, acupuncture_plan, count=3).url
    series = staff_client.get(series_url).context["series"]
    first = series.occurrences.get(sequence=1)

    response = staff_client.post(reverse("bookings:plan_occurrence_cancel", args=[first.pk]), {"next": series_url})
    assert response.status_code == 302
    assert response.url == series_url
    first.appointment.refresh_from_db()
    assert first.appointment.status == "cancelled"
    assert Appointment.objects.filter(patient=patient, status="booked").count() == 2

    detail = staff_client.get(reverse("bookings:plan_detail", args=[acupuncture_plan.pk]))
    assert "Cancel all 2 remaining sessions" in detail.content.decode()
    staff_client.post(reverse("bookings:plan_cancel_remaining", args=[acupuncture_plan.pk]))
    assert not Appointment.objects.filter(patient=patient, status="booked").exists()


def test_cancel_does_not_redirect_off_site(staff_client, patient, acupuncture_plan):
    screening_cleared(patient=patient)
    series = staff_client.get(_book_series(staff_client, acupuncture_plan, count=1).url).context["series"]
    response = staff_client.post(
        reverse("bookings:plan_occurrence_cancel", args=[series.occurrences.get().pk]),
        {"next": "https://evil.example/"},
    )
    assert response.url == reverse("bookings:plan_detail", args=[acupuncture_plan.pk])


def test_an_admin_can_assign_plans_too(client, patient):
    client.force_login(AdminFactory())
    template = PlanTemplate.objects.get(name=ACUPUNCTURE_PLAN)
    response = client.post(
        reverse("bookings:plan_create"), {"patient": patient.pk, "template": template.pk, "start_date": "2026-03-18"}
    )
    assert response.status_code == 302
    assert CarePlan.objects.get(patient=patient).practitioner is None
