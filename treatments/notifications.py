"""The messages treatments sends: questionnaires and relief check-ins (registered in ``ready()``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy

from notifications.kinds import MessageContent, MessageKind, message_kind_register
from notifications.models import Reminder
from notifications.services import message_base_context, message_content_render
from treatments.followup import FollowUpMessage, checkin_answer_url, questionnaire_url
from treatments.models import QuestionnaireRequest, ReliefCheckIn


def _questionnaire_message(reminder: Reminder) -> MessageContent:
    questionnaire: QuestionnaireRequest = reminder.about
    context = message_base_context(reminder) | {
        "questionnaire": questionnaire,
        "instrument": questionnaire.instrument,
        "answer_url": questionnaire_url(questionnaire=questionnaire),
        "expires_on": timezone.localdate(questionnaire.expires_at),
    }
    return message_content_render(template="treatments/email/questionnaire", context=context)


def _questionnaire_still_wanted(reminder: Reminder, now: datetime) -> str:
    questionnaire: QuestionnaireRequest | None = reminder.about
    if questionnaire is None:
        return "The questionnaire no longer exists."
    if questionnaire.is_answered:
        return "The patient has already answered it."
    if questionnaire.expires_at <= now:
        return "The questionnaire's link has expired."
    return ""


def _checkin_message(reminder: Reminder) -> MessageContent:
    checkin: ReliefCheckIn = reminder.about
    context = message_base_context(reminder) | {
        "checkin": checkin,
        "session_on": timezone.localdate(checkin.session_log.started_at),
        "scores": [{"pain": pain, "url": checkin_answer_url(checkin=checkin, pain=pain)} for pain in range(11)],
    }
    return message_content_render(template="treatments/email/relief_checkin", context=context)


def _checkin_still_wanted(reminder: Reminder, now: datetime) -> str:
    checkin: ReliefCheckIn | None = reminder.about
    if checkin is None:
        return "The check-in no longer exists."
    if checkin.pain is not None:
        return "The patient has already answered it."
    if checkin.expires_at <= now:
        return "The check-in has closed."
    return ""


def treatment_message_kinds_register() -> None:
    """Tell the outbox how to write treatments' messages (called from ``TreatmentsConfig.ready()``)."""
    message_kind_register(
        MessageKind(
            name=FollowUpMessage.QUESTIONNAIRE,
            label=gettext_lazy("Questionnaire"),
            render=_questionnaire_message,
            still_wanted=_questionnaire_still_wanted,
            about_select_related=("instrument",),
        )
    )
    message_kind_register(
        MessageKind(
            name=FollowUpMessage.RELIEF_CHECKIN,
            label=gettext_lazy("Relief check-in"),
            render=_checkin_message,
            still_wanted=_checkin_still_wanted,
            about_select_related=("session_log",),
        )
    )
