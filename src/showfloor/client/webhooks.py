"""Verify a webhook request from Showfloor (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), with nothing but the standard library.

    from showfloor.client import verify_webhook, WebhookVerificationError

    event = verify_webhook(request_body_bytes, request_headers, "whsec_…")
    event["type"], event["data"]

The signature is HMAC-SHA256, keyed with the base64-decoded part of the secret after ``whsec_``, over
``<webhook-id>.<webhook-timestamp>.<body>``; the header holds one or more space-separated ``v1,<base64>``
signatures (two while a rotated-out secret is still in use) and one match is enough. The timestamp must
be within ``tolerance_seconds`` of now, so a captured request cannot be replayed later. Pass the body
exactly as received: parsing and re-serialising JSON changes the bytes and breaks the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from showfloor.client.errors import ShowfloorError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(ShowfloorError):
    """The request is not a genuine, fresh webhook from Showfloor signed with this secret."""


def verify_webhook(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The event (``id``, ``type``, ``timestamp``, ``data``) when the request verifies; otherwise
    WebhookVerificationError saying why."""
    body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not (stamp.isascii() and stamp.isdigit()):
        raise WebhookVerificationError("webhook-timestamp is not a Unix time in seconds")
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance (replayed or clock skew)")
    expected = hmac.new(_key(secret), f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    for candidate in signatures.split():
        version, _, encoded = candidate.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, given):
            return _event(body)
    raise WebhookVerificationError("no signature matches this secret")


def _key(secret: str) -> bytes:
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the secret is not a whsec_… signing secret") from None
    if not key:
        raise WebhookVerificationError("the secret is empty")
    return key


def _event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("the signed body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("the signed body is not a JSON object")
    return event
