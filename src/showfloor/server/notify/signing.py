"""Signing secrets and the Standard Webhooks headers (``webhook-id``, ``-timestamp``, ``-signature``).

The signature is the ``standardwebhooks`` package's (HMAC-SHA256 over ``id.timestamp.body`` with the
secret's base64-decoded bytes, sent as ``v1,<base64>``). While a rotated-out secret is still valid both
signatures are sent, space-separated, so a receiver holding either verifies the request. The SDK's
verifier (``showfloor.client.verify_webhook``) is an independent implementation of the same spec.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signed_headers(event_id: str, at: datetime, body: bytes, secrets_in_use: list[str]) -> dict[str, str]:
    """The headers of one attempt: ``body`` is exactly the bytes sent, ``at`` the attempt's time."""
    text = body.decode("utf-8")
    signatures = [Webhook(secret).sign(event_id, at, text) for secret in secrets_in_use]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
