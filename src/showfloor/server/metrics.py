"""Prometheus metrics.

Two kinds: counters/histograms kept in-process (request latency, provider calls, credits charged, counted
where the charge commits), and gauges read from the database at scrape time from unfinished work only
(holds outstanding, task items by state), which are therefore the same whichever process answers. With
several server processes set ``PROMETHEUS_MULTIPROC_DIR`` so the in-process series are merged across them.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client import multiprocess as prom_multiprocess
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.after_commit import after_commit
from showfloor.server.models import CreditHold, UnlockTask, UnlockTaskItem

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUEST_LATENCY = Histogram(
    "showfloor_http_request_duration_seconds",
    "HTTP request latency by route template, method and status.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
PROVIDER_CALLS = Counter(
    "showfloor_provider_calls_total",
    "Enrichment provider calls by provider and outcome.",
    ["provider", "outcome"],
)
PROVIDER_ERRORS = Counter(
    "showfloor_provider_errors_total",
    "Enrichment provider errors by provider and kind.",
    ["provider", "kind"],
)
PROVIDER_LATENCY = Histogram(
    "showfloor_provider_latency_seconds",
    "Enrichment provider call latency.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)

# Maintained where charges commit, never computed by scanning the ledger (docs/operations.md, "Metrics").
CREDITS_CHARGED = Counter(
    "showfloor_credits_charged",
    "Credits charged by this process since it started, by business code and call source: a debit when its "
    "transaction commits; a contact unlock task's captures when the task closes.",
    ["business_code", "call_source"],
)

# Database-derived gauges, refreshed on every scrape (unfinished work only, never the ledger).
HOLDS_OUTSTANDING = Gauge(
    "showfloor_credit_holds_outstanding",
    "Credits held by open holds (reserved for unfinished asynchronous work).",
    multiprocess_mode="mostrecent",
)
HOLDS_OPEN = Gauge("showfloor_credit_holds_open", "Open credit holds.", multiprocess_mode="mostrecent")
TASK_ITEMS = Gauge(
    "showfloor_unlock_task_items",
    "Contact unlock task items by kind and state.",
    ["kind", "state"],
    multiprocess_mode="mostrecent",
)

# Redis (rate-limit counters) health, per process (src/showfloor/server/api/redis_health.py).
REDIS_DEGRADED = Gauge(
    "showfloor_redis_degraded",
    "1 while this process cannot use Redis and counts rate limits on its own.",
    multiprocess_mode="livemax",
)
RATE_LIMIT_LOCAL_CHECKS = Counter(
    "showfloor_rate_limit_local_checks_total",
    "Rate-limit checks counted in process memory because Redis was unavailable or slow.",
)

# Modules that own other database-derived gauges register a refresher here (e.g. unlock tasks).
GaugeRefresher = Callable[[AsyncSession], Awaitable[None]]
GAUGE_REFRESHERS: list[GaugeRefresher] = []


def count_charge(
    session: AsyncSession, business_code: str | None, call_source: str | None, credits: int
) -> None:
    """Count ``credits`` in ``showfloor_credits_charged`` once the session's transaction commits."""
    if credits > 0:
        labels = CREDITS_CHARGED.labels(business_code or "", call_source or "api")
        after_commit(session, lambda: labels.inc(credits))


async def refresh_ledger_gauges(session: AsyncSession) -> None:
    outstanding, open_count = (
        await session.execute(
            select(
                func.coalesce(func.sum(CreditHold.amount - CreditHold.captured - CreditHold.released), 0),
                func.count(CreditHold.id),
            ).where(CreditHold.state == "open")
        )
    ).one()
    HOLDS_OUTSTANDING.set(float(outstanding))
    HOLDS_OPEN.set(float(open_count))


async def refresh_task_gauges(session: AsyncSession) -> None:
    rows = await session.execute(
        select(UnlockTask.kind, UnlockTaskItem.status, func.count(UnlockTaskItem.id))
        .join(UnlockTask, UnlockTask.id == UnlockTaskItem.task_id)
        .where(UnlockTaskItem.status.in_(("pending", "processing")))
        .group_by(UnlockTask.kind, UnlockTaskItem.status)
    )
    TASK_ITEMS.clear()
    for kind in ("email", "phone"):
        for state in ("pending", "processing"):
            TASK_ITEMS.labels(kind, state).set(0)
    for kind, state, count in rows:
        TASK_ITEMS.labels(kind, state).set(float(count))


GAUGE_REFRESHERS.extend([refresh_ledger_gauges, refresh_task_gauges])


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def render() -> bytes:
    return generate_latest(_registry())


def serve_in_thread(host: str, port: int) -> None:
    """``/metrics`` of a process without an HTTP API (``showfloor worker --metrics-port``): its in-process
    series (provider calls, charges counted at task close), from a daemon thread."""
    start_http_server(port, addr=host, registry=_registry())
