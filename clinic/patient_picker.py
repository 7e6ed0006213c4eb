"""Choosing a patient on a staff page through the patient search (no list of every patient).

A page that needs a patient (phone booking, a care plan) shows the search box and one page of
results; each result is a link back to the same page with ``?patient=<id>`` and the page's other
parameters kept, so it works without JavaScript.  The page then offers its own form for the
chosen patient.  The template is ``clinic/includes/patient_picker.html``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from clinic.forms import PatientSearchForm
from clinic.models import Patient
from clinic.selectors import patient_query_parse, patient_search

PICKER_PARAMETERS = ("q", "page", "patient")


def patient_picker_chosen(*, request: HttpRequest, within: QuerySet[Patient]) -> Patient | None:
    """The patient named by ``?patient=`` (or a posted ``patient``) if it lies ``within``; else None."""
    value = request.POST.get("patient") or request.GET.get("patient", "")
    if not str(value).isdigit():
        return None
    return within.select_related("user").filter(pk=value).first()


def patient_picker_context(*, request: HttpRequest, within: QuerySet[Patient]) -> dict[str, Any]:
    """What ``patient_picker.html`` shows: the search form and, once something is typed, a page of results."""
    form = PatientSearchForm(request.GET if "q" in request.GET else None)
    results = None
    if form.is_bound and form.is_valid() and not patient_query_parse(form.cleaned_data["q"]).is_empty:
        results = patient_search(
            actor=request.user,
            query=form.cleaned_data["q"],
            page=form.cleaned_data["page"] or 1,
            within=within,
            request=request,
        )
    kept = request.GET.copy()
    for name in PICKER_PARAMETERS:
        kept.pop(name, None)
    return {
        "patient_search_form": form,
        "patient_search_results": results,
        "patient_search_kept": kept,
        "patient_search_kept_query": kept.urlencode(),
    }
