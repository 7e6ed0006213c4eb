"""Links an upper app places on a lower app's page (clinic.links) reach the people they are for."""

from __future__ import annotations

from django.urls import reverse


def test_profile_offers_a_patient_their_data_and_account_deletion(client, patient):
    client.force_login(patient.user)
    page = client.get(reverse("profile")).content.decode()
    assert f'href="{reverse("privacy:overview")}"' in page


def test_profile_offers_staff_no_patient_data_actions(client, practitioner):
    client.force_login(practitioner.user)
    page = client.get(reverse("profile")).content.decode()
    assert "Two-factor authentication" in page
    assert reverse("privacy:overview") not in page
