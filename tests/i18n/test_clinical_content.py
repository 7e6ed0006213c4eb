"""Clinical content in the patient's language: questionnaire, consent, gate reasons, and the pages around them.

The texts are data per language (django-modeltranslation: ``text_en_gb`` / ``text_es``) and the
pages' own words come from the Spanish catalogue.  What a patient answers and what the gate decides
must not depend on the language they read it in.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from clinic.models import Modality
from privacy.services import patient_data
from screening.models import Consent, ConsentText, Contraindication, Submission
from screening.services import screening_gate
from tests.factories import PASSWORD, AdminFactory, PatientFactory, care_team_join
from tests.screening.factories import questionnaire_current, submission_with_answers
from tests.treatments.factories import past_slot, session_logged
from treatments.outcome_models import Instrument

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-GB"}
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


def _client_for(user, language: dict[str, str]) -> Client:
    client = Client(**language)
    assert client.login(email=user.email, password=PASSWORD)
    return client


def _answers_post(*, yes: set[str], date_of_birth: str = "1980-06-15") -> dict[str, str]:
    post = {"date_of_birth": date_of_birth, "notes": ""}
    for question in questionnaire_current().questions.prefetch_related("contraindications"):
        codes = {c.code for c in question.contraindications.all()}
        post[f"question_{question.pk}"] = "yes" if codes & yes else "no"
    return post


def _visible_text(html: str) -> str:
    """The page's words as a reader meets them (tags, scripts and styles dropped, entities decoded)."""
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _english_only_phrases() -> list[str]:
    """Sentences of this app's own English (msgids of the catalogue whose Spanish differs), placeholders cut out."""
    text = CATALOGUE.read_text(encoding="utf-8")
    phrases = []
    for msgid, msgstr in re.findall(r'(?m)^msgid "(.+)"\nmsgstr "(.+)"$', text):
        if msgid == msgstr:
            continue
        for piece in re.split(r"%\(\w+\)s|<[^>]+>|\\\"", msgid):
            piece = piece.strip(" .,:;()")
            # Several words, so a hit is this app's sentence and not a name or a shared word.
            if len(piece) >= 18 and piece.count(" ") >= 2:
                phrases.append(piece.replace("%%", "%"))
    return phrases


# --- The questionnaire --------------------------------------------------------------------------


def test_questionnaire_reads_in_spanish_for_a_spanish_patient_and_in_english_for_an_english_one(db):
    spanish = _client_for(PatientFactory().user, SPANISH).get(reverse("screening:questionnaire"))
    english = _client_for(PatientFactory().user, ENGLISH).get(reverse("screening:questionnaire"))

    spanish_page, english_page = spanish.content.decode(), english.content.decode()
    assert "Preguntas de salud" in spanish_page
    assert "síndrome de Raynaud" in spanish_page
    assert "Enviar mis respuestas" in spanish_page
    assert "Raynaud&#x27;s syndrome" not in spanish_page
    assert "Health questions" in english_page
    assert "(Raynaud&#x27;s syndrome)?" in english_page
    assert "síndrome" not in english_page


def test_a_question_without_spanish_yet_is_shown_in_english_to_a_spanish_patient(db):
    question = questionnaire_current().questions.get(key="pregnancy")
    question.text_es = None
    question.save(update_fields=["text_es"])

    page = _client_for(PatientFactory().user, SPANISH).get(reverse("screening:questionnaire")).content.decode()

    assert "Are you pregnant, or could you be?" in page
    assert "¿Tiene mala circulación" in page  # the others stay Spanish


def test_the_answer_keeps_the_wording_the_patient_read(db):
    patient = PatientFactory()
    _client_for(patient.user, SPANISH).post(reverse("screening:questionnaire"), _answers_post(yes={"raynauds"}))

    answer = Submission.objects.get(patient=patient).answers.get(question__key="raynauds")
    assert answer.value is True
    assert answer.question_text.startswith("¿Se le ponen blancos o azulados los dedos")


