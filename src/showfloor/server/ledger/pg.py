"""The PostgreSQL fast path: debit, hold, capture and release as one call each to the functions of
migration 0006 (``ledger_spend``, ``ledger_settle``), which do exactly what the Python path does.

The functions return a status instead of raising, so a refusal leaves the transaction usable, like
the Python path; here each status becomes the same ``DomainError`` the Python path raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.fast import FastStatement, flush_pending
from showfloor.server.db.uow import Database
from showfloor.server.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from showfloor.server.ledger.types import ChargeContext, OperationResult

# Rows are read by position (fast statements, see db/fast.py):
# ledger_spend → status, operation_id, hold_id, amount, other_kind, available;
# ledger_settle → status, operation_id, amount, other_kind, outstanding.
_SPEND = FastStatement(
    text(
        "SELECT status, operation_id, hold_id, amount, other_kind, available FROM ledger_spend("
        ":kind, :account_id, :amount, :op_key, :now, :api_key_id, :call_source, :business_code, "
        ":resource_type, :resource_id)"
    )
)
_SETTLE = FastStatement(
    text(
        "SELECT status, operation_id, amount, other_kind, outstanding FROM ledger_settle("
        ":kind, :hold_id, :amount, :op_key, :now, :ctx_account_id, :api_key_id, :call_source, "
        ":business_code, :resource_type, :resource_id)"
    )
)


def uses_functions(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _call(session: AsyncSession, stmt: FastStatement, params: dict[str, Any]) -> Any:
    # The function writes with SQL, not through the unit of work: flush what the caller added first,
    # as the Python path's own flush would have.
    await flush_pending(session)
    return await stmt.one(session, params)


def _conflict(op_key: str, kind: str, amount: int) -> Conflict:
    return Conflict(
        f"Operation key {op_key!r} was already used for a {kind} of {amount} credits",
        code="STATE_CONFLICT",
    )


def _spend_params(kind: str, ctx: ChargeContext, amount: int, op_key: str, now: datetime) -> dict[str, Any]:
    return {
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
    }


async def spend(
    session: AsyncSession, kind: str, ctx: ChargeContext, amount: int, op_key: str, now: datetime
) -> tuple[OperationResult, int | None]:
    """``ledger_spend``: a debit (``kind="debit"``) or a hold; returns the operation and the hold id."""
    row = await _call(session, _SPEND, _spend_params(kind, ctx, amount, op_key, now))
    return _spent(row, ctx, amount, op_key)


async def debit_alone(
    db: Database, ctx: ChargeContext, amount: int, op_key: str, now: datetime
) -> OperationResult:
    """``ledger_spend`` for a debit as a transaction of its own (``Database.run_alone``)."""
    rows = await db.run_alone(_SPEND, _spend_params("debit", ctx, amount, op_key, now))
    return _spent(rows[0], ctx, amount, op_key)[0]


def _spent(row: Any, ctx: ChargeContext, amount: int, op_key: str) -> tuple[OperationResult, int | None]:
    status, operation_id, hold_id, spent, other_kind, available = row
    if status == "not_found":
        raise NotFound(f"Account {ctx.account_id} not found")
    if status == "no_key":
        raise InvalidRequest("An operation key is required")
    if status == "conflict":
        raise _conflict(op_key, other_kind, int(spent))
    if status == "insufficient":
        raise InsufficientCredits(amount, int(available))
    assert status in ("created", "replayed"), status
    result = OperationResult(int(operation_id), int(spent), replayed=status == "replayed")
    return result, None if hold_id is None else int(hold_id)


async def settle(
    session: AsyncSession,
    kind: str,
    hold_id: int,
    amount: int | None,
    op_key: str,
    now: datetime,
    ctx: ChargeContext | None = None,
) -> OperationResult:
    """``ledger_settle``: a capture (``amount`` given) or a release (``None``: all outstanding)."""
    row = await _call(
        session,
        _SETTLE,
        {
            "kind": kind,
            "hold_id": hold_id,
            "amount": amount,
            "op_key": op_key,
            "now": now,
            "ctx_account_id": ctx.account_id if ctx is not None else None,
            "api_key_id": ctx.api_key_id if ctx is not None else None,
            "call_source": ctx.call_source if ctx is not None else None,
            "business_code": ctx.business_code if ctx is not None else None,
            "resource_type": ctx.resource_type if ctx is not None else None,
            "resource_id": ctx.resource_id if ctx is not None else None,
        },
    )
    return _settled(row, kind, hold_id, op_key)


def _settled(row: Any, kind: str, hold_id: int, op_key: str) -> OperationResult:
    status, operation_id, amount, other_kind, outstanding = row
    if status == "not_found":
        raise NotFound(f"Hold {hold_id} not found")
    if status == "foreign":
        raise Conflict(f"Hold {hold_id} belongs to another account")
    if status == "no_key":
        raise InvalidRequest("An operation key is required")
    if status == "conflict":
        raise _conflict(op_key, other_kind, int(amount))
    if status == "exceeds":
        raise Conflict(
            f"Cannot {kind} {int(amount)} credits: hold {hold_id} has {int(outstanding)} outstanding",
            outstandingCredits=int(outstanding),
        )
    assert status in ("created", "replayed"), status
    return OperationResult(int(operation_id), int(amount), replayed=status == "replayed")
