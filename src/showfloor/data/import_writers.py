"""Database side of the importers: reference checks and upserts keyed by ``external_id``.

Links (an exhibitor's events, a person's events) given in a row replace that row's current links; a row
without ``events`` leaves its links alone. New links go to the end of the event's order (``rank``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.data.bulk import CATALOG_TABLES, Progress
from showfloor.data.import_schemas import EventRow, ExhibitorRow, Kind, PersonnelRow, _Row

if TYPE_CHECKING:
    from showfloor.data.importers import RowError

CHUNK = 500
WRITE_BATCH = 2000
EVENTS = CATALOG_TABLES["events"]
EXHIBITORS = CATALOG_TABLES["exhibitors"]
EVENT_EXHIBITORS = CATALOG_TABLES["event_exhibitors"]
PERSONNEL = CATALOG_TABLES["personnel"]
EVENT_PERSONNEL = CATALOG_TABLES["event_personnel"]


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    touched_events: set[int] = field(default_factory=set)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _ids_by_column(
    session: AsyncSession, table: Table, column: str, keys: Iterable[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(keys))):
        result = await session.execute(select(table.c[column], table.c.id).where(table.c[column].in_(chunk)))
        found.update({key: id_ for key, id_ in result})
    return found


async def check_references(session: AsyncSession, kind: Kind, rows: list[tuple[int, _Row]]) -> list[RowError]:
    """Errors for rows that point at unknown events/exhibitors or take another event's public id."""
    from showfloor.data.importers import RowError

    errors: list[RowError] = []
    if kind == "events":
        events = [(line, r) for line, r in rows if isinstance(r, EventRow)]
        public = {(r.event_id or r.external_id): r.external_id for _, r in events}
        taken = await _ids_by_column(session, EVENTS, "event_id", public)
        owners = await _ids_by_column(session, EVENTS, "external_id", public.values())
        seen: dict[str, int] = {}
        for line, r in events:
            event_id = r.event_id or r.external_id
            if event_id in seen:
                errors.append(RowError(line, f"event_id {event_id!r} also used on line {seen[event_id]}"))
            seen.setdefault(event_id, line)
            if event_id in taken and owners.get(r.external_id) != taken[event_id]:
                errors.append(RowError(line, f"event_id {event_id!r} belongs to another event"))
        return errors
    event_refs = {e for _, r in rows for e in (getattr(r, "events", None) or [])}
    known_events = await _ids_by_column(session, EVENTS, "external_id", event_refs)
    exhibitor_refs = {r.exhibitor for _, r in rows if isinstance(r, PersonnelRow) and r.exhibitor}
    known_exhibitors = await _ids_by_column(session, EXHIBITORS, "external_id", exhibitor_refs)
    for line, row in rows:
        missing = [e for e in (getattr(row, "events", None) or []) if e not in known_events]
        if missing:
            errors.append(RowError(line, f"unknown event external_id(s): {', '.join(missing)}"))
        if isinstance(row, PersonnelRow) and row.exhibitor and row.exhibitor not in known_exhibitors:
            errors.append(RowError(line, f"unknown exhibitor external_id: {row.exhibitor}"))
    return errors


async def _upsert(
    session: AsyncSession, table: Table, values: list[dict[str, Any]], progress: Progress, written: Written
) -> dict[str, int]:
    """Insert new rows, update existing ones (by external_id); returns external_id -> id for all of them."""
    conn = await session.connection()
    existing = await _ids_by_column(session, table, "external_id", (v["external_id"] for v in values))
    new = [v for v in values if v["external_id"] not in existing]
    old = [
        {"b_id": existing[v["external_id"]], **{f"v_{k}": x for k, x in v.items()}}
        for v in values
        if v["external_id"] in existing
    ]
    for chunk in _chunks(new, WRITE_BATCH):
        await conn.execute(table.insert(), list(chunk))
        progress.advance(len(chunk))
    if old:
        columns = [k for k in values[0] if k != "external_id"]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        for chunk in _chunks(old, WRITE_BATCH):
            await conn.execute(stmt, list(chunk))
            progress.advance(len(chunk))
    written.created += len(new)
    written.updated += len(old)
    return {
        **existing,
        **await _ids_by_column(session, table, "external_id", (v["external_id"] for v in new)),
    }


async def _next_ranks(session: AsyncSession, table: Table, event_ids: Iterable[int]) -> dict[int, int]:
    ranks: dict[int, int] = {}
    for chunk in _chunks(sorted(set(event_ids))):
        result = await session.execute(
            select(table.c.event_id, func.max(table.c.rank))
            .where(table.c.event_id.in_(chunk))
            .group_by(table.c.event_id)
        )
        ranks.update({event_id: rank or 0 for event_id, rank in result})
    return ranks


