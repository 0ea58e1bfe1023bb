"""Credit activity: the ledger grouped into one row per customer-visible operation, newest first.

``/external/credits/transactions`` lists ledger entries (one per grant touched, a hold and each of its
captures and releases apart). A person adding up what they spent wants one row per thing they did: a
contact unlock task (its hold, captures and releases) is one row, an event unlock is one row, a grant is
one row, an expiry is one row. ``credits`` is what the row means in words (spent, granted, expired,
refunded) and ``balance_change`` its signed effect, so the rows of a period add up to the balance moves.

Three statements per page whatever its size (the count, the grouped page, the page's details); never one
per row. Only the ledger's own tables plus the task and event a row names are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import InvalidRequest
from showfloor.server.models import (
    ApiKey,
    CreditHold,
    Event,
    LedgerEntry,
    LedgerOperation,
    UnlockTask,
)

# The paid actions' labels, as their business codes spell them ("<Label> - API" / "<Label> - Agent").
# ``paid.decision.LABELS`` owns them (the ledger imports no domain); a test keeps the two equal.
PAID_LABELS = (
    "Event Unlock",
    "Visitor Unlock",
    "Full Access Unlock",
    "Contact Email Unlock",
    "Contact Phone Unlock",
    "Exhibitor Company Search",
    "Exhibitor Event Search",
    "Personnel Events By Name",
    "LinkedIn Activity Unlock",
)
# Operations that are not a purchase: each its own row, its action the operation kind.
OPERATOR_ACTIONS = ("grant", "expire", "void", "refund")


def action_code(label: str) -> str:
    """``"Contact Email Unlock"`` → ``"contact_email_unlock"``: the filterable code of a paid action."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


PAID_ACTIONS: dict[str, str] = {action_code(label): label for label in PAID_LABELS}
ACTIONS: tuple[str, ...] = (*PAID_ACTIONS, *OPERATOR_ACTIONS)
SOURCES = ("api", "agent")


@dataclass(frozen=True)
class ActivityRow:
    """One customer-visible operation. ``credits``: spent (purchases), granted, expired, voided or
    refunded, always ≥ 0 and named by ``type``; ``balance_change``: its signed effect on the balance."""

    operation_id: int
    occurred_at: datetime
    type: str  # "spend" | "grant" | "expire" | "void" | "refund"
    action: str  # a code of ACTIONS
    label: str  # words: "contact email unlock", "gift grant"
    description: str
    credits: int
    balance_change: int
    business_code: str | None
    call_source: str | None
    api_key_prefix: str | None
    task_id: str | None = None
    event_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    delivered: int | None = None  # contact unlock tasks: items charged
    unit_credits: int | None = None
    held: int | None = None  # contact unlock tasks: credits reserved, released, still pending
    released: int | None = None
    pending: int | None = None
    bucket: str | None = None  # grants, expiries, voids: the bucket of the grant

    def to_api(self) -> dict[str, Any]:
        """The ``/external/credits/activity`` item (ids as strings, ``occurredAt`` in epoch milliseconds
        and ``occurredAtIso`` in ISO 8601 UTC)."""
        return {
            "operationId": str(self.operation_id),
            "occurredAt": int(self.occurred_at.timestamp() * 1000),
            "occurredAtIso": self.occurred_at.isoformat(),
            "type": self.type,
            "action": self.action,
            "label": self.label,
            "description": self.description,
            "credits": self.credits,
            "balanceChange": self.balance_change,
            "businessCode": self.business_code,
            "callSource": self.call_source,
            "apiKeyPrefix": self.api_key_prefix,
            "taskId": self.task_id,
            "eventId": self.event_id,
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
            "delivered": self.delivered,
            "unitCredits": self.unit_credits,
            "held": self.held,
            "released": self.released,
            "pending": self.pending,
            "bucket": self.bucket,
        }


def _n(value: int) -> str:
    return f"{value:,}"


def _group_key() -> ColumnElement[int]:
    # A hold's operations (hold, captures, releases) share a group; every other operation is its own.
    return case((LedgerOperation.hold_id.is_(None), LedgerOperation.id), else_=-LedgerOperation.hold_id)


def _action_filter(action: str) -> ColumnElement[bool]:
    if action in OPERATOR_ACTIONS:
        return LedgerOperation.kind == action
    if action not in PAID_ACTIONS:
        raise InvalidRequest(f"Unknown action {action!r}; expected one of: {', '.join(ACTIONS)}")
    label = PAID_ACTIONS[action].lower()
    return and_(
        LedgerOperation.kind.in_(("debit", "hold", "capture", "release")),
        func.lower(LedgerOperation.business_code).like(f"{label} - %"),
    )


