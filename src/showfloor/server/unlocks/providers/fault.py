"""Wraps another provider and injects latency, errors, timeouts and malformed answers (tests, drills).

Decisions are seeded per (seed, person, call number), so a run is reproducible whatever the
interleaving of concurrent lookups.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass

from showfloor.server.unlocks.providers.base import (
    LookupResult,
    PermanentProviderError,
    Person,
    Provider,
    TransientProviderError,
)


@dataclass(frozen=True)
class FaultPlan:
    latency_ms: float = 0.0
    error_rate: float = 0.0  # transient errors
    permanent_rate: float = 0.0
    timeout_rate: float = 0.0  # waits ``timeout_ms`` then fails transiently
    malformed_rate: float = 0.0
    timeout_ms: float = 200.0
    seed: int = 0


class FaultProvider:
    name = "fault"

    def __init__(self, inner: Provider, plan: FaultPlan) -> None:
        self.inner = inner
        self.plan = plan
        self.calls: Counter[int] = Counter()

    async def lookup(self, person: Person) -> LookupResult:
        self.calls[person.personnel_id] += 1
        rng = random.Random(f"{self.plan.seed}:{person.personnel_id}:{self.calls[person.personnel_id]}")
        if self.plan.latency_ms:
            await asyncio.sleep(self.plan.latency_ms / 1000)
        roll = rng.random()
        edge = self.plan.permanent_rate
        if roll < edge:
            raise PermanentProviderError("PROVIDER_REJECTED", "injected permanent error")
        edge += self.plan.error_rate
        if roll < edge:
            raise TransientProviderError("PROVIDER_UNAVAILABLE", "injected transient error")
        edge += self.plan.timeout_rate
        if roll < edge:
            await asyncio.sleep(self.plan.timeout_ms / 1000)
            raise TransientProviderError("PROVIDER_TIMEOUT", "injected timeout")
        edge += self.plan.malformed_rate
        if roll < edge:
            raise TransientProviderError("MALFORMED_RESPONSE", "injected malformed answer")
        return await self.inner.lookup(person)

    async def aclose(self) -> None:
        await self.inner.aclose()
