"""Settling one item in its own short transaction, and closing a task once every item is settled.

Idempotent per item: the item row is locked and a settled item is left alone; the ledger operations
carry per-item keys (``task:{t}:item:{i}:capture|release``), so a replay writes nothing. Lock order:
item, account (inside the ledger), hold and grants, task — the same in every settlement; submissions
lock the account and touch no existing item, claims lock items only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import record_contact_unlock, unlocked_contacts
from showfloor.server.db.locking import for_update
from showfloor.server.errors import Conflict
from showfloor.server.ledger.service import ChargeContext, capture, release
from showfloor.server.models import CreditHold, UnlockTask, UnlockTaskItem

SETTLED = ("unlocked", "failed")
# Item failures that mean "nothing to deliver", as opposed to the provider failing us.
NOT_FOUND_CODES = ("NO_EMAIL", "NO_PHONE", "INELIGIBLE")


@dataclass(frozen=True)
class ItemOutcome:
    value: str | None = None  # the delivered email/phone
    error_code: str | None = None

    @property
    def delivered(self) -> bool:
        return self.value is not None


async def settle_item(session: AsyncSession, item_id: int, outcome: ItemOutcome, now: datetime) -> bool:
    """Capture (delivered) or release (anything else) the item's share; False when already settled."""
    item = (
        await session.execute(
            for_update(session, select(UnlockTaskItem).where(UnlockTaskItem.id == item_id)).execution_options(
                populate_existing=True
            )
        )
    ).scalar_one_or_none()
    if item is None or item.status in SETTLED:
        return False
    task = (await session.execute(select(UnlockTask).where(UnlockTask.id == item.task_id))).scalar_one()
    op_prefix = f"task:{task.id}:item:{item.id}"
    if outcome.delivered:
        earlier = await unlocked_contacts(session, task.account_id, [item.personnel_id], task.kind)
        if item.personnel_id in earlier:
            # Delivered to this account meanwhile (another task): shown, never charged twice.
            await _release_share(session, task, f"{op_prefix}:release")
            item.value = earlier[item.personnel_id] or outcome.value
        else:
            operation_id = await _capture_share(session, task, item, f"{op_prefix}:capture", now)
            recorded = await record_contact_unlock(
                session, task.account_id, item.personnel_id, task.kind, outcome.value, operation_id
            )
            if not recorded:
                # Another transaction recorded it after our check: roll back; the retry releases.
                raise Conflict(f"Contact {item.personnel_id} was unlocked concurrently; settle again")
            item.value = outcome.value
            item.operation_id = operation_id
        item.status = "unlocked"
    else:
        await _release_share(session, task, f"{op_prefix}:release")
        item.status = "failed"
        item.error_code = outcome.error_code or "UNLOCK_FAILED"
    item.settled_at = now
    await session.flush()
    # Row-locking decrement: of two concurrent last settlements, the second sees the first's count.
    left = await session.scalar(
        update(UnlockTask)
        .where(UnlockTask.id == task.id)
        .values(items_left=UnlockTask.items_left - 1)
        .returning(UnlockTask.items_left)
        .execution_options(synchronize_session=False)
    )
    if left == 0:
        await finish_task(session, task.id, now)
    return True


async def _capture_share(
    session: AsyncSession, task: UnlockTask, item: UnlockTaskItem, op_key: str, now: datetime
) -> int | None:
    if task.hold_id is None:
        return None  # a free action (price 0): nothing held, nothing to capture
    ctx = ChargeContext(
        account_id=task.account_id,
        api_key_id=task.api_key_id,
        call_source=task.call_source,
        business_code=task.business_code,
        resource_type=f"contact_{task.kind}",
        resource_id=str(item.personnel_id),
    )
    captured = await capture(session, task.hold_id, task.unit_price, op_key, ctx=ctx, now=now)
    return captured.operation_id


async def _release_share(session: AsyncSession, task: UnlockTask, op_key: str) -> None:
    if task.hold_id is not None:
        await release(session, task.hold_id, task.unit_price, op_key)


async def finish_task(session: AsyncSession, task_id: int, now: datetime) -> None:
    """Close the task: release what the hold still has, free the intent key, set the final status."""
    task = (
        await session.execute(
            select(UnlockTask).where(UnlockTask.id == task_id).execution_options(populate_existing=True)
        )
    ).scalar_one()
    if task.status != "open":
        return
    if task.hold_id is not None:
        held = await session.get(CreditHold, task.hold_id, populate_existing=True)
        if held is not None and held.amount - held.captured - held.released > 0:
            await release(session, task.hold_id, None, f"unlock-task:{task.id}:final-release")
    provider_failed = await session.scalar(
        select(func.count())
        .select_from(UnlockTaskItem)
        .where(
            UnlockTaskItem.task_id == task_id,
            UnlockTaskItem.status == "failed",
            UnlockTaskItem.error_code.not_in(NOT_FOUND_CODES),
        )
    )
    # "failed" only when the provider failed every item; otherwise the task completed (mixed outcomes).
    task.status = "failed" if provider_failed == task.item_count else "completed"
    task.open_intent_key = None
    task.finished_at = now
    await session.flush()
