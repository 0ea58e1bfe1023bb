"""Records every (operation, response) of a scenario and checks each against the published contract.

The scenario names the path template of each call (``/external/events/{id}``) so the check finds
the documented operation without guessing from a concrete URL. Problems are collected, not raised,
so one run lists every non-conformance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.contract.spec import response_problems

# Our documented additions (docs/compatibility.md, "Additions" and "Conformance and fuzzing"):
# a paid request that carried an ``Idempotency-Key`` may answer these beyond the documented statuses.
IDEMPOTENCY_ADDITIONS = {409: "IDEMPOTENCY_KEY_IN_USE", 422: "IDEMPOTENCY_KEY_REUSED"}


@dataclass
class Call:
    method: str
    template: str
    response: httpx.Response


@dataclass
class Recorder:
    client: httpx.AsyncClient
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def call(
        self,
        method: str,
        template: str,
        expect: int,
        *,
        path: dict[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send, record, and note a problem when the status is not the one the scenario meant to produce."""
        url = template.format(**(path or {}))
        response = await (client or self.client).request(method.upper(), url, **kwargs)
        self.record(method, template, response)
        if response.status_code != expect:
            self.problems.append(
                f"scenario: {method.upper()} {url} answered {response.status_code}, expected {expect}: "
                f"{response.text[:300]}"
            )
        return response

    def record(self, method: str, template: str, response: httpx.Response) -> None:
        self.calls.append(Call(method.lower(), template, response))

    def conformance_problems(self) -> list[str]:
        found: list[str] = []
        for call in self.calls:
            if _is_idempotency_addition(call.response):
                continue
            found += response_problems(call.method, call.template, call.response)
        return found

    def exercised(self, *, success_only: bool) -> set[tuple[str, str]]:
        return {
            (c.method, c.template)
            for c in self.calls
            if not success_only or 200 <= c.response.status_code < 300
        }

    def statuses(self) -> dict[tuple[str, str], set[int]]:
        seen: dict[tuple[str, str], set[int]] = {}
        for c in self.calls:
            seen.setdefault((c.method, c.template), set()).add(c.response.status_code)
        return seen


def _is_idempotency_addition(response: httpx.Response) -> bool:
    """The one documented exception: idempotency-key errors, only on requests that sent a key."""
    key = IDEMPOTENCY_ADDITIONS.get(response.status_code)
    if key is None or "Idempotency-Key" not in response.request.headers:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("errorKey") == key and body.get("code") == response.status_code
