"""Debits, holds, captures and releases on PostgreSQL: one call each to the functions in ``sql/``.

``ledger_spend`` (debit or hold) and ``ledger_settle`` (captures and releases of one hold, in order) do
what ``spending.py`` and ``holds.py`` do on SQLite, in one round trip instead of six to ten (measured in
docs/benchmarks.md, "Ledger"). They return a status instead of raising, so a refusal leaves the transaction
usable; here each status becomes the same ``DomainError`` the Python twin raises. The functions' text lives
only in ``sql/*.sql`` (installed by ``db.sql_functions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.prepared import PreparedQuery, flush_pending
from showfloor.server.errors import (
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    SpendCapExceeded,
)
from showfloor.server.ledger.operations import key_conflict
from showfloor.server.ledger.types import ChargeContext, HoldSettlement, OperationResult

_SPEND = PreparedQuery(
    text(
        "SELECT status, operation_id, hold_id, amount, other_kind, available, cap_period, cap_limit, "
        "cap_spent, caps_reached FROM ledger_spend("
        ":kind, :account_id, :amount, :op_key, :now, :api_key_id, :call_source, :business_code, "
        ":resource_type, :resource_id, :account_locked)"
    )
)
_SETTLE = PreparedQuery(
    text(
        "SELECT status, operation_id, amount, other_kind, outstanding FROM ledger_settle("
        ":hold_id, CAST(:kinds AS text[]), CAST(:amounts AS bigint[]), CAST(:op_keys AS text[]), :now, "
        ":account_id, CAST(:attributed AS boolean[]), CAST(:api_key_ids AS bigint[]), "
        "CAST(:call_sources AS text[]), CAST(:business_codes AS text[]), CAST(:resource_types AS text[]), "
        "CAST(:resource_ids AS text[]))"
    )
)


async def spend(
    session: AsyncSession,
    kind: str,
    ctx: ChargeContext,
    amount: int,
    op_key: str,
    now: datetime,
    *,
    account_locked: bool,
) -> tuple[OperationResult, int | None, list[str]]:
    """``ledger_spend``: a debit or a hold; returns the operation, the hold id (None for a debit) and the
    periods whose spend cap of the key it reached exactly.
    ``account_locked``: the caller's transaction already holds the account row lock."""
    await flush_pending(session)  # the function writes with SQL, past the unit of work
    row = await _SPEND.one(
        session,
        {
            "kind": kind,
            "account_id": ctx.account_id,
            "amount": amount,
            "op_key": op_key,
            "now": now,
            "api_key_id": ctx.api_key_id,
            "call_source": ctx.call_source,
            "business_code": ctx.business_code,
            "resource_type": ctx.resource_type,
            "resource_id": ctx.resource_id,
            "account_locked": account_locked,
        },
    )
    status = row["status"]
    if status == "not_found":
        raise NotFound(f"Account {ctx.account_id} not found")
    if status == "no_key":
        raise InvalidRequest("An operation key is required")
    if status == "conflict":
        raise key_conflict(op_key, row["other_kind"], int(row["amount"]))
    if status == "insufficient":
        raise InsufficientCredits(amount, int(row["available"]))
    if status == "cap_exceeded":
        raise SpendCapExceeded(int(row["cap_limit"]), row["cap_period"], int(row["cap_spent"]), amount)
    assert status in ("created", "replayed"), status
    result = OperationResult(int(row["operation_id"]), int(row["amount"]), replayed=status == "replayed")
    reached = row["caps_reached"].split(",") if row["caps_reached"] else []
    return result, None if row["hold_id"] is None else int(row["hold_id"]), reached


async def settle(
    session: AsyncSession, hold_id: int, settlements: Sequence[HoldSettlement], now: datetime
) -> list[OperationResult]:
    """``ledger_settle``: every capture and release of ``settlements`` in order, in one call."""
    await flush_pending(session)
    accounts = {s.ctx.account_id for s in settlements if s.ctx is not None}
    if len(accounts) > 1:
        raise Conflict(f"Hold {hold_id} belongs to another account")

    def ctx_field(name: str) -> list[Any]:
        return [getattr(s.ctx, name) if s.ctx is not None else None for s in settlements]

    rows = await _SETTLE.all(
        session,
        {
            "hold_id": hold_id,
            "kinds": [s.kind for s in settlements],
            "amounts": [s.amount for s in settlements],
            "op_keys": [s.op_key for s in settlements],
            "now": now,
            "account_id": accounts.pop() if accounts else None,
            "attributed": [s.ctx is not None for s in settlements],
            "api_key_ids": ctx_field("api_key_id"),
            "call_sources": ctx_field("call_source"),
            "business_codes": ctx_field("business_code"),
            "resource_types": ctx_field("resource_type"),
            "resource_ids": ctx_field("resource_id"),
        },
    )
    return [_settled(row, hold_id, item) for row, item in zip(rows, settlements, strict=False)]


def _settled(row: Any, hold_id: int, item: HoldSettlement) -> OperationResult:
    status = row["status"]
    if status == "not_found":
        raise NotFound(f"Hold {hold_id} not found")
    if status == "foreign":
        raise Conflict(f"Hold {hold_id} belongs to another account")
    if status == "no_key":
        raise InvalidRequest("An operation key is required")
    if status == "conflict":
        raise key_conflict(item.op_key, row["other_kind"], int(row["amount"]))
    if status == "exceeds":
        outstanding = int(row["outstanding"])
        raise Conflict(
            f"Cannot {item.kind} {int(row['amount'])} credits: hold {hold_id} has {outstanding} outstanding",
            outstandingCredits=outstanding,
        )
    assert status in ("created", "replayed"), status
    return OperationResult(int(row["operation_id"]), int(row["amount"]), replayed=status == "replayed")
