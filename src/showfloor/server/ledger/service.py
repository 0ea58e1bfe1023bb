"""The credit ledger service: the only code that writes ledger tables (see docs/ledger.md).

Every mutation locks the account row first, then its grants by id, then writes; every mutation is
idempotent by an operation key (unique per account in the database). A repeated key returns the first
result with ``replayed=True`` and writes nothing. Services never commit: the caller's unit of work does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.uow import Database
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
    split_in_spending_order,
    utcnow,
    write_off,
)
from showfloor.server.ledger.balance import BUCKETS, held_per_grant
from showfloor.server.ledger.expiry import expire_due
from showfloor.server.ledger.holds import capture, hold, release, settle_hold
from showfloor.server.ledger.types import ChargeContext, HoldResult, HoldSettlement, OperationResult
from showfloor.server.models import Account, CreditGrant, LedgerEntry, LedgerOperation
from showfloor.server.notify import hooks as notify_hooks

__all__ = [
    "ChargeContext",
    "HoldResult",
    "HoldSettlement",
    "OperationResult",
    "capture",
    "debit",
    "debit_alone",
    "expire_due",
    "grant",
    "hold",
    "lock_account",
    "refund",
    "release",
    "settle_hold",
    "void_grant",
]


async def lock_account(session: AsyncSession, account_id: int) -> Account:
    """Lock the account row for the rest of the transaction (raises NotFound)."""
    return await lock_account_row(session, account_id)


async def debit(
    session: AsyncSession, ctx: ChargeContext, amount: int, op_key: str, *, now: datetime | None = None
) -> OperationResult:
    """Charge ``amount`` across grants in spending order; refuse (402) what the account cannot pay."""
    require_positive(amount)
    now = now or utcnow()
    if pg.uses_functions(session):  # the same steps in one round trip (migration 0006)
        result, _ = await pg.spend(session, "debit", ctx, amount, op_key, now)
        return result
    account = await lock_account_row(session, ctx.account_id)
    earlier = await find_operation(session, ctx.account_id, op_key)
    if earlier is not None:
        check_replay(earlier, "debit", amount)
        return OperationResult(earlier.id, earlier.amount, replayed=True)
    grants = await spendable_or_refuse(session, account, amount, now)
    op = await new_operation(session, ctx.account_id, "debit", amount, op_key, now, ctx)
    parts, shortfall = split_in_spending_order(grants, amount)
    for spendable, take in parts:
        spendable.grant.remaining -= take
        add_entry(session, op, spendable.grant, "debit", -take, now)
    if shortfall > 0:  # unlimited account: the shortfall is still recorded, against no grant
        add_entry(session, op, None, "debit", -shortfall, now)
    await session.flush()
    return OperationResult(op.id, amount, replayed=False)


async def debit_alone(
    db: Database, ctx: ChargeContext, amount: int, op_key: str, *, now: datetime | None = None
) -> OperationResult:
    """``debit`` as a transaction of its own, for a caller with nothing else to write in it. On
    PostgreSQL one statement and one round trip (``Database.run_alone``: no BEGIN/COMMIT, no session);
    the account row lock is held only while ``ledger_spend`` runs and commits."""
    require_positive(amount)
    now = now or utcnow()
    if not db.is_sqlite:
        return await pg.debit_alone(db, ctx, amount, op_key, now)
    async with db.write() as session:
        return await debit(session, ctx, amount, op_key, now=now)


async def refund(session: AsyncSession, operation_id: int, amount: int, op_key: str) -> OperationResult:
    """Give back (part of) a debit or capture to the grants it came from, last-spent first."""
    require_positive(amount)
    now = utcnow()
    original = await session.get(LedgerOperation, operation_id)
    if original is None:
        raise NotFound(f"Ledger operation {operation_id} not found")
    await lock_account_row(session, original.account_id)
    earlier = await find_operation(session, original.account_id, op_key)
    if earlier is not None:
        check_replay(earlier, "refund", amount)
        return OperationResult(earlier.id, earlier.amount, replayed=True)
    if original.kind not in ("debit", "capture"):
        raise Conflict(
            f"Only debits and captures can be refunded, operation {operation_id} is a {original.kind}"
        )
    refundable = await _refundable_by_grant(session, original)
    total = sum(left for _, left in refundable)
    if amount > total:
        raise Conflict(
            f"Cannot refund {amount} credits: {total} of operation {operation_id} remain refundable",
            refundableCredits=total,
        )
    op = await new_operation(
        session,
        original.account_id,
        "refund",
        amount,
        op_key,
        now,
        attribution_of(original, original.account_id),
        ref_operation_id=original.id,
    )
    # Lock every target grant up front in id order: captures and releases lock grants without the
    # account lock (see docs/ledger.md), so every path must take grant locks in the same order.
    targets = await _locked_grants(session, [g for g, left in refundable if g is not None and left > 0])
    left = amount
    for grant_id, refundable_here in refundable:
        give = min(left, refundable_here)
        if give <= 0:
            continue
        target = targets[grant_id] if grant_id is not None else None
        add_entry(session, op, target, "refund", give, now)
        if target is not None:
            target.remaining += give
            write_off(session, op, target, give, now)
        left -= give
        if left == 0:
            break
    await session.flush()
    return OperationResult(op.id, amount, replayed=False)


async def _refundable_by_grant(
    session: AsyncSession, original: LedgerOperation
) -> list[tuple[int | None, int]]:
    """Per grant the original took from (reverse spending order): what it took minus what came back."""
    taken = (
        await session.execute(
            select(LedgerEntry.grant_id, -LedgerEntry.amount)
            .where(LedgerEntry.operation_id == original.id, LedgerEntry.type == original.kind)
            .order_by(LedgerEntry.id.desc())
        )
    ).all()
    returned = dict(
        (
            await session.execute(
                select(LedgerEntry.grant_id, func.sum(LedgerEntry.amount))
                .join(LedgerOperation, LedgerOperation.id == LedgerEntry.operation_id)
                .where(LedgerOperation.ref_operation_id == original.id, LedgerEntry.type == "refund")
                .group_by(LedgerEntry.grant_id)
            )
        ).all()
    )
    out: list[tuple[int | None, int]] = []
    for grant_id, took in taken:
        back = min(int(returned.get(grant_id, 0)), int(took))
        returned[grant_id] = int(returned.get(grant_id, 0)) - back
        out.append((grant_id, int(took) - back))
    return out


async def _locked_grants(session: AsyncSession, grant_ids: list[int]) -> dict[int, CreditGrant]:
    if not grant_ids:
        return {}
    stmt = (
        select(CreditGrant)
        .where(CreditGrant.id.in_(sorted(set(grant_ids))))
        .order_by(CreditGrant.id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return {g.id: g for g in (await session.scalars(stmt)).all()}


async def _locked_grant(session: AsyncSession, grant_id: int) -> CreditGrant:
    stmt = select(CreditGrant).where(CreditGrant.id == grant_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one()


async def grant(
    session: AsyncSession,
    account_id: int,
    bucket: str,
    amount: int,
    *,
    expires_at: datetime | None,
    op_key: str,
    note: str | None = None,
    now: datetime | None = None,
) -> int:
    """Put credits into an account; returns the grant id (the same id when ``op_key`` is replayed)."""
    require_positive(amount)
    now = now or utcnow()
    if bucket not in BUCKETS:
        raise InvalidRequest(f"Unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}")
    if bucket == "subscription" and expires_at is None:
        raise InvalidRequest("A subscription grant needs an expiry (the end of its credit period)")
    if bucket == "gift" and expires_at is not None:
        raise InvalidRequest("Gift credits never expire; give no expiry")
    if expires_at is not None and expires_at <= now:
        raise InvalidRequest("The expiry must be in the future")
    await lock_account_row(session, account_id)
    earlier = await find_operation(session, account_id, op_key)
    if earlier is not None:
        check_replay(earlier, "grant", amount)
        grant_id = await session.scalar(
            select(LedgerEntry.grant_id).where(LedgerEntry.operation_id == earlier.id)
        )
        assert grant_id is not None
        return grant_id
    row = CreditGrant(
        account_id=account_id,
        bucket=bucket,
        amount=amount,
        remaining=amount,
        expires_at=expires_at,
        created_at=now,
        note=note,
    )
    session.add(row)
    op = await new_operation(session, account_id, "grant", amount, op_key, now, note=note)
    add_entry(session, op, row, "grant", amount, now)
    await session.flush()
    await notify_hooks.credits_granted(session, row)
    return row.id


async def void_grant(session: AsyncSession, grant_id: int, op_key: str) -> OperationResult:
    """Withdraw a grant: its unspent, unheld credits go (entry ``void``); held credits stay capturable."""
    now = utcnow()
    account_id = await session.scalar(select(CreditGrant.account_id).where(CreditGrant.id == grant_id))
    if account_id is None:
        raise NotFound(f"Grant {grant_id} not found")
    await lock_account_row(session, account_id)
    earlier = await find_operation(session, account_id, op_key)
    if earlier is not None:
        check_replay(earlier, "void", None)
        return OperationResult(earlier.id, earlier.amount, replayed=True)
    target = await _locked_grant(session, grant_id)
    if target.voided_at is not None:
        raise Conflict(f"Grant {grant_id} is already void")
    held = held_per_grant(account_id)
    outstanding = int(await session.scalar(select(held.c.held).where(held.c.grant_id == grant_id)) or 0)
    gone = max(target.remaining - outstanding, 0)
    op = await new_operation(session, account_id, "void", gone, op_key, now)
    if gone:
        add_entry(session, op, target, "void", -gone, now)
        target.remaining -= gone
    target.voided_at = now
    await session.flush()
    return OperationResult(op.id, gone, replayed=False)
