"""The steps every ledger mutation written in Python is made of: the account row lock, replay by operation
key, recording an operation and its entries, and writing off credits returned to a grant no longer active.

Grants, voids, refunds and the expiry sweep run in Python on both databases. Debits, holds, captures and
releases run in Python on SQLite only; on PostgreSQL their twins are the functions in ``sql/`` (see
``functions.py``). Lock order everywhere: the account row, then grants by id. Only ``ledger`` imports this.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.locking import for_update
from showfloor.server.errors import Conflict, InvalidRequest, NotFound
from showfloor.server.ledger.types import ChargeContext
from showfloor.server.models import Account, CreditGrant, LedgerEntry, LedgerOperation

# Entry types that move a grant's ``remaining``; "hold" and "release" only record reservations.
REMAINING_TYPES = ("grant", "debit", "capture", "expire", "void", "refund")


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_positive(amount: int) -> None:
    if amount <= 0:
        raise InvalidRequest(f"Amount must be a positive number of credits, got {amount}")


async def lock_account_row(session: AsyncSession, account_id: int) -> Account:
    """Lock the account row (PostgreSQL ``FOR UPDATE``; SQLite's write unit already holds the lock)."""
    stmt = for_update(session, select(Account).where(Account.id == account_id)).execution_options(
        populate_existing=True
    )
    account: Account | None = (await session.execute(stmt)).scalar_one_or_none()
    if account is None:
        raise NotFound(f"Account {account_id} not found")
    return account


async def find_operation(session: AsyncSession, account_id: int, op_key: str) -> LedgerOperation | None:
    if not op_key:
        raise InvalidRequest("An operation key is required")
    return (
        await session.execute(
            select(LedgerOperation).where(
                LedgerOperation.account_id == account_id, LedgerOperation.op_key == op_key
            )
        )
    ).scalar_one_or_none()


def key_conflict(op_key: str, kind: str, amount: int) -> Conflict:
    """A key repeated for a different operation is a caller bug: refused instead of replayed wrongly."""
    return Conflict(
        f"Operation key {op_key!r} was already used for a {kind} of {amount} credits", code="STATE_CONFLICT"
    )


def check_replay(op: LedgerOperation, kind: str, amount: int | None) -> None:
    if op.kind != kind or (amount is not None and op.amount != amount):
        raise key_conflict(op.op_key, op.kind, op.amount)


def add_entry(
    session: AsyncSession,
    op: LedgerOperation,
    grant: CreditGrant | None,
    entry_type: str,
    amount: int,
    now: datetime,
) -> LedgerEntry:
    entry = LedgerEntry(
        operation_id=op.id,
        account_id=op.account_id,
        grant_id=grant.id if grant is not None else None,
        bucket=grant.bucket if grant is not None else None,
        type=entry_type,
        amount=amount,
        created_at=now,
    )
    session.add(entry)
    return entry


def attribution_of(source: LedgerOperation | None, account_id: int) -> ChargeContext:
    """The attribution of an earlier operation (a hold's, a debit's), carried by what settles it."""
    if source is None:
        return ChargeContext(account_id=account_id)
    return ChargeContext(
        account_id=account_id,
        api_key_id=source.api_key_id,
        call_source=source.call_source or "api",
        business_code=source.business_code,
        resource_type=source.resource_type,
        resource_id=source.resource_id,
    )


async def new_operation(
    session: AsyncSession,
    account_id: int,
    kind: str,
    amount: int,
    op_key: str,
    now: datetime,
    attribution: ChargeContext | None = None,
    *,
    note: str | None = None,
    hold_id: int | None = None,
    ref_operation_id: int | None = None,
) -> LedgerOperation:
    """Record one ledger operation. Charges carry their ``attribution`` (key, source, code, resource);
    operator operations (grant, void, expire) have none, only an optional ``note`` as business code."""
    op = LedgerOperation(
        account_id=account_id,
        op_key=op_key,
        kind=kind,
        amount=amount,
        api_key_id=attribution.api_key_id if attribution else None,
        call_source=attribution.call_source if attribution else None,
        business_code=attribution.business_code if attribution else note,
        resource_type=attribution.resource_type if attribution else None,
        resource_id=attribution.resource_id if attribution else None,
        hold_id=hold_id,
        ref_operation_id=ref_operation_id,
        created_at=now,
    )
    session.add(op)
    await session.flush()
    return op


def is_active(grant: CreditGrant, now: datetime) -> bool:
    return grant.voided_at is None and (grant.expires_at is None or grant.expires_at > now)


def write_off(
    session: AsyncSession, op: LedgerOperation, grant: CreditGrant, amount: int, now: datetime
) -> None:
    """Credits returned to a grant that is no longer active vanish at once, with the entry that says why."""
    if amount <= 0 or is_active(grant, now):
        return
    add_entry(session, op, grant, "void" if grant.voided_at is not None else "expire", -amount, now)
    grant.remaining -= amount
