from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from clinic.audit import AuditedClinicalAdminMixin, audit_record
from clinic.care_team import care_team_end, care_team_review_emergency, patients_findable_by
from clinic.models import (
    AuditEvent,
    CareTeamMembership,
    Modality,
    Patient,
    Practitioner,
    Resource,
    Role,
    TwoFactorEnrolment,
    User,
)
from clinic.selectors import patient_query_parse, patient_search_thresholds_set, patients_matching
from clinic.two_factor import two_factor_enrolment_send

# What decides a person's reach: only a superuser changes these, on anyone, themselves included.
PRIVILEGE_FIELDS = ("role", "is_staff", "is_superuser", "groups", "user_permissions")


class ClinicUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role")


class ClinicUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    admin_section = "People"
    add_form = ClinicUserCreationForm
    form = ClinicUserChangeForm
    list_display = ("email", "first_name", "last_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("last_name", "first_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "role", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "first_name", "last_name", "role", "password1", "password2")},
        ),
    )
    actions = ["two_factor_enrolment_send"]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            fields += PRIVILEGE_FIELDS
        return fields

    def get_form(self, request: HttpRequest, obj: User | None = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        if obj is None and not request.user.is_superuser and "role" in form.base_fields:
            # A clinic admin registers patients and practitioners; new admins come from a superuser.
            role = form.base_fields["role"]
            role.choices = [choice for choice in role.choices if choice[0] != Role.ADMIN]
        return form

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Only a superuser sets another person's password (else: impersonation with their audit trail)."""
        if not request.user.is_superuser and str(request.user.pk) != str(id):
            raise PermissionDenied(gettext("Only a superuser sets another person's password."))
        return super().user_change_password(request, id, form_url)

    @admin.action(description=_("Email a two-factor enrolment link"), permissions=["change"])
    def two_factor_enrolment_send(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            try:
                two_factor_enrolment_send(user=user, actor=request.user)
            except PermissionDenied as refused:
                self.message_user(request, f"{user.email}: {refused}", messages.ERROR)
            else:
                self.message_user(
                    request, gettext("Enrolment link sent to %(email)s.") % {"email": user.email}, messages.SUCCESS
                )


class PhoneNumberFilter(admin.SimpleListFilter):
    """Numbers kept as typed because they could not be read (see the phone-number migration) need a fix."""

    title = _("phone number")
    parameter_name = "phone_number"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("needs_fixing", _("Needs fixing (not an international number)")),
            ("texts_stopped", _("Replied STOP")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Patient]) -> QuerySet[Patient]:
        if self.value() == "needs_fixing":
            return queryset.exclude(phone__startswith="+")
        if self.value() == "texts_stopped":
            return queryset.filter(sms_stopped_at__isnull=False)
        return queryset


@admin.register(Patient)
class PatientAdmin(AuditedClinicalAdminMixin, SimpleHistoryAdmin):
    """Patients, found through the clinic's patient search (also behind every patient autocomplete)."""

    admin_section = "People"
    list_display = (
        "__str__",
        "date_of_birth",
        "phone",
        "message_channels",
        "appointment_reminders",
        "rebooking_nudges",
    )
    # Declared so the admin offers a search box and autocompletes; the matching is patient_search's.
    search_fields = ("user__last_name",)
    search_help_text = "Name, date of birth (dd/mm/yyyy), phone number or email address."
    list_filter = (PhoneNumberFilter, "message_channels", "appointment_reminders", "rebooking_nudges")
    readonly_fields = ("sms_stopped_at",)
    list_select_related = ("user",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Patient]:
        """A superuser sees every patient; anyone else only those the care-team rule lets them find."""
        patients = super().get_queryset(request)
        if request.user.is_superuser:
            return patients
        return patients.filter(pk__in=patients_findable_by(request.user).values("pk"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Patient], search_term: str
    ) -> tuple[QuerySet[Patient], bool]:
        query = patient_query_parse(search_term)
        if query.is_empty:
            # The autocomplete of a patient field lists nobody until something is typed.
            autocomplete = request.resolver_match is not None and request.resolver_match.url_name == "autocomplete"
            return (queryset.none() if autocomplete else queryset), False
        patient_search_thresholds_set(local=False)  # the admin's list is read outside one transaction
        audit_record(
            request=request,
            patient=None,
            action=AuditEvent.Action.SEARCH,
            description=f"Admin patient search for {query.audit_description()}",
        )
        return patients_matching(queryset, query), False


# Inlines that apps above this one add to the practitioner's page (bookings: working hours).
_practitioner_inlines: list[type[admin.options.InlineModelAdmin]] = []


def practitioner_admin_inline_add(inline: type[admin.options.InlineModelAdmin]) -> None:
    """Show ``inline`` on each practitioner's admin page (called from an upper app's admin module)."""
    if inline not in _practitioner_inlines:
        _practitioner_inlines.append(inline)


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    admin_section = "People"
    list_display = ("__str__", "title", "is_active")
    list_filter = ("is_active", "modalities")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    filter_horizontal = ("modalities",)
    list_select_related = ("user",)
    autocomplete_fields = ("user",)

    def get_inlines(self, request: HttpRequest, obj: Practitioner | None) -> list[type[admin.options.InlineModelAdmin]]:
        return [*super().get_inlines(request, obj), *_practitioner_inlines]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    admin_section = "Catalogue"
    list_display = ("name", "kind", "capacity", "temperature_min_c", "temperature_max_c", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)


@admin.register(Modality)
class ModalityAdmin(admin.ModelAdmin):
    admin_section = "Catalogue"
    list_display = (
        "name",
        "kind",
        "slot_minutes",
        "buffer_minutes",
        "exposure_min_seconds",
        "exposure_max_seconds",
        "resource",
        "is_active",
    )
    list_filter = ("kind", "is_active", "resource")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only for everyone: no add, change or delete, not even for superusers."""

    admin_section = "Security"

    list_display = ("created_at", "actor", "action", "patient", "description", "target_type", "target_id", "ip_address")
    list_filter = (
        "action",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("patient", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    date_hierarchy = "created_at"
    search_fields = ("actor__email", "patient__user__email", "patient__user__last_name", "description", "path")
    list_select_related = ("actor", "patient__user")
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False


@admin.register(TwoFactorEnrolment)
class TwoFactorEnrolmentAdmin(admin.ModelAdmin):
    """Who was sent an enrolment link by whom, and whether it was used; issued from the user list."""

    admin_section = "Security"

    list_display = ("user", "issued_by", "created_at", "expires_at", "used_at")
    list_select_related = ("user", "issued_by")
    search_fields = ("user__email", "issued_by__email")
    readonly_fields = ("user", "issued_by", "created_at", "expires_at", "used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TwoFactorEnrolment | None = None) -> bool:
        return False


class OwnDevicesUnlessSuperuserMixin:
    """Two-factor devices: a superuser manages anyone's; everyone else sees and removes only their own.

    Creating or changing someone else's device would let an admin log in as them.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        return obj is not None and obj.user_id == request.user.pk and super().has_delete_permission(request, obj)


class ClinicTOTPDeviceAdmin(OwnDevicesUnlessSuperuserMixin, TOTPDeviceAdmin):
    pass


class ClinicStaticDeviceAdmin(OwnDevicesUnlessSuperuserMixin, StaticDeviceAdmin):
    pass


for model, model_admin in ((TOTPDevice, ClinicTOTPDeviceAdmin), (StaticDevice, ClinicStaticDeviceAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


class EmergencyUnreviewedFilter(admin.SimpleListFilter):
    title = _("emergency access review")
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("waiting", _("Emergency, waiting for review")), ("reviewed", _("Emergency, reviewed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[CareTeamMembership]) -> QuerySet[CareTeamMembership]:
        emergencies = queryset.filter(kind=CareTeamMembership.Kind.EMERGENCY)
        if self.value() == "waiting":
            return emergencies.filter(reviewed_at__isnull=True)
        if self.value() == "reviewed":
            return emergencies.filter(reviewed_at__isnull=False)
        return queryset


@admin.register(CareTeamMembership)
class CareTeamMembershipAdmin(admin.ModelAdmin):
    """Admins see every membership and end it or review an emergency access; nobody adds or edits one here.

    Grants come only from the acts in ``clinic.care_team`` (booking, assignment, referral, break the glass).
    """

    admin_section = "People"

    list_display = (
        "starts_at",
        "patient",
        "member",
        "kind",
        "granted_by",
        "reason",
        "ends_at",
        "ended_at",
        "reviewed_at",
    )
    list_filter = ("kind", EmergencyUnreviewedFilter, ("member", admin.RelatedOnlyFieldListFilter))
    search_fields = ("patient__user__email", "patient__user__last_name", "member__email", "member__last_name", "reason")
    list_select_related = ("patient__user", "member", "granted_by")
    readonly_fields = [field.name for field in CareTeamMembership._meta.fields]
    actions = ["end_memberships", "mark_reviewed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CareTeamMembership | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_clinic_admin)

    def has_delete_permission(self, request: HttpRequest, obj: CareTeamMembership | None = None) -> bool:
        return False

    @admin.action(description=_("End the selected memberships now"))
    def end_memberships(self, request: HttpRequest, queryset: QuerySet[CareTeamMembership]) -> None:
        for membership in queryset:
            care_team_end(membership=membership, actor=request.user)
        count = queryset.count()
        self.message_user(
            request,
            gettext("Ended %(count)d membership(s).") % {"count": count},
        )

    @admin.action(description=_("Mark the selected emergency accesses as reviewed"))
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[CareTeamMembership]) -> None:
        emergencies = queryset.filter(kind=CareTeamMembership.Kind.EMERGENCY)
        for membership in emergencies:
            care_team_review_emergency(membership=membership, actor=request.user)
        count = emergencies.count()
        self.message_user(
            request,
            gettext("Reviewed %(count)d emergency access(es).") % {"count": count},
        )
