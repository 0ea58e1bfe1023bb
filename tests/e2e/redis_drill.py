"""The Redis drill: ``showfloor serve --workers 2`` whose Redis (rate-limit counters) is black-holed, then
refused, then restored, through a real TCP gate in front of the real Redis (tests/integration/redis_gate.py).

Checked: while Redis is away every request is answered (none hangs, none is a 500), the per-key limit still
holds per process (at most 2× the limit with 2 processes, never unlimited), ``/readyz`` stays 200 and says
``degraded``, the degradation is logged once per process (not once per request); once Redis is back the
processes use it again by themselves and the limit is shared again. Used by tests/e2e/test_redis_drill.py
and ``make chaos`` (bench/chaos.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from tests.e2e.drill_support import (
    Report,
    create_database,
    make_accounts,
    start_server,
    stop_process,
    wait_status,
)
from tests.e2e.private_pg import PrivatePostgres
from tests.integration.redis_gate import RedisGate

LIMIT = 10  # per key and window
PROCESSES = 2
RETRY_SECONDS = 0.5
ANSWER_BOUND = 5.0  # a request slower than this counts as hung


async def _burst(base: str, key: str, count: int) -> tuple[list[int], float]:
    """``count`` requests, each on a new connection (so they spread over the processes); their statuses
    and the slowest one's duration."""
    statuses: list[int] = []
    slowest = 0.0
    for _ in range(count):
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(base_url=base, timeout=ANSWER_BOUND) as http:
                resp = await http.get("/external/credits/balance", headers={"Authorization": f"Bearer {key}"})
            statuses.append(resp.status_code)
        except httpx.HTTPError:
            statuses.append(0)  # no answer within the bound
        slowest = max(slowest, time.monotonic() - started)
    return statuses, slowest


async def _readyz(base: str) -> list[dict[str, object]]:
    """A few ``/readyz`` bodies, on new connections (so both processes are likely asked)."""
    bodies = []
    for _ in range(6):
        async with httpx.AsyncClient(base_url=base, timeout=ANSWER_BOUND) as http:
            resp = await http.get("/readyz")
        bodies.append({"status_code": resp.status_code, **resp.json()})
    return bodies


async def _outage_phase(report: Report, base: str, key: str, mode: str) -> None:
    statuses, slowest = await _burst(base, key, 3 * LIMIT)
    ok = statuses.count(200)
    report.step(f"Redis {mode}: {ok} × 200, {statuses.count(429)} × 429, slowest {slowest * 1000:.0f} ms")
    report.check(f"Redis {mode}: every request answered, none a 5xx", all(s in (200, 429) for s in statuses))
    report.check(
        f"Redis {mode}: the per-key limit holds per process (between {LIMIT} and {PROCESSES * LIMIT} allowed)",
        LIMIT <= ok <= PROCESSES * LIMIT,
        f"{ok} allowed",
    )
    bodies = await _readyz(base)
    report.check(
        f"Redis {mode}: /readyz answers 200 and reports Redis degraded",
        all(b["status_code"] == 200 for b in bodies)
        and any(isinstance(b.get("redis"), dict) and b["redis"].get("state") == "degraded" for b in bodies),
        str(bodies[0]),
    )


async def run_redis_drill(report: Report, log_dir: Path | None = None) -> None:
    pg = PrivatePostgres()
    gate = RedisGate()
    proc = None
    db: Database | None = None
    log = (log_dir or pg.dir) / "serve-redis-drill.log"
    try:
        report.step(
            f"private PostgreSQL; serve --workers {PROCESSES}; Redis behind a TCP gate; limit {LIMIT}/key"
        )
        pg.init()
        pg.start()
        url = await create_database(pg, "drill_redis")
        db = Database(make_engine(url, null_pool=True))
        accounts = await make_accounts(db, 4, 100, prefix="redis")
        await gate.set_mode("forward")
        proc, base = start_server(
            url,
            workers=PROCESSES,
            log=log,
            SHOWFLOOR_RATE_LIMIT_ENABLED="true",
            SHOWFLOOR_RATE_LIMIT_PER_KEY=str(LIMIT),
            SHOWFLOOR_REDIS_URL=gate.url(),
            # Generous for a loaded test machine (the default is 100 ms): a slow answer from the healthy
            # Redis must not pass for an outage in the phases that check the limit is shared.
            SHOWFLOOR_REDIS_TIMEOUT_MS="1000",
            SHOWFLOOR_REDIS_RETRY_SECONDS=str(RETRY_SECONDS),
        )
        if not report.check("showfloor serve is ready", await wait_status(base, "/readyz", 200, 120)):
            return
        statuses, _ = await _burst(base, accounts[0].key, LIMIT + 5)
        report.check(
            "Redis up: the limit is shared between the processes",
            statuses.count(200) == LIMIT,
            f"{statuses.count(200)} allowed of {len(statuses)}",
        )

        await gate.set_mode("blackhole")
        await _outage_phase(report, base, accounts[1].key, "black-holed (accepts, never answers)")
        await gate.set_mode("refuse")
        await _outage_phase(report, base, accounts[2].key, "refused (port closed)")

        await gate.set_mode("forward")
        await asyncio.sleep(2 * RETRY_SECONDS)
        await _burst(base, accounts[3].key, 4)  # the first check after the retry interval asks Redis again
        bodies = await _readyz(base)
        report.check(
            "Redis back: /readyz reports it ok again, without a restart",
            all(isinstance(b.get("redis"), dict) and b["redis"].get("state") == "ok" for b in bodies),
            str(bodies),
        )
        statuses, _ = await _burst(base, accounts[3].key, LIMIT + 5)
        report.check(
            "Redis back: the limit is shared again",
            statuses.count(200) == LIMIT - 4,
            f"{statuses.count(200)} allowed after 4 earlier requests",
        )
        lines = log.read_text().splitlines() if log.exists() else []
        started = sum("redis unavailable" in line for line in lines)
        ended = sum("redis answers again" in line for line in lines)
        report.check(
            "the degradation was logged once per process, not per request; its end too",
            1 <= started <= PROCESSES and 1 <= ended <= PROCESSES,
            f"{started} start lines, {ended} end lines",
        )
    finally:
        if proc is not None:
            stop_process(proc)
        await gate.close()
        if db is not None:
            await db.dispose()
        pg.destroy()
