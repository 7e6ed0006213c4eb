"""Admin of the API app.  The webhook endpoints and delivery log are in ``api/webhooks/admin.py``."""

from api.webhooks.admin import WebhookDeliveryAdmin, WebhookEndpointAdmin

__all__ = ["WebhookDeliveryAdmin", "WebhookEndpointAdmin"]
