"""Holds: credits reserved for asynchronous work, then captured (in part or whole) and released.

A hold does not change a grant's ``remaining``: it reserves through one allocation per grant, in
spending order. Capture spends from the allocation's grant (even if that grant has expired since:
the credits were reserved before). Released credits go back to their grant, unless the grant is no
longer active; then they are written off at once (``expire`` or ``void`` entry).
An unlimited account's hold may exceed its grants: the unbacked part has no allocation and its
capture is recorded against no grant, so every charge is still written down.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.locking import for_update
from showfloor.server.errors import Conflict, InvalidRequest, NotFound
from showfloor.server.ledger import pg
from showfloor.server.ledger._core import (
    add_entry,
    attribution_of,
    check_replay,
    find_operation,
    lock_account_row,
    new_operation,
    require_positive,
    spendable_or_refuse,
    spending_key,
    split_in_spending_order,
    utcnow,
    write_off,
)
from showfloor.server.ledger.types import ChargeContext, HoldResult, HoldSettlement, OperationResult
from showfloor.server.models import CreditGrant, CreditHold, HoldAllocation, LedgerOperation


async def hold(
    session: AsyncSession, ctx: ChargeContext, amount: int, op_key: str, *, now: datetime | None = None
) -> HoldResult:
    """Reserve ``amount`` credits (refused with InsufficientCredits unless the account is unlimited)."""
    require_positive(amount)
    now = now or utcnow()
    if pg.uses_functions(session):  # the same steps in one round trip (migration 0006)
        result, hold_id = await pg.spend(session, "hold", ctx, amount, op_key, now)
        assert hold_id is not None
        return HoldResult(hold_id, result.operation_id, result.amount, result.replayed)
    account = await lock_account_row(session, ctx.account_id)
    earlier = await find_operation(session, ctx.account_id, op_key)
    if earlier is not None:
        check_replay(earlier, "hold", amount)
        assert earlier.hold_id is not None
        return HoldResult(earlier.hold_id, earlier.id, earlier.amount, replayed=True)
    grants = await spendable_or_refuse(session, account, amount, now)
    row = CreditHold(
        account_id=ctx.account_id, amount=amount, captured=0, released=0, state="open", created_at=now
    )
    session.add(row)
    await session.flush()
    op = await new_operation(session, ctx.account_id, "hold", amount, op_key, now, ctx, hold_id=row.id)
    parts, shortfall = split_in_spending_order(grants, amount)
    for spendable, take in parts:
        session.add(
            HoldAllocation(hold_id=row.id, grant_id=spendable.grant.id, amount=take, captured=0, released=0)
        )
        add_entry(session, op, spendable.grant, "hold", -take, now)
    if shortfall > 0:  # unlimited account: the unbacked part is recorded against no grant
        add_entry(session, op, None, "hold", -shortfall, now)
    await session.flush()
    return HoldResult(row.id, op.id, amount, replayed=False)


async def capture(
    session: AsyncSession,
    hold_id: int,
    amount: int,
    op_key: str,
    *,
    ctx: ChargeContext | None = None,
    now: datetime | None = None,
) -> OperationResult:
    """Spend ``amount`` of the hold's outstanding credits (Conflict when more than is outstanding)."""
    require_positive(amount)
    now = now or utcnow()
    if pg.uses_functions(session):
        return await pg.settle(session, "capture", hold_id, amount, op_key, now, ctx)
    row, source = await _locked_hold(session, hold_id)
    if ctx is not None and ctx.account_id != row.account_id:
        raise Conflict(f"Hold {hold_id} belongs to another account")
    earlier = await find_operation(session, row.account_id, op_key)
    if earlier is not None:
        check_replay(earlier, "capture", amount)
        return OperationResult(earlier.id, earlier.amount, replayed=True)
    outstanding = row.amount - row.captured - row.released
    if amount > outstanding:
        raise Conflict(
            f"Cannot capture {amount} credits: hold {hold_id} has {outstanding} outstanding",
            outstandingCredits=outstanding,
        )
    attribution = ctx or attribution_of(source, row.account_id)
    op = await new_operation(
        session, row.account_id, "capture", amount, op_key, now, attribution, hold_id=row.id
    )
    left = amount
    for allocation, grant in await _allocations(session, row.id):
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
    _settle(row, captured=amount, now=now)
    await session.flush()
    return OperationResult(op.id, amount, replayed=False)


