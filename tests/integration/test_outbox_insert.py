"""The outbox insert is a prepared query (AGENTS.md): what it writes reads back through the ORM exactly as
given, on both databases, and a dedup key still writes once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from showfloor.server.db.uow import Database
from showfloor.server.models import OutboxEvent
from showfloor.server.notify.events import CREDITS_GRANTED, emit
from tests.conftest import new_account


async def test_an_emitted_event_reads_back_as_written(db: Database) -> None:
    account = await new_account(db)
    data = {"grantId": "7", "amount": 1500, "nested": {"ünïcode": "ok", "list": [1, None, "x"]}}
    at = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    async with db.write() as session:
        first = await emit(session, account.id, CREDITS_GRANTED, data, dedup_key="grant:7", now=at)
        again = await emit(session, account.id, CREDITS_GRANTED, {"other": 1}, dedup_key="grant:7", now=at)
        plain = await emit(session, account.id, CREDITS_GRANTED, {"n": 2}, now=at)
    assert first is not None and again is None and plain is not None
    async with db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.account_id == account.id).order_by(OutboxEvent.id)
            )
        ).all()
    assert [(r.public_id, r.type, r.payload, r.dedup_key, r.created_at) for r in rows] == [
        (first, CREDITS_GRANTED, data, "grant:7", at),
        (plain, CREDITS_GRANTED, {"n": 2}, None, at),
    ]
