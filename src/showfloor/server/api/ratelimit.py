"""Fixed-window rate limits per API key and per client IP, with the reference's headers.

Counters live in memory (embedded default) or in Redis when ``SHOWFLOOR_REDIS_URL`` is set, so that
several server processes share one limit. The ``limits`` library does the counting. Every Redis check
is bounded by ``SHOWFLOOR_REDIS_TIMEOUT_MS``; when Redis refuses, fails or is slow the check is counted
in this process's memory instead (``redis_health.py``): the API keeps answering, with per-process limits.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from showfloor.server.api.redis_health import RedisHealth
from showfloor.server.config import Settings
from showfloor.server.errors import RateLimited


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # unix seconds

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


# What a failing or slow Redis raises through ``limits`` (``wrap_exceptions``) or ``wait_for``.
REDIS_TROUBLE = (StorageError, OSError, TimeoutError)


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self._local = FixedWindowRateLimiter(storage_from_string("async+memory://"))
        self._shared: FixedWindowRateLimiter | None = None
        self.redis: RedisHealth | None = None
        if settings.redis_url:
            shared = storage_from_string(
                "async+" + settings.redis_url, wrap_exceptions=True, key_prefix=settings.redis_key_prefix
            )
            self._shared = FixedWindowRateLimiter(shared)
            self.redis = RedisHealth(settings.redis_retry_seconds, settings.redis_degraded_log_seconds)
        self._timeout = settings.redis_timeout_ms / 1000
        window = settings.rate_limit_window_seconds
        self._window = window
        self._per_key: RateLimitItem = RateLimitItemPerSecond(settings.rate_limit_per_key, window)
        self._per_ip: RateLimitItem = RateLimitItemPerSecond(settings.rate_limit_per_ip, window)

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> Verdict:
        if self._shared is not None and self.redis is not None:
            if self.redis.should_try():
                try:
                    verdict = await asyncio.wait_for(
                        self._count(self._shared, item, identifiers), self._timeout
                    )
                except REDIS_TROUBLE as exc:
                    self.redis.failed(exc)
                else:
                    self.redis.succeeded()
                    return verdict
            self.redis.counted_locally()
        return await self._count(self._local, item, identifiers)

    @staticmethod
    async def _count(
        limiter: FixedWindowRateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]
    ) -> Verdict:
        allowed = await limiter.hit(item, *identifiers)
        stats = await limiter.get_window_stats(item, *identifiers)
        return Verdict(allowed, item.amount, max(0, stats.remaining), stats.reset_time)

    async def redis_status(self) -> dict[str, Any] | None:
        """Redis's state for ``/readyz`` (``None`` without Redis). While degraded and past the retry interval,
        Redis is asked first (a read of one counter), so a process without traffic recovers too."""
        if self._shared is None or self.redis is None:
            return None
        if self.redis.degraded and self.redis.should_try():
            try:
                await asyncio.wait_for(self._shared.storage.get("probe"), self._timeout)
            except REDIS_TROUBLE as exc:
                self.redis.failed(exc)
            else:
                self.redis.succeeded()
        return self.redis.status()

    async def check_ip(self, ip: str) -> None:
        verdict = await self._hit(self._per_ip, "ip", ip)
        if not verdict.allowed:
            raise RateLimited(retry_after=self._retry_after(verdict), headers=verdict.headers())

    async def check_key(self, key_prefix: str) -> Verdict:
        verdict = await self._hit(self._per_key, "key", key_prefix)
        if not verdict.allowed:
            raise RateLimited(retry_after=self._retry_after(verdict), headers=verdict.headers())
        return verdict

    async def reset(self) -> None:
        result = (self._shared or self._local).storage.reset()
        if result is not None and not isinstance(result, int):
            await result

    def _retry_after(self, verdict: Verdict) -> int:
        return min(self._window, max(1, math.ceil(verdict.reset_at - time.time())))