async def release(
    session: AsyncSession, hold_id: int, amount: int | None, op_key: str, *, now: datetime | None = None
) -> OperationResult:
    """Give back ``amount`` (None: everything outstanding); the hold closes when nothing is outstanding."""
    if amount is not None:
        require_positive(amount)
    now = now or utcnow()
    if pg.uses_functions(session):
        return await pg.settle(session, "release", hold_id, amount, op_key, now)
    row, source = await _locked_hold(session, hold_id)
    earlier = await find_operation(session, row.account_id, op_key)
    if earlier is not None:
        check_replay(earlier, "release", amount)
        return OperationResult(earlier.id, earlier.amount, replayed=True)
    outstanding = row.amount - row.captured - row.released
    amount = outstanding if amount is None else amount
    if amount > outstanding:
        raise Conflict(
            f"Cannot release {amount} credits: hold {hold_id} has {outstanding} outstanding",
            outstandingCredits=outstanding,
        )
    attribution = attribution_of(source, row.account_id)
    op = await new_operation(
        session, row.account_id, "release", amount, op_key, now, attribution, hold_id=row.id
    )
    allocations = await _allocations(session, row.id)
    backed = sum(a.amount - a.captured - a.released for a, _ in allocations)
    left = amount
    unbacked = min(left, outstanding - backed)  # release what no grant backs first
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
    _settle(row, released=amount, now=now)
    await session.flush()
    return OperationResult(op.id, amount, replayed=False)


async def settle_hold(
    session: AsyncSession,
    hold_id: int,
    settlements: Sequence[HoldSettlement],
    *,
    now: datetime | None = None,
) -> list[OperationResult]:
    """Several captures and releases of one hold, in order, each with its own operation key (replayed
    keys write nothing), in the caller's transaction (one ``ledger_settle`` call each on PostgreSQL)."""
    now = now or utcnow()
    for item in settlements:
        if item.kind not in ("capture", "release"):
            raise InvalidRequest(f"Unknown hold settlement {item.kind!r}")
        if item.amount is not None:
            require_positive(item.amount)
        elif item.kind == "capture":
            raise InvalidRequest("A capture needs an amount")
    results: list[OperationResult] = []
    for item in settlements:
        if item.kind == "capture":
            assert item.amount is not None
            results.append(await capture(session, hold_id, item.amount, item.op_key, ctx=item.ctx, now=now))
        else:
            results.append(await release(session, hold_id, item.amount, item.op_key, now=now))
    return results


async def _locked_hold(session: AsyncSession, hold_id: int) -> tuple[CreditHold, LedgerOperation | None]:
    """Lock the hold (not the account: a settlement cannot overspend, see docs/ledger.md), then read the
    operation that opened it. Lock order: hold, then its grants by id."""
    row = (
        await session.execute(
            for_update(session, select(CreditHold).where(CreditHold.id == hold_id)).execution_options(
                populate_existing=True
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Hold {hold_id} not found")
    source = (
        await session.execute(
            select(LedgerOperation).where(LedgerOperation.hold_id == hold_id, LedgerOperation.kind == "hold")
        )
    ).scalar_one_or_none()
    return row, source


async def _allocations(session: AsyncSession, hold_id: int) -> list[tuple[HoldAllocation, CreditGrant]]:
    """The hold's allocations with their grants (locked by id), in spending order."""
    stmt = (
        select(HoldAllocation, CreditGrant)
        .join(CreditGrant, CreditGrant.id == HoldAllocation.grant_id)
        .where(HoldAllocation.hold_id == hold_id)
        .order_by(CreditGrant.id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    rows = [(a, g) for a, g in (await session.execute(stmt)).all()]
    rows.sort(key=lambda pair: spending_key(pair[1]))
    return rows


def _settle(row: CreditHold, *, now: datetime, captured: int = 0, released: int = 0) -> None:
    row.captured += captured
    row.released += released
    if row.amount - row.captured - row.released == 0 and row.state == "open":
        row.state = "closed"
        row.closed_at = now
