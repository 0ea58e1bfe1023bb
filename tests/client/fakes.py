"""A scripted fake of the network for unit tests of the request core (``httpx.MockTransport``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from showfloor.client import AsyncClient, Client, RetryPolicy

Reply = httpx.Response | Exception
Handler = Callable[[httpx.Request], Reply]

FAST = RetryPolicy(max_retries=3, initial_delay=0.5, max_delay=8.0)


def error(
    status: int, key: str, message: str = "nope", trace: str = "trace-1", **details: Any
) -> httpx.Response:
    body: dict[str, Any] = {"code": status, "message": message, "errorKey": key, "traceId": trace}
    if details:
        body["details"] = details
    return httpx.Response(status, json=body)


class Script:
    """Answers requests in order from ``replies`` (the last one repeats); records every request."""

    def __init__(self, *replies: Reply | Handler) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        index = min(len(self.requests), len(self.replies) - 1)
        self.requests.append(request)
        reply = self.replies[index]
        if callable(reply) and not isinstance(reply, httpx.Response):
            reply = reply(request)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


def sync_client(script: Script, sleeps: list[float], policy: RetryPolicy = FAST) -> Client:
    client = Client("sk_test", "http://showfloor.test", retry=policy, transport=httpx.MockTransport(script))
    client._driver.sleep = sleeps.append
    return client


def async_client(script: Script, sleeps: list[float], policy: RetryPolicy = FAST) -> AsyncClient:
    client = AsyncClient(
        "sk_test", "http://showfloor.test", retry=policy, transport=httpx.MockTransport(script)
    )

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    client._driver.sleep = record
    return client
