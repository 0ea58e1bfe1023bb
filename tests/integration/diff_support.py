"""The differential test's view of the code under test (tests/integration/test_backend_diff.py).

Every call the differential test makes into the code under test goes through here (the harness's
accounts and catalog factories aside), so moving a money rule between modules means fixing this file
only. Each call runs in a unit of work of its own, as a caller of the entry points runs it (the worker's
``settle`` and ``claim`` open theirs). On PostgreSQL debit, hold, capture, release, unlock settlement and
the claim run as SQL (functions, one statement); on SQLite as Python: that is the pair the test compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from showfloor.server.access.service import record_contact_unlock
from showfloor.server.db.base import Base
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.ledger import alerts, spend_caps
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.balance import get_balance
from showfloor.server.ledger.reconcile import reconcile
from showfloor.server.ledger.service import ChargeContext, HoldResult, OperationResult
from showfloor.server.models import (
    Account,
    ApiKeySpendCounter,
    BalanceAlert,
    ContactUnlock,
    CreditGrant,
    CreditHold,
    HoldAllocation,
    LedgerEntry,
    LedgerOperation,
    OutboxEvent,
    Plan,
    PlanPrice,
    UnlockTask,
    UnlockTaskItem,
)
from showfloor.server.unlocks import service as unlocks
from showfloor.server.unlocks.claim import ClaimedItem, claim, claim_items
from showfloor.server.unlocks.settlement import ItemOutcome, settle, settle_items

__all__ = [
    "ChargeContext",
    "Database",
    "DomainError",
    "HoldResult",
    "ItemOutcome",
    "OperationResult",
]

Outcomes = Sequence[tuple[int, ItemOutcome]]


def open_database(url: str) -> Database:
    return Database(make_engine(url, pool_size=4, max_overflow=0))


async def wipe(db: Database) -> None:
    """Empty every table (DELETE: on tables this small far quicker than PostgreSQL's TRUNCATE)."""
    async with db.write() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))


async def grant(
    db: Database,
    account_id: int,
    bucket: str,
    amount: int,
    expires_at: datetime | None,
    key: str,
    now: datetime,
) -> int:
    async with db.write() as session:
        return await ledger.grant(
            session, account_id, bucket, amount, expires_at=expires_at, op_key=key, now=now
        )


async def debit(
    db: Database, ctx: ChargeContext, amount: int, key: str, now: datetime, *, alone: bool
) -> OperationResult:
    """``alone``: the ledger takes the account lock; otherwise, as a paid action does, the caller locks the
    account first (``open_wallet(lock=True)``) and the ledger takes no second lock."""
    async with db.write() as session:
        if alone:
            return await ledger.debit(session, ctx, amount, key, now=now)
        wallet = await ledger.open_wallet(session, ctx.account_id, now, lock=True)
        return await ledger.debit(session, ctx, amount, key, wallet=wallet, now=now)


async def hold(db: Database, ctx: ChargeContext, amount: int, key: str, now: datetime) -> HoldResult:
    async with db.write() as session:
        return await ledger.hold(session, ctx, amount, key, now=now)


async def capture(
    db: Database, hold_id: int, amount: int, key: str, now: datetime, ctx: ChargeContext | None
) -> OperationResult:
    async with db.write() as session:
        return await ledger.capture(session, hold_id, amount, key, ctx=ctx, now=now)


async def release(db: Database, hold_id: int, amount: int | None, key: str, now: datetime) -> OperationResult:
    async with db.write() as session:
        return await ledger.release(session, hold_id, amount, key, now=now)


async def refund(db: Database, operation_id: int, amount: int, key: str) -> OperationResult:
    async with db.write() as session:  # takes no clock: refunds are stamped with the wall clock
        return await ledger.refund(session, operation_id, amount, key)


async def void_grant(db: Database, grant_id: int, key: str) -> OperationResult:
    async with db.write() as session:  # takes no clock: voids are stamped with the wall clock
        return await ledger.void_grant(session, grant_id, key)


async def expire_due(db: Database, now: datetime) -> int:
    async with db.write() as session:
        return await ledger.expire_due(session, now)


async def submit(
    db: Database,
    *,
    account_id: int,
    api_key_id: int,
    plan_id: int | None,
    kind: str,
    personnel_ids: list[str],
    event_ref: str | None,
    call_source: str,
    now: datetime,
) -> dict[str, Any]:
    """A contact-unlock submission by an account on ``plan_id`` (or none); its answer body plus whether it
    replayed an open task."""
    async with db.write() as session:
        await session.execute(update(Account).where(Account.id == account_id).values(plan_id=plan_id))
        submission = await unlocks.submit(
            session,
            account_id=account_id,
            api_key_id=api_key_id,
            kind=kind,
            personnel_ids=personnel_ids,
            event_ref=event_ref,
            call_source=call_source,
            now=now,
        )
    return {**submission.body(), "replayed": submission.replayed}


