"""Migrations 0011 (ledger functions from the package's files, no unlock settlement function), 0009 and
0008 can be undone and redone: each step restores the objects of the revision it reaches, and the ledger
works again at the head."""

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
    return await _exists(db, "unlock_settle_items")


async def _exists(db: Database, function: str) -> bool | None:
    if db.is_sqlite:
        return None
    async with db.read() as session:
        found = await session.execute(text("SELECT to_regproc(:f) IS NOT NULL"), {"f": function})
    return bool(found.scalar_one())


async def _settles_in_batches(db: Database) -> bool | None:
    """PostgreSQL: whether ``ledger_settle`` is 0011's (a batch of one hold's settlements, from its file)."""
    if db.is_sqlite:
        return None
    async with db.read() as session:
        args = await session.execute(text("SELECT pg_get_function_arguments('ledger_settle'::regproc)"))
    return "p_kinds text[]" in args.scalar_one()


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


async def test_migrations_down_to_0007_and_up_again_with_a_working_ledger(scratch_url: str) -> None:
    db = Database(make_engine(scratch_url, null_pool=True))
    try:
        await upgrade(db.engine)
        assert await _settles_in_batches(db) in (True, None)
        assert await _has_settle_function(db) in (False, None)
        await _debit_hold_capture_release(db, "head")

        await downgrade(db.engine, "0010")
        assert await current_revision(db.engine) == "0010"
        assert await _has_settle_function(db) in (True, None)
        assert await _settles_in_batches(db) in (False, None)
        assert await _set_based_functions(db) in (False, None)

        await downgrade(db.engine, "0008")
        assert await current_revision(db.engine) == "0008"
        assert await _has_settle_function(db) in (False, None)
        assert await _partial_index_count(db) == 2

        await downgrade(db.engine, "0007")
        assert await current_revision(db.engine) == "0007"
        assert await _partial_index_count(db) == 0
        assert await _set_based_functions(db) in (True, None)

        await upgrade(db.engine)
        assert await _settles_in_batches(db) in (True, None)
        assert await _has_settle_function(db) in (False, None)
        assert await _partial_index_count(db) == 2
        await _debit_hold_capture_release(db, "again")
    finally:
        await db.dispose()