@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    yes=st.sets(
        st.sampled_from(
            ["raynauds", "high-blood-pressure", "pregnancy", "needle-phobia", "anticoagulants", "metal-implant"]
        ),
        max_size=3,
    )
)
def test_the_same_answers_in_spanish_and_in_english_give_the_same_decisions(db, yes):
    """Whatever is answered, a patient answering the Spanish form and one answering the English form end
    with the same stored answers and the same gate decision for every treatment; only the words differ."""
    spanish_patient, english_patient = PatientFactory(), PatientFactory()
    for patient, language in ((spanish_patient, SPANISH), (english_patient, ENGLISH)):
        response = _client_for(patient.user, language).post(reverse("screening:questionnaire"), _answers_post(yes=yes))
        assert response.status_code == 302

    def answers(patient):
        submission = Submission.objects.get(patient=patient)
        return {answer.question.key: answer.value for answer in submission.answers.select_related("question")}

    assert answers(spanish_patient) == answers(english_patient)
    assert {key for key, value in answers(spanish_patient).items() if value} == yes
    for modality in Modality.objects.active():
        with translation.override("es"):
            in_spanish = screening_gate(patient=spanish_patient, modality=modality, on_date=past_slot(0).date())
        with translation.override("en-gb"):
            in_english = screening_gate(patient=english_patient, modality=modality, on_date=past_slot(0).date())
        assert (in_spanish.allowed, in_spanish.status, in_spanish.next_step) == (
            in_english.allowed,
            in_english.status,
            in_english.next_step,
        )
        assert len(in_spanish.reasons) == len(in_english.reasons)


# --- Gate reasons --------------------------------------------------------------------------------


def test_screening_gate_reasons_are_in_spanish_for_a_spanish_patient(db, wbc):
    patient = PatientFactory()
    page = (
        _client_for(patient.user, SPANISH)
        .post(reverse("screening:questionnaire"), _answers_post(yes={"raynauds", "needle-phobia"}), follow=True)
        .content.decode()
    )

    assert "No es adecuado porque nos dijo que tiene el síndrome de Raynaud." in page
    assert (
        "Un terapeuta tiene que revisarlo porque nos dijo que tiene mucho miedo a las agujas "
        "o que se desmaya con ellas." in page
    )
    assert "Pendiente de la revisión de un terapeuta" in page
    with translation.override("es"):
        decision = screening_gate(patient=patient, modality=wbc, on_date=past_slot(0).date())
    assert decision.reasons == ("nos dijo que tiene el síndrome de Raynaud",)


def test_the_refusal_a_spanish_patient_meets_when_booking_is_in_spanish(db, wbc):
    from screening.eligibility import ScreeningRefused
    from screening.services import screening_require_cleared

    patient = PatientFactory()
    submission_with_answers(patient=patient, yes=["raynauds"])
    with translation.override("es"), pytest.raises(ScreeningRefused) as refused:
        screening_require_cleared(patient=patient, modality=wbc, on_date=past_slot(0).date())
    assert str(refused.value) == (
        "Según su cuestionario de salud, crioterapia de cuerpo entero no es una opción adecuada para usted "
        "porque nos dijo que tiene el síndrome de Raynaud."
    )


# --- Consent -------------------------------------------------------------------------------------


def test_spanish_consent_is_signed_with_its_version_and_language_shown_to_staff_and_exported(db, wbc, practitioner):
    patient = PatientFactory()
    client = _client_for(patient.user, SPANISH)
    url = reverse("screening:consent", args=[wbc.slug])

    page = client.get(url).content.decode()
    assert "Crioterapia de cuerpo entero: usted permanece de pie en una cámara" in page
    assert "Versión 1" in page
    assert client.post(url, {"typed_name": patient.full_name, "agreed": "on"}).status_code == 302

    consent = Consent.objects.get(patient=patient)
    assert (consent.consent_text.version, consent.language) == (1, "es")
    care_team_join(patient=patient, practitioner=practitioner)
    staff_page = _client_for(practitioner.user, ENGLISH).get(reverse("screening:patient", args=[patient.pk]))
    assert "Whole-body cryotherapy (version 1, in Español), signed" in _visible_text(staff_page.content.decode())
    with translation.override("es"):
        [exported] = json.loads(json.dumps(patient_data(patient=patient)["consents"], default=str))
    assert (exported["version"], exported["language"]) == (1, "Español")
    assert exported["wording"].startswith("Crioterapia de cuerpo entero: usted permanece de pie")


