"""``showfloor.client.verify_webhook``: the Standard Webhooks test vector, requests the server signs (and
the reference ``standardwebhooks`` package verifies), and every way a request is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from showfloor.client import WebhookVerificationError, verify_webhook
from showfloor.server.notify.signing import new_secret, signed_headers

# From the Standard Webhooks specification's test suite.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIME = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def spec_headers(**changes: str) -> dict[str, str]:
    headers = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIME),
        "webhook-signature": SPEC_SIGNATURE,
    }
    headers.update(changes)
    return headers


def test_the_specifications_example_verifies() -> None:
    assert verify_webhook(SPEC_BODY, spec_headers(), SPEC_SECRET, now=SPEC_TIME) == {"test": 2432232314}
    # Header names are case-insensitive; a str body is its UTF-8 bytes.
    upper = {k.upper(): v for k, v in spec_headers().items()}
    assert verify_webhook(SPEC_BODY.decode(), upper, SPEC_SECRET, now=SPEC_TIME + 299)["test"] == 2432232314


def test_what_the_server_signs_verifies_with_the_sdk_and_the_reference_package() -> None:
    secret = new_secret()
    at = datetime.now(UTC)
    body = json.dumps({"id": "evt_1", "type": "credits.granted", "data": {"amount": 5}}).encode()
    headers = signed_headers("evt_1", at, body, [secret])
    assert verify_webhook(body, headers, secret)["data"] == {"amount": 5}
    assert Webhook(secret).verify(body, headers)["type"] == "credits.granted"


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"id":"evt_2","type":"event.unlocked","data":{}}'
    headers = signed_headers("evt_2", datetime.now(UTC), body, [new, old])
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        assert verify_webhook(body, headers, secret)["type"] == "event.unlocked"
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify_webhook(body, headers, new_secret())


@pytest.mark.parametrize(
    ("body", "headers", "secret", "now", "message"),
    [
        (SPEC_BODY + b" ", spec_headers(), SPEC_SECRET, SPEC_TIME, "no signature"),
        (
            SPEC_BODY,
            spec_headers(),
            "whsec_" + base64.b64encode(b"x" * 24).decode(),
            SPEC_TIME,
            "no signature",
        ),
        (SPEC_BODY, spec_headers(**{"webhook-id": "msg_other"}), SPEC_SECRET, SPEC_TIME, "no signature"),
        (SPEC_BODY, spec_headers(), SPEC_SECRET, SPEC_TIME + 301, "tolerance"),
        (SPEC_BODY, spec_headers(), SPEC_SECRET, SPEC_TIME - 301, "tolerance"),
        (
            SPEC_BODY,
            spec_headers(**{"webhook-timestamp": "1614265330.5"}),
            SPEC_SECRET,
            SPEC_TIME,
            "Unix time",
        ),
        (
            SPEC_BODY,
            spec_headers(**{"webhook-timestamp": "+1614265330"}),
            SPEC_SECRET,
            SPEC_TIME,
            "Unix time",
        ),
        (SPEC_BODY, spec_headers(**{"webhook-signature": ""}), SPEC_SECRET, SPEC_TIME, "missing"),
        (SPEC_BODY, {"webhook-id": SPEC_ID}, SPEC_SECRET, SPEC_TIME, "missing"),
        (
            SPEC_BODY,
            spec_headers(**{"webhook-signature": "v2,abc v1,%%%"}),
            SPEC_SECRET,
            SPEC_TIME,
            "no signature",
        ),
        (SPEC_BODY, spec_headers(**{"webhook-signature": "garbage"}), SPEC_SECRET, SPEC_TIME, "no signature"),
        (SPEC_BODY, spec_headers(), "whsec_***", SPEC_TIME, "not a whsec_"),
        (SPEC_BODY, spec_headers(), "whsec_", SPEC_TIME, "empty"),
    ],
)
def test_refused_requests_say_why(
    body: bytes, headers: dict[str, str], secret: str, now: int, message: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        verify_webhook(body, headers, secret, now=now)


def test_a_signed_body_that_is_not_a_json_object_is_refused() -> None:
    secret = new_secret()
    for body in (b"not json", b"[1, 2]"):
        headers = signed_headers("evt_3", datetime.now(UTC), body, [secret])
        with pytest.raises(WebhookVerificationError, match="JSON"):
            verify_webhook(body, headers, secret)


def test_the_signature_covers_the_timestamp() -> None:
    forged = spec_headers(**{"webhook-timestamp": str(SPEC_TIME + 60)})
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify_webhook(SPEC_BODY, forged, SPEC_SECRET, now=SPEC_TIME + 60)
