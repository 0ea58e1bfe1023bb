"""The raw ledger behind one activity row: the operations of the row (a hold with its captures and
releases, or a single operation) and the entries each wrote, per grant. Reads only; one query for the
operations and one for their entries. The grouping itself is ``ledger.activity``'s."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.models import ApiKey, LedgerEntry, LedgerOperation


@dataclass(frozen=True)
class RawOperation:
    operation: LedgerOperation
    api_key_prefix: str | None
    entries: list[LedgerEntry]


async def operations_of(session: AsyncSession, account_id: int, operation_id: int) -> list[RawOperation]:
    """The operations grouped with ``operation_id`` (its hold's, if it has one), oldest first; empty
    when the account has no such operation (another account's is the same as none)."""
    head = await session.scalar(
        select(LedgerOperation).where(
            LedgerOperation.id == operation_id, LedgerOperation.account_id == account_id
        )
    )
    if head is None:
        return []
    same = (
        or_(LedgerOperation.id == head.id, LedgerOperation.hold_id == head.hold_id)
        if head.hold_id is not None
        else LedgerOperation.id == head.id
    )
    rows = (
        await session.execute(
            select(LedgerOperation, ApiKey.prefix)
            .outerjoin(ApiKey, ApiKey.id == LedgerOperation.api_key_id)
            .where(LedgerOperation.account_id == account_id, same)
            .order_by(LedgerOperation.id)
        )
    ).all()
    ids = [op.id for op, _ in rows]
    entries: dict[int, list[LedgerEntry]] = {i: [] for i in ids}
    for entry in await session.scalars(
        select(LedgerEntry).where(LedgerEntry.operation_id.in_(ids)).order_by(LedgerEntry.id)
    ):
        entries[entry.operation_id].append(entry)
    return [RawOperation(op, prefix, entries[op.id]) for op, prefix in rows]
