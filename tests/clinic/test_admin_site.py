"""The admin a clinic manager meets: the clinic's name, an index grouped by task, history, 24-hour times,
working hours on the practitioner's page and no repeated schedule rows."""

from __future__ import annotations

import re
from datetime import time

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bookings.models import ExtraHours, WorkingHours
from clinic.admin_site import ENGINEERING, SECTIONS, admin_section_of
from clinic.models import AuditEvent
from tests.factories import AdminFactory, PractitionerFactory, verified_login
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"clinic", "notifications", "screening", "bookings", "treatments", "privacy", "api"}


def _section_names(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*#[a-z-]+" class="section"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def clinic_admin(client):
    user = AdminFactory()  # a clinic admin, not a superuser
    verified_login(client, user)
    return user


def test_admin_pages_carry_the_clinics_name(client, clinic_admin, settings):
    settings.CLINIC_NAME = "Riverside Pain Clinic"
    html = client.get(reverse("admin:index")).content.decode()
    assert "Riverside Pain Clinic" in html
    assert "Django administration" not in html


def test_index_is_grouped_by_task_and_hides_the_engineers_tables_from_a_clinic_admin(client, clinic_admin):
    html = client.get(reverse("admin:index")).content.decode()
    sections = _section_names(html)
    assert sections == [name for name in SECTIONS if name in sections]  # in the manager's order
    assert {"People", "Catalogue", "Schedules", "Screening", "Clinical records", "Messages", "Security"} <= set(
        sections
    )
    assert ENGINEERING not in sections
    for engineers_only in ("Clocked", "Solar", "Access attempts", "TOTP devices"):
        assert engineers_only not in html


def test_superuser_finds_the_engineers_tables_last(client):
    verified_login(client, AdminFactory(is_superuser=True))
    sections = _section_names(client.get(reverse("admin:index")).content.decode())
    assert sections[-1] == ENGINEERING


def test_every_admin_of_this_project_names_a_managers_section():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in PROJECT_APPS:
            assert admin_section_of(model_admin) in SECTIONS, f"{model._meta.label} has no admin_section"


def test_history_of_a_clinical_record_is_visible_audited_and_cannot_be_reverted(client):
    world = build_world()
    verified_login(client, world.admin)
    log = world.log_a
    url = reverse("admin:treatments_sessionlog_history", args=[log.pk])
    before = AuditEvent.objects.count()

    page = client.get(url)

    assert page.status_code == 200
    assert "Change history" in page.content.decode() or "History" in page.content.decode()
    version = log.history.order_by("history_id").first()
    assert f"{version.history_id}/" in page.content.decode()  # a link to each recorded version
    assert AuditEvent.objects.count() > before
    past_url = reverse("admin:treatments_sessionlog_simple_history", args=[log.pk, version.history_id])
    past = client.get(past_url)
    assert past.status_code == 200
    assert "Revert" not in past.content.decode()
    recorded = {field.name: getattr(log, field.attname) for field in log._meta.concrete_fields}
    client.post(past_url, {"_continue": "1"})
    log.refresh_from_db()
    assert {field.name: getattr(log, field.attname) for field in log._meta.concrete_fields} == recorded


def test_admin_shows_times_on_the_24_hour_clock(client, clinic_admin):
    world = build_world()
    html = client.get(reverse("admin:bookings_appointment_changelist")).content.decode()
    starts = timezone.localtime(world.appointment_a.starts_at)
    assert f"{starts:%-d %b %Y}, {starts:%H:%M}" in html
    assert not re.search(r"\b\d{1,2}(:\d{2})? [ap]\.m\.", html)


def test_practitioners_page_edits_their_working_hours(client, clinic_admin):
    practitioner = PractitionerFactory()
    url = reverse("admin:clinic_practitioner_change", args=[practitioner.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "working_hours-TOTAL_FORMS" in html
    assert "extra_hours-TOTAL_FORMS" in html


def test_two_identical_extra_hours_rows_are_refused_with_a_message_not_an_error(client, clinic_admin):
    practitioner = PractitionerFactory()
    url = reverse("admin:clinic_practitioner_change", args=[practitioner.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update(
        {
            "user": practitioner.user_id,
            "title": practitioner.title,
            "modalities": [m.pk for m in practitioner.modalities.all()],
            "is_active": "on",
        }
    )
    for prefix in ("working_hours", "time_off"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update({"extra_hours-TOTAL_FORMS": "2", "extra_hours-INITIAL_FORMS": "0"})
    for i in range(2):
        data.update(
            {
                f"extra_hours-{i}-date": "2027-01-05",
                f"extra_hours-{i}-start_time": "09:00",
                f"extra_hours-{i}-end_time": "12:00",
            }
        )

    response = client.post(url, data)

    assert response.status_code == 200  # the page again, with the error, nothing saved
    assert "Please correct" in response.content.decode()
    assert not ExtraHours.objects.filter(practitioner=practitioner).exists()


def test_overlapping_hours_are_a_validation_error_and_identical_rows_a_database_refusal():
    practitioner = PractitionerFactory()
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    WorkingHours.objects.create(practitioner=practitioner, weekday=1, start_time=time(9), end_time=time(13))

    overlapping = WorkingHours(practitioner=practitioner, weekday=1, start_time=time(12), end_time=time(15))
    with pytest.raises(ValidationError, match="overlap 09:00-13:00"):
        overlapping.full_clean()
    touching = WorkingHours(practitioner=practitioner, weekday=1, start_time=time(13), end_time=time(17))
    touching.full_clean()  # a lunch break between two intervals is fine

    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingHours.objects.create(practitioner=practitioner, weekday=1, start_time=time(9), end_time=time(13))
