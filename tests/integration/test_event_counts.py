"""Stored event counts (``data/counts.py``): every write path keeps them equal to a fresh ``count(*)``,
unfiltered lists read them, filtered lists count, and ``admin catalog check`` finds and fixes drift.

Both backends. The fresh counts are plain ``count(*)`` per event and column, written independently of
``data/counts.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import String, cast, func, or_, select, update

from showfloor.data.counts import COUNT_COLUMNS, check_event_counts
from showfloor.data.demo import load_demo
from showfloor.data.generator import size_for
from showfloor.data.importers import import_file
from showfloor.server.access.service import LAYER_BASE, LAYER_VISITOR, record_event_unlock
from showfloor.server.db.uow import Database
from showfloor.server.models import Event, EventExhibitor, EventPersonnel, Personnel
from tests.conftest import AccountFixture
from tests.factories import make_event, make_exhibitor, make_person

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHOWFLOOR = Path(sys.executable).parent / "showfloor"


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def _fresh_counts(db: Database) -> dict[int, dict[str, int]]:
    """Each event's counts by ``count(*)``, one statement per event and column."""
    ep, person = EventPersonnel, Personnel
    conditions: dict[str, Any] = {
        "personnel_count": [],
        "exhibitor_personnel_count": [ep.is_visitor_only.is_(False)],
        "visitor_personnel_count": [ep.is_visitor_only.is_(True)],
        "visitor_count": [cast(ep.source_types, String).like('%"visitors"%')],
        "contact_count": [or_(person.email.is_not(None), person.phone.is_not(None))],
    }
    out: dict[int, dict[str, int]] = {}
    async with db.read() as session:
        for event_id in (await session.scalars(select(Event.id))).all():
            exhibitors = (
                select(func.count()).select_from(EventExhibitor).where(EventExhibitor.event_id == event_id)
            )
            row = {"exhibitor_count": int(await session.scalar(exhibitors) or 0)}
            for column, extra in conditions.items():
                people = (
                    select(func.count())
                    .select_from(ep)
                    .join(person, person.id == ep.personnel_id)
                    .where(ep.event_id == event_id, *extra)
                )
                row[column] = int(await session.scalar(people) or 0)
            out[event_id] = row
    return out


async def _stored_counts(db: Database) -> dict[int, dict[str, int]]:
    async with db.read() as session:
        rows = await session.execute(select(Event.id, *(getattr(Event, c) for c in COUNT_COLUMNS)))
        return {r[0]: dict(zip(COUNT_COLUMNS, r[1:], strict=True)) for r in rows}


async def assert_counts_exact(db: Database) -> dict[int, dict[str, int]]:
    stored = await _stored_counts(db)
    assert stored == await _fresh_counts(db)
    async with db.read() as session:
        assert await check_event_counts(session) == []
    return stored


async def test_demo_load_and_replace_keep_the_counts(db: Database) -> None:
    await load_demo(db, size_for(0.01), seed=3)
    counts = await assert_counts_exact(db)
    assert any(c["visitor_personnel_count"] > 0 for c in counts.values()), "visitor-only rows exist"
    assert all(c["exhibitor_personnel_count"] > 0 for c in counts.values())
    await load_demo(db, size_for(0.01), seed=4, replace=True)
    await assert_counts_exact(db)


async def test_every_import_keeps_the_counts(db: Database, tmp_path: Path) -> None:
    await import_file(db, EXAMPLES / "events.jsonl")
    await assert_counts_exact(db)
    await import_file(db, EXAMPLES / "exhibitors.csv")
    await assert_counts_exact(db)
    await import_file(db, EXAMPLES / "personnel.jsonl")
    counts = await assert_counts_exact(db)
    assert sum(c["visitor_personnel_count"] for c in counts.values()) == 1  # Priya, visitors only

    # Re-imports that move rows: an exhibitor leaves an event, a visitor becomes exhibitor staff, a
    # person leaves one event and loses their contact data, a new visitor-only person arrives.
    exhibitors = _jsonl(
        tmp_path / "exhibitors.jsonl",
        [{"external_id": "acme-co-1", "company_name": "Northwind Analytics", "events": ["acme-ev-2"]}],
    )
    await import_file(db, exhibitors)
    await assert_counts_exact(db)
    people = [
        {
            "external_id": "acme-p-3",
            "full_name": "Priya Sharma",
            "exhibitor": "acme-co-2",
            "events": ["acme-ev-1"],
            "source_types": ["exhibitor", "visitors"],
        },
        {"external_id": "acme-p-1", "full_name": "Jane Doe", "events": ["acme-ev-2"]},
        {
            "external_id": "acme-p-9",
            "full_name": "Vera Visitor",
            "email": "vera@example.com",
            "events": ["acme-ev-1", "acme-ev-2"],
            "source_types": ["visitors"],
        },
    ]
    await import_file(db, _jsonl(tmp_path / "personnel.jsonl", people))
    counts = await assert_counts_exact(db)
    assert sum(c["visitor_personnel_count"] for c in counts.values()) == 2  # Vera at both events
    # A new event alone starts at zero.
    await import_file(
        db, _jsonl(tmp_path / "events.jsonl", [{"external_id": "acme-ev-3", "name": "New Expo"}])
    )
    await assert_counts_exact(db)


