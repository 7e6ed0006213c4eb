"""The screening pages, as patients and practitioners use them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from notifications.models import Reminder
from notifications.tasks import reminder_send, reminders_send_due
from screening.models import Answer, Consent, Review, Submission
from screening.services import screening_gate
from tests.factories import PASSWORD, AdminFactory
from tests.screening.factories import question_for, questionnaire_current, submission_with_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient_client(client, patient):
    client.login(email=patient.user.email, password=PASSWORD)
    return client


@pytest.fixture
def staff_client(client, practitioner):
    client.login(email=practitioner.user.email, password=PASSWORD)
    return client


def _answers_post(*, yes=(), date_of_birth="1980-06-15", **extra):
    post = {"date_of_birth": date_of_birth, "notes": ""}
    for question in questionnaire_current().questions.prefetch_related("contraindications"):
        codes = {c.code for c in question.contraindications.all()}
        post[f"question_{question.pk}"] = "yes" if codes & set(yes) else "no"
    post.update(extra)
    return post


def test_patient_answers_the_questions_and_sees_what_they_mean(patient_client, patient):
    response = patient_client.post(reverse("screening:questionnaire"), _answers_post(yes=["raynauds"]), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not suitable because you told us you have Raynaud&#x27;s syndrome" in page
    submission = Submission.objects.get(patient=patient)
    assert submission.submitted_by == patient.user
    assert submission.questionnaire == questionnaire_current()
    assert submission.answers.filter(value=True).get().question == question_for("raynauds")


def test_questionnaire_prefills_the_previous_answers(patient_client, patient):
    submission_with_answers(patient=patient, yes=["pregnancy"])
    response = patient_client.get(reverse("screening:questionnaire"))
    form = response.context["form"]
    assert form[f"question_{question_for('pregnancy').pk}"].initial == "yes"
    assert form[f"question_{question_for('raynauds').pk}"].initial == "no"


def test_missing_answer_is_a_form_error_and_stores_nothing(patient_client):
    post = _answers_post()
    del post[f"question_{question_for('pacemaker').pk}"]

    response = patient_client.post(reverse("screening:questionnaire"), post)

    assert response.status_code == 200
    assert response.context["form"].errors[f"question_{question_for('pacemaker').pk}"] == ["Please answer yes or no."]
    assert not Submission.objects.exists()
    assert not Answer.objects.exists()


def test_tampered_question_id_is_a_form_error_and_stores_nothing(patient_client):
    post = _answers_post(question_999999="no")

    response = patient_client.post(reverse("screening:questionnaire"), post)

    assert response.status_code == 200
    assert "The form was changed" in str(response.context["form"].non_field_errors())
    assert not Submission.objects.exists()


def test_future_date_of_birth_is_a_form_error_and_stores_nothing(patient_client, patient, today):
    post = _answers_post(date_of_birth=(today + timedelta(days=1)).isoformat())

    response = patient_client.post(reverse("screening:questionnaire"), post)

    assert response.context["form"].errors["date_of_birth"] == ["A date of birth cannot be in the future."]
    assert not Submission.objects.exists()
    patient.refresh_from_db()
    assert patient.date_of_birth.year == 1980


def test_corrected_date_of_birth_is_used_for_age_rules(patient_client, patient, wbc, today):
    born = today.replace(year=today.year - 17)
    patient_client.post(reverse("screening:questionnaire"), _answers_post(date_of_birth=born.isoformat()))

    patient.refresh_from_db()
    assert patient.date_of_birth == born
    assert screening_gate(patient=patient, modality=wbc, on_date=today).status == "not_eligible"


def test_patient_cannot_see_another_patients_answers(patient_client, other_patient):
    theirs = submission_with_answers(patient=other_patient, yes=["pregnancy"])
    response = patient_client.get(reverse("screening:submission", args=[theirs.pk]))
    assert response.status_code == 404


def test_patient_sees_their_own_answers(patient_client, patient):
    mine = submission_with_answers(patient=patient, yes=["pregnancy"])
    response = patient_client.get(reverse("screening:submission", args=[mine.pk]))
    assert response.status_code == 200
    assert "Are you pregnant, or could you be?" in response.content.decode()


def test_patient_cannot_open_the_review_pages(patient_client, patient, other_patient):
    theirs = submission_with_answers(patient=other_patient, yes=["pregnancy"])
    assert patient_client.get(reverse("screening:review_queue")).status_code == 403
    assert patient_client.get(reverse("screening:review", args=[theirs.pk])).status_code == 403
    assert patient_client.get(reverse("screening:patient", args=[other_patient.pk])).status_code == 403


def test_my_screening_shows_status_and_next_step_per_modality(patient_client, patient, wbc):
    submission_with_answers(patient=patient, yes=["high-blood-pressure"])
    page = patient_client.get(reverse("screening:mine")).content.decode()
    assert "Waiting for a practitioner&#x27;s review" in page
    assert "Read and sign the consent form" in page
    assert reverse("screening:consent", args=["acupuncture-initial"]) in page


def test_patient_signs_consent_with_typed_name_and_tick(patient_client, patient, wbc):
    url = reverse("screening:consent", args=[wbc.slug])
    page = patient_client.get(url).content.decode()
    assert "frostbite" in page

    wrong = patient_client.post(url, {"typed_name": "Not Me", "agreed": "on"})
    assert "Type your full name" in str(wrong.context["form"].errors["typed_name"])
    unticked = patient_client.post(url, {"typed_name": patient.full_name})
    assert unticked.context["form"].errors["agreed"] == ["Tick the box to say you agree."]
    assert not Consent.objects.exists()

    response = patient_client.post(url, {"typed_name": patient.full_name, "agreed": "on"})
    assert response.status_code == 302
    assert Consent.objects.get(patient=patient).consent_text.modality == wbc


def test_acupuncture_consent_mentions_soreness_and_bruising(patient_client, acupuncture_initial):
    page = patient_client.get(reverse("screening:consent", args=[acupuncture_initial.slug])).content.decode()
    assert "soreness or bruising" in page


def test_practitioner_reviews_from_the_queue_and_patient_gets_an_email(
    staff_client, practitioner, patient, wbc, today, django_capture_on_commit_callbacks
):
    submission = submission_with_answers(patient=patient, yes=["high-blood-pressure"])

    queue = staff_client.get(reverse("screening:review_queue"))
    assert [item.submission for item in queue.context["queue"]] == [submission]
    page = staff_client.get(reverse("screening:review", args=[submission.pk]))
    assert [m for m, _ in page.context["review_forms"]] == [wbc]
    assert "table-warning" in page.content.decode()  # the 'yes' answer is highlighted

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("screening:review", args=[submission.pk]),
            {"modality": wbc.pk, "decision": "clear", "note": "BP 130/85 today, controlled."},
        )

    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.decided_by, review.decision) == (practitioner.user, "clear")
    assert Reminder.objects.about(review).get().state == Reminder.State.SENT  # in the admin's message log
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.user.email]
    assert "cleared" in message.subject
    assert "BP 130/85 today, controlled." in message.body
    assert practitioner.full_name in message.body
    assert staff_client.get(reverse("screening:review_queue")).context["queue"] == []


def test_decline_email_says_not_suitable(staff_client, practitioner, patient, wbc, django_capture_on_commit_callbacks):
    submission = submission_with_answers(patient=patient, yes=["anaemia"])
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("screening:review", args=[submission.pk]),
            {"modality": wbc.pk, "decision": "decline", "note": "Haemoglobin too low; see your GP."},
        )
    assert "not suitable" in mail.outbox[0].subject
    assert "advises against" in mail.outbox[0].body


def test_review_without_a_note_is_a_form_error_and_stores_nothing(staff_client, patient, wbc):
    submission = submission_with_answers(patient=patient, yes=["anaemia"])
    response = staff_client.post(
        reverse("screening:review", args=[submission.pk]), {"modality": wbc.pk, "decision": "clear", "note": ""}
    )
    assert response.status_code == 400
    assert not Review.objects.exists()
    assert mail.outbox == []


def test_review_of_a_modality_not_waiting_is_refused(staff_client, patient, acupuncture_initial):
    submission = submission_with_answers(patient=patient, yes=["anaemia"])  # no effect on acupuncture
    response = staff_client.post(
        reverse("screening:review", args=[submission.pk]),
        {"modality": acupuncture_initial.pk, "decision": "clear", "note": "ok"},
    )
    assert response.status_code == 400
    assert not Review.objects.exists()


def test_outcome_email_is_sent_once_even_if_the_task_runs_twice(
    practitioner, patient, wbc, django_capture_on_commit_callbacks
):
    from screening.notifications import review_outcome_notify
    from screening.services import review_record

    submission = submission_with_answers(patient=patient, yes=["anaemia"])
    with django_capture_on_commit_callbacks(execute=True):
        review = review_record(
            submission=submission, modality=wbc, decision="clear", note="Fine.", by=practitioner.user
        )
    row = Reminder.objects.about(review).get()
    reminder_send.delay(row.pk)
    reminders_send_due()
    with django_capture_on_commit_callbacks(execute=True):
        review_outcome_notify(review=review)  # written again: the same row, not a second email
    assert len(mail.outbox) == 1
    assert Reminder.objects.filter(kind="review_outcome").count() == 1


def test_outcome_email_waits_in_the_outbox_while_the_mail_server_is_down_then_goes_once(
    practitioner, patient, wbc, settings, django_capture_on_commit_callbacks
):
    from screening.services import review_record

    settings.EMAIL_BACKEND = "tests.notifications.email_backends.FailingBackend"
    submission = submission_with_answers(patient=patient, yes=["anaemia"])
    with django_capture_on_commit_callbacks(execute=True):
        review = review_record(
            submission=submission, modality=wbc, decision="clear", note="Fine.", by=practitioner.user
        )
    row = Reminder.objects.about(review).get()
    assert (row.state, row.attempts) == (Reminder.State.PENDING, 1)  # recorded, not lost with a rollback

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The worker retries by itself after the back-off; should that retry be lost, the dispatcher
    # hands the row out again once its lease has run out.
    with time_machine.travel(row.next_attempt_at + timedelta(minutes=10), tick=False):
        reminders_send_due()
        reminders_send_due()
    assert len(mail.outbox) == 1
    assert "cleared" in mail.outbox[0].subject


def test_practitioner_fills_in_the_questions_for_a_patient(staff_client, practitioner, patient):
    response = staff_client.post(
        reverse("screening:patient_questionnaire", args=[patient.pk]), _answers_post(yes=["needle-phobia"])
    )
    assert response.status_code == 302
    submission = Submission.objects.get(patient=patient)
    assert submission.submitted_by == practitioner.user
    page = staff_client.get(reverse("screening:patient", args=[patient.pk])).content.decode()
    assert "Needle phobia" in page


def test_admin_can_open_every_screening_admin_page(client, patient):
    admin = AdminFactory()
    client.login(email=admin.email, password=PASSWORD)
    submission = submission_with_answers(patient=patient, yes=["pregnancy"])
    for name in (
        "contraindication",
        "contraindicationrule",
        "questionnaire",
        "submission",
        "review",
        "consenttext",
        "consent",
    ):
        assert client.get(reverse(f"admin:screening_{name}_changelist"), {"q": "a"}).status_code == 200
    assert client.get(reverse("admin:screening_submission_change", args=[submission.pk])).status_code == 200
    assert (
        client.get(reverse("admin:screening_questionnaire_change", args=[submission.questionnaire_id])).status_code
        == 200
    )
