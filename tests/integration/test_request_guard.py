"""Request-body limits and the key-before-body rule (api/request_guard.py), on both backends.

A body over ``max_request_body_bytes`` answers 413 in the reference's error shape, whether its size is
announced (``Content-Length``) or only discovered while streaming (chunked); a body of exactly the limit
is served. A body-carrying ``/external/*`` request without a well-formed key answers 401 before a byte of
the body is read (checked with a raw ASGI ``receive`` that counts its calls).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from showfloor.server.app import create_app
from showfloor.server.config import Settings
from tests.conftest import AccountFixture
from tests.integration.unlock_support import give_credits, seed_cast

LIMIT = 4096
EMAIL = "/external/contacts/unlock"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url, rate_limit_enabled=False, embedded_worker=False, max_request_body_bytes=LIMIT
    )


def padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON, padded with trailing spaces (still valid JSON) to exactly ``size`` bytes."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def assert_error(resp: httpx.Response, status: int, key: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == status and body["errorKey"] == key
    assert isinstance(body["message"], str) and body["message"]
    assert body["traceId"] == resp.headers["x-request-id"]


async def test_announced_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        EMAIL,
        content=padded({"personnel_ids": ["1"]}, LIMIT + 1),
        headers={"content-type": "application/json"},
    )
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert str(LIMIT) in resp.json()["message"]


async def test_unauthenticated_body_over_the_limit_is_413(app_client: httpx.AsyncClient) -> None:
    resp = await app_client.post(EMAIL, content=b"x" * (LIMIT * 4))
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


async def test_body_of_exactly_the_limit_is_served(
    client: httpx.AsyncClient, db: Any, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=1)
    body = {"personnel_ids": [str(cast.people["deliverable0"])]}
    headers = {"content-type": "application/json"}
    resp = await client.post(EMAIL, content=padded(body, LIMIT), headers=headers)
    assert resp.status_code == 201, resp.text
    over = await client.post(EMAIL, content=padded(body, LIMIT + 1), headers=headers)
    assert_error(over, 413, "PAYLOAD_TOO_LARGE")


async def _chunks(raw: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    raw = padded({"personnel_ids": ["1"]}, LIMIT * 3)
    resp = await client.post(EMAIL, content=_chunks(raw, 1000), headers={"content-type": "application/json"})
    assert "content-length" not in resp.request.headers  # really streamed
    assert resp.request.headers["transfer-encoding"] == "chunked"
    assert_error(resp, 413, "PAYLOAD_TOO_LARGE")


async def test_chunked_body_within_the_limit_is_served(
    client: httpx.AsyncClient, db: Any, account: AccountFixture
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=1)
    raw = padded({"personnel_ids": [str(cast.people["deliverable0"])]}, LIMIT)
    resp = await client.post(EMAIL, content=_chunks(raw, 1000), headers={"content-type": "application/json"})
    assert resp.status_code == 201, resp.text


@pytest.mark.parametrize("authorization", [None, "Basic abc", "Bearer "])
async def test_body_without_a_key_is_refused_before_it_is_read(
    settings: Settings, authorization: str | None
) -> None:
    """Raw ASGI: the 401 is sent without ``receive`` ever being called (no byte of the body read)."""
    app = create_app(settings, run_background_jobs=False)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": EMAIL,
        "raw_path": EMAIL.encode(),
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("showfloor.test", 80),
    }
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"{" * 1000, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert reads == 0
    assert sent[0]["status"] == 401
    body = json.loads(sent[1]["body"])
    assert body["code"] == 401 and body["errorKey"] == "INVALID_API_KEY"


async def test_wrong_key_with_small_body_is_401(app_client: httpx.AsyncClient) -> None:
    resp = await app_client.post(
        EMAIL, json={"personnel_ids": ["1"]}, headers={"Authorization": "Bearer nope"}
    )
    assert_error(resp, 401, "INVALID_API_KEY")
