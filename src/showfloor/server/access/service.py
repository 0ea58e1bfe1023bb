"""What an account may see: event access layers and unlocked contacts.

Access is read from ``event_unlocks`` / ``contact_unlocks`` only. Recording is an INSERT … ON CONFLICT DO
NOTHING on both dialects, so the unique constraint (not a read-then-insert) decides who recorded first.
Services never commit; the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    String,
    any_,
    bindparam,
    cast,
    exists,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.base import UtcDateTime
from showfloor.server.db.prepared import PreparedQuery, flush_pending
from showfloor.server.ledger.pricing import Action, price_of
from showfloor.server.models.access import ContactUnlock, EventUnlock, LinkedinActivityUnlock
from showfloor.server.models.catalog import Event
from showfloor.server.models.unlocks import UnlockTask, UnlockTaskItem

LAYER_BASE = "base"
LAYER_VISITOR = "visitor"
LAYERS = (LAYER_BASE, LAYER_VISITOR)
CONTACT_KINDS = ("email", "phone")
ContactKind = Literal["email", "phone"]


def _insert(session: AsyncSession, model: type[Any]) -> Any:
    """The dialect's INSERT construct (both support ``on_conflict_do_nothing`` and ``returning``)."""
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(model)
    return postgresql.insert(model)


async def unlocked_layers(session: AsyncSession, account_id: int, event_pk: int) -> set[str]:
    rows = await session.scalars(
        select(EventUnlock.layer).where(
            EventUnlock.account_id == account_id, EventUnlock.event_id == event_pk
        )
    )
    return set(rows)


def _record_event_unlock_statement(dialect_insert: Any) -> Any:
    return (
        dialect_insert(EventUnlock)
        .values(
            account_id=bindparam("account_id", type_=BigInteger),
            event_id=bindparam("event_id", type_=BigInteger),
            layer=bindparam("layer", type_=String),
            operation_id=bindparam("operation_id", type_=BigInteger),
            created_at=bindparam("created_at", type_=UtcDateTime),
        )
        .on_conflict_do_nothing(index_elements=["account_id", "event_id", "layer"])
        .returning(EventUnlock.id)
    )


# Every event unlock writes it (a prepared query, see db/prepared.py).
_RECORD_EVENT_UNLOCK = PreparedQuery(
    _record_event_unlock_statement(postgresql.insert),
    sqlite=_record_event_unlock_statement(sqlite.insert),
)


async def record_event_unlock(
    session: AsyncSession, account_id: int, event_pk: int, layer: str, operation_id: int | None
) -> bool:
    """Grant ``layer`` of the event to the account. False when it was already granted (nothing written)."""
    if layer not in LAYERS:
        raise ValueError(f"unknown access layer {layer!r}")
    await flush_pending(session)  # rows the caller added through the unit of work go first, as before
    params = {
        "account_id": account_id,
        "event_id": event_pk,
        "layer": layer,
        "operation_id": operation_id,
        "created_at": datetime.now(UTC),
    }
    return await _RECORD_EVENT_UNLOCK.first(session, params) is not None


async def unlocked_contacts(
    session: AsyncSession, account_id: int, personnel_ids: Iterable[int], kind: str
) -> dict[int, str | None]:
    """personnel_id -> delivered value, for the given people this account unlocked ``kind`` for."""
    if kind not in CONTACT_KINDS:
        raise ValueError(f"unknown contact kind {kind!r}")
    ids = sorted(set(personnel_ids))
    if not ids:
        return {}
    result: dict[int, str | None] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists (the contact batches go up to 2000)
        rows = await session.execute(
            select(ContactUnlock.personnel_id, ContactUnlock.value).where(
                ContactUnlock.account_id == account_id,
                ContactUnlock.kind == kind,
                ContactUnlock.personnel_id.in_(ids[start : start + 500]),
            )
        )
        result.update({int(pid): value for pid, value in rows})
    return result


async def unlocked_contact_values(
    session: AsyncSession, account_id: int, personnel_ids: Iterable[int]
) -> dict[int, dict[str, str | None]]:
    """personnel_id -> {kind: delivered value} for every kind (email, phone) this account unlocked."""
    return (await account_unlocks(session, account_id, personnel_ids, with_activity=False)).contacts


@dataclass(frozen=True)
class AccountUnlocks:
    """What one account bought for some people: contact values and LinkedIn-activity statuses."""

    contacts: dict[int, dict[str, str | None]]  # personnel id -> {kind: delivered value}
    activity_status: dict[int, str]  # personnel id -> LinkedIn-activity unlock status
    # personnel id -> kinds an unlock was tried for and found nothing (NO_EMAIL / NO_PHONE; not charged)
    tried_not_found: dict[int, set[str]] = field(default_factory=dict)


_ACTIVITY = "linkedin_activity"  # pseudo kind tagging activity rows in the combined query
_TRIED = "tried:"  # pseudo kind prefix tagging "tried, nothing found" task items ("tried:email")


_ACTIVITY_STATUS = cast(LinkedinActivityUnlock.status, String(320))


