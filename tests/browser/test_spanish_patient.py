"""A Spanish-speaking patient, start to end: chooses Español in the footer, registers, answers the
health questions, signs the Spanish consent, books whole-body cryotherapy, and gets the booking
confirmation by email and the reminder by text message, all in Spanish.

Every page is found by its address and filled by its fields' names, not by English labels, and on
every page the test asserts ``<html lang="es">`` and that none of the app's English-only words
(``tests.i18n.english``) is left.  It passes once the three Spanish catalogues are merged.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone, translation
from playwright.sync_api import expect

from bookings.models import Appointment
from bookings.services.reminders import BookingMessage
from clinic.clinic_time import format_when
from clinic.formats.es.formats import CLINIC_FORMATS
from clinic.models import Patient, User
from notifications import sms, tasks
from notifications.models import Channel, Reminder
from notifications.sms.segments import sms_normalise
from tests.browser.steps import a_few_days_ahead
from tests.i18n.english import english_words

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PASSWORD = "una-frase-larga-y-poco-comun"
EMAIL = "lucia.ortega@example.com"
PERSON = ("Lucía", "Ortega", EMAIL, "Lucía Ortega")
SPANISH_DAY_TIME = re.compile(
    r"\b(lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d{1,2} de "
    r"(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre), \d\d:\d\d\b"
)


def _in_spanish(visitor, label: str) -> None:
    """The page the patient is on: screenshotted, audited, in Spanish, with no English left."""
    visitor.check(label)
    html = visitor.page.content()
    assert re.search(r'<html lang="es"', html), f"{label}: the page is not marked as Spanish"
    english = english_words(html, data=PERSON)
    assert not english, f"{label} ({visitor.page.url}) still has English: {english[:5]}"


def _submit(page) -> None:
    """Send the page's form (the one in <main>; the header's only form is "log out")."""
    page.locator("main form[method=post] [type=submit]").last.click()
    page.wait_for_load_state("domcontentloaded")


def _spanish_forms_of(moment) -> set[str]:
    """The appointment's time as the Spanish messages may name it, as sent by text (GSM-7) too."""
    with translation.override("es"):
        names = set(CLINIC_FORMATS) - {"time", "day_number", "weekday"}
        forms = {format_when(moment, name) for name in names}
    return forms | {sms_normalise(form) for form in forms}


def test_spanish_speaking_patient_registers_screens_consents_books_and_is_messaged_in_spanish(
    visitor_factory, clinic_open_every_day
):
    visitor = visitor_factory("paciente")
    page = visitor.page

    # The browser says English; she chooses Español in the footer (a plain form, no JavaScript).
    visitor.goto("/", "home-english")
    page.locator("#language-switcher-select").select_option("es")
    page.locator("form.language-switcher [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    _in_spanish(visitor, "inicio")

    # Registration offers Spanish, since that is what the page is shown in.
    page.locator('main a[href="/accounts/register/"]').first.click()
    page.wait_for_load_state("domcontentloaded")
    _in_spanish(visitor, "registro")
    expect(page.locator("main select[name=language]")).to_have_value("es")
    page.fill("input[name=first_name]", "Lucía")
    page.fill("input[name=last_name]", "Ortega")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=date_of_birth]", "1979-03-02")
    page.fill("input[name=phone]", "+44 7911 123777")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    _submit(page)
    _in_spanish(visitor, "revise-su-correo")
    assert User.objects.get(email=EMAIL).language == "es"
    (confirmation,) = [m for m in mail.outbox if EMAIL in m.to]
    assert not english_words(f"{confirmation.subject}\n{confirmation.body}", data=PERSON), confirmation.body
    visitor.goto(re.search(r"https?://[^/\s]+(/\S+)", confirmation.body).group(1))
    _in_spanish(visitor, "correo-confirmado")

    # Messages by email and text message.
    visitor.goto("/accounts/profile/edit/")
    _in_spanish(visitor, "mis-datos")
    page.check("input[name=message_channels][value=both]")
    _submit(page)
    _in_spanish(visitor, "perfil")
    assert Patient.objects.get(user__email=EMAIL).message_channels == Patient.MessageChannels.BOTH

    # The health questions: "no" to every one.
    visitor.goto("/screening/questions/")
    _in_spanish(visitor, "cuestionario")
    page.fill("input[name=date_of_birth]", "1979-03-02")
    radios = page.locator("input[type=radio][value=no]")
    assert radios.count() >= 20
    for index in range(radios.count()):
        radios.nth(index).check()
    _submit(page)
    _in_spanish(visitor, "evaluacion-respondida")

    # The Spanish consent for whole-body cryotherapy.
    visitor.goto("/screening/consent/whole-body-cryotherapy/")
    _in_spanish(visitor, "consentimiento")
    page.fill("input[name=typed_name]", "Lucía Ortega")
    page.check("input[name=agreed]")
    _submit(page)
    _in_spanish(visitor, "consentimiento-firmado")
    patient = Patient.objects.get(user__email=EMAIL)
    consent = patient.consents.latest("pk") if hasattr(patient, "consents") else None
    if consent is not None and hasattr(consent, "language"):
        assert consent.language == "es"  # the signed version's language is recorded with the signature

    # Book the first free time a few days ahead.
    day = a_few_days_ahead()
    visitor.goto(f"/bookings/book/whole-body-cryotherapy/?week={day.isoformat()}")
    _in_spanish(visitor, "horas-libres")
    page.locator(f"#day-{day.isoformat()} .slot-grid a").first.click()
    page.wait_for_load_state("domcontentloaded")
    _in_spanish(visitor, "confirmar-cita")
    _submit(page)
    _in_spanish(visitor, "cita-reservada")
    appointment = Appointment.objects.get(patient=patient)
    when = _spanish_forms_of(appointment.starts_at)
    assert any(SPANISH_DAY_TIME.fullmatch(form) for form in when)  # e.g. "martes, 1 de diciembre, 08:30"
    visitor.goto("/bookings/")
    _in_spanish(visitor, "mis-citas")

    # The confirmation email: Spanish subject and body, with the date as Spanish writes it.
    booked = [m for m in mail.outbox if EMAIL in m.to and m is not confirmation]
    assert booked, [m.subject for m in mail.outbox]
    email = booked[-1]
    assert not english_words(email.subject, data=PERSON), email.subject
    assert not english_words(email.body, data=PERSON), email.body
    assert any(form in email.body for form in when), email.body
    for html, _type in getattr(email, "alternatives", []):
        assert '<html lang="es">' in html

    # The reminder by text message, sent by the worker when it is due.
    sms.outbox.clear()
    reminder = Reminder.objects.about(appointment).get(kind=BookingMessage.UPCOMING_APPOINTMENT, channel=Channel.SMS)
    with time_machine.travel(reminder.next_attempt_at + timedelta(minutes=1)):
        tasks.reminders_send_due.delay()
    (text,) = [message for message in sms.outbox if message.to == patient.phone.as_e164]
    assert not english_words(text.body, data=PERSON), text.body
    assert any(form in text.body for form in when), text.body
    assert timezone.localtime(appointment.starts_at).strftime("%H:%M") in text.body
