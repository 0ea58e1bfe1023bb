"""The one definition of the count columns on ``events``, recomputed from the rows.

- ``exhibitor_count``: exhibitors linked to the event (``event_exhibitors`` rows);
- ``personnel_count``: people linked to the event (``event_personnel`` rows, visitors included);
- ``exhibitor_personnel_count``: of those, the rows not visitor-only (the personnel list's total while
  the visitor layer is locked);
- ``visitor_personnel_count``: of those, the visitor-only rows (what the visitor layer adds);
- ``visitor_count``: of those, the ones labelled ``visitors`` in ``source_types`` (``hasVisitors`` =
  ``visitor_count > 0``);
- ``contact_count``: of those, people with an email or a phone (an event with 0 has no contact data to
  sell, so unlocking it is not charged).

These match ``tests/factories.py`` (the catalog's test fixtures). Every write path that adds, removes or
changes catalog rows calls ``recompute_event_counts`` for the events it touched, in its own transaction
(the importers, the demo load); ``check_event_counts`` compares the stored counts with the rows
(``showfloor admin catalog check``). The counts are taken with one grouped query per link table (a
single pass, also over a million rows) and written back by id; correlated subqueries per event are much
slower on PostgreSQL right after a bulk load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Text, bindparam, case, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from showfloor.data.bulk import CATALOG_TABLES

CHUNK = 500
EVENTS = CATALOG_TABLES["events"]
EVENT_EXHIBITORS = CATALOG_TABLES["event_exhibitors"]
EVENT_PERSONNEL = CATALOG_TABLES["event_personnel"]
PERSONNEL = CATALOG_TABLES["personnel"]
COUNT_COLUMNS = (
    "exhibitor_count",
    "personnel_count",
    "exhibitor_personnel_count",
    "visitor_personnel_count",
    "visitor_count",
    "contact_count",
)


async def _counts(
    conn: AsyncSession | AsyncConnection, event_ids: Sequence[int] | None
) -> dict[int, dict[str, int]]:
    ee, ep, person = EVENT_EXHIBITORS, EVENT_PERSONNEL, PERSONNEL
    exhibitors = select(ee.c.event_id, func.count()).group_by(ee.c.event_id)
    is_visitor = cast(ep.c.source_types, Text).like('%"visitors"%')
    has_contact = or_(person.c.email.is_not(None), person.c.phone.is_not(None))
    people = (
        select(
            ep.c.event_id,
            func.count(),
            func.sum(cast(case((ep.c.is_visitor_only, 0), else_=1), Integer)),
            func.sum(cast(case((is_visitor, 1), else_=0), Integer)),
            func.sum(cast(case((has_contact, 1), else_=0), Integer)),
        )
        .select_from(ep.join(person, person.c.id == ep.c.personnel_id))
        .group_by(ep.c.event_id)
    )
    if event_ids is not None:
        exhibitors = exhibitors.where(ee.c.event_id.in_(event_ids))
        people = people.where(ep.c.event_id.in_(event_ids))
        ids: Iterable[int] = event_ids
    else:
        ids = (await conn.execute(select(EVENTS.c.id))).scalars().all()
    counts = {i: dict.fromkeys(COUNT_COLUMNS, 0) for i in ids}
    for event_id, n in await conn.execute(exhibitors):
        if event_id in counts:
            counts[event_id]["exhibitor_count"] = n
    for event_id, n, exhibitor_side, visitors, contacts in await conn.execute(people):
        if event_id in counts:
            counts[event_id].update(
                personnel_count=n,
                exhibitor_personnel_count=exhibitor_side or 0,
                visitor_personnel_count=n - (exhibitor_side or 0),
                visitor_count=visitors or 0,
                contact_count=contacts or 0,
            )
    return counts


async def _write(conn: AsyncSession | AsyncConnection, counts: dict[int, dict[str, int]]) -> None:
    if not counts:
        return
    stmt = (
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("b_id"))
        .values({c: bindparam(f"v_{c}") for c in next(iter(counts.values()))})
    )
    params: list[dict[str, Any]] = [
        {"b_id": i, **{f"v_{k}": v for k, v in values.items()}} for i, values in counts.items()
    ]
    connection = conn if isinstance(conn, AsyncConnection) else await conn.connection()
    await connection.execute(stmt, params)


async def recompute_event_counts(
    conn: AsyncSession | AsyncConnection, event_ids: Iterable[int] | None = None
) -> None:
    """Recompute the counts of the given events (all events when ``None``) inside the caller's transaction."""
    if event_ids is None:
        await _write(conn, await _counts(conn, None))
        return
    ids = sorted(set(event_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await _write(conn, await _counts(conn, chunk))


@dataclass(frozen=True)
class CountDrift:
    """One stored count that differs from its rows."""

    event_id: int  # internal id
    public_id: str  # the event's ``eventId``
    column: str
    stored: int
    actual: int


async def check_event_counts(conn: AsyncSession | AsyncConnection, *, fix: bool = False) -> list[CountDrift]:
    """Every stored count that differs from a fresh count of the rows; with ``fix`` the drifting events'
    counts are rewritten in the caller's transaction (the caller commits)."""
    actual = await _counts(conn, None)
    stored_rows = await conn.execute(
        select(EVENTS.c.id, EVENTS.c.event_id, *(EVENTS.c[c] for c in COUNT_COLUMNS)).order_by(EVENTS.c.id)
    )
    drift: list[CountDrift] = []
    for row in stored_rows:
        event_id, public_id, *stored = row
        for column, value in zip(COUNT_COLUMNS, stored, strict=True):
            if int(value) != actual[event_id][column]:
                drift.append(CountDrift(event_id, public_id, column, int(value), actual[event_id][column]))
    if fix and drift:
        await _write(conn, {d.event_id: actual[d.event_id] for d in drift})
    return drift
