"""The outbox writes any app's messages through the kinds registry, and sends them only by its channels."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied

from clinic.models import AuditEvent
from notifications import kinds
from notifications.kinds import MessageContent, MessageKind, message_kind_register
from notifications.models import Reminder
from notifications.services import reminder_deliver, reminder_plan, reminder_send_again
from notifications.tasks import reminders_send_due
from tests.factories import AdminFactory
from tests.reminders.factories import local

NOON = local(2026, 5, 4, 12)
NIGHT = local(2026, 5, 4, 23)
APPS_ABOVE_NOTIFICATIONS = {"screening", "bookings", "treatments", "privacy", "benchmarks", "api"}


@pytest.fixture
def greeting_kind(monkeypatch: pytest.MonkeyPatch) -> MessageKind:
    """A kind as an upper app would register it in its AppConfig.ready()."""
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))

    def render(reminder: Reminder) -> MessageContent:
        return MessageContent(
            subject=f"Hello {reminder.patient.full_name}",
            text=f"Your word is {reminder.context['word']}.",
            html="<p>html part</p>",
            attachments=[("note.txt", "attached", "text/plain")],
            headers={"X-Test": "yes"},
        )

    def still_wanted(reminder: Reminder, now) -> str:
        return "" if reminder.context.get("word") != "stop" else "Told to stop."

    return message_kind_register(
        MessageKind(name="greeting", label="Greeting", render=render, still_wanted=still_wanted)
    )


@pytest.mark.django_db
def test_a_kind_registered_by_an_upper_app_is_written_and_sent_by_the_outbox(patient, greeting_kind):
    reminder, _ = reminder_plan(
        key="greeting:1", kind="greeting", patient=patient, due_at=NOON, context={"word": "cold"}
    )
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
    [message] = mail.outbox
    assert message.to == [patient.user.email]
    assert message.subject == f"Hello {patient.full_name}"
    assert message.body == "Your word is cold."
    assert message.alternatives[0][0] == "<p>html part</p>"
    assert message.attachments[0][0] == "note.txt"
    assert message.extra_headers["X-Test"] == "yes"
    reminder.refresh_from_db()
    assert (reminder.state, reminder.kind_label) == (Reminder.State.SENT, "Greeting")


@pytest.mark.django_db
def test_a_kind_says_when_its_message_is_no_longer_wanted(patient, greeting_kind):
    reminder, _ = reminder_plan(
        key="greeting:2", kind="greeting", patient=patient, due_at=NOON, context={"word": "stop"}
    )
    with time_machine.travel(NOON, tick=False):
        assert reminder_deliver(reminder_id=reminder.pk).outcome == "cancelled"
    reminder.refresh_from_db()
    assert (reminder.state, reminder.last_error) == (Reminder.State.CANCELLED, "Told to stop.")
    assert mail.outbox == []


@pytest.mark.django_db
def test_quiet_hours_hold_a_reminder_but_not_a_transactional_message(patient, greeting_kind):
    message_kind_register(MessageKind(name="answer", label="Answer", render=greeting_kind.render, transactional=True))
    held, _ = reminder_plan(key="greeting:night", kind="greeting", patient=patient, due_at=NIGHT, context={"word": "a"})
    answer, _ = reminder_plan(key="answer:night", kind="answer", patient=patient, due_at=NIGHT, context={"word": "b"})
    with time_machine.travel(NIGHT, tick=False):
        assert reminder_deliver(reminder_id=held.pk).outcome == "deferred"
        assert reminder_deliver(reminder_id=answer.pk).outcome == "sent"
    assert [m.body for m in mail.outbox] == ["Your word is b."]


@pytest.mark.django_db
def test_a_kind_no_installed_app_registered_is_refused_when_planned(patient):
    with pytest.raises(LookupError, match="no-such-kind"):
        reminder_plan(key="x:1", kind="no-such-kind", patient=patient, due_at=NOON)
    assert not Reminder.objects.exists()


@pytest.mark.django_db
def test_a_row_whose_kind_is_no_longer_registered_fails_visibly_instead_of_crashing_the_worker(patient):
    row = Reminder.objects.create(key="gone:1", kind="gone", patient=patient, due_at=NOON, next_attempt_at=NOON)
    with time_machine.travel(NOON, tick=False):
        assert reminder_deliver(reminder_id=row.pk).outcome == "failed"
    row.refresh_from_db()
    assert row.state == Reminder.State.FAILED
    assert "gone" in row.last_error
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_message_sent_again_carries_the_same_message_id_so_receivers_can_tell_it_is_a_copy(patient, greeting_kind):
    admin_user = AdminFactory()
    first, _ = reminder_plan(key="greeting:a", kind="greeting", patient=patient, due_at=NOON, context={"word": "a"})
    reminder_plan(key="greeting:b", kind="greeting", patient=patient, due_at=NOON, context={"word": "b"})
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
        reminder_send_again(reminder=first, actor=admin_user)
        reminder_deliver(reminder_id=first.pk)
    ids = [message.message()["Message-ID"] for message in mail.outbox]
    by_body = {}
    for message, message_id in zip(mail.outbox, ids, strict=True):
        by_body.setdefault(message.body, set()).add(message_id)
    assert len(by_body["Your word is a."]) == 1  # two copies, one Message-ID
    assert by_body["Your word is a."] != by_body["Your word is b."]
    assert Reminder.objects.get(pk=first.pk).attempts == 2


def _imported_top_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_notifications_imports_nothing_above_it():
    package = Path(settings.BASE_DIR) / "notifications"
    upward = {
        str(path.relative_to(package)): _imported_top_modules(path) & APPS_ABOVE_NOTIFICATIONS
        for path in package.rglob("*.py")
    }
    assert {path: names for path, names in upward.items() if names} == {}


# Account-security mail that carries a one-time secret goes out at once from clinic, as Django's own
# password reset does: clinic sits below the outbox, and an outbox row would have to keep the secret.
ACCOUNT_SECURITY_SENDERS = ["clinic/services.py", "clinic/two_factor.py"]


def test_nothing_but_the_email_channel_hands_mail_to_django():
    """One way to send a clinical or booking message: through the outbox.  (A second path once sent review outcomes.)"""
    base = Path(settings.BASE_DIR)
    sending = re.compile(r"\b(send_mail|send_mass_mail|EmailMessage|EmailMultiAlternatives|mail_admins)\b")
    offenders = [
        str(path.relative_to(base))
        for path in base.glob("*/**/*.py")
        if not path.is_relative_to(base / ".venv")
        and not path.is_relative_to(base / "tests")
        and sending.search(path.read_text())
    ]
    assert sorted(offenders) == sorted(["notifications/channels.py", *ACCOUNT_SECURITY_SENDERS])


@pytest.mark.django_db
def test_only_an_admin_sends_a_message_again_and_the_audit_trail_names_them(patient, practitioner, greeting_kind):
    first, _ = reminder_plan(key="greeting:c", kind="greeting", patient=patient, due_at=NOON, context={"word": "c"})
    with time_machine.travel(NOON, tick=False):
        reminders_send_due()
    first.refresh_from_db()
    assert first.state == Reminder.State.SENT

    with pytest.raises(PermissionDenied):
        reminder_send_again(reminder=first, actor=practitioner.user)
    first.refresh_from_db()
    assert first.state == Reminder.State.SENT

    admin_user = AdminFactory()
    reminder_send_again(reminder=first, actor=admin_user)
    first.refresh_from_db()
    assert first.state == Reminder.State.PENDING
    event = AuditEvent.objects.get(target_type="notifications.reminder", target_id=str(first.pk))
    assert (event.actor, event.patient, event.action) == (admin_user, patient, AuditEvent.Action.CHANGE)
