"""Contact email/phone unlock submissions and task status (the use cases behind the four endpoints).

``plan_unlock`` sorts the submitted ids into skipped-with-a-reason and chargeable, and ``decide_unlock``
prices the chargeable ones: the precheck and the submission call both, so they cannot disagree.
Submission, in ONE transaction: lock the account row (``open_wallet(lock=True)``: serialises this
account's submissions, so the open-task checks cannot race), plan, decide, then create the task, its items
and a credit hold of ``price × chargeable`` (the ledger refuses what the account cannot pay, and the
rollback leaves nothing behind). The same intent (account, kind, event, set of ids) submitted again while
its task is open gets that task back; ``open_intent_key`` (unique) makes a second open task for one intent
impossible even if the lock were bypassed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import unlocked_contacts
from showfloor.server.catalog.identifiers import parse_numeric_id, resolve_event
from showfloor.server.errors import InvalidRequest, NotFound
from showfloor.server.ledger.pricing import Action
from showfloor.server.ledger.service import ChargeContext, Wallet, hold, open_wallet
from showfloor.server.models import EventPersonnel, Personnel, UnlockTask, UnlockTaskItem
from showfloor.server.paid.decision import ALREADY_UNLOCKED, OK, Decision, biz_code
from showfloor.server.paid.errors import check_selection

KINDS = ("email", "phone")
PRICE_ACTION = {"email": Action.CONTACT_EMAIL, "phone": Action.CONTACT_PHONE}
ACTIVE_ITEM_STATUSES = ("pending", "processing")
SKIP_REASONS = (
    "invalid_personnel_ids",
    "missing_personnel_ids",
    "unlinked_personnel_ids",
    "already_unlocked_personnel_ids",
    "unlocking_personnel_ids",
)
_CHUNK = 500  # bounded IN lists


@dataclass
class Submission:
    status: str  # "accepted" | "success"
    task_id: int | None = None
    skipped_personnel_ids: list[str] = field(default_factory=list)
    skipped_detail: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in SKIP_REASONS})
    replayed: bool = False

    def skip(self, reason: str, raw_id: str) -> None:
        self.skipped_detail[reason].append(raw_id)
        self.skipped_personnel_ids.append(raw_id)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.task_id is not None:
            out["task_id"] = out["job_id"] = str(self.task_id)
        out["skipped_personnel_ids"] = list(self.skipped_personnel_ids)
        out["skipped_detail"] = {k: list(v) for k, v in self.skipped_detail.items()}
        return out


def intent_key(account_id: int, kind: str, event_pk: int | None, personnel_ids: Sequence[int]) -> str:
    ids = ",".join(str(i) for i in sorted(set(personnel_ids)))
    return hashlib.sha256(f"{account_id}|{kind}|{event_pk or '-'}|{ids}".encode()).hexdigest()


def _dedupe(raw_ids: Sequence[str], submission: Submission) -> dict[int, str]:
    """personnel pk -> the first string it was submitted as; unparseable ids are skipped as invalid."""
    by_pk: dict[int, str] = {}
    seen_invalid: set[str] = set()
    for raw in raw_ids:
        pk = parse_numeric_id(raw) if len(raw.strip()) <= 20 else None
        if pk is None:
            if raw not in seen_invalid:
                seen_invalid.add(raw)
                submission.skip("invalid_personnel_ids", raw)
        elif pk not in by_pk:
            by_pk[pk] = raw
    return by_pk


async def _existing(session: AsyncSession, column: Any, where: Any, pks: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        rows = await session.scalars(select(column).where(where, column.in_(chunk)))
        found.update(int(pk) for pk in rows)
    return found


async def _unlocking(session: AsyncSession, account_id: int, kind: str, pks: list[int]) -> set[int]:
    """People already in an open task of this account and kind, not yet settled."""
    found: set[int] = set()
    for start in range(0, len(pks), _CHUNK):
        rows = await session.scalars(
            select(UnlockTaskItem.personnel_id)
            .join(UnlockTask, UnlockTask.id == UnlockTaskItem.task_id)
            .where(
                UnlockTask.account_id == account_id,
                UnlockTask.kind == kind,
                UnlockTask.status == "open",
                UnlockTaskItem.status.in_(ACTIVE_ITEM_STATUSES),
                UnlockTaskItem.personnel_id.in_(pks[start : start + _CHUNK]),
            )
        )
        found.update(int(pk) for pk in rows)
    return found


def _replay(task: UnlockTask) -> Submission:
    stored = task.submission or {}
    detail = {k: list(stored.get("skipped_detail", {}).get(k, [])) for k in SKIP_REASONS}
    return Submission(
        "accepted",
        task.id,
        list(stored.get("skipped_personnel_ids", [])),
        detail,
        replayed=True,
    )


@dataclass
class UnlockPlan:
    """The submitted ids sorted out: what is skipped and why, what would be charged, and the open task of
    the same intent (if any: a submission then returns that task and charges nothing)."""

    kind: str
    event_pk: int | None
    requested: int
    submission: Submission
    intent: str
    chargeable: list[int]
    open_task: UnlockTask | None

    @property
    def already_unlocked(self) -> int:
        return len(self.submission.skipped_detail["already_unlocked_personnel_ids"])


async def plan_unlock(
    session: AsyncSession, account_id: int, kind: str, personnel_ids: Sequence[str], event_ref: str | None
) -> UnlockPlan:
    """Sort ``personnel_ids``: invalid, missing, not at the event, already unlocked, already being
    unlocked — or chargeable. Raises ``InvalidRequest`` when no id is valid, ``NotFound`` when none exists
    or the event does not."""
    if kind not in KINDS:
        raise ValueError(f"unknown contact kind {kind!r}")
    if not personnel_ids:
        raise InvalidRequest("personnel_ids must contain at least one id")
    check_selection(len(personnel_ids))
    event = await resolve_event(session, event_ref) if event_ref is not None else None
    event_pk = event.id if event is not None else None
    sorted_out = Submission("success")
    by_pk = _dedupe(personnel_ids, sorted_out)
    if not by_pk:
        raise InvalidRequest("No valid personnel id was submitted (ids are numeric strings)")
    pks = list(by_pk)
    known = await _existing(session, Personnel.id, true(), pks)
    if not known:
        raise NotFound("None of the submitted personnel ids exists")
    intent = intent_key(account_id, kind, event_pk, pks)
    plan = UnlockPlan(kind, event_pk, len(personnel_ids), sorted_out, intent, [], None)
    plan.open_task = (
        await session.execute(select(UnlockTask).where(UnlockTask.open_intent_key == intent))
    ).scalar_one_or_none()
    if plan.open_task is not None:
        return plan
    linked = (
        await _existing(session, EventPersonnel.personnel_id, EventPersonnel.event_id == event_pk, pks)
        if event_pk is not None
        else known
    )
    already = await unlocked_contacts(session, account_id, pks, kind)
    unlocking = await _unlocking(session, account_id, kind, pks)
    for pk, raw in by_pk.items():
        if pk not in known:
            sorted_out.skip("missing_personnel_ids", raw)
        elif pk not in linked:
            sorted_out.skip("unlinked_personnel_ids", raw)
        elif pk in already:
            sorted_out.skip("already_unlocked_personnel_ids", raw)
        elif pk in unlocking:
            sorted_out.skip("unlocking_personnel_ids", raw)
        else:
            plan.chargeable.append(pk)
    return plan


def decide_unlock(plan: UnlockPlan, wallet: Wallet, call_source: str) -> Decision:
    """What submitting ``plan`` costs: the plan's price per chargeable person, held until delivery."""
    price = wallet.prices[PRICE_ACTION[plan.kind]]
    detail = {
        "requested_count": plan.requested,
        "chargeable_count": len(plan.chargeable),
        "already_unlocked_count": plan.already_unlocked,
        "unit_credits": price,
        "available_balance": wallet.available,
    }
    code = biz_code(PRICE_ACTION[plan.kind], call_source)
    if not plan.chargeable:
        return Decision(True, 0, ALREADY_UNLOCKED if plan.already_unlocked else OK, code, detail)
    return Decision(True, price * len(plan.chargeable), OK, code, detail)


