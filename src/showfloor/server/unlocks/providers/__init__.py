"""Enrichment providers behind one interface; ``build_provider(settings)`` picks the configured one."""

from __future__ import annotations

from showfloor.server.config import Settings
from showfloor.server.unlocks.providers.base import (
    LookupResult,
    Outcome,
    PermanentProviderError,
    Person,
    Provider,
    ProviderError,
    TransientProviderError,
)
from showfloor.server.unlocks.providers.dataset import DatasetProvider
from showfloor.server.unlocks.providers.fault import FaultPlan, FaultProvider
from showfloor.server.unlocks.providers.http import HttpProvider
from showfloor.server.unlocks.providers.metered import MeteredProvider

__all__ = [
    "DatasetProvider",
    "FaultPlan",
    "FaultProvider",
    "HttpProvider",
    "LookupResult",
    "MeteredProvider",
    "Outcome",
    "PermanentProviderError",
    "Person",
    "Provider",
    "ProviderError",
    "TransientProviderError",
    "build_provider",
]


def _plain(name: str, settings: Settings) -> Provider:
    if name == "http":
        if not settings.unlock_http_url:
            raise ValueError("SHOWFLOOR_UNLOCK_HTTP_URL is required for the http provider")
        return HttpProvider(
            settings.unlock_http_url,
            token=settings.unlock_http_token,
            timeout_seconds=settings.unlock_http_timeout_seconds,
            retries=settings.unlock_http_retries,
        )
    return DatasetProvider()


def build_provider(settings: Settings, name: str | None = None) -> Provider:
    """The configured provider, metered (calls, errors, latency at ``/metrics``)."""
    return MeteredProvider(_configured(settings, name or settings.unlock_provider))


def _configured(settings: Settings, name: str) -> Provider:
    if name != "fault":
        return _plain(name, settings)
    plan = FaultPlan(
        latency_ms=settings.unlock_fault_latency_ms,
        error_rate=settings.unlock_fault_error_rate,
        permanent_rate=settings.unlock_fault_permanent_rate,
        timeout_rate=settings.unlock_fault_timeout_rate,
        malformed_rate=settings.unlock_fault_malformed_rate,
        seed=settings.unlock_fault_seed,
    )
    return FaultProvider(_plain(settings.unlock_fault_inner, settings), plan)
