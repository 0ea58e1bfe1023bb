"""Item-by-item reconciliation of a contact unlock: what was delivered, what was not and why, what is
still open, and whether the credits the balance lost match price × delivered."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from showfloor.client.models import UnlockSubmission, UnlockTask, UnlockTaskItem

Kind = Literal["email", "phone"]
PENDING_STATUSES = frozenset({"pending", "processing"})


class ReconciliationReport(BaseModel):
    kind: Kind = "email"
    task_id: str | None = None
    task_status: str | None = None  # None: no task was created (nothing chargeable)
    finished: bool = False
    submitted: list[str] = Field(default_factory=list)
    delivered: dict[str, str] = Field(default_factory=dict)  # personnel id -> email (or phone)
    not_delivered: dict[str, list[str]] = Field(default_factory=dict)  # reason -> personnel ids
    unresolved: list[str] = Field(default_factory=list)
    skipped: dict[str, list[str]] = Field(default_factory=dict)  # contract category -> personnel ids
    price_per_contact: int = 0
    balance_before: int = 0
    balance_after: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def credits_expected(self) -> int:
        return self.price_per_contact * len(self.delivered)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def balance_moved(self) -> int:
        return self.balance_before - self.balance_after

    @computed_field  # type: ignore[prop-decorator]
    @property
    def consistent(self) -> bool:
        """Expected charge equals the balance change (false also if other spending happened meanwhile)."""
        return self.credits_expected == self.balance_moved


def unit_price(precheck_detail: dict[str, Any]) -> int:
    """The account's price per delivered contact, as the server's precheck states it (``unit_credits``);
    never a price table of our own, so a plan's price is the one reconciled against. 0 when the precheck
    refused the request before pricing it (the submission then fails with the server's error)."""
    value = precheck_detail.get("unit_credits")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def not_delivered_reason(item: UnlockTaskItem, kind: Kind) -> str:
    missing = "no_email" if kind == "email" else "no_phone"
    if item.status == "unlocked":
        return missing  # unlocked but nothing to deliver
    code = (item.errorCode or "").upper()
    if "INELIGIBLE" in code or "OPT" in code:
        return "ineligible"
    if "NO_EMAIL" in code or "NO_PHONE" in code or "NO_CONTACT" in code or "NOT_FOUND" in code:
        return missing
    return "failed"


def build_report(
    *,
    kind: Kind,
    submitted: Sequence[str],
    submission: UnlockSubmission,
    task: UnlockTask | None,
    price_per_contact: int,
    balance_before: int,
    balance_after: int,
) -> ReconciliationReport:
    skipped: dict[str, list[str]] = {k: list(v) for k, v in (submission.skipped_detail or {}).items() if v}
    skipped_ids = {pid for ids in skipped.values() for pid in ids} | set(submission.skipped_personnel_ids)
    if submission.skipped_personnel_ids and not skipped:
        skipped["skipped"] = list(submission.skipped_personnel_ids)
    delivered: dict[str, str] = {}
    not_delivered: dict[str, list[str]] = {}
    unresolved: list[str] = []
    seen: set[str] = set()
    for item in task.items if task else []:
        seen.add(item.personnelId)
        value = item.email if kind == "email" else item.phone
        if item.status == "unlocked" and value:
            delivered[item.personnelId] = value
        elif item.status in PENDING_STATUSES:
            unresolved.append(item.personnelId)
        else:
            not_delivered.setdefault(not_delivered_reason(item, kind), []).append(item.personnelId)
    no_task = submission.status != "accepted" or not submission.task_id
    if not no_task:
        # Submitted, not skipped, and not (yet) in the task: still open as far as we can tell.
        unresolved.extend(pid for pid in submitted if pid not in seen and pid not in skipped_ids)
    return ReconciliationReport(
        kind=kind,
        task_id=submission.task_id,
        task_status=task.taskStatus if task else None,
        finished=no_task or (task is not None and task.finished and not unresolved),
        submitted=list(submitted),
        delivered=delivered,
        not_delivered=not_delivered,
        unresolved=unresolved,
        skipped=skipped,
        price_per_contact=price_per_contact,
        balance_before=balance_before,
        balance_after=balance_after,
    )


def poll_schedule(intervals: Iterable[float]) -> Iterator[float]:
    """The given intervals in order, then the last one for ever (3, 5, 10, 10, 10 …)."""
    last: float | None = None
    for value in intervals:
        last = value
        yield value
    if last is None:
        raise ValueError("poll_intervals must not be empty")
    while True:
        yield last


def dedupe(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(i) for i in ids))


def with_task(report: ReconciliationReport, task: UnlockTask, balance_after: int) -> ReconciliationReport:
    """``report`` (of a submission made with ``wait=False``) completed with the task as it is now: for a
    caller that polls the task itself (the CLI's resumable wait)."""
    submission = UnlockSubmission(
        status="accepted" if report.task_id else "success",
        task_id=report.task_id,
        skipped_personnel_ids=[pid for ids in report.skipped.values() for pid in ids],
        skipped_detail=report.skipped,
    )
    return build_report(
        kind=report.kind,
        submitted=report.submitted,
        submission=submission,
        task=task,
        price_per_contact=report.price_per_contact,
        balance_before=report.balance_before,
        balance_after=balance_after,
    )


def task_report(kind: Kind, task: UnlockTask, price_per_contact: int = 0) -> ReconciliationReport:
    """The report of a task known only by its id (``showfloor tasks show``): no submission, no balances."""
    submission = UnlockSubmission(status="accepted", task_id=task.taskId)
    ids = [item.personnelId for item in task.items]
    return build_report(
        kind=kind,
        submitted=ids,
        submission=submission,
        task=task,
        price_per_contact=price_per_contact,
        balance_before=0,
        balance_after=0,
    )
