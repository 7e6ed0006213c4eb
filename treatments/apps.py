from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = _("Treatments")

    def ready(self) -> None:
        from clinic.links import Link, register_link
        from treatments.notifications import treatment_message_kinds_register

        treatment_message_kinds_register()

        from treatments.events import session_log_event_types_register

        session_log_event_types_register()

        # The day and week pages (bookings) link each appointment to its chart and session log,
        # for practitioners (the front desk shares those pages but never opens clinical records).
        register_link(
            "appointment.patient",
            Link(
                key="chart",
                label=_("Chart"),
                url_name="treatments:patient_chart",
                url_args=lambda a: (a.patient_id,),
                shown_to=lambda user, a: user.is_practitioner,
            ),
        )
        register_link(
            "appointment.actions",
            Link(
                key="session_log",
                # A logged session marks its appointment attended (treatments.services).
                label=lambda a: _("Open session log") if a.status == "attended" else _("Log session"),
                url_name="treatments:log_create",
                url_args=lambda a: (a.pk,),
                shown_to=lambda user, a: user.is_practitioner,
                emphasis="primary",
            ),
        )
