from django.conf import settings
from django.http import HttpRequest


def clinic(request: HttpRequest) -> dict[str, str]:
    """The clinic's name and phone number, shown in the layout and on error pages."""
    return {"CLINIC_NAME": settings.CLINIC_NAME, "CLINIC_PHONE": settings.CLINIC_PHONE, "TIME_ZONE": settings.TIME_ZONE}