async def submit(
    session: AsyncSession,
    *,
    account_id: int,
    api_key_id: int | None,
    kind: str,
    personnel_ids: Sequence[str],
    event_ref: str | None,
    call_source: str,
    now: datetime | None = None,
) -> Submission:
    now = now or datetime.now(UTC)
    wallet = await open_wallet(session, account_id, now, lock=True)
    plan = await plan_unlock(session, account_id, kind, personnel_ids, event_ref)
    if plan.open_task is not None:
        return _replay(plan.open_task)
    result = plan.submission
    if not plan.chargeable:
        return result
    decision = decide_unlock(plan, wallet, call_source)
    unit_price = decision.detail["unit_credits"]
    task = UnlockTask(
        account_id=account_id,
        api_key_id=api_key_id,
        kind=kind,
        event_id=plan.event_pk,
        status="open",
        call_source=call_source,
        business_code=decision.biz_code,
        unit_price=unit_price,
        item_count=len(plan.chargeable),
        items_left=len(plan.chargeable),
        open_intent_key=plan.intent,
        submission={
            "skipped_personnel_ids": result.skipped_personnel_ids,
            "skipped_detail": result.skipped_detail,
        },
        created_at=now,
    )
    session.add(task)
    await session.flush()
    if decision.credits > 0:  # a free action (price 0) holds nothing
        ctx = ChargeContext(
            account_id=account_id,
            api_key_id=api_key_id,
            call_source=call_source,
            business_code=decision.biz_code,
            resource_type=f"contact_{kind}_task",
            resource_id=str(task.id),
        )
        held = await hold(
            session, ctx, decision.credits, f"unlock-task:{task.id}:hold", wallet=wallet, now=now
        )
        task.hold_id = held.hold_id
    await session.execute(
        insert(UnlockTaskItem),
        [
            {"task_id": task.id, "personnel_id": pk, "status": "pending", "available_at": now, "attempts": 0}
            for pk in plan.chargeable
        ],
    )
    await session.flush()
    result.status = "accepted"
    result.task_id = task.id
    return result