async def _replace_links(
    session: AsyncSession,
    table: Table,
    owner_column: str,
    desired: dict[int, dict[int, dict[str, Any]]],
    written: Written,
) -> None:
    """Make each owner's links (owner id -> {event id: extra columns}) exactly ``desired``."""
    conn = await session.connection()
    owner = table.c[owner_column]
    current: dict[tuple[int, int], int] = {}
    for chunk in _chunks(sorted(desired)):
        result = await session.execute(select(table.c.id, owner, table.c.event_id).where(owner.in_(chunk)))
        current.update({(o, e): link_id for link_id, o, e in result})
    wanted = {(o, e): extra for o, events in desired.items() for e, extra in events.items()}
    gone = [link_id for key, link_id in current.items() if key not in wanted]
    for chunk in _chunks(gone):
        await conn.execute(delete(table).where(table.c.id.in_(chunk)))
    kept = [
        {"b_id": current[key], **{f"v_{k}": v for k, v in extra.items()}}
        for key, extra in wanted.items()
        if key in current and extra
    ]
    if kept:
        columns = list(next(iter(wanted.values())))
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        for chunk in _chunks(kept, WRITE_BATCH):
            await conn.execute(stmt, list(chunk))
    added = sorted(key for key in wanted if key not in current)
    ranks = await _next_ranks(session, table, (e for _, e in added))
    rows = []
    for o, e in added:
        ranks[e] = ranks.get(e, 0) + 1
        rows.append({owner_column: o, "event_id": e, "rank": ranks[e], **wanted[(o, e)]})
    for chunk in _chunks(rows, WRITE_BATCH):
        await conn.execute(table.insert(), list(chunk))
    written.touched_events.update(e for o, e in current if (o, e) not in wanted)
    written.touched_events.update(e for _, e in added)


async def _events_of(session: AsyncSession, person_ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(set(person_ids))):
        result = await session.execute(
            select(EVENT_PERSONNEL.c.event_id).where(EVENT_PERSONNEL.c.personnel_id.in_(chunk)).distinct()
        )
        found.update(result.scalars())
    return found


def _event_values(r: EventRow, now: datetime) -> dict[str, Any]:
    values = r.model_dump(exclude={"event_id", "categories"})
    values["event_id"] = r.event_id or r.external_id
    values["categories"] = [c.model_dump() for c in r.categories]
    values["data_updated_at"] = now
    return values


async def write_rows(session: AsyncSession, kind: Kind, rows: list[_Row], progress: Progress) -> Written:
    written = Written()
    progress.start(f"Writing {kind}", len(rows))
    now = datetime.now(UTC)
    if kind == "events":
        # Count columns are left out: new rows get the column default (0), then all are recomputed.
        values = [_event_values(r, now) for r in rows if isinstance(r, EventRow)]
        ids = await _upsert(session, EVENTS, values, progress, written)
        written.touched_events.update(ids.values())
        return written
    if kind == "exhibitors":
        exhibitors = [r for r in rows if isinstance(r, ExhibitorRow)]
        ids = await _upsert(
            session, EXHIBITORS, [r.model_dump(exclude={"events"}) for r in exhibitors], progress, written
        )
        event_ids = await _ids_by_column(
            session, EVENTS, "external_id", {e for r in exhibitors for e in r.events or []}
        )
        desired: dict[int, dict[int, dict[str, Any]]] = {
            ids[r.external_id]: {event_ids[e]: {} for e in r.events}
            for r in exhibitors
            if r.events is not None
        }
        await _replace_links(session, EVENT_EXHIBITORS, "exhibitor_id", desired, written)
        return written
    people = [r for r in rows if isinstance(r, PersonnelRow)]
    exhibitor_ids = await _ids_by_column(
        session, EXHIBITORS, "external_id", {r.exhibitor for r in people if r.exhibitor}
    )
    values = []
    for r in people:
        v = r.model_dump(exclude={"exhibitor", "events", "source_types", "visitor_only"})
        v["full_name_norm"] = r.full_name.strip().lower()
        v["exhibitor_id"] = exhibitor_ids.get(r.exhibitor) if r.exhibitor else None
        values.append(v)
    ids = await _upsert(session, PERSONNEL, values, progress, written)
    written.touched_events.update(await _events_of(session, ids.values()))  # contact data may have changed
    event_ids = await _ids_by_column(
        session, EVENTS, "external_id", {e for r in people for e in r.events or []}
    )
    attendance: dict[int, dict[int, dict[str, Any]]] = {
        ids[r.external_id]: {
            event_ids[e]: {
                "exhibitor_id": exhibitor_ids.get(r.exhibitor) if r.exhibitor else None,
                "source_types": r.resolved_source_types(),
                "is_visitor_only": r.resolved_visitor_only(),
            }
            for e in r.events
        }
        for r in people
        if r.events is not None
    }
    await _replace_links(session, EVENT_PERSONNEL, "personnel_id", attendance, written)
    return written
