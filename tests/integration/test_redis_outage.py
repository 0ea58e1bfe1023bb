"""Redis is optional at run time (issue 15): refused, black-holed and restored Redis, with real sockets.

Each request must answer (a hang guard, not a timing assertion: before the fix a black-holed Redis
hung every request) and the limits must still hold, per process, while Redis is away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.metrics import RATE_LIMIT_LOCAL_CHECKS, REDIS_DEGRADED
from tests.conftest import AccountFixture, new_account, test_settings
from tests.integration.redis_gate import RedisGate, closed_port
from tests.integration.test_foundation import assert_error_body
from tests.integration.test_rate_limit import redis_or_skip, serve

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # the limiter does not touch the database

HANG_GUARD = 10.0  # seconds; a request that takes this long is hung, not slow


@pytest.fixture
async def gate() -> AsyncIterator[RedisGate]:
    gate = RedisGate()
    yield gate
    await gate.close()


def outage_settings(db_url: str, redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "rate_limit_enabled": True,
        "rate_limit_per_key": 3,
        "redis_url": redis_url,
        "redis_timeout_ms": 50,
        "redis_retry_seconds": 0,  # ask Redis again on every check: recovery shows on the next request
    }
    values.update(overrides)
    return test_settings(db_url, **values)


async def get_balance(client: httpx.AsyncClient, acct: AccountFixture) -> httpx.Response:
    return await asyncio.wait_for(client.get("/external/credits/balance", headers=acct.headers), HANG_GUARD)


async def assert_limit_holds_locally(client: httpx.AsyncClient, acct: AccountFixture) -> None:
    remaining = []
    for _ in range(3):
        resp = await get_balance(client, acct)
        assert resp.status_code == 200, resp.text
        remaining.append(resp.headers["x-ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    assert_error_body(await get_balance(client, acct), 429, "RATE_LIMIT_EXCEEDED")


async def test_refused_redis_serves_with_per_process_limits(
    db: Database, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    acct = await new_account(db)
    local_before = RATE_LIMIT_LOCAL_CHECKS._value.get()
    caplog.set_level(logging.WARNING, logger="showfloor.redis")
    async with serve(outage_settings(db_url, f"redis://127.0.0.1:{closed_port()}/0")) as client:
        await assert_limit_holds_locally(client, acct)
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ready"
        assert body["redis"]["state"] == "degraded" and body["redis"]["rateLimits"] == "per-process"
        assert REDIS_DEGRADED._value.get() == 1
    assert RATE_LIMIT_LOCAL_CHECKS._value.get() >= local_before + 8  # ip + key check of 4 requests
    # Eight failed attempts, one log line: the degradation is logged once per interval.
    lines = [r for r in caplog.records if r.name == "showfloor.redis"]
    assert [r.getMessage() for r in lines] == [
        "redis unavailable: rate limits are counted per process until it answers"
    ]


async def test_black_holed_redis_answers_within_the_timeout(
    db: Database, db_url: str, gate: RedisGate
) -> None:
    await gate.set_mode("blackhole")
    acct = await new_account(db)
    async with serve(outage_settings(db_url, gate.url())) as client:
        await assert_limit_holds_locally(client, acct)
        other = await new_account(db, "other")  # its own bucket, locally too
        assert (await get_balance(client, other)).status_code == 200
        body = (await client.get("/readyz")).json()
        assert body["redis"]["state"] == "degraded"


async def test_restored_redis_is_used_again_and_shared(db: Database, db_url: str, gate: RedisGate) -> None:
    await redis_or_skip()
    await gate.set_mode("blackhole")
    acct = await new_account(db)
    # A timeout generous enough that the real Redis, once back, always answers within it.
    settings = outage_settings(db_url, gate.url(), redis_timeout_ms=1000)
    async with serve(settings) as one, serve(settings) as two:
        assert (await get_balance(one, acct)).status_code == 200
        assert (await one.get("/readyz")).json()["redis"]["state"] == "degraded"
        await gate.set_mode("refuse")
        assert (await get_balance(one, acct)).status_code == 200
        assert REDIS_DEGRADED._value.get() == 1

        await gate.set_mode("forward")  # Redis is back on the same address
        fresh = await new_account(db, "fresh")  # a counter that starts at zero in Redis
        assert (await get_balance(one, fresh)).headers["x-ratelimit-remaining"] == "2"
        assert (await one.get("/readyz")).json()["redis"] == {"state": "ok", "rateLimits": "shared"}
        # Shared again: the second process sees the first one's count.
        assert (await get_balance(two, fresh)).headers["x-ratelimit-remaining"] == "1"
        assert (await get_balance(one, fresh)).headers["x-ratelimit-remaining"] == "0"
        assert_error_body(await get_balance(two, fresh), 429, "RATE_LIMIT_EXCEEDED")
        assert REDIS_DEGRADED._value.get() == 0