def _filters(
    account_id: int, action: str | None, source: str | None, api_key_prefix: str | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [LedgerOperation.account_id == account_id]
    if action:
        where.append(_action_filter(action))
    if source:
        if source not in SOURCES:
            raise InvalidRequest(f"Unknown source {source!r}; expected api or agent")
        where.append(LedgerOperation.call_source == source)
    if api_key_prefix:
        keys = select(ApiKey.id).where(ApiKey.account_id == account_id, ApiKey.prefix == api_key_prefix)
        where.append(LedgerOperation.api_key_id.in_(keys))
    return where


async def list_activity(
    session: AsyncSession,
    account_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    source: str | None = None,
    api_key_prefix: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[ActivityRow], int]:
    """One page of the account's activity, newest first, and the number of rows matching the filters.
    ``since`` is inclusive, ``until`` exclusive; a row's time is when it began (a task: its submission)."""
    if since is not None and until is not None and since >= until:
        raise InvalidRequest("since must be earlier than until")
    key = _group_key().label("group_key")
    first_at = func.min(LedgerOperation.created_at)
    having: list[ColumnElement[bool]] = []
    if since is not None:
        having.append(first_at >= since)
    if until is not None:
        having.append(first_at < until)
    spent = func.sum(case((LedgerOperation.kind.in_(("debit", "capture")), LedgerOperation.amount), else_=0))
    groups = (
        select(
            key,
            func.min(LedgerOperation.id).label("head_id"),
            first_at.label("occurred_at"),
            spent.label("spent"),
            func.sum(case((LedgerOperation.kind == "capture", 1), else_=0)).label("captures"),
            func.sum(case((LedgerOperation.kind == "release", LedgerOperation.amount), else_=0)).label(
                "released"
            ),
        )
        .where(*_filters(account_id, action, source, api_key_prefix))
        .group_by(key)
    )
    if having:
        groups = groups.having(*having)
    sub = groups.subquery()
    total = int(await session.scalar(select(func.count()).select_from(sub)) or 0)
    page_rows = (
        await session.execute(
            select(sub).order_by(sub.c.head_id.desc()).limit(page_size).offset((page - 1) * page_size)
        )
    ).all()
    if not page_rows:
        return [], total
    head_ids = [int(r.head_id) for r in page_rows]
    details = await _details(session, head_ids)
    rows = [_row(r, details[int(r.head_id)]) for r in page_rows]
    return rows, total


@dataclass(frozen=True)
class _Head:
    op: LedgerOperation
    prefix: str | None
    hold: CreditHold | None
    task: UnlockTask | None
    task_event: str | None
    bucket: str | None
    grant_id: int | None
    event_public_id: str | None


async def _details(session: AsyncSession, head_ids: list[int]) -> dict[int, _Head]:
    """The page's first operations with their key prefix, hold, task and bucket (one statement), and the
    public ids of the events they name (one more)."""
    entry = (
        select(
            LedgerEntry.operation_id,
            func.min(LedgerEntry.bucket).label("bucket"),
            func.min(LedgerEntry.grant_id).label("grant_id"),
        )
        .where(LedgerEntry.operation_id.in_(head_ids))
        .group_by(LedgerEntry.operation_id)
        .subquery()
    )
    stmt = (
        select(LedgerOperation, ApiKey.prefix, CreditHold, UnlockTask, entry.c.bucket, entry.c.grant_id)
        .outerjoin(ApiKey, ApiKey.id == LedgerOperation.api_key_id)
        .outerjoin(CreditHold, CreditHold.id == LedgerOperation.hold_id)
        .outerjoin(
            UnlockTask,
            and_(LedgerOperation.hold_id.is_not(None), UnlockTask.hold_id == LedgerOperation.hold_id),
        )
        .outerjoin(entry, entry.c.operation_id == LedgerOperation.id)
        .where(LedgerOperation.id.in_(head_ids))
    )
    rows = (await session.execute(stmt)).all()
    event_pks = {task.event_id for _, _, _, task, _, _ in rows if task is not None and task.event_id}
    event_pks |= {
        int(op.resource_id)
        for op, *_ in rows
        if op.resource_type == "event" and op.resource_id and op.resource_id.isdigit()
    }
    public: dict[int, str] = {}
    if event_pks:
        found = await session.execute(select(Event.id, Event.event_id).where(Event.id.in_(event_pks)))
        public = {int(pk): str(eid) for pk, eid in found.all()}
    out: dict[int, _Head] = {}
    for op, prefix, hold, task, bucket, grant_id in rows:
        task_event = public.get(task.event_id) if task is not None and task.event_id else None
        resource_event = (
            public.get(int(op.resource_id))
            if op.resource_type == "event" and op.resource_id and op.resource_id.isdigit()
            else None
        )
        out[op.id] = _Head(op, prefix, hold, task, task_event, bucket, grant_id, resource_event)
    return out


def _paid_label(business_code: str | None) -> str | None:
    if not business_code or " - " not in business_code:
        return None
    label = business_code.rsplit(" - ", 1)[0]
    return label if label in PAID_LABELS else None


def _row(group: Any, head: _Head) -> ActivityRow:
    op = head.op
    base: dict[str, Any] = {
        "operation_id": op.id,
        "occurred_at": group.occurred_at,
        "business_code": op.business_code,
        "call_source": op.call_source,
        "api_key_prefix": head.prefix,
        "resource_type": op.resource_type,
        "resource_id": op.resource_id,
    }
    if op.kind in ("grant", "expire", "void"):
        return _operator_row(op, head, base)
    if op.kind == "refund":
        words = f"refund of operation {op.ref_operation_id}"
        return ActivityRow(
            type="refund",
            action="refund",
            label="refund",
            description=f"{words}: {_n(op.amount)} credits back",
            credits=op.amount,
            balance_change=op.amount,
            **base,
        )
    label = _paid_label(op.business_code)
    action = action_code(label) if label else op.kind
    words = label.lower() if label else (op.business_code or op.kind)
    spent = int(group.spent or 0)
    if head.hold is not None:
        return _task_row(group, head, base, action, words, spent)
    subject = _subject(op, head)
    return ActivityRow(
        type="spend",
        action=action,
        label=words,
        description=f"{words}{subject}: {_n(spent)} credits",
        credits=spent,
        balance_change=-spent,
        event_id=head.event_public_id,
        **base,
    )


def _subject(op: LedgerOperation, head: _Head) -> str:
    if op.resource_type == "event":
        return f", event {head.event_public_id or op.resource_id}"
    if op.resource_type == "personnel":
        return f", {op.resource_id} profiles"
    if op.resource_id:
        return f' "{op.resource_id}"'
    return ""


def _task_row(
    group: Any, head: _Head, base: dict[str, Any], action: str, words: str, spent: int
) -> ActivityRow:
    hold = head.hold
    assert hold is not None
    task = head.task
    delivered = int(group.captures or 0)
    released = int(group.released or 0)
    pending = max(hold.amount - hold.captured - hold.released, 0)
    unit = task.unit_price if task is not None else (spent // delivered if delivered else None)
    task_id = str(task.id) if task is not None else (head.op.resource_id if head.op.resource_type else None)
    where = f", task {task_id}" if task_id else ""
    priced = f" × {_n(unit)}" if unit is not None else ""
    text = f"{words}{where}: {_n(delivered)} delivered{priced} = {_n(spent)} credits"
    extras = []
    if released:
        extras.append(f"{_n(released)} released")
    if pending:
        extras.append(f"{_n(pending)} still held for pending items")
    if extras:
        text += f" ({'; '.join(extras)})"
    base = {**base, "resource_type": head.op.resource_type, "resource_id": head.op.resource_id}
    return ActivityRow(
        type="spend",
        action=action,
        label=words,
        description=text,
        credits=spent,
        balance_change=-spent,
        task_id=task_id,
        event_id=head.task_event,
        delivered=delivered,
        unit_credits=unit,
        held=hold.amount,
        released=released,
        pending=pending,
        **base,
    )


def _operator_row(op: LedgerOperation, head: _Head, base: dict[str, Any]) -> ActivityRow:
    bucket = head.bucket
    if op.kind == "grant":
        label = f"{bucket} grant" if bucket else "grant"
        note = f" ({op.business_code})" if op.business_code else ""
        return ActivityRow(
            type="grant",
            action="grant",
            label=label,
            description=f"{label}: +{_n(op.amount)} credits{note}",
            credits=op.amount,
            balance_change=op.amount,
            bucket=bucket,
            **{**base, "business_code": None},
        )
    label = "expiry" if op.kind == "expire" else "void"
    grant = f" of {bucket + ' ' if bucket else ''}grant {head.grant_id}" if head.grant_id else ""
    return ActivityRow(
        type=op.kind,
        action=op.kind,
        label=label,
        description=f"{label}{grant}: {_n(op.amount)} credits removed",
        credits=op.amount,
        balance_change=-op.amount,
        bucket=bucket,
        **base,
    )
