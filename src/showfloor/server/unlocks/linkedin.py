"""LinkedIn activity unlock: start (or return) the activity analysis per person, for one account.

A new item records a ``linkedin_activity_unlocks`` row — ``ready`` when the catalog already holds the
person's activity data, else ``processing`` — which is what the person's ``linkedinActivityStatus``
shows to this account. It never unlocks an email or a phone. The price comes from the pricing policy
(0 by default); when a plan sets one, each newly started person is charged through the ledger.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.catalog.identifiers import parse_numeric_id, resolve_event
from showfloor.server.ledger.pricing import Action
from showfloor.server.ledger.service import Wallet, open_wallet
from showfloor.server.models import Event, EventPersonnel, LinkedinActivityUnlock, Personnel
from showfloor.server.paid.decision import OK, Caller, Decision, biz_code, charge
from showfloor.server.paid.errors import check_selection

_CHUNK = 500


def decide_linkedin(wallet: Wallet, new_items: int, call_source: str) -> Decision:
    credits = wallet.prices[Action.LINKEDIN_ACTIVITY] * new_items
    return Decision(True, credits, OK, biz_code(Action.LINKEDIN_ACTIVITY, call_source))


def _item(
    pid: str, *, success: bool, already: bool = False, task_id: str | None = None, error: str | None = None
) -> dict[str, Any]:
    return {
        "personnel_id": pid,
        "success": success,
        "alreadyUnlocked": already,
        "taskId": task_id,
        "error": error,
    }


async def plan_linkedin(
    session: AsyncSession, account_id: int, personnel_ids: list[str], event: Event | None, now: datetime
) -> tuple[list[dict[str, Any]], list[LinkedinActivityUnlock]]:
    """Each requested person's answer and the rows a new start would record (nothing written): what the
    execution records and what a quote prices (``decide_linkedin`` over ``len(new_rows)``)."""
    requested = list(dict.fromkeys(p.strip() for p in personnel_ids))
    pks = {p: parse_numeric_id(p) for p in requested}
    valid = sorted({pk for pk in pks.values() if pk is not None})
    people: dict[int, Personnel] = {}
    existing: dict[int, LinkedinActivityUnlock] = {}
    members: set[int] = set()
    for start in range(0, len(valid), _CHUNK):
        chunk = valid[start : start + _CHUNK]
        people.update(
            {p.id: p for p in await session.scalars(select(Personnel).where(Personnel.id.in_(chunk)))}
        )
        rows = await session.scalars(
            select(LinkedinActivityUnlock).where(
                LinkedinActivityUnlock.account_id == account_id,
                LinkedinActivityUnlock.personnel_id.in_(chunk),
            )
        )
        existing.update({r.personnel_id: r for r in rows})
        if event is not None:
            members.update(
                await session.scalars(
                    select(EventPersonnel.personnel_id).where(
                        EventPersonnel.event_id == event.id, EventPersonnel.personnel_id.in_(chunk)
                    )
                )
            )
    items: list[dict[str, Any]] = []
    new_rows: list[LinkedinActivityUnlock] = []
    for pid in requested:
        pk = pks[pid]
        person = people.get(pk) if pk is not None else None
        if person is None:
            items.append(_item(pid, success=False, error="Personnel not found"))
        elif event is not None and person.id not in members:
            items.append(_item(pid, success=False, error="Personnel is not associated with this event"))
        elif person.id in existing:
            row = existing[person.id]
            task_id = str(row.id) if row.status == "processing" else None
            items.append(_item(pid, success=True, already=True, task_id=task_id))
        elif not person.linkedin_url:
            items.append(_item(pid, success=False, error="Personnel has no LinkedIn URL"))
        else:
            status = "ready" if person.linkedin_activity_level else "processing"
            new_rows.append(
                LinkedinActivityUnlock(
                    account_id=account_id, personnel_id=person.id, status=status, created_at=now
                )
            )
            items.append(_item(pid, success=True))
    return items, new_rows


async def unlock_linkedin_activity(
    session: AsyncSession, caller: Caller, personnel_ids: list[str], event_ref: str | None
) -> dict[str, Any]:
    check_selection(len(personnel_ids))
    now = datetime.now(UTC)
    wallet = await open_wallet(session, caller.account_id, now, lock=True)
    event = await resolve_event(session, event_ref) if event_ref is not None else None
    items, new_rows = await plan_linkedin(session, caller.account_id, personnel_ids, event, now)
    decision = decide_linkedin(wallet, len(new_rows), caller.call_source)
    op_key = f"linkedin_activity:{uuid.uuid4().hex}"
    # The ledger refuses (402) what the account cannot pay: nothing recorded, nothing charged.
    await charge(session, caller, decision, op_key, ("personnel", str(len(new_rows))), wallet=wallet)
    session.add_all(new_rows)
    await session.flush()
    return {"items": items}
