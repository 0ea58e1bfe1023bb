"""The credit ledger service: the only code that writes ledger tables (see docs/ledger.md).

Every mutation is idempotent by an operation key (unique per account in the database): a repeated key
returns the first result with ``replayed=True`` and writes nothing; the same key for a different operation
is a ``Conflict``. Every mutation that spends locks the account row first (once per transaction: a caller
holding a locked ``Wallet`` passes it), then grants by id. Services never commit: the caller's unit of
work does.

Debits, holds, captures and releases have two twins, chosen here and nowhere else: on PostgreSQL the
functions of ``sql/`` (``functions.py``), on SQLite the Python of ``spending.py`` and ``holds.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.engine import on_postgres
from showfloor.server.db.locking import for_update
from showfloor.server.db.uow import after_unit
from showfloor.server.errors import Conflict, InvalidRequest, NotFound, SpendCapExceeded
from showfloor.server.ledger import alerts, functions, holds, spend_caps, spending
from showfloor.server.ledger.balance import BUCKETS, held_per_grant
from showfloor.server.ledger.expiry import expire_due
from showfloor.server.ledger.operations import (
    add_entry,
    attribution_of,
    check_replay,
    find_operation,
    lock_account_row,
    new_operation,
    require_positive,
    utcnow,
    write_off,
)
from showfloor.server.ledger.types import ChargeContext, HoldResult, HoldSettlement, OperationResult
from showfloor.server.ledger.wallet import Wallet, open_wallet
from showfloor.server.metrics import count_charge
from showfloor.server.models import Account, CreditGrant, CreditHold, LedgerEntry, LedgerOperation
from showfloor.server.notify import hooks as notify_hooks

__all__ = [
    "ChargeContext",
    "HoldResult",
    "HoldSettlement",
    "OperationResult",
    "Wallet",
    "balance_changed",
    "capture",
    "debit",
    "expire_due",
    "grant",
    "hold",
    "lock_account",
    "open_wallet",
    "refund",
    "release",
    "settle_hold",
    "void_grant",
]


async def lock_account(session: AsyncSession, account_id: int) -> Account:
    """Lock the account row for the rest of the transaction (raises NotFound)."""
    return await lock_account_row(session, account_id)


def _account_locked(ctx: ChargeContext, wallet: Wallet | None) -> bool:
    if wallet is None:
        return False
    if wallet.account_id != ctx.account_id:
        raise ValueError("the wallet belongs to another account")
    return wallet.locked


async def _spend(
    session: AsyncSession,
    kind: str,
    ctx: ChargeContext,
    amount: int,
    op_key: str,
    now: datetime | None,
    wallet: Wallet | None,
) -> tuple[OperationResult, int | None]:
    require_positive(amount)
    now = now or utcnow()
    try:
        if on_postgres(session):
            locked = _account_locked(ctx, wallet)
            spent = await functions.spend(session, kind, ctx, amount, op_key, now, account_locked=locked)
        else:  # SQLite: the alerts' read costs no round trip worth saving
            spent = (*await spending.spend(session, kind, ctx, amount, op_key, now), True)
    except SpendCapExceeded as refusal:
        _cap_refused(session, ctx, refusal, now)
        raise
    result, hold_id, reached, alerts_set = spent
    if reached:
        await _caps_reached(session, ctx, reached, now)
    if alerts_set and not result.replayed:
        await alerts.evaluate(session, ctx.account_id, now)
    return result, hold_id


def _cap_refused(session: AsyncSession, ctx: ChargeContext, refusal: SpendCapExceeded, now: datetime) -> None:
    """``spend_cap.reached`` for a refusal: the refusal rolls the caller's unit back, so the event is
    written right after it, in a unit of its own (``db.uow.after_unit``)."""
    assert ctx.api_key_id is not None
    key_id, start = ctx.api_key_id, spend_caps.period_start(refusal.period, now)

    async def emit(session: AsyncSession) -> None:
        # The account lock first, as every spend takes it: a spend that reaches the cap writes the same
        # deduplicated event under that lock, and the outbox row's foreign key waits for the account row,
        # so writing the event unlocked could deadlock with it.
        await lock_account_row(session, ctx.account_id)
        await notify_hooks.spend_cap_reached(
            session, ctx.account_id, key_id, refusal.period, start, refusal.cap, refusal.spent,
            refusal.required, now,
        )  # fmt: skip

    after_unit(session, emit)


async def _caps_reached(session: AsyncSession, ctx: ChargeContext, periods: list[str], now: datetime) -> None:
    """``spend_cap.reached`` for a spend that reached a cap exactly, in the spend's transaction."""
    assert ctx.api_key_id is not None
    for use in await spend_caps.uses(session, ctx.api_key_id, now):
        if use.period in periods:
            await notify_hooks.spend_cap_reached(
                session, ctx.account_id, ctx.api_key_id, use.period, use.period_start, use.cap, use.spent,
                None, now,
            )  # fmt: skip


