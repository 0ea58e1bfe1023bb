"""An operator-configured enrichment service over HTTP (request/response documented in docs/unlocks.md).

``POST <url>`` with JSON ``{"kind", "personnel_id", "full_name", "company_name", "title", "linkedin_url"}``;
the answer is ``200`` with ``{"outcome": "delivered"|"no_email"|"ineligible", "value": str|null}``.
Timeouts, connection errors, 429 and 5xx are transient (retried here ``retries`` times, then by the
worker); other 4xx are permanent; an answer that does not parse is transient ``MALFORMED_RESPONSE``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from showfloor.server.unlocks.providers.base import (
    LookupResult,
    Outcome,
    PermanentProviderError,
    Person,
    TransientProviderError,
)


class HttpProvider:
    name = "http"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout_seconds: float = 10.0,
        retries: int = 1,
        retry_delay_seconds: float = 0.2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url
        self.retries = retries
        self.retry_delay_seconds = retry_delay_seconds
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), headers=headers, transport=transport
        )

    async def lookup(self, person: Person) -> LookupResult:
        attempt = 0
        while True:
            try:
                return await self._once(person)
            except TransientProviderError:
                if attempt >= self.retries:
                    raise
                attempt += 1
                await asyncio.sleep(self.retry_delay_seconds * attempt)

    async def _once(self, person: Person) -> LookupResult:
        payload = {
            "kind": person.kind,
            "personnel_id": str(person.personnel_id),
            "full_name": person.full_name,
            "company_name": person.company_name,
            "title": person.title,
            "linkedin_url": person.linkedin_url,
        }
        try:
            response = await self._client.post(self.url, json=payload)
        except httpx.TimeoutException as exc:
            raise TransientProviderError("PROVIDER_TIMEOUT", str(exc)) from exc
        except httpx.HTTPError as exc:
            raise TransientProviderError("PROVIDER_UNAVAILABLE", str(exc)) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientProviderError("PROVIDER_UNAVAILABLE", f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise PermanentProviderError("PROVIDER_REJECTED", f"HTTP {response.status_code}")
        try:
            body: Any = response.json()
        except ValueError as exc:
            raise TransientProviderError("MALFORMED_RESPONSE", "answer is not JSON") from exc
        return parse_answer(body)

    async def aclose(self) -> None:
        await self._client.aclose()


def parse_answer(body: Any) -> LookupResult:
    if not isinstance(body, dict):
        raise TransientProviderError("MALFORMED_RESPONSE", "answer is not a JSON object")
    try:
        outcome = Outcome(str(body.get("outcome")))
    except ValueError as exc:
        raise TransientProviderError(
            "MALFORMED_RESPONSE", f"unknown outcome {body.get('outcome')!r}"
        ) from exc
    value = body.get("value")
    if outcome is Outcome.DELIVERED and (not isinstance(value, str) or not value.strip()):
        raise TransientProviderError("MALFORMED_RESPONSE", "delivered without a value")
    return LookupResult(
        outcome, value.strip() if outcome is Outcome.DELIVERED and isinstance(value, str) else None
    )
