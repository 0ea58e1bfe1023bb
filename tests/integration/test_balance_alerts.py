"""Balance alerts on both backends (issue 19, item 2; docs/spend-controls.md): ``dropped`` below a
threshold, ``depleted`` at zero, ``recovered`` back, once per crossing; evaluated in the transaction of
every balance change; a model drives random sequences; concurrency on PostgreSQL never fires twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.errors import InsufficientCredits, InvalidRequest
from showfloor.server.ledger import alerts, service
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import LedgerOperation, OutboxEvent
from tests.conftest import AccountFixture, Databases, new_account
from tests.e2e.test_worker_crash import submit_batch
from tests.integration import diff_support as ds
from tests.integration.unlock_support import drain, seed_cast

T0 = datetime(2030, 1, 1, tzinfo=UTC)
Alert = tuple[str, int, int]  # (alert, threshold, available balance)


async def grant(db: Database, account_id: int, amount: int, key: str, expires: datetime | None = None) -> int:
    bucket = "gift" if expires is None else "addon"
    async with db.write() as session:
        return await service.grant(
            session, account_id, bucket, amount, expires_at=expires, op_key=key, now=T0
        )


async def set_alerts(db: Database, account_id: int, *thresholds: int) -> dict[str, object]:
    async with db.write() as session:
        return alerts.alerts_body(await alerts.set_thresholds(session, account_id, list(thresholds), T0))


async def debit(db: Database, account_id: int, amount: int, key: str) -> None:
    async with db.write() as session:
        await service.debit(session, service.ChargeContext(account_id), amount, key, now=T0)


async def hold(db: Database, account_id: int, amount: int, key: str) -> int:
    async with db.write() as session:
        return (await service.hold(session, service.ChargeContext(account_id), amount, key, now=T0)).hold_id


async def release(db: Database, hold_id: int, amount: int | None, key: str) -> None:
    async with db.write() as session:
        await service.release(session, hold_id, amount, key, now=T0)


async def fired(db: Database, account_id: int) -> list[Alert]:
    async with db.read() as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.account_id == account_id, OutboxEvent.type == "credits.balance_alert")
            .order_by(OutboxEvent.id)
        )
        return [(e.payload["alert"], e.payload["threshold"], e.payload["availableBalance"]) for e in rows]


async def test_dropped_depleted_and_recovered_fire_once_per_crossing(db: Database) -> None:
    acct = await new_account(db)
    await grant(db, acct.id, 2000, "g1")
    body = await set_alerts(db, acct.id, 500, 1000, 500)
    assert body == {
        "thresholds": [1000, 500],
        "alerts": [
            {"threshold": 1000, "kind": "threshold", "state": "ok"},
            {"threshold": 500, "kind": "threshold", "state": "ok"},
            {"threshold": 0, "kind": "depleted", "state": "ok"},
        ],
    }
    await debit(db, acct.id, 1200, "d1")  # 800
    await debit(db, acct.id, 300, "d2")  # 500: not below 500
    await debit(db, acct.id, 1, "d3")  # 499
    await debit(db, acct.id, 9, "d4")  # 490: still below, nothing new
    held = await hold(db, acct.id, 490, "h1")  # 0: a hold takes from the available balance
    await release(db, held, 100, "r1")  # 100
    await grant(db, acct.id, 2000, "g2")  # 2100
    assert await fired(db, acct.id) == [
        ("dropped", 1000, 800),
        ("dropped", 500, 499),
        ("depleted", 0, 0),
        ("recovered", 0, 100),
        ("recovered", 500, 2100),
        ("recovered", 1000, 2100),
    ]
    async with db.read() as session:
        states = alerts.alerts_body(await alerts.list_alerts(session, acct.id))
    assert [a["state"] for a in states["alerts"]] == ["ok", "ok", "ok"]  # type: ignore[index]


async def test_one_change_crossing_several_thresholds_fires_each_highest_first(db: Database) -> None:
    acct = await new_account(db)
    await grant(db, acct.id, 1000, "g1")
    await set_alerts(db, acct.id, 800, 300)
    await debit(db, acct.id, 1000, "d1")
    assert await fired(db, acct.id) == [("dropped", 800, 0), ("dropped", 300, 0), ("depleted", 0, 0)]


async def test_expiry_void_and_refund_are_evaluated(db: Database) -> None:
    acct = await new_account(db)
    expiring = await grant(db, acct.id, 600, "g1", expires=T0 + timedelta(days=1))
    voided = await grant(db, acct.id, 300, "g2")
    await grant(db, acct.id, 100, "g3")
    await set_alerts(db, acct.id, 500)
    async with db.write() as session:
        await service.void_grant(session, voided, "v1")  # 700
        await service.debit(session, service.ChargeContext(acct.id), 150, "d1", now=T0)  # 550
    later = T0 + timedelta(days=2)
    async with db.write() as session:
        await service.expire_due(session, later)  # the addon's 450 left go: 100
    assert await fired(db, acct.id) == [("dropped", 500, 100)]
    async with db.write() as session:
        op_id = await session.scalar(select(LedgerOperation.id).where(LedgerOperation.op_key == "d1"))
        assert op_id is not None
        await service.refund(session, op_id, 150, "f1")  # 250 (the refund reads the wall clock)
        await service.debit(session, service.ChargeContext(acct.id), 250, "d2")  # 0
    assert await fired(db, acct.id) == [("dropped", 500, 100), ("depleted", 0, 0)]
    assert expiring


async def test_thresholds_are_replaced_and_cleared(db: Database) -> None:
    acct = await new_account(db)
    await grant(db, acct.id, 100, "g1")
    body = await set_alerts(db, acct.id, 1000)  # starts low: no event for the state it starts in
    assert body["alerts"] == [
        {"threshold": 1000, "kind": "threshold", "state": "low"},
        {"threshold": 0, "kind": "depleted", "state": "ok"},
    ]
    await set_alerts(db, acct.id, 1000, 50)  # 1000 keeps its state
    await grant(db, acct.id, 2000, "g2")
    assert await fired(db, acct.id) == [("recovered", 1000, 2100)]
    assert await set_alerts(db, acct.id) == {"thresholds": [], "alerts": []}
    await debit(db, acct.id, 2100, "d1")
    assert len(await fired(db, acct.id)) == 1
    for bad in ([0], [-5], [10**13], list(range(1, 30))):
        with pytest.raises(InvalidRequest):
            await set_alerts(db, acct.id, *bad)


# -- the model ------------------------------------------------------------------------------------------


def model_alerts(thresholds: list[int], start: int, steps: list[tuple[str, int]]) -> list[Alert]:
    """What the alerts should be: an independent model of the available balance and each alert's
    state. Steps: ("grant", n), ("debit", n), ("hold", n), ("release", hold index)."""
    balance, holds, out = start, [], []
    levels = [*sorted(set(thresholds), reverse=True), 0]

    def low(level: int, value: int) -> bool:
        return value <= 0 if level == 0 else value < level

    state = {level: low(level, balance) for level in levels}
    for kind, n in steps:
        before = balance
        if kind == "grant":
            balance += n
        elif kind in ("debit", "hold") and n <= balance:
            balance -= n
            if kind == "hold":
                holds.append(n)
        elif kind == "release" and n < len(holds) and holds[n] > 0:
            balance += holds[n]
            holds[n] = 0
        if balance == before:
            continue
        order = levels if balance < before else list(reversed(levels))
        for level in order:
            if low(level, balance) != state[level]:
                state[level] = low(level, balance)
                name = ("depleted" if level == 0 else "dropped") if state[level] else "recovered"
                out.append((name, level, balance))
    return out


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(1, 400)),
        st.tuples(st.sampled_from(["debit", "hold"]), st.integers(1, 400)),
        st.tuples(st.just("release"), st.integers(0, 5)),
    ),
    max_size=25,
)


@pytest.fixture
async def model_db(databases: Databases, backend: str) -> AsyncIterator[Database]:
    db = ds.open_database(await databases.url(backend))
    yield db
    await db.dispose()


def test_alerts_follow_the_model(model_db: Database) -> None:
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:

        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(
            thresholds=st.lists(st.integers(1, 600), min_size=1, max_size=4),
            start=st.integers(0, 600),
            steps=STEPS,
        )
        def run(thresholds: list[int], start: int, steps: list[tuple[str, int]]) -> None:
            got = runner.run(_run(model_db, thresholds, start, steps))
            assert got == model_alerts(thresholds, start, steps)

        try:
            run()
        finally:
            runner.run(ds.wipe(model_db))


async def _run(db: Database, thresholds: list[int], start: int, steps: list[tuple[str, int]]) -> list[Alert]:
    await ds.wipe(db)
    acct = await new_account(db)
    if start:
        await grant(db, acct.id, start, "start")
    await set_alerts(db, acct.id, *thresholds)
    holds: list[int] = []
    for n, (kind, amount) in enumerate(steps):
        try:
            if kind == "grant":
                await grant(db, acct.id, amount, f"g{n}")
            elif kind == "debit":
                await debit(db, acct.id, amount, f"d{n}")
            elif kind == "hold":
                holds.append(await hold(db, acct.id, amount, f"h{n}"))
            elif amount < len(holds):
                await release(db, holds[amount], None, f"r{n}")
        except InsufficientCredits:
            pass
        except service.Conflict:  # a hold already released in full
            pass
    return await fired(db, acct.id)


# -- concurrency on PostgreSQL ---------------------------------------------------------------------------


async def test_concurrent_spends_and_releases_fire_each_crossing_once(pg_db: Database) -> None:
    acct = await new_account(pg_db)
    await grant(pg_db, acct.id, 2000, "g1")
    await set_alerts(pg_db, acct.id, 1500, 1000, 500)
    holds = await asyncio.gather(*(hold(pg_db, acct.id, 50, f"h{n}") for n in range(40)))  # to 0
    dropped = await fired(pg_db, acct.id)
    assert [(a, t) for a, t, _ in dropped] == [
        ("dropped", 1500),
        ("dropped", 1000),
        ("dropped", 500),
        ("depleted", 0),
    ]
    # Releases settle under the hold lock and a shared account lock: the alert rows serialize them.
    await asyncio.gather(*(release(pg_db, h, None, f"r{n}") for n, h in enumerate(holds)))
    recovered = (await fired(pg_db, acct.id))[4:]
    assert [(a, t) for a, t, _ in recovered] == [
        ("recovered", 0),
        ("recovered", 500),
        ("recovered", 1000),
        ("recovered", 1500),
    ]
    assert [b for _, _, b in recovered] == sorted(b for _, _, b in recovered)

    async def one_debit(n: int) -> None:
        with contextlib.suppress(InsufficientCredits):
            await debit(pg_db, acct.id, 50, f"d{n}")

    await asyncio.gather(*(one_debit(n) for n in range(50)))  # 40 succeed, 10 refused
    again = (await fired(pg_db, acct.id))[8:]
    assert [(a, t) for a, t, _ in again] == [
        ("dropped", 1500),
        ("dropped", 1000),
        ("dropped", 500),
        ("depleted", 0),
    ]
    async with pg_db.read() as session:
        assert await reconcile(session, now=T0) == []


# -- the API ---------------------------------------------------------------------------------------------


async def test_alerts_api(client: httpx.AsyncClient, account: AccountFixture, db: Database) -> None:
    assert (await client.get("/external/credits/alerts")).json() == {"thresholds": [], "alerts": []}
    put = await client.put("/external/credits/alerts", json={"thresholds": [500, 2000]})
    assert put.status_code == 200
    assert put.json()["thresholds"] == [2000, 500]
    got = (await client.get("/external/credits/alerts")).json()
    assert got == put.json()
    assert [a["state"] for a in got["alerts"]] == ["low", "low", "low"]  # no credits yet
    other = await new_account(db, "other")
    theirs = await client.get("/external/credits/alerts", headers=other.headers)
    assert theirs.json() == {"thresholds": [], "alerts": []}
    cleared = await client.put("/external/credits/alerts", json={"thresholds": []})
    assert cleared.json() == {"thresholds": [], "alerts": []}


@pytest.mark.parametrize(
    "body",
    [
        {"thresholds": [0]},
        {"thresholds": [-1]},
        {"thresholds": ["100"]},
        {"thresholds": [True]},
        {"thresholds": [1.5]},
        {"thresholds": list(range(1, 30))},
        {"thresholds": [100], "extra": 1},
        {},
        [100],
    ],
)
async def test_alerts_api_refuses_bad_bodies(client: httpx.AsyncClient, body: Any) -> None:
    answer = await client.put("/external/credits/alerts", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorKey"] == "INVALID_REQUEST"


async def test_alerts_api_needs_a_key(app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/external/credits/alerts")).status_code == 401
    assert (await app_client.put("/external/credits/alerts", json={"thresholds": [1]})).status_code == 401


async def test_an_unlock_tasks_releases_recover_an_alert_on_both_databases(db: Database) -> None:
    """The unlock settlement changes the balance outside ``ledger.service`` on PostgreSQL (one SQL function
    per group); its alerts are evaluated after it in the same transaction, as on SQLite."""
    acct = await new_account(db)
    await grant(db, acct.id, 100, "g1")
    cast = await seed_cast(db, no_email=4)  # nothing will be delivered: the whole hold comes back
    await set_alerts(db, acct.id, 80)
    await submit_batch(db, acct.id, list(cast.people.values()))  # holds 4 × 15: 40 left, below 80
    assert await fired(db, acct.id) == [("dropped", 80, 40)]
    await drain(db)
    assert await fired(db, acct.id) == [("dropped", 80, 40), ("recovered", 80, 100)]
