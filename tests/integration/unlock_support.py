"""Helpers shared by the contact-unlock tests: credits, people, running the worker, ledger sums."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.balance import available
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.models import CreditHold, LedgerOperation, UnlockTask, UnlockTaskItem
from showfloor.server.unlocks.providers import DatasetProvider, Provider
from showfloor.server.unlocks.worker import UnlockWorker
from tests.factories import make_event, make_person


async def give_credits(db: Database, account_id: int, amount: int, key: str = "gift") -> None:
    async with db.write() as session:
        await ledger.grant(session, account_id, "gift", amount, expires_at=None, op_key=f"test:{key}")


@dataclass
class Cast:
    event_id: int
    public_event_id: str
    people: dict[str, int]  # label -> personnel id


async def seed_cast(db: Database, **kinds: int) -> Cast:
    """An event with people: ``deliverable``, ``no_email``, ``ineligible``, ``outsider`` (not at the event)."""
    people: dict[str, int] = {}
    async with db.write() as session:
        event = await make_event(session)
        for label, count in kinds.items():
            for n in range(count):
                if label == "no_email":
                    person = await make_person(session, event, email=None, phone=None)
                elif label == "ineligible":
                    person = await make_person(session, event, opted_out=True)
                elif label == "outsider":
                    person = await make_person(session, None)
                else:
                    person = await make_person(session, event)
                people[f"{label}{n}"] = person.id
        return Cast(event.id, event.event_id, people)


async def drain(db: Database, provider: Provider | None = None, **options: Any) -> int:
    """Run one in-process worker until nothing is claimable or in flight."""
    options.setdefault("retry_base_seconds", 0.0)
    options.setdefault("poll_seconds", 0.05)
    worker = UnlockWorker(db, provider or DatasetProvider(), **options)
    return await worker.run(until_idle=True)


async def available_now(db: Database, account_id: int) -> int:
    async with db.read() as session:
        return await available(session, account_id, datetime.now(UTC))


async def op_total(db: Database, account_id: int, kind: str) -> int:
    async with db.read() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(LedgerOperation.amount), 0)).where(
                LedgerOperation.account_id == account_id, LedgerOperation.kind == kind
            )
        )
    return int(total or 0)


async def assert_settled_cleanly(db: Database, account_id: int) -> None:
    """Every task finished, every hold closed, every item settled once, and the ledger reconciles."""
    async with db.read() as session:
        open_tasks = await session.scalar(
            select(func.count()).select_from(UnlockTask).where(UnlockTask.status == "open")
        )
        assert open_tasks == 0
        unsettled = await session.scalar(
            select(func.count())
            .select_from(UnlockTaskItem)
            .where(UnlockTaskItem.status.in_(("pending", "processing")))
        )
        assert unsettled == 0
        holds = (await session.scalars(select(CreditHold).where(CreditHold.account_id == account_id))).all()
        for row in holds:
            assert row.state == "closed" and row.captured + row.released == row.amount
        captures = await session.scalar(
            select(func.count())
            .select_from(LedgerOperation)
            .where(LedgerOperation.account_id == account_id, LedgerOperation.kind == "capture")
        )
        delivered = await session.scalar(
            select(func.count())
            .select_from(UnlockTaskItem)
            .where(UnlockTaskItem.status == "unlocked", UnlockTaskItem.operation_id.is_not(None))
        )
        assert captures == delivered
        assert await reconcile(session, account_id) == []
