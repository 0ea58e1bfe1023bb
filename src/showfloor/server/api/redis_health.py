"""Whether this process counts rate limits in Redis or, while Redis is unreachable or slow, on its own.

Redis is optional at run time: a refused, reset or timed-out call marks it degraded, and the process
counts in memory (per process, so the effective limit is at most N× the configured one with N
processes; never no limit at all). While degraded, Redis is asked again at most every
``redis_retry_seconds`` (one request pays the timeout, the others go straight to the local counters);
the first answer ends the degradation. The degradation is logged when it starts, at most once per
``redis_degraded_log_seconds`` while it lasts, and when it ends; ``showfloor_redis_degraded`` is 1
meanwhile and ``/readyz`` says so in its body (docs/operations.md, "When Redis misbehaves").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from showfloor.server.metrics import RATE_LIMIT_LOCAL_CHECKS, REDIS_DEGRADED

log = logging.getLogger("showfloor.redis")


class RedisHealth:
    def __init__(
        self,
        retry_seconds: float,
        log_every_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retry = retry_seconds
        self._log_every = log_every_seconds
        self._clock = clock
        self._degraded_since: datetime | None = None
        self._next_try = 0.0
        self._last_log = 0.0
        self._local_checks = 0  # checks counted locally since the last log line
        REDIS_DEGRADED.set(0)

    @property
    def degraded(self) -> bool:
        return self._degraded_since is not None

    def should_try(self) -> bool:
        """Whether this check asks Redis: always while healthy; while degraded, the first check after each
        retry interval (which pushes the next attempt out, so concurrent requests do not all wait)."""
        if self._degraded_since is None:
            return True
        now = self._clock()
        if now < self._next_try:
            return False
        self._next_try = now + self._retry
        return True

    def failed(self, exc: BaseException) -> None:
        now = self._clock()
        self._next_try = now + self._retry
        error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        if self._degraded_since is None:
            self._degraded_since = datetime.now(UTC)
            self._last_log = now
            REDIS_DEGRADED.set(1)
            log.warning(
                "redis unavailable: rate limits are counted per process until it answers",
                extra={"error": error, "retry_seconds": self._retry},
            )
        elif now - self._last_log >= self._log_every:
            self._last_log = now
            log.warning(
                "redis still unavailable: rate limits are counted per process",
                extra={
                    "error": error,
                    "degraded_since": self._degraded_since.isoformat(),
                    "local_checks": self._local_checks,
                },
            )
            self._local_checks = 0

    def counted_locally(self) -> None:
        self._local_checks += 1
        RATE_LIMIT_LOCAL_CHECKS.inc()

    def succeeded(self) -> None:
        if self._degraded_since is None:
            return
        log.warning(
            "redis answers again: rate limits are shared between processes",
            extra={"degraded_since": self._degraded_since.isoformat()},
        )
        self._degraded_since = None
        self._local_checks = 0
        REDIS_DEGRADED.set(0)

    def status(self) -> dict[str, Any]:
        """For ``/readyz``: ``ok``, or ``degraded`` with when it started."""
        if self._degraded_since is None:
            return {"state": "ok", "rateLimits": "shared"}
        return {
            "state": "degraded",
            "rateLimits": "per-process",
            "degradedSince": self._degraded_since.isoformat().replace("+00:00", "Z"),
        }
