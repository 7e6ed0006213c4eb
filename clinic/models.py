"""People and the clinic's catalogue.

Everything clinical (screening, bookings, treatment logs) points at these rows;
this module imports from no other app of the project.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Self

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from clinic.managers import UserManager


class SingletonSettings(models.Model):
    """A clinic-wide settings row the admin edits; there is only ever one, with pk 1.

    ``load()`` reads it without writing: until an admin saves the row, the field defaults apply.
    Subclasses add ``CheckConstraint(condition=Q(pk=1), ...)`` so the database keeps it single.
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        if self._state.adding:
            # The defaults from load() were never stored: store the whole row, not just some fields.
            kwargs.pop("update_fields", None)
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> Self:
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    PRACTITIONER = "practitioner", _("Practitioner")
    FRONT_DESK = "front_desk", _("Front desk")
    ADMIN = "admin", _("Clinic admin")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their email address."""

    email = models.EmailField(
        _("email address"),
        unique=True,
        null=True,
        blank=True,
        help_text=_(
            "Logs in with it; empty for a patient the front desk registered by phone until they claim "
            "their account. Unique when present."
        ),
    )
    first_name = models.CharField(max_length=150, verbose_name=_("first name"))
    last_name = models.CharField(max_length=150, verbose_name=_("last name"))
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        default=Role.PATIENT,
        help_text=_(
            "Decides which pages the person reaches: patients their own records, "
            "practitioners the clinical pages, admins also the Django admin."
        ),
        verbose_name=_("role"),
    )
    is_staff = models.BooleanField(
        _("admin site access"), default=False, help_text=_("May log in to the Django admin.")
    )
    is_active = models.BooleanField(
        default=True,
        help_text=_("Untick instead of deleting, so clinical records keep their author."),
        verbose_name=_("is active"),
    )
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))
    email_verified = models.BooleanField(
        default=True,
        help_text=_(
            "Off for a patient who registered online until they open the link in their "
            "confirmation email; such an account cannot log in. Accounts the clinic creates are on."
        ),
        verbose_name=_("email verified"),
    )

    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_(
            "The language of the pages and of the clinic's messages to this person; empty follows their browser "
            "(messages then go out in the clinic's default language)."
        ),
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email or f"user {self.pk}"

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower() or None

    @property
    def has_email(self) -> bool:
        """Whether email can reach this person (a patient registered by phone may have none)."""
        return bool(self.email)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def message_language(self) -> str:
        """The language the clinic writes to this person in, whoever sends it (a page, a worker, a
        command): their stored choice, else the clinic's default (``LANGUAGE_CODE``)."""
        return self.language if self.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_practitioner(self) -> bool:
        """Practitioners and admins both work the clinical pages."""
        return self.role in (Role.PRACTITIONER, Role.ADMIN)

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_front_desk(self) -> bool:
        """Reception: finds, registers and books patients; never reads clinical records."""
        return self.role == Role.FRONT_DESK

    @property
    def is_clinic_staff(self) -> bool:
        """Works for the clinic: practitioners, the front desk, clinic admins and anyone with Django admin access.

        The one definition of "staff": who is audited on reading clinical pages, who needs
        two-factor authentication, who may change a patient's booking past the online cut-off.
        """
        return self.role in (Role.PRACTITIONER, Role.FRONT_DESK, Role.ADMIN) or self.is_staff or self.is_superuser