async def test_test_factories_keep_the_counts(db: Database) -> None:
    async with db.write() as s:
        event = await make_event(s)
        acme = await make_exhibitor(s, event)
        await make_person(s, event, acme)
        await make_person(s, event, None, visitor_only=True, email=None, phone=None)
        await make_person(s, event, acme, source_types=["exhibitor", "visitors"])
    counts = await assert_counts_exact(db)
    assert counts[event.id]["exhibitor_personnel_count"] == 2
    assert counts[event.id]["visitor_personnel_count"] == 1


async def _sabotage(db: Database, event_id: int, **values: int) -> None:
    async with db.write() as s:
        await s.execute(update(Event).where(Event.id == event_id).values(**values))


async def test_unfiltered_lists_read_the_stored_totals_and_filtered_lists_count(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    async with db.write() as s:
        event = await make_event(s)
        acme = await make_exhibitor(s, event)
        await make_exhibitor(s, event)
        for _ in range(3):
            await make_person(s, event, acme)
        await make_person(s, event, None, visitor_only=True)
        await make_person(s, event, acme, source_types=["exhibitor", "visitors"])
    await assert_counts_exact(db)
    # Stored counts that the rows would contradict show that the unfiltered lists do not count.
    await _sabotage(
        db, event.id, exhibitor_count=40, personnel_count=90, exhibitor_personnel_count=70, visitor_count=60
    )

    async def get_total(path: str, **params: Any) -> int:
        response = await client.get(path, params={"event_id": event.event_id, "pageSize": 50, **params})
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    # Locked: visitor-only rows hidden, so the exhibitor side is the total.
    assert await get_total("/external/personnel/list") == 70
    assert await get_total("/external/exhibitors/list") == 40
    # Filters count the rows (exact whatever the stored counts say).
    assert await get_total("/external/personnel/list", exhibitor_id=str(acme.id)) == 4
    assert await get_total("/external/personnel/list", sourceType="visitors") == 1  # visitor-only hidden
    assert await get_total("/external/exhibitors/list", keyword=acme.company_name) == 1

    async with db.write() as s:
        for layer in (LAYER_BASE, LAYER_VISITOR):
            await record_event_unlock(s, account.id, event.id, layer, None)
    assert await get_total("/external/personnel/list") == 90
    assert await get_total("/external/personnel/list", sourceType="visitors") == 60
    assert await get_total("/external/personnel/list", sourceType="visitors,social") == 2
    assert await get_total("/external/personnel/list", department="sales") == 5

    async with db.write() as s:
        drift = await check_event_counts(s, fix=True)
    assert {(d.column, d.stored, d.actual) for d in drift} == {
        ("exhibitor_count", 40, 2),
        ("personnel_count", 90, 5),
        ("exhibitor_personnel_count", 70, 4),
        ("visitor_count", 60, 2),
    }
    await assert_counts_exact(db)
    assert await get_total("/external/personnel/list") == 5


def _showfloor(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOWFLOOR_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run([str(SHOWFLOOR), *args], env=env, capture_output=True, text=True, timeout=120)


async def test_cli_imports_and_demo_load_keep_the_counts(db: Database, db_url: str) -> None:
    for name in ("events.jsonl", "exhibitors.csv", "personnel.jsonl"):
        done = _showfloor(db_url, "admin", "import", str(EXAMPLES / name))
        assert done.returncode == 0, done.stderr
        assert _cli(db_url).returncode == 0
    await assert_counts_exact(db)
    loaded = _showfloor(db_url, "admin", "demo-data", "--scale", "0.01", "--replace")
    assert loaded.returncode == 0, loaded.stderr
    assert _cli(db_url).returncode == 0
    await assert_counts_exact(db)


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOWFLOOR_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run(
        [str(SHOWFLOOR), "admin", "catalog", "check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_admin_catalog_check_reports_and_fixes_drift(db: Database, db_url: str) -> None:
    async with db.write() as s:
        event = await make_event(s)
        await make_person(s, event, None)
        await make_person(s, event, None, visitor_only=True)
        other = await make_event(s)
    clean = _cli(db_url, "--json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout) == {"ok": True, "fixed": False, "drift": []}
    assert "OK" in _cli(db_url).stdout

    await _sabotage(db, event.id, visitor_personnel_count=0)
    await _sabotage(db, other.id, exhibitor_count=3)
    drifted = _cli(db_url, "--json")
    assert drifted.returncode == 1
    report = json.loads(drifted.stdout)
    assert report["ok"] is False
    assert report["drift"] == [
        {
            "event_id": event.id,
            "public_id": event.event_id,
            "column": "visitor_personnel_count",
            "stored": 0,
            "actual": 1,
        },
        {
            "event_id": other.id,
            "public_id": other.event_id,
            "column": "exhibitor_count",
            "stored": 3,
            "actual": 0,
        },
    ]
    text = _cli(db_url)
    assert text.returncode == 1
    assert (
        f"DRIFT event {event.event_id}" in text.stderr
        and "visitor_personnel_count: stored 0, rows 1" in text.stderr
    )

    fixed = _cli(db_url, "--fix", "--json")
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["fixed"] is True
    await assert_counts_exact(db)
    assert _cli(db_url, "--json").returncode == 0


async def test_admin_catalog_check_without_a_schema_is_one_clear_error(tmp_path: Path) -> None:
    result = _cli(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert "showfloor admin migrate" in result.stderr