def _account_unlocks_statement(people: Any, *, with_activity: bool) -> Any:
    """Contact values (and LinkedIn-activity statuses) of ``people`` for ``:account_id``, one statement."""
    account = bindparam("account_id", type_=BigInteger)
    contact_rows = select(ContactUnlock.personnel_id, ContactUnlock.kind, ContactUnlock.value).where(
        ContactUnlock.account_id == account,
        or_(*(ContactUnlock.kind == kind for kind in CONTACT_KINDS)),  # not IN (…): no expanding list
        people(ContactUnlock.personnel_id),
    )
    # "Tried, nothing found" (an unlock task item failed with NO_EMAIL / NO_PHONE), so a reader can tell
    # it from "never tried" (issue 18, item 2).
    tried_rows = (
        select(
            UnlockTaskItem.personnel_id,
            cast(literal(_TRIED) + UnlockTask.kind, String(16)),
            cast(null(), String(320)),
        )
        .join(UnlockTask, UnlockTask.id == UnlockTaskItem.task_id)
        .where(
            UnlockTask.account_id == account,
            UnlockTaskItem.status == "failed",
            or_(UnlockTaskItem.error_code == "NO_EMAIL", UnlockTaskItem.error_code == "NO_PHONE"),
            people(UnlockTaskItem.personnel_id),
        )
    )
    if not with_activity:
        return union_all(contact_rows, tried_rows)
    activity_rows = select(
        LinkedinActivityUnlock.personnel_id, literal(_ACTIVITY, String(16)), _ACTIVITY_STATUS
    ).where(LinkedinActivityUnlock.account_id == account, people(LinkedinActivityUnlock.personnel_id))
    return union_all(contact_rows, tried_rows, activity_rows)


def _any_of_ids(column: Any) -> Any:  # PostgreSQL: one array parameter, one statement text for any page
    return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))


def _in_ids(column: Any) -> Any:  # SQLite: an expanding IN
    return column.in_(bindparam("ids", expanding=True))


_ACCOUNT_UNLOCKS = {
    with_activity: PreparedQuery(
        _account_unlocks_statement(_any_of_ids, with_activity=with_activity),
        sqlite=_account_unlocks_statement(_in_ids, with_activity=with_activity),
    )
    for with_activity in (False, True)
}


async def account_unlocks(
    session: AsyncSession, account_id: int, personnel_ids: Iterable[int], *, with_activity: bool
) -> AccountUnlocks:
    """Contact values (and, if asked, LinkedIn-activity statuses) of a page of people, in one query."""
    ids = sorted(set(personnel_ids))
    contacts: dict[int, dict[str, str | None]] = {}
    activity: dict[int, str] = {}
    tried: dict[int, set[str]] = {}
    for start in range(0, len(ids), 500):
        params = {"account_id": account_id, "ids": ids[start : start + 500]}
        for row in await _ACCOUNT_UNLOCKS[with_activity].all(session, params):
            pid, kind, value = row["personnel_id"], str(row["kind"]), row["value"]
            if kind == _ACTIVITY:
                activity[int(pid)] = str(value)
            elif kind.startswith(_TRIED):
                tried.setdefault(int(pid), set()).add(kind.removeprefix(_TRIED))
            else:
                contacts.setdefault(int(pid), {})[kind] = value
    return AccountUnlocks(contacts, activity, tried)


async def record_contact_unlock(
    session: AsyncSession,
    account_id: int,
    personnel_id: int,
    kind: str,
    value: str | None,
    operation_id: int | None,
) -> bool:
    """Record a delivered contact value. False when this account already had it (nothing written)."""
    if kind not in CONTACT_KINDS:
        raise ValueError(f"unknown contact kind {kind!r}")
    stmt = (
        _insert(session, ContactUnlock)
        .values(
            account_id=account_id,
            personnel_id=personnel_id,
            kind=kind,
            value=value,
            operation_id=operation_id,
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["account_id", "personnel_id", "kind"])
        .returning(ContactUnlock.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def record_contact_unlocks(
    session: AsyncSession, account_id: int, kind: str, delivered: dict[int, str | None], now: datetime
) -> dict[int, int]:
    """Record many delivered values (person -> value) in one round trip, people in id order (one lock
    order for concurrent batches). Returns person -> new row id; people the account already had are
    left out (nothing written for them). The rows' ``operation_id`` is linked by the caller later."""
    if kind not in CONTACT_KINDS:
        raise ValueError(f"unknown contact kind {kind!r}")
    if not delivered:
        return {}
    rows = [
        {"account_id": account_id, "personnel_id": p, "kind": kind, "value": delivered[p], "created_at": now}
        for p in sorted(delivered)
    ]
    # One statement compiled once and sent for every row (executemany), whatever the batch size.
    stmt = (
        _insert(session, ContactUnlock)
        .on_conflict_do_nothing(index_elements=["account_id", "personnel_id", "kind"])
        .returning(ContactUnlock.personnel_id, ContactUnlock.id)
    )
    return {int(p): int(i) for p, i in (await session.execute(stmt, rows)).all()}


@dataclass(frozen=True)
class EventAccess:
    """An account's access to one event, with the price quoted for the base unlock."""

    base: bool
    visitor: bool
    unlock_credits: int

    @property
    def hides_visitor_only(self) -> bool:
        """Visitor-only attendance rows stay hidden until both layers are unlocked."""
        return not (self.base and self.visitor)


async def event_access(
    session: AsyncSession, account_id: int, plan_id: int | None, event_pk: int
) -> EventAccess:
    layers = await unlocked_layers(session, account_id, event_pk)
    return await access_from_layers(session, plan_id, layers)


def layer_columns(account_id: int | ColumnElement[int]) -> tuple[ColumnElement[bool], ...]:
    """One boolean column per layer of ``LAYERS`` (has the account unlocked it for the selected event?)
    to read along with an ``Event`` row, sparing the separate ``unlocked_layers`` query."""
    return tuple(
        exists()
        .where(
            EventUnlock.account_id == account_id,
            EventUnlock.event_id == Event.id,
            EventUnlock.layer == layer,
        )
        .label(f"unlocked_{layer}")
        for layer in LAYERS
    )


async def access_from_layers(session: AsyncSession, plan_id: int | None, layers: set[str]) -> EventAccess:
    credits = await price_of(session, plan_id, Action.EVENT_UNLOCK)
    return EventAccess(base=LAYER_BASE in layers, visitor=LAYER_VISITOR in layers, unlock_credits=credits)
