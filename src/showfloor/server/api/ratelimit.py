"""Fixed-window rate limits per API key and per client IP, with the reference's headers.

Counters live in memory (embedded default) or in Redis when ``SHOWFLOOR_REDIS_URL`` is set, so that
several server processes share one limit. The ``limits`` library does the counting.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

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


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        uri = "async+memory://"
        if settings.redis_url:
            uri = "async+" + settings.redis_url
        self._storage = storage_from_string(uri)
        self._limiter = FixedWindowRateLimiter(self._storage)
        window = settings.rate_limit_window_seconds
        self._window = window
        self._per_key: RateLimitItem = RateLimitItemPerSecond(settings.rate_limit_per_key, window)
        self._per_ip: RateLimitItem = RateLimitItemPerSecond(settings.rate_limit_per_ip, window)

    async def _hit(self, item: RateLimitItem, *identifiers: str) -> Verdict:
        allowed = await self._limiter.hit(item, *identifiers)
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return Verdict(allowed, item.amount, max(0, stats.remaining), stats.reset_time)

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
        result = self._storage.reset()
        if result is not None and not isinstance(result, int):
            await result

    def _retry_after(self, verdict: Verdict) -> int:
        return min(self._window, max(1, math.ceil(verdict.reset_at - time.time())))
