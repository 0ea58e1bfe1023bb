"""Rate limits: fixed window per API key and per IP, the reference's headers, 429 with Retry-After;
counters shared through Redis between two app instances."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis.asyncio as aioredis

from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from tests.conftest import new_account, test_settings
from tests.integration.test_foundation import assert_error_body

REDIS_URL = os.environ.get("SHOWFLOOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, run_background_jobs=False)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        yield client


async def test_per_key_limit_headers_and_429(db: Database, db_url: str) -> None:
    acct = await new_account(db)
    settings = test_settings(db_url, rate_limit_enabled=True, rate_limit_per_key=3)
    async with serve(settings) as client:
        remaining = []
        for _ in range(3):
            resp = await client.get("/external/credits/balance", headers=acct.headers)
            assert resp.status_code == 200
            assert resp.headers["x-ratelimit-limit"] == "3"
            assert int(resp.headers["x-ratelimit-reset"]) > 1_600_000_000  # unix seconds
            remaining.append(int(resp.headers["x-ratelimit-remaining"]))
        assert remaining == [2, 1, 0]
        refused = await client.get("/external/credits/balance", headers=acct.headers)
        assert_error_body(refused, 429, "RATE_LIMIT_EXCEEDED")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Another key has its own bucket.
        other = await new_account(db, "other")
        assert (await client.get("/external/credits/balance", headers=other.headers)).status_code == 200


async def test_per_ip_limit_applies_across_keys(db: Database, db_url: str) -> None:
    first, second = await new_account(db, "a"), await new_account(db, "b")
    settings = test_settings(db_url, rate_limit_enabled=True, rate_limit_per_ip=2)
    async with serve(settings) as client:
        assert (await client.get("/external/credits/balance", headers=first.headers)).status_code == 200
        assert (await client.get("/external/credits/balance", headers=second.headers)).status_code == 200
        assert_error_body(
            await client.get("/external/credits/balance", headers=first.headers), 429, "RATE_LIMIT_EXCEEDED"
        )


async def _redis_available() -> bool:
    client = aioredis.from_url(REDIS_URL)
    try:
        return bool(await client.ping())
    except OSError:
        return False
    finally:
        await client.aclose()


async def redis_or_skip() -> None:
    if not await _redis_available():
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379 and CI is set")
        pytest.skip("Redis not reachable")


async def test_redis_backed_limit_is_shared_between_instances(db: Database, db_url: str) -> None:
    await redis_or_skip()
    acct = await new_account(db)  # a fresh key: its counter starts at zero in Redis
    settings = test_settings(
        db_url, rate_limit_enabled=True, rate_limit_per_key=3, redis_url=REDIS_URL, redis_timeout_ms=2000
    )
    async with serve(settings) as one, serve(settings) as two:
        assert (await one.get("/external/credits/balance", headers=acct.headers)).status_code == 200
        assert (await two.get("/external/credits/balance", headers=acct.headers)).status_code == 200
        last = await one.get("/external/credits/balance", headers=acct.headers)
        assert last.status_code == 200 and last.headers["x-ratelimit-remaining"] == "0"
        assert_error_body(
            await two.get("/external/credits/balance", headers=acct.headers), 429, "RATE_LIMIT_EXCEEDED"
        )


async def test_redis_keys_carry_the_deployment_prefix(db: Database, db_url: str) -> None:
    await redis_or_skip()
    acct = await new_account(db)
    staging, production = (
        test_settings(
            db_url,
            rate_limit_enabled=True,
            rate_limit_per_key=1,
            redis_url=REDIS_URL,
            redis_timeout_ms=2000,
            redis_key_prefix=prefix,
        )
        for prefix in ("sf-test-staging", "sf-test-production")
    )
    async with serve(staging) as one, serve(production) as two:
        assert (await one.get("/external/credits/balance", headers=acct.headers)).status_code == 200
        # Same key, another deployment: its own counters, so not refused.
        assert (await two.get("/external/credits/balance", headers=acct.headers)).status_code == 200
        assert_error_body(
            await one.get("/external/credits/balance", headers=acct.headers), 429, "RATE_LIMIT_EXCEEDED"
        )
    redis = aioredis.from_url(REDIS_URL)
    try:
        keys = {key.decode() for key in await redis.keys(f"*{acct.key[:19]}*")}
    finally:
        await redis.aclose()
    assert keys and all(key.startswith(("sf-test-staging:", "sf-test-production:")) for key in keys)
    assert {key.split(":", 1)[0] for key in keys} == {"sf-test-staging", "sf-test-production"}


def test_redis_key_prefix_is_validated() -> None:
    with pytest.raises(ValueError, match="redis_key_prefix"):
        Settings(redis_key_prefix="has space*")