class Patient(models.Model):
    """The clinical identity of a patient; one per patient user."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient", verbose_name=_("user"))
    date_of_birth = models.DateField(
        help_text=_("Used for age-based eligibility (e.g. under 18)."), verbose_name=_("date of birth")
    )

    class MessageChannels(models.TextChoices):
        """How the patient wants the clinic's messages: the outbox plans one row per channel."""

        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message (SMS)")
        BOTH = "both", _("Email and text message")

    phone = PhoneNumberField(
        _("phone"),
        help_text=_(
            "A number the clinic can call or text about bookings, stored in international form "
            "(+447911123456); a number typed without a country code is read in the clinic's region."
        ),
    )
    emergency_contact_name = models.CharField(
        max_length=150,
        blank=True,
        help_text=_("Whom the clinic calls if something goes wrong during a session."),
        verbose_name=_("emergency contact name"),
    )
    emergency_contact_phone = PhoneNumberField(
        _("emergency contact phone"),
        blank=True,
        help_text=_("The emergency contact's number, stored in international form."),
    )
    message_channels = models.CharField(
        _("send messages by"),
        max_length=8,
        choices=MessageChannels.choices,
        default=MessageChannels.EMAIL,
        help_text=_(
            "How reminders and booking messages reach the patient. A patient without an email "
            "address gets text messages whatever this says."
        ),
    )
    sms_stopped_at = models.DateTimeField(
        _("texts stopped at"),
        null=True,
        blank=True,
        help_text=_(
            "When this number replied STOP: no text message goes to it until it replies START "
            "(emails are not affected)."
        ),
    )
    appointment_reminders = models.BooleanField(
        default=True,
        help_text=_("Send a reminder before each booked session."),
        verbose_name=_("appointment reminders"),
    )
    rebooking_nudges = models.BooleanField(
        default=True,
        help_text=_("Send a message when a care plan's next session is due and nothing is booked."),
        verbose_name=_("rebooking nudges"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def full_name(self) -> str:
        return self.user.get_full_name()

    @property
    def email_reachable(self) -> bool:
        return bool(self.user.email)

    @property
    def sms_reachable(self) -> bool:
        """A valid number that has not replied STOP."""
        return self.sms_stopped_at is None and bool(self.phone) and self.phone.is_valid()

    def message_channel_names(self) -> list[str]:
        """The channels the clinic's messages go by ("email", "sms"): the patient's choice among those
        that reach them.  When the choice reaches nobody (SMS chosen but the number replied STOP, or
        email chosen and there is no address) the other channel carries the message, because STOP
        ends texts, not reminders; with neither, "email" (its send is cancelled, and the log says why).
        """
        wanted = {
            self.MessageChannels.EMAIL: ["email"],
            self.MessageChannels.SMS: ["sms"],
            self.MessageChannels.BOTH: ["email", "sms"],
        }.get(self.message_channels, ["email"])

        # Only the channels asked about are checked: validating a phone number is the costly part.
        def reachable(name: str) -> bool:
            return self.email_reachable if name == "email" else self.sms_reachable

        chosen = [name for name in wanted if reachable(name)]
        if chosen:
            return chosen
        return [next((name for name in ("email", "sms") if reachable(name)), "email")]

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# The longest an appointment may hold a practitioner or device (slot plus buffer after).
MAX_APPOINTMENT_MINUTES = 12 * 60


class ModalityQuerySet(models.QuerySet):
    def active(self) -> ModalityQuerySet:
        return self.filter(is_active=True)


class Resource(models.Model):
    """A room or device that a session occupies, e.g. the whole-body chamber."""

    class Kind(models.TextChoices):
        ROOM = "room", _("Room")
        DEVICE = "device", _("Device")

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    capacity = models.PositiveSmallIntegerField(
        default=1,
        help_text=_("How many sessions it holds at once (the whole-body chamber holds 1)."),
        verbose_name=_("capacity"),
    )
    temperature_min_c = models.DecimalField(
        _("lowest temperature (°C)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Coldest reading the device can really produce; colder logs are refused."),
    )
    temperature_max_c = models.DecimalField(
        _("highest temperature (°C)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Warmest reading at which the device is still delivering treatment."),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="resource_capacity_at_least_one"),
            models.CheckConstraint(
                condition=Q(temperature_min_c__isnull=True)
                | Q(temperature_max_c__isnull=True)
                | Q(temperature_min_c__lt=F("temperature_max_c")),
                name="resource_temperature_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Modality(models.Model):
    """A treatment the clinic offers, with its scheduling and safety bounds."""

    class Kind(models.TextChoices):
        WHOLE_BODY_CRYO = "wbc", _("Whole-body cryotherapy")
        LOCALIZED_CRYO = "local_cryo", _("Localized cryotherapy")
        ACUPUNCTURE = "acupuncture", _("Acupuncture")

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    slug = models.SlugField(unique=True, verbose_name=_("slug"))
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        help_text=_("Decides which readings a session log asks for."),
        verbose_name=_("kind"),
    )
    description = models.TextField(
        blank=True, help_text=_("Shown to patients when they choose a treatment."), verbose_name=_("description")
    )
    preparation = models.TextField(
        blank=True,
        help_text=_("What to bring and how to prepare; sent in appointment reminders."),
        verbose_name=_("preparation"),
    )
    slot_minutes = models.PositiveSmallIntegerField(
        help_text=_("Length of the booked appointment."), verbose_name=_("slot minutes")
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Time kept free after the appointment (changing, cleaning, chamber recovery)."),
        verbose_name=_("buffer minutes"),
    )
    exposure_min_seconds = models.PositiveIntegerField(
        help_text=_("Shortest plausible treatment exposure; a shorter logged duration is refused."),
        verbose_name=_("exposure min seconds"),
    )
    exposure_max_seconds = models.PositiveIntegerField(
        help_text=_("Longest safe treatment exposure; a longer logged duration is refused."),
        verbose_name=_("exposure max seconds"),
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="modalities",
        help_text=_("Room or device the session occupies, if any."),
        verbose_name=_("resource"),
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Untick to stop new bookings."), verbose_name=_("is active")
    )
    display_order = models.PositiveSmallIntegerField(default=0, verbose_name=_("display order"))

    objects = ModalityQuerySet.as_manager()

    class Meta:
        verbose_name = _("modality")
        verbose_name_plural = _("modalities")
        ordering = ["display_order", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="modality_slot_at_least_5_minutes"),
            # Overlap searches only look back this far (see bookings' AppointmentQuerySet.overlapping).
            models.CheckConstraint(
                condition=Q(slot_minutes__lte=MAX_APPOINTMENT_MINUTES - F("buffer_minutes")),
                name="modality_slot_and_buffer_within_max_span",
            ),
            models.CheckConstraint(
                condition=Q(exposure_min_seconds__lte=F("exposure_max_seconds")),
                name="modality_exposure_bounds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def slot_length(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)

    @property
    def occupied_length(self) -> timedelta:
        """How long one booking keeps its practitioner, room or device: the slot and the buffer after it."""
        return self.slot_length + self.buffer_after

    def slot_end(self, starts_at: datetime) -> datetime:
        """When a session starting at ``starts_at`` ends, as the patient sees it."""
        return starts_at + self.slot_length

    def occupies_until(self, starts_at: datetime) -> datetime:
        """Until when a session starting at ``starts_at`` keeps everything it uses (nothing else may start before)."""
        return starts_at + self.occupied_length


class Practitioner(models.Model):
    """A clinician who delivers some of the modalities."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="practitioner", verbose_name=_("user"))
    title = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("e.g. 'Cryotherapy technician', 'Acupuncturist'."),
        verbose_name=_("title"),
    )
    modalities = models.ManyToManyField(
        Modality, related_name="practitioners", blank=True, verbose_name=_("modalities")
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Untick to stop new bookings with this practitioner."), verbose_name=_("is active")
    )

    class Meta:
        verbose_name = _("practitioner")
        verbose_name_plural = _("practitioners")
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def full_name(self) -> str:
        return self.user.get_full_name()


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a recorded audit event."""


class AuditEventQuerySet(models.QuerySet):
    """Audit rows are written once; bulk updates and deletes are refused like single ones."""

    def update(self, **kwargs: object) -> int:
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")

    def for_patient(self, patient: Patient) -> AuditEventQuerySet:
        return self.filter(patient=patient)


class AuditEvent(models.Model):
    """One access to a patient's clinical data by a person: who, what, when, from where.

    Append-only: rows are created through ``clinic.audit.audit_record`` and never
    changed or deleted (the model, its queryset, the admin and, on PostgreSQL, a
    database trigger all refuse).
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        EXPORT = "export", _("Exported")
        DELETE = "delete", _("Deleted")
        DENIED = "denied", _("Denied")
        SEARCH = "search", _("Searched")

    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text=_("Who did it; empty for an anonymous request or a background task."),
        verbose_name=_("actor"),
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        help_text=_("Whose data it was; empty when a denied request did not reveal a patient."),
        verbose_name=_("patient"),
    )
    action = models.CharField(max_length=10, choices=Action.choices, verbose_name=_("action"))
    target_type = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Kind of record, e.g. 'treatments.sessionlog'."),
        verbose_name=_("target type"),
    )
    target_id = models.CharField(
        max_length=64, blank=True, help_text=_("Primary key of the record."), verbose_name=_("target id")
    )
    description = models.CharField(max_length=255, blank=True, verbose_name=_("description"))
    ip_address = models.GenericIPAddressField(
        _("IP address"), null=True, blank=True, help_text=_("Client address, as trusted behind the reverse proxy.")
    )
    method = models.CharField(
        max_length=10, blank=True, help_text=_("HTTP method of the request."), verbose_name=_("method")
    )
    path = models.CharField(
        max_length=500, blank=True, help_text=_("Page address the request asked for."), verbose_name=_("path")
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False, verbose_name=_("created at"))

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"], name="auditevent_patient_time")]

    def __str__(self) -> str:
        return f"{self.actor or 'anonymous'} {self.get_action_display().lower()} {self.target_type or 'page'}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")


class TwoFactorEnrolmentQuerySet(models.QuerySet):
    def usable(self) -> TwoFactorEnrolmentQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class TwoFactorEnrolment(models.Model):
    """A one-time link an admin issues so one staff member can register an authenticator.

    Without it, whoever had a staff password could enrol their own phone as that
    person's second factor.  Only the SHA-256 of the link's secret is stored.
    """

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="two_factor_enrolments",
        help_text=_("The staff member who may enrol an authenticator with this link."),
        verbose_name=_("user"),
    )
    token_hash = models.CharField(
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the link's secret, in hex."),
        verbose_name=_("token hash"),
    )
    issued_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The admin who sent the link."),
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    expires_at = models.DateTimeField(
        help_text=_("The link stops working after this moment."), verbose_name=_("expires at")
    )
    used_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When an authenticator was enrolled with it."), verbose_name=_("used at")
    )

    objects = TwoFactorEnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("two factor enrolment")
        verbose_name_plural = _("two factor enrolments")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Two-factor enrolment for {self.user}"


class AccountClaimQuerySet(models.QuerySet):
    def usable(self) -> AccountClaimQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class AccountClaim(models.Model):
    """A one-time link with which a patient the desk registered takes up their online account.

    The patient sets their email address and password with it (and confirms the address before
    they log in).  Only the SHA-256 of the link's secret is stored; a new link ends the older ones.
    """

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="account_claims",
        help_text=_("The patient's account the link opens."),
        verbose_name=_("user"),
    )
    token_hash = models.CharField(
        max_length=64,
        unique=True,
        editable=False,
        help_text=_("SHA-256 of the link's secret, in hex."),
        verbose_name=_("token hash"),
    )
    issued_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The member of the desk or admin who made the link."),
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    expires_at = models.DateTimeField(
        help_text=_("The link stops working after this moment."), verbose_name=_("expires at")
    )
    used_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the patient claimed the account with it."), verbose_name=_("used at")
    )
    failed_attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text=_("Wrong dates of birth typed with this link; after a few, the link stops working."),
        verbose_name=_("failed attempts"),
    )

    objects = AccountClaimQuerySet.as_manager()

    class Meta:
        verbose_name = _("account claim")
        verbose_name_plural = _("account claims")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Account link for {self.user}"


class CareTeamMembershipQuerySet(models.QuerySet):
    def active(self, *, at: Any = None) -> CareTeamMembershipQuerySet:
        """Memberships in force at ``at`` (now): started, not past their end, not ended by a person."""
        moment = at or timezone.now()
        return self.filter(starts_at__lte=moment, ended_at__isnull=True).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=moment)
        )

    def emergency_unreviewed(self) -> CareTeamMembershipQuerySet:
        return self.filter(kind=CareTeamMembership.Kind.EMERGENCY, reviewed_at__isnull=True)


class CareTeamMembership(models.Model):
    """One member of staff on one patient's care team: the only thing that lets staff read a record.

    Rows are created by ``clinic.care_team`` services only, each for a legitimate act (the patient
    booked with them, the front desk or an admin assigned them, a member referred them, or an
    emergency "break the glass" with a typed reason).  A row is never widened: it ends (``ends_at``
    passes, or a person ends it), and access ends with it.
    """

    class Kind(models.TextChoices):
        BOOKING = "booking", _("Booked with the patient")
        ASSIGNED = "assigned", _("Assigned by the front desk or an admin")
        REFERRAL = "referral", _("Referred by a colleague")
        EMERGENCY = "emergency", _("Emergency access (break the glass)")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team", verbose_name=_("patient"))
    member = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="care_team_memberships",
        help_text=_("The member of staff."),
        verbose_name=_("member"),
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, help_text=_("The act that granted the access."), verbose_name=_("kind")
    )
    granted_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="care_team_grants",
        help_text=_("Who performed that act (the patient for an online booking; the member for an emergency)."),
        verbose_name=_("granted by"),
    )
    reason = models.CharField(
        max_length=500,
        blank=True,
        help_text=_("Why: required for referrals and emergency access, shown to reviewers."),
        verbose_name=_("reason"),
    )
    starts_at = models.DateTimeField(default=timezone.now, verbose_name=_("starts at"))
    ends_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Access lapses at this moment (e.g. months after the last appointment)."),
        verbose_name=_("ends at"),
    )
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When a person ended it early (discharge)."), verbose_name=_("ended at")
    )
    ended_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_team_ends",
        help_text=_("Who ended it."),
        verbose_name=_("ended by"),
    )
    reviewed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When an admin reviewed an emergency access."), verbose_name=_("reviewed at")
    )
    reviewed_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_team_reviews",
        help_text=_("Reviewer."),
        verbose_name=_("reviewed by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = CareTeamMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("care team membership")
        verbose_name_plural = _("care team memberships")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["member", "patient"], name="careteam_member_patient")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="careteam_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, ended_by__isnull=True)
                | Q(ended_at__isnull=False, ended_by__isnull=False),
                name="careteam_ended_with_who",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["emergency", "referral"]) | ~Q(reason=""),
                name="careteam_emergency_and_referral_need_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="emergency") | Q(ends_at__isnull=False), name="careteam_emergency_is_time_limited"
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | Q(reviewed_at__isnull=False, reviewed_by__isnull=False, kind="emergency"),
                name="careteam_review_only_of_emergency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.patient} ({self.get_kind_display().lower()})"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.ended_at is None and self.starts_at <= now and (self.ends_at is None or self.ends_at > now)