async def debit(
    session: AsyncSession,
    ctx: ChargeContext,
    amount: int,
    op_key: str,
    *,
    wallet: Wallet | None = None,
    now: datetime | None = None,
) -> OperationResult:
    """Charge ``amount`` across grants in spending order; refuse (402 ``InsufficientCredits``) what the
    account cannot pay. ``wallet``: the account as the caller locked it in this transaction (no second
    lock is taken)."""
    result, _ = await _spend(session, "debit", ctx, amount, op_key, now, wallet)
    if not result.replayed:
        count_charge(session, ctx.business_code, ctx.call_source, result.amount)
    return result


async def hold(
    session: AsyncSession,
    ctx: ChargeContext,
    amount: int,
    op_key: str,
    *,
    wallet: Wallet | None = None,
    now: datetime | None = None,
) -> HoldResult:
    """Reserve ``amount`` credits for asynchronous work (refused like ``debit``)."""
    result, hold_id = await _spend(session, "hold", ctx, amount, op_key, now, wallet)
    assert hold_id is not None
    return HoldResult(hold_id, result.operation_id, result.amount, result.replayed)


async def settle_hold(
    session: AsyncSession,
    hold_id: int,
    settlements: Sequence[HoldSettlement],
    *,
    now: datetime | None = None,
) -> list[OperationResult]:
    """Captures and releases of one hold, in order, each with its own operation key (replayed keys write
    nothing), in the caller's transaction: one ``ledger_settle`` call on PostgreSQL. A capture takes its
    attribution from ``ctx`` (default: the hold's); a release of ``amount=None`` gives back everything
    still outstanding. Raises on the first refusal (the caller's transaction must then roll back)."""
    now = now or utcnow()
    for item in settlements:
        if item.kind not in ("capture", "release"):
            raise InvalidRequest(f"Unknown hold settlement {item.kind!r}")
        if item.amount is not None:
            require_positive(item.amount)
        elif item.kind == "capture":
            raise InvalidRequest("A capture needs an amount")
    if not settlements:
        return []
    if on_postgres(session):
        results = await functions.settle(session, hold_id, settlements, now)
    else:
        results = await holds.settle(session, hold_id, settlements, now)
    if not all(r.replayed for r in results):
        account_id = await session.scalar(select(CreditHold.account_id).where(CreditHold.id == hold_id))
        assert account_id is not None
        await balance_changed(session, account_id, now)
    return results


async def balance_changed(session: AsyncSession, account_id: int, now: datetime) -> None:
    """Evaluate the account's balance alerts after a change, in its transaction (``alerts.evaluate``).
    Every mutation here calls it; a caller that changes the ledger through a SQL function of its own (the
    unlock settlement on PostgreSQL) calls it after."""
    await alerts.evaluate(session, account_id, now)


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
    (result,) = await settle_hold(session, hold_id, [HoldSettlement("capture", amount, op_key, ctx)], now=now)
    return result


async def release(
    session: AsyncSession, hold_id: int, amount: int | None, op_key: str, *, now: datetime | None = None
) -> OperationResult:
    """Give back ``amount`` (None: everything outstanding); the hold closes when nothing is outstanding."""
    (result,) = await settle_hold(session, hold_id, [HoldSettlement("release", amount, op_key)], now=now)
    return result


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
    # Every target grant locked up front in id order: captures and releases lock grants after the hold,
    # without the account lock (a settlement cannot overspend), so every path takes grant locks by id.
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
    await alerts.evaluate(session, original.account_id, now)
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
    return {g.id: g for g in (await session.scalars(for_update(session, stmt))).all()}


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
    await alerts.evaluate(session, account_id, now)
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
    target = (await _locked_grants(session, [grant_id]))[grant_id]
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
    await alerts.evaluate(session, account_id, now)
    return OperationResult(op.id, gone, replayed=False)
