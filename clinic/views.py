from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.generic import FormView, TemplateView, UpdateView

from clinic.access import PatientRequiredMixin
from clinic.forms import PatientProfileForm, PatientRegistrationForm
from clinic.models import Modality, Patient
from clinic.services import patient_register


class HomeView(TemplateView):
    """The front page: what the clinic offers, or the person's own start page."""

    template_name = "clinic/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["modalities"] = Modality.objects.active()
        return context


class RegisterView(FormView):
    template_name = "registration/register.html"
    form_class = PatientRegistrationForm
    success_url = reverse_lazy("home")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: PatientRegistrationForm) -> HttpResponse:
        data = form.cleaned_data
        patient = patient_register(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            phone=data["phone"],
            emergency_contact_name=data["emergency_contact_name"],
            emergency_contact_phone=data["emergency_contact_phone"],
        )
        login(self.request, patient.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, "Welcome! Your account is ready.")
        return super().form_valid(form)


class ProfileView(LoginRequiredMixin, TemplateView):
    template_name = "clinic/profile.html"


class PatientProfileEditView(PatientRequiredMixin, UpdateView):
    form_class = PatientProfileForm
    template_name = "clinic/patient_form.html"
    success_url = reverse_lazy("profile")

    def get_object(self, queryset: Any = None) -> Patient:
        return self.patient

    def form_valid(self, form: PatientProfileForm) -> HttpResponse:
        messages.success(self.request, "Your details are saved.")
        return super().form_valid(form)
