"""JSON logs: one line per request with request id, account and API key prefix — never the key."""

from __future__ import annotations

import io
import json
import logging

import httpx

from showfloor.server.logging import JsonFormatter
from tests.conftest import AccountFixture


async def test_request_log_line_is_json_with_context_and_no_secret(
    client: httpx.AsyncClient, account: AccountFixture
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("showfloor.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        resp = await client.get("/external/credits/balance")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [line] = [entry for entry in lines if entry.get("path") == "/external/credits/balance"]
    assert line["request_id"] == resp.headers["x-request-id"]
    assert line["account_id"] == account.id
    assert account.key.startswith(line["key_prefix"] + "_")
    assert line["status"] == 200 and line["route"] == "/external/credits/balance"
    assert account.key not in stream.getvalue()
