"""Migrations 0009 (the unlock settlement function) and 0008 (single-row ledger writes, partial indexes)
can be undone and redone, and the ledger works at each step: 0007's functions and full indexes after the
downgrade, the newest after the upgrade."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from showfloor.server.accounts import service as accounts
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import current_revision, downgrade, upgrade
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.notify import hooks as notify_hooks
from tests.conftest import scratch_pg_url


@pytest.fixture(params=["sqlite", "postgres"])
async def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'downgrade.db'}"
        return
    async with scratch_pg_url("downgrade") as url:
        yield url


async def _partial_index_count(db: Database) -> int:
    """How many of the two ledger_operations indexes carry a WHERE clause."""
    async with db.read() as session:
        if db.is_sqlite:
            sql = (
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                "('ix_ledger_operations_hold_id', 'ix_ledger_operations_ref_operation_id') "
                "AND sql LIKE '%WHERE%'"
            )
        else:
            sql = (
                "SELECT count(*) FROM pg_indexes WHERE indexname IN "
                "('ix_ledger_operations_hold_id', 'ix_ledger_operations_ref_operation_id') "
                "AND indexdef LIKE '%WHERE%'"
            )
        return int((await session.execute(text(sql))).scalar_one())


async def _set_based_functions(db: Database) -> bool | None:
    """PostgreSQL: whether ledger_spend is 0006's set-based version (it writes over ``unnest``)."""
    if db.is_sqlite:
        return None
    async with db.read() as session:
        body = (
            await session.execute(text("SELECT pg_get_functiondef('ledger_spend'::regproc)"))
        ).scalar_one()
    return "unnest(" in body


async def _has_settle_function(db: Database) -> bool | None:
    """PostgreSQL: whether migration 0009's ``unlock_settle_items`` exists."""
    if db.is_sqlite:
        return None
    async with db.read() as session:
        found = await session.execute(text("SELECT to_regproc('unlock_settle_items') IS NOT NULL"))
    return bool(found.scalar_one())


async def _no_event(*args: object) -> None:
    return None


async def _debit_hold_capture_release(db: Database, tag: str) -> None:
    async with db.write() as session:
        account = await accounts.create_account(session, f"downgrade-{tag}")
        await ledger.grant(session, account.id, "gift", 100, expires_at=None, op_key="seed")
    ctx = ledger.ChargeContext(account.id)
    async with db.write() as session:
        await ledger.debit(session, ctx, 30, f"{tag}-debit")
        held = await ledger.hold(session, ctx, 40, f"{tag}-hold")
        await ledger.capture(session, held.hold_id, 15, f"{tag}-capture")
        await ledger.release(session, held.hold_id, None, f"{tag}-release")
    async with db.read() as session:
        problems = await reconcile(session, account.id)
        balance = (await session.execute(
            text("SELECT sum(remaining) FROM credit_grants WHERE account_id = :a"), {"a": account.id}
        )).scalar_one()  # fmt: skip
    assert problems == []
    assert balance == 100 - 30 - 15


async def test_0009_and_0008_downgrade_and_upgrade_with_a_working_ledger(
    scratch_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Today's ledger code runs against the schemas of 0007-0009, which predate the outbox (0013).
    monkeypatch.setattr(notify_hooks, "credits_granted", _no_event)
    db = Database(make_engine(scratch_url, null_pool=True))
    try:
        await upgrade(db.engine, "0009")
        assert await current_revision(db.engine) == "0009"
        assert await _has_settle_function(db) in (True, None)
        assert await _partial_index_count(db) == 2
        assert await _set_based_functions(db) in (False, None)
        await _debit_hold_capture_release(db, "0009")

        await downgrade(db.engine, "0008")
        assert await current_revision(db.engine) == "0008"
        assert await _has_settle_function(db) in (False, None)
        await _debit_hold_capture_release(db, "0008")

        await downgrade(db.engine, "0007")
        assert await current_revision(db.engine) == "0007"
        assert await _partial_index_count(db) == 0
        assert await _set_based_functions(db) in (True, None)
        await _debit_hold_capture_release(db, "0007")

        await upgrade(db.engine, "0009")
        assert await current_revision(db.engine) == "0009"
        assert await _has_settle_function(db) in (True, None)
        assert await _partial_index_count(db) == 2
        assert await _set_based_functions(db) in (False, None)
        await _debit_hold_capture_release(db, "again")
    finally:
        await db.dispose()
