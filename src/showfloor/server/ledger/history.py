"""Ledger history of one account, newest first: every entry with the operation that wrote it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.models import ApiKey, LedgerEntry, LedgerOperation


@dataclass(frozen=True)
class HistoryItem:
    id: int
    created_at: datetime
    type: str
    amount: int
    bucket: str | None
    business_code: str | None
    call_source: str | None
    api_key_prefix: str | None
    resource_type: str | None
    resource_id: str | None
    operation_id: int
    grant_id: int | None

    def to_api(self) -> dict[str, Any]:
        """The ``/external/credits/transactions`` item (ids as strings, times in epoch milliseconds)."""
        return {
            "id": str(self.id),
            "createdAt": int(self.created_at.timestamp() * 1000),
            "type": self.type,
            "amount": self.amount,
            "bucket": self.bucket,
            "businessCode": self.business_code,
            "callSource": self.call_source,
            "apiKeyPrefix": self.api_key_prefix,
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
            "operationId": str(self.operation_id),
            "grantId": None if self.grant_id is None else str(self.grant_id),
        }


async def list_entries(
    session: AsyncSession,
    account_id: int,
    *,
    page: int = 1,
    page_size: int = 20,
    entry_type: str | None = None,
) -> tuple[list[HistoryItem], int]:
    """One page of the account's entries (optionally of one type), newest first, and their total."""
    where = [LedgerEntry.account_id == account_id]
    if entry_type:
        where.append(LedgerEntry.type == entry_type)
    total = int(await session.scalar(select(func.count()).select_from(LedgerEntry).where(*where)) or 0)
    rows = (
        await session.execute(
            select(LedgerEntry, LedgerOperation, ApiKey.prefix)
            .join(LedgerOperation, LedgerOperation.id == LedgerEntry.operation_id)
            .outerjoin(ApiKey, ApiKey.id == LedgerOperation.api_key_id)
            .where(*where)
            .order_by(LedgerEntry.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        )
    ).all()
    items = [
        HistoryItem(
            id=entry.id,
            created_at=entry.created_at,
            type=entry.type,
            amount=entry.amount,
            bucket=entry.bucket,
            business_code=op.business_code,
            call_source=op.call_source,
            api_key_prefix=prefix,
            resource_type=op.resource_type,
            resource_id=op.resource_id,
            operation_id=op.id,
            grant_id=entry.grant_id,
        )
        for entry, op, prefix in rows
    ]
    return items, total
