"""Wraps any provider to record calls, errors and latency in Prometheus (``/metrics``)."""

from __future__ import annotations

import time

from showfloor.server.metrics import PROVIDER_CALLS, PROVIDER_ERRORS, PROVIDER_LATENCY
from showfloor.server.unlocks.providers.base import LookupResult, Person, Provider, ProviderError


class MeteredProvider:
    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.name = inner.name

    async def lookup(self, person: Person) -> LookupResult:
        started = time.perf_counter()
        try:
            result = await self.inner.lookup(person)
        except ProviderError as exc:
            PROVIDER_ERRORS.labels(self.name, exc.code).inc()
            PROVIDER_CALLS.labels(self.name, "error").inc()
            raise
        finally:
            PROVIDER_LATENCY.labels(self.name).observe(time.perf_counter() - started)
        PROVIDER_CALLS.labels(self.name, result.outcome.value).inc()
        return result

    async def aclose(self) -> None:
        await self.inner.aclose()