@dataclass(frozen=True)
class ItemView:
    personnel_id: int
    status: str
    value: str | None
    error_code: str | None


@dataclass(frozen=True)
class TaskView:
    task_id: int
    kind: str
    task_status: str
    items: list[ItemView]

    def body(self) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for item in self.items:
            one: dict[str, Any] = {"personnelId": str(item.personnel_id), "status": item.status}
            if item.status == "unlocked":
                one[self.kind] = item.value
            if item.status == "failed" and item.error_code:
                one["errorCode"] = item.error_code
            items.append(one)
        return {"taskId": str(self.task_id), "taskStatus": self.task_status, "items": items}


async def task_status(session: AsyncSession, account_id: int, kind: str, task_ref: str) -> TaskView:
    """The task as the reference shows it; another account's (or the other kind's) task is NotFound."""
    pk = parse_numeric_id(task_ref)
    task = await session.get(UnlockTask, pk) if pk is not None else None
    if task is None or task.account_id != account_id or task.kind != kind:
        raise NotFound(f"Unlock task not found: {task_ref}")
    rows = (
        await session.execute(
            select(
                UnlockTaskItem.personnel_id,
                UnlockTaskItem.status,
                UnlockTaskItem.attempts,
                UnlockTaskItem.value,
                UnlockTaskItem.error_code,
            )
            .where(UnlockTaskItem.task_id == task.id)
            .order_by(UnlockTaskItem.id)
        )
    ).all()
    items = [
        # A pending item waiting for a retry has been worked on: report it as processing.
        ItemView(pid, "processing" if status == "pending" and attempts > 0 else status, value, error)
        for pid, status, attempts, value, error in rows
    ]
    if task.status in ("completed", "failed"):
        overall = task.status
    elif any(item.status != "pending" for item in items):
        overall = "processing"
    else:
        overall = "pending"
    return TaskView(task.id, task.kind, overall, items)
