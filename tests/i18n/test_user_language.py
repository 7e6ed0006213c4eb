"""A person's language: stored on their account, used for their pages and for every message the
clinic sends them, including those a worker sends with no request (and no browser) around."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from clinic.clinic_time import format_when
from clinic.models import Patient, User
from clinic.two_factor import two_factor_enrolment_send
from notifications import sms
from notifications.kinds import MessageContent, MessageKind, message_kind_register
from notifications.models import Reminder
from notifications.services import reminder_deliver, reminder_plan
from notifications.sms.segments import is_gsm7, sms_segments
from tests.factories import AdminFactory, PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# Tuesday 1 December 2026, 08:30 in the clinic (GMT).
SESSION_AT = datetime(2026, 12, 1, 8, 30, tzinfo=LONDON)
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=LONDON)


def _html(response) -> str:
    return response.content.decode()


# --- Pages ---------------------------------------------------------------------------------


def test_pages_follow_the_browser_when_no_language_is_stored() -> None:
    spanish = _html(Client(HTTP_ACCEPT_LANGUAGE="es").get(reverse("login")))
    english = _html(Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").get(reverse("login")))

    assert '<html lang="es">' in spanish
    assert "Iniciar sesión" in spanish
    assert '<html lang="en-gb">' in english
    assert "Forgotten your password?" in english


def test_a_stored_language_wins_over_the_browser_and_the_cookie(client) -> None:
    patient = PatientFactory(user__language="es")
    client.force_login(patient.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en-gb"

    page = _html(client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en-GB"))

    assert '<html lang="es">' in page
    assert "Su perfil" in page
    assert "Your profile" not in page


def test_staff_pages_and_the_admin_follow_the_staff_members_language(client) -> None:
    admin = AdminFactory(language="es")
    client.force_login(admin)

    index = _html(client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en-GB"))
    profile = _html(client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en-GB"))

    assert '<html lang="es"' in index
    assert "¿Qué desea gestionar?" in index
    assert "Terminar sesión" in profile  # the layout's own "Log out"


# --- Choosing it -----------------------------------------------------------------------------


def test_the_footer_switcher_is_a_labelled_form_that_needs_no_javascript() -> None:
    page = _html(Client().get(reverse("home")))

    assert f'<form method="post" action="{reverse("set_language")}"' in page
    assert '<label for="language-switcher-select"' in page
    assert '<option value="es" lang="es">Español</option>' in page
    assert 'name="next" value="/"' in page


def test_the_switcher_changes_the_language_of_an_anonymous_visitor() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en-GB")

    response = client.post(reverse("set_language"), {"language": "es", "next": reverse("login")})

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "Iniciar sesión" in _html(client.get(reverse("login")))


def test_the_switcher_also_saves_the_choice_on_a_logged_in_account(client) -> None:
    patient = PatientFactory(user__language="")
    client.force_login(patient.user)

    client.post(reverse("set_language"), {"language": "es", "next": reverse("profile")})

    patient.user.refresh_from_db()
    assert patient.user.language == "es"
    # Another browser, set to English, still shows this person Spanish.
    other_browser = Client(HTTP_ACCEPT_LANGUAGE="en-GB")
    other_browser.force_login(patient.user)
    assert "Su perfil" in _html(other_browser.get(reverse("profile")))


def test_the_switcher_refuses_a_language_the_clinic_does_not_offer(client) -> None:
    patient = PatientFactory(user__language="es")
    client.force_login(patient.user)

    client.post(reverse("set_language"), {"language": "xx", "next": reverse("profile")})

    patient.user.refresh_from_db()
    assert patient.user.language == "es"


@pytest.mark.parametrize("user_factory", [lambda: PatientFactory().user, lambda: PractitionerFactory().user])
def test_patients_and_staff_choose_their_language_on_the_profile_and_may_go_back_to_the_browsers(
    client, user_factory
) -> None:
    user = user_factory()
    client.force_login(user)
    assert 'name="language"' in _html(client.get(reverse("profile")))

    response = client.post(reverse("profile_language"), {"language": "es"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "es"
    assert "Su idioma se ha guardado." in _html(client.get(reverse("profile")))

    client.post(reverse("profile_language"), {"language": ""})
    user.refresh_from_db()
    assert user.language == ""
    assert "Your profile" in _html(client.get(reverse("profile"), HTTP_ACCEPT_LANGUAGE="en-GB"))


def test_registration_offers_the_language_the_page_is_shown_in_and_stores_it() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    form = _html(client.get(reverse("register")))
    assert '<option value="es" selected>Español</option>' in form

    response = client.post(
        reverse("register"),
        {
            "first_name": "Lucía",
            "last_name": "Ortega",
            "email": "lucia@example.com",
            "date_of_birth": "1979-03-02",
            "phone": "+34 612 345 678",
            "language": "es",
            "password1": "una-frase-larga-y-rara",
            "password2": "una-frase-larga-y-rara",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(email="lucia@example.com").language == "es"
    (confirmation,) = mail.outbox
    assert "confirme su dirección de correo" in confirmation.subject
    assert "Hola, Lucía:" in confirmation.body


def test_an_account_email_sent_by_an_english_speaking_admin_is_in_the_recipients_language() -> None:
    staff = PractitionerFactory(user__language="es").user

    with translation.override("en-gb"):
        two_factor_enrolment_send(user=staff, actor=AdminFactory())

    (message,) = mail.outbox
    assert "active la verificación en dos pasos" in message.subject
    assert "Inicie sesión y abra este enlace" in message.body


# --- Messages a worker sends -----------------------------------------------------------------

KIND = "i18n_language_check"


def _render(reminder: Reminder) -> MessageContent:
    when = format_when(reminder.about_at, "day_time")
    html = Template(
        '{% extends "notifications/email/base.html" %}{% block body %}<p>{{ when }}</p>{% endblock %}'
    ).render(Context({"patient": reminder.patient, "clinic_phone": settings.CLINIC_PHONE, "when": when}))
    return MessageContent(
        subject=gettext("Your language is saved."),
        text=f"{gettext('Appointment reminders')}: {when}",
        html=html,
        sms=f"{gettext('Appointment reminders')}: {when}",
    )


@pytest.fixture
def language_kind():
    from notifications import kinds

    kind = message_kind_register(MessageKind(name=KIND, label="Language check", render=_render, transactional=True))
    yield kind
    kinds._KINDS.pop(KIND, None)


def _send(patient: Patient, *, worker_language: str = "en-gb") -> Reminder:
    with time_machine.travel(NOW, tick=False):
        reminder, _created = reminder_plan(
            key=f"{KIND}:{patient.pk}", kind=KIND, patient=patient, due_at=NOW, about_at=SESSION_AT
        )
        # The worker: no request, and whatever language its thread happens to have active.
        with translation.override(worker_language):
            assert reminder_deliver(reminder_id=reminder.pk).outcome == "sent"
    return reminder


def test_a_worker_writes_the_email_in_the_patients_stored_language(language_kind) -> None:
    patient = PatientFactory(user__language="es", user__first_name="Lucía")

    _send(patient)

    (email,) = mail.outbox
    assert email.subject == "Su idioma se ha guardado."
    assert "martes, 1 de diciembre, 08:30" in email.body
    html = email.alternatives[0][0]
    assert '<html lang="es">' in html
    assert "Hola, Lucía:" in html
    assert "¿Preguntas? Llámenos al" in html


def test_a_worker_writes_in_the_clinics_language_for_a_patient_who_chose_none(language_kind) -> None:
    patient = PatientFactory(user__language="")

    _send(patient, worker_language="es")  # even if the worker's thread was left in Spanish

    (email,) = mail.outbox
    assert email.subject == "Your language is saved."
    assert "Tuesday 1 December, 08:30" in email.body
    assert '<html lang="en-gb">' in email.alternatives[0][0]


def test_a_worker_writes_the_text_message_in_spanish_within_one_gsm_7_segment(language_kind) -> None:
    patient = PatientFactory(user__language="es", message_channels=Patient.MessageChannels.SMS)

    _send(patient)

    (text,) = sms.outbox
    assert "Recordatorios de cita: martes, 1 de diciembre, 08:30" in text.body
    assert is_gsm7(text.body)
    assert sms_segments(text.body) == 1
