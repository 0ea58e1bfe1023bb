"""Helpers shared by the paid-action tests: credits, events with given data, ledger look-ups."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from showfloor.server.access.service import record_event_unlock
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.models import Event, LedgerOperation
from tests.factories import make_event


async def give(db: Database, account_id: int, amount: int, bucket: str = "gift") -> None:
    """Grant credits (``subscription`` grants expire in 30 days and make the account subscribed)."""
    expires = datetime.now(UTC) + timedelta(days=30) if bucket != "gift" else None
    async with db.write() as session:
        await ledger.grant(
            session, account_id, bucket, amount, expires_at=expires, op_key=f"test-grant:{uuid.uuid4().hex}"
        )


async def event_with(
    db: Database,
    *,
    contacts: int = 10,
    visitors: int = 0,
    unlocked_for: int | None = None,
    layers: tuple[str, ...] = (),
    **overrides: Any,
) -> Event:
    async with db.write() as session:
        event = await make_event(session, contact_count=contacts, visitor_count=visitors, **overrides)
        for layer in layers:
            assert unlocked_for is not None
            await record_event_unlock(session, unlocked_for, event.id, layer, None)
    return event


async def debits(db: Database, account_id: int) -> list[LedgerOperation]:
    async with db.read() as session:
        rows = await session.scalars(
            select(LedgerOperation)
            .where(LedgerOperation.account_id == account_id, LedgerOperation.kind == "debit")
            .order_by(LedgerOperation.id)
        )
        return list(rows)


async def charged(db: Database, account_id: int) -> int:
    async with db.read() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(LedgerOperation.amount), 0)).where(
                LedgerOperation.account_id == account_id, LedgerOperation.kind == "debit"
            )
        )
        return int(total or 0)


async def balance(db: Database, account_id: int) -> int:
    async with db.read() as session:
        return await ledger_available(session, account_id)


async def ledger_available(session: Any, account_id: int) -> int:
    from showfloor.server.ledger.balance import available

    return await available(session, account_id, datetime.now(UTC))