async def settle_outcomes(db: Database, outcomes: Outcomes, now: datetime, *, alone: bool) -> int:
    """Settle items of one task: in a unit of work, or as the worker does (a transaction of its own)."""
    if alone:
        return (await settle(db, outcomes, now)).items
    async with db.write() as session:
        return (await settle_items(session, outcomes, now)).items


async def claim_work(db: Database, limit: int, now: datetime, *, alone: bool) -> list[ClaimedItem]:
    """A worker takes up to ``limit`` claimable items under a 60-second lease."""
    if alone:  # the worker's path: a transaction of its own (one statement on PostgreSQL)
        return await claim(db, "diff-worker", limit, 60.0, now)
    async with db.write() as session:
        return await claim_items(session, "diff-worker", limit, 60.0, now)


async def unlock_elsewhere(
    db: Database, account_id: int, personnel_id: int, kind: str, value: str | None
) -> bool:
    """The account gets a contact another way (another task, meanwhile): recorded without a charge."""
    async with db.write() as session:
        return await record_contact_unlock(session, account_id, personnel_id, kind, value, None)


async def make_plan(db: Database, name: str, prices: dict[str, int], now: datetime) -> int:
    async with db.write() as session:
        plan = Plan(name=name, created_at=now)
        session.add(plan)
        await session.flush()
        for action, credits in prices.items():
            session.add(PlanPrice(plan_id=plan.id, action=action, credits=credits))
        return plan.id


@dataclass
class State:
    """Every row the differential test compares (in id order) and the balances."""

    operations: list[Any]  # rows of ledger_operations, read by column name
    entries: list[Any]
    grants: list[Any]
    holds: list[Any]
    allocations: list[Any]
    tasks: list[Any]
    items: list[Any]
    contacts: list[Any]
    balances: list[tuple[Any, ...]]
    counters: list[Any]  # spend cap counters: (api_key_id, period, period_start, spent)
    alerts: list[Any]  # balance alert states: (account_id, threshold, low, updated_at)
    events: list[Any]  # outbox events of the spend controls: (type, payload, dedup_key), in id order


async def read_state(db: Database, account_ids: list[int], now: datetime) -> State:
    """One read transaction over everything (the tables hold only the test's rows)."""
    async with db.read() as session:

        async def rows(model: Any) -> list[Any]:  # plain rows (named columns): far cheaper than entities
            table = model.__table__
            return list((await session.execute(select(table).order_by(table.c.id))).all())

        balances = []
        for account_id in account_ids:
            found = await get_balance(session, account_id, now)
            balances.append((found.amounts, found.balances, found.reset_at, found.addon_expire_at))
        return State(
            operations=await rows(LedgerOperation),
            entries=await rows(LedgerEntry),
            grants=await rows(CreditGrant),
            holds=await rows(CreditHold),
            allocations=await rows(HoldAllocation),
            tasks=await rows(UnlockTask),
            items=await rows(UnlockTaskItem),
            contacts=await rows(ContactUnlock),
            balances=balances,
            counters=list((await session.execute(select(ApiKeySpendCounter.__table__))).all()),
            alerts=list((await session.execute(select(BalanceAlert.__table__))).all()),
            events=list(
                (
                    await session.execute(
                        select(OutboxEvent.type, OutboxEvent.payload, OutboxEvent.dedup_key)
                        .where(OutboxEvent.type.in_(SPEND_CONTROL_EVENTS))
                        .order_by(OutboxEvent.id)
                    )
                ).all()
            ),
        )


SPEND_CONTROL_EVENTS = ("spend_cap.reached", "credits.balance_alert")


async def set_caps(
    db: Database, api_key_id: int, now: datetime, daily: int | None, monthly: int | None, clear: bool
) -> None:
    async with db.write() as session:
        await spend_caps.set_caps(session, api_key_id, now, daily=daily, monthly=monthly, clear=clear)


async def set_alerts(db: Database, account_id: int, thresholds: list[int], now: datetime) -> None:
    async with db.write() as session:
        await alerts.set_thresholds(session, account_id, thresholds, now)


async def reconcile_problems(db: Database, now: datetime) -> list[str]:
    """What the ledger's own reconciliation finds wrong, over every account (an empty list: nothing)."""
    async with db.read() as session:
        return await reconcile(session, None, now)


async def task_items(db: Database) -> list[UnlockTaskItem]:
    async with db.read() as session:
        return list((await session.scalars(select(UnlockTaskItem).order_by(UnlockTaskItem.id))).all())


async def task_statuses(db: Database) -> list[str]:
    """Each unlock task's status, in id order."""
    async with db.read() as session:
        return list((await session.scalars(select(UnlockTask.status).order_by(UnlockTask.id))).all())