def test_english_consent_records_english(db, wbc):
    patient = PatientFactory()
    client = _client_for(patient.user, ENGLISH)
    client.post(reverse("screening:consent", args=[wbc.slug]), {"typed_name": patient.full_name, "agreed": "on"})

    assert Consent.objects.get(patient=patient).language == "en-gb"
    assert patient_data(patient=patient)["consents"][0]["wording"].startswith("Whole-body cryotherapy: you stand")


def test_a_consent_version_without_spanish_is_read_and_recorded_in_english(db, wbc):
    text = ConsentText.objects.current().get(modality=wbc)
    text.body_es = None
    text.save(update_fields=["body_es"])
    patient = PatientFactory()
    client = _client_for(patient.user, SPANISH)
    url = reverse("screening:consent", args=[wbc.slug])

    assert "Whole-body cryotherapy: you stand in a chamber" in client.get(url).content.decode()
    client.post(url, {"typed_name": patient.full_name, "agreed": "on"})

    assert Consent.objects.get(patient=patient).language == "en-gb"


def test_a_spanish_signature_freezes_the_spanish_wording_in_the_admin_but_english_may_still_change(db, wbc):
    admin = AdminFactory()
    client = _client_for(admin, ENGLISH)
    text = ConsentText.objects.current().get(modality=wbc)
    patient = PatientFactory()
    with translation.override("es"):
        from screening.services import consent_sign

        consent_sign(patient=patient, consent_text=text, typed_name=patient.full_name, agreed=True, by=patient.user)

    page = client.get(reverse("admin:screening_consenttext_change", args=[text.pk])).content.decode()

    assert 'name="body_en_gb"' in page  # nobody signed the English wording of this version yet
    assert 'name="body_es"' not in page  # shown read-only: a signature rests on it


# --- The admin edits both languages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "model_lookup", "fields"),
    [
        ("admin:screening_contraindication_change", lambda: Contraindication.objects.get(code="raynauds"), "name"),
        ("admin:screening_questionnaire_change", lambda: questionnaire_current(), "title"),
        ("admin:treatments_instrument_change", lambda: Instrument.objects.get(code="peg"), "name"),
    ],
)
def test_the_admin_shows_the_clinical_texts_in_both_languages(db, url_name, model_lookup, fields):
    page = _client_for(AdminFactory(), ENGLISH).get(reverse(url_name, args=[model_lookup().pk])).content.decode()
    assert f'name="{fields}_en_gb"' in page or f"{fields}_en_gb" in page
    assert f"{fields}_es" in page


def test_seeded_content_has_spanish_for_every_patient_facing_text(db):
    from bookings.models import PlanPhase, PlanTemplate
    from treatments.outcome_models import InstrumentItem

    questionnaire = questionnaire_current()
    assert questionnaire.title_es
    assert questionnaire.introduction_es
    assert all(question.text_es for question in questionnaire.questions.all())
    assert all(c.patient_reason_es and c.name_es for c in Contraindication.objects.all())
    assert all(text.body_es for text in ConsentText.objects.current())
    assert all(m.name_es and m.description_es and m.preparation_es for m in Modality.objects.all())
    assert all(t.name_es and t.description_es for t in PlanTemplate.objects.all())
    assert all(phase.label_es for phase in PlanPhase.objects.all())
    assert all(item.text_es and item.min_label_es and item.max_label_es for item in InstrumentItem.objects.all())


# --- Nothing in English on these pages with Spanish selected ---------------------------------------------


