"""Signed webhooks: endpoints an admin registers, one delivery per endpoint and event, retried with back-off.

``signature_verify`` is the check a receiver runs (see the README for the same in a few lines).
"""

from api.webhooks.signature import SignatureInvalid, signature_header, signature_verify

__all__ = ["SignatureInvalid", "signature_header", "signature_verify"]
