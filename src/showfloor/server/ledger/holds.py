"""Captures and releases of a hold in Python: the SQLite twin of ``sql/ledger_settle.sql``, step for step.

A hold does not change a grant's ``remaining``: it reserves through one allocation per grant, in spending
order. A capture spends from the allocations in spending order (even from a grant that has expired since:
the credits were reserved before); the part of an unlimited account's hold that no grant backs is captured
against no grant. A release gives back the unbacked part first, then the allocations in reverse spending
order; credits released onto a grant that is no longer active are written off at once (``expire`` or
``void`` entry). The hold closes when nothing is outstanding. A release gives its credits back to the
spend cap counters of the hold's API key, for the periods the hold was taken in (``spend_caps.give_back``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import Conflict, NotFound
from showfloor.server.ledger import spend_caps
from showfloor.server.ledger.operations import (
    add_entry,
    attribution_of,
    check_replay,
    find_operation,
    new_operation,
    write_off,
)
from showfloor.server.ledger.spending import spending_key
from showfloor.server.ledger.types import HoldSettlement, OperationResult
from showfloor.server.models import CreditGrant, CreditHold, HoldAllocation, LedgerOperation


async def settle(
    session: AsyncSession, hold_id: int, settlements: Sequence[HoldSettlement], now: datetime
) -> list[OperationResult]:
    """Each capture or release of ``settlements`` in order; raises on the first refusal."""
    row = await session.get(CreditHold, hold_id, populate_existing=True)
    if row is None:
        raise NotFound(f"Hold {hold_id} not found")
    for item in settlements:
        if item.ctx is not None and item.ctx.account_id != row.account_id:
            raise Conflict(f"Hold {hold_id} belongs to another account")
    source = (
        await session.execute(
            select(LedgerOperation).where(LedgerOperation.hold_id == hold_id, LedgerOperation.kind == "hold")
        )
    ).scalar_one_or_none()
    return [await _settle_one(session, row, source, item, now) for item in settlements]


async def _settle_one(
    session: AsyncSession,
    row: CreditHold,
    source: LedgerOperation | None,
    item: HoldSettlement,
    now: datetime,
) -> OperationResult:
    earlier = await find_operation(session, row.account_id, item.op_key)
    if earlier is not None:
        check_replay(earlier, item.kind, item.amount)
        return OperationResult(earlier.id, earlier.amount, replayed=True)
    outstanding = row.amount - row.captured - row.released
    amount = outstanding if item.amount is None else item.amount
    if amount > outstanding:
        raise Conflict(
            f"Cannot {item.kind} {amount} credits: hold {row.id} has {outstanding} outstanding",
            outstandingCredits=outstanding,
        )
    capture = item.kind == "capture"
    attribution = item.ctx if capture and item.ctx is not None else attribution_of(source, row.account_id)
    op = await new_operation(
        session, row.account_id, item.kind, amount, item.op_key, now, attribution, hold_id=row.id
    )
    allocations = await _allocations(session, row.id)
    if capture:
        _capture(session, op, allocations, amount, now)
        row.captured += amount
    else:
        backed = sum(a.amount - a.captured - a.released for a, _ in allocations)
        _release(session, op, allocations, amount, outstanding - backed, now)
        row.released += amount
        await spend_caps.give_back(session, attribution.api_key_id, row.created_at, amount)
    if row.amount - row.captured - row.released == 0 and row.state == "open":
        row.state = "closed"
        row.closed_at = now
    await session.flush()
    return OperationResult(op.id, amount, replayed=False)


def _capture(
    session: AsyncSession,
    op: LedgerOperation,
    allocations: list[tuple[HoldAllocation, CreditGrant]],
    amount: int,
    now: datetime,
) -> None:
    left = amount
    for allocation, grant in allocations:
        take = min(left, allocation.amount - allocation.captured - allocation.released)
        if take <= 0:
            continue
        allocation.captured += take
        grant.remaining -= take
        add_entry(session, op, grant, "capture", -take, now)
        left -= take
        if left == 0:
            break
    if left > 0:  # the unbacked part of an unlimited account's hold
        add_entry(session, op, None, "capture", -left, now)


def _release(
    session: AsyncSession,
    op: LedgerOperation,
    allocations: list[tuple[HoldAllocation, CreditGrant]],
    amount: int,
    unbacked_outstanding: int,
    now: datetime,
) -> None:
    left = amount
    unbacked = min(left, unbacked_outstanding)  # what no grant backs goes first
    if unbacked > 0:
        add_entry(session, op, None, "release", unbacked, now)
        left -= unbacked
    for allocation, grant in reversed(allocations):  # last reserved, first released
        give = min(left, allocation.amount - allocation.captured - allocation.released)
        if give <= 0:
            continue
        allocation.released += give
        add_entry(session, op, grant, "release", give, now)
        write_off(session, op, grant, give, now)
        left -= give
        if left == 0:
            break


async def _allocations(session: AsyncSession, hold_id: int) -> list[tuple[HoldAllocation, CreditGrant]]:
    """The hold's allocations with their grants, in spending order."""
    stmt = (
        select(HoldAllocation, CreditGrant)
        .join(CreditGrant, CreditGrant.id == HoldAllocation.grant_id)
        .where(HoldAllocation.hold_id == hold_id)
        .execution_options(populate_existing=True)
    )
    rows = [(a, g) for a, g in (await session.execute(stmt)).all()]
    rows.sort(key=lambda pair: spending_key(pair[1]))
    return rows