def test_no_english_of_this_app_on_the_patient_and_staff_pages_with_spanish_selected(db, wbc, practitioner):
    """A quick walk of the screening, treatments and privacy pages in Spanish (the full walk is i18n-core's)."""
    phrases = _english_only_phrases()
    assert len(phrases) > 100  # the list is real, so a pass means something
    patient = PatientFactory()
    care_team_join(patient=patient, practitioner=practitioner)
    submission = submission_with_answers(patient=patient, yes=["high-blood-pressure", "raynauds"])
    log = session_logged(patient=patient, practitioner=practitioner, modality=wbc, starts_at=past_slot(3))
    session_logged(patient=patient, practitioner=practitioner, modality=wbc, starts_at=past_slot(2))
    patient_pages = [
        reverse("screening:mine"),
        reverse("screening:questionnaire"),
        reverse("screening:submission", args=[submission.pk]),
        reverse("screening:consent", args=["acupuncture-initial"]),
        reverse("treatments:my_progress"),
        reverse("treatments:log_detail", args=[log.pk]),
        reverse("privacy:overview"),
        reverse("privacy:delete"),
    ]
    staff_pages = [
        reverse("screening:review_queue"),
        reverse("screening:review", args=[submission.pk]),
        reverse("screening:patient", args=[patient.pk]),
        reverse("treatments:patient_chart", args=[patient.pk]),
        reverse("treatments:log_detail", args=[log.pk]),
        reverse("treatments:report") + "?date_from=2000-01-01&date_to=2009-12-31&group_by=modality",
    ]
    found = {}
    for user, pages in ((patient.user, patient_pages), (practitioner.user, staff_pages)):
        client = _client_for(user, SPANISH)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            text = _visible_text(response.content.decode())
            english = [phrase for phrase in phrases if phrase in text]
            if english:
                found[url] = english
    assert found == {}


# --- Messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en-gb", "es"])
def test_screening_messages_read_in_the_language_and_each_text_message_is_one_gsm7_segment(db, wbc, language):
    """The review outcome and the expiry notice, as the outbox renders them in the patient's language.

    Which language a worker renders in is the outbox's part (i18n-core); here the text itself: the
    Spanish SMS avoids á, í, ó, ú (not GSM-7; é and ñ are), so it stays one segment like the English.
    """
    from datetime import date

    from notifications.services import message_content_render
    from notifications.sms.segments import is_gsm7, sms_segments

    patient = PatientFactory(user__first_name="Lucía")
    base = {
        "patient": patient,
        "clinic_name": "Northside Back Pain Clinic",
        "clinic_phone": "+44 20 7946 0000",
        "screening_url": "https://clinic.example/screening/",
    }
    with translation.override(language):
        expiring = message_content_render(
            template="screening/email/screening_expiring", context=base | {"expires_on": date(2026, 12, 1)}
        )
        outcome = message_content_render(
            template="screening/email/review_outcome",
            context=base
            | {
                "modality": wbc,
                "cleared": True,
                "review": type("ReviewStub", (), {"note": "OK", "decided_by": None, "decided_at": None})(),
            },
        )
    if language == "es":
        assert expiring.subject == "Su cuestionario de salud caduca el martes, 1 de diciembre de 2026"
        assert expiring.text.startswith("Hola, Lucía:")
        assert "caduca el 1 Dic" in expiring.sms
        assert "le ha autorizado para crioterapia de cuerpo entero" in outcome.text
    else:
        assert expiring.subject == "Your health screening expires on Tuesday 1 December 2026"
        assert "cleared you for whole-body cryotherapy" in outcome.text
    for sms in (expiring.sms, outcome.sms):
        assert is_gsm7(sms), sms
        assert sms_segments(sms) == 1, sms


@pytest.mark.parametrize(
    ("language", "read"),
    [("es", "es"), ("es-mx", "es"), ("en", "en-gb"), ("en-gb", "en-gb"), ("fr", "en-gb"), (None, "en-gb")],
)
def test_the_language_recorded_is_the_one_whose_wording_was_shown(db, wbc, language, read):
    text = ConsentText.objects.current().get(modality=wbc)
    assert text.language_read(language) == read
