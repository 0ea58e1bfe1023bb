"""The demo dataset: deterministic generation, loading on both backends, count columns, CLI commands."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from showfloor.data.demo import load_demo
from showfloor.data.demo_setup import ensure_demo_account
from showfloor.data.generator import BASE_SIZE, DemoGenerator, DemoSize, size_for
from showfloor.server.accounts import service as accounts
from showfloor.server.db.uow import Database
from showfloor.server.errors import Conflict
from showfloor.server.ledger.balance import get_balance
from showfloor.server.models import (
    Account,
    Event,
    EventExhibitor,
    EventPersonnel,
    EventUnlock,
    Exhibitor,
    Personnel,
)

SMALL = size_for(0.01)
SHOWFLOOR = Path(sys.executable).parent / "showfloor"


def _all_rows(size: DemoSize, seed: int) -> dict[str, list[dict[str, object]]]:
    rows: dict[str, list[dict[str, object]]] = {}
    for batch in DemoGenerator(size, seed=seed, batch_size=400).batches():
        rows.setdefault(batch.table, []).extend(batch.rows)
    return rows


def test_same_seed_same_rows_and_other_seed_other_rows() -> None:
    first, again, other = _all_rows(SMALL, 7), _all_rows(SMALL, 7), _all_rows(SMALL, 8)
    assert first == again
    assert first["personnel"] != other["personnel"]
    assert len(first["events"]) == SMALL.events == 3
    assert len(first["exhibitors"]) == SMALL.exhibitors == 300
    assert len(first["personnel"]) == SMALL.personnel == 1500


def test_batch_size_does_not_change_the_data() -> None:
    small_batches = _all_rows(SMALL, 3)
    big_batches: dict[str, list[dict[str, object]]] = {}
    for batch in DemoGenerator(SMALL, seed=3, batch_size=100_000).batches():
        big_batches.setdefault(batch.table, []).extend(batch.rows)
    assert small_batches == big_batches


def test_sizes_scale_with_fractions_and_overrides() -> None:
    assert size_for(1) == BASE_SIZE
    assert BASE_SIZE.events >= 300 and BASE_SIZE.exhibitors >= 30_000 and BASE_SIZE.personnel >= 150_000
    assert size_for(7).personnel >= 1_000_000
    assert size_for(0.5) == DemoSize(150, 15_000, 75_000)
    assert size_for(1, events=5000, exhibitors=100_000, personnel=1_000_000) == DemoSize(
        5000, 100_000, 1_000_000
    )
    with pytest.raises(ValueError):
        size_for(0)
    with pytest.raises(ValueError):
        size_for(1, events=0)


def test_generated_people_cover_the_cases_the_api_needs() -> None:
    rows = _all_rows(size_for(0.04), 2027)
    people = rows["personnel"]
    attendance = rows["event_personnel"]
    assert any(p["email"] is None for p in people)
    assert any(p["phone"] is not None for p in people)
    assert any(p["opted_out"] for p in people)
    assert any(p["exhibitor_id"] is not None for p in people)
    sources = Counter(tuple(a["source_types"]) for a in attendance)  # type: ignore[arg-type]
    assert sources[("exhibitor",)] and sources[("exhibitor", "social")] and sources[("social",)]
    assert sources[("visitors",)] == sum(1 for a in attendance if a["is_visitor_only"])
    for event in rows["events"]:
        assert event["categories"] and {"id", "code", "name", "description", "confidence"} <= set(
            event["categories"][0]  # type: ignore[index]
        )


async def _independent_counts(db: Database) -> dict[int, tuple[int, int, int, int]]:
    """Counts recomputed here in Python from the raw rows, to check the columns against."""
    async with db.read() as session:
        contact = {
            pid: email is not None or phone is not None
            for pid, email, phone in (
                await session.execute(select(Personnel.id, Personnel.email, Personnel.phone))
            )
        }
        exhibitors = Counter((await session.scalars(select(EventExhibitor.event_id))).all())
        people: Counter[int] = Counter()
        visitors: Counter[int] = Counter()
        contacts: Counter[int] = Counter()
        rows = await session.execute(
            select(EventPersonnel.event_id, EventPersonnel.personnel_id, EventPersonnel.source_types)
        )
        for event_id, person_id, sources in rows:
            people[event_id] += 1
            visitors[event_id] += "visitors" in sources
            contacts[event_id] += contact[person_id]
        ids = (await session.scalars(select(Event.id))).all()
    return {i: (exhibitors[i], people[i], visitors[i], contacts[i]) for i in ids}


async def _count_columns(db: Database) -> dict[int, tuple[int, int, int, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(
                Event.id,
                Event.exhibitor_count,
                Event.personnel_count,
                Event.visitor_count,
                Event.contact_count,
            )
        )
        return {i: (a, b, c, d) for i, a, b, c, d in rows}


async def test_load_writes_the_generated_rows_with_matching_counts(db: Database) -> None:
    result = await load_demo(db, SMALL, seed=11)
    generated = _all_rows(SMALL, 11)
    assert result.rows == {table: len(rows) for table, rows in generated.items()}
    async with db.read() as session:
        names = (await session.scalars(select(Personnel.full_name).order_by(Personnel.id))).all()
        companies = (await session.scalars(select(Exhibitor.company_name).order_by(Exhibitor.id))).all()
    assert names == [p["full_name"] for p in generated["personnel"]]
    async with db.read() as session:
        stored_events = (await session.scalars(select(Event).order_by(Event.id))).all()
        posted = (
            await session.scalars(select(Personnel.linkedin_latest_post_at).order_by(Personnel.id))
        ).all()
    for stored, made in zip(stored_events, generated["events"], strict=True):
        assert (stored.date_start, stored.data_updated_at, stored.categories, stored.verified) == (
            made["date_start"],
            made["data_updated_at"],
            made["categories"],
            made["verified"],
        )
    assert posted == [p["linkedin_latest_post_at"] for p in generated["personnel"]]
    assert companies == [e["company_name"] for e in generated["exhibitors"]]

    counts = await _count_columns(db)
    assert counts == await _independent_counts(db)
    assert sum(c[1] for c in counts.values()) == len(generated["event_personnel"])
    assert any(c[3] == 0 and c[1] > 0 for c in counts.values()), "an event with people but no contact data"
    assert any(c[2] == 0 for c in counts.values()), "an event without visitors"
    assert any(c[2] > 0 for c in counts.values()), "an event with visitors"


async def test_load_refuses_a_non_empty_catalog_unless_replace(db: Database) -> None:
    await load_demo(db, SMALL, seed=1)
    with pytest.raises(Conflict):
        await load_demo(db, SMALL, seed=2)
    result = await load_demo(db, SMALL, seed=2, replace=True)
    assert result.rows["personnel"] == SMALL.personnel
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Personnel)) == SMALL.personnel
        first = await session.scalar(select(Personnel.full_name).order_by(Personnel.id).limit(1))
    assert first == _all_rows(SMALL, 2)["personnel"][0]["full_name"]
    # New rows after a bulk load with explicit ids get fresh ids (PostgreSQL sequences moved on).
    async with db.write() as session:
        session.add(Exhibitor(company_name="After Load Ltd", categories=[], tech_stacks=[]))
        await session.flush()


async def test_replace_is_refused_while_unlocks_point_at_the_catalog(db: Database) -> None:
    await load_demo(db, SMALL, seed=1)
    async with db.write() as session:
        account = await accounts.create_account(session, "buyer")
        session.add(
            EventUnlock(account_id=account.id, event_id=1, layer="base", created_at=datetime.now(UTC))
        )
    with pytest.raises(Conflict, match="unlocks"):
        await load_demo(db, SMALL, seed=2, replace=True)
    async with db.read() as session:  # the failed replace changed nothing
        first = await session.scalar(select(Personnel.full_name).order_by(Personnel.id).limit(1))
        assert await session.scalar(select(func.count()).select_from(Personnel)) == SMALL.personnel
    assert first == _all_rows(SMALL, 1)["personnel"][0]["full_name"]


async def test_text_search_index_follows_the_bulk_load(db: Database) -> None:
    await load_demo(db, SMALL, seed=5)
    async with db.read() as session:
        name = await session.scalar(select(Personnel.full_name).order_by(Personnel.id).limit(1))
        assert name is not None
        last = name.split()[-1]
        expected = await session.scalar(
            select(func.count()).select_from(Personnel).where(Personnel.full_name.like(f"% {last}"))
        )
        if db.is_sqlite:
            found = await session.scalar(
                text("SELECT count(*) FROM personnel_fts WHERE personnel_fts MATCH :q"),
                {"q": f'full_name:"{last}"'},
            )
            assert found == expected
        else:
            found = await session.scalar(
                select(func.count()).select_from(Personnel).where(Personnel.full_name.ilike(f"% {last}"))
            )
            assert found == expected
    if db.is_sqlite:
        # The sync triggers the bulk path set aside are back: a row written afterwards is searchable.
        async with db.write() as session:
            session.add(Personnel(full_name="Zebulon Quixote", full_name_norm="zebulon quixote"))
        async with db.read() as session:
            hits = await session.scalar(
                text("SELECT count(*) FROM personnel_fts WHERE personnel_fts MATCH 'quixote'")
            )
            triggers = await session.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_fts_%'")
            )
        assert hits == 1
        assert triggers == 9


async def test_demo_account_is_reused_and_credits_are_granted_once(db: Database) -> None:
    first = await ensure_demo_account(db)
    second = await ensure_demo_account(db)
    assert first.account_id == second.account_id
    assert first.created_account and not second.created_account
    assert first.api_key != second.api_key and first.api_key.startswith("sk_")
    async with db.read() as session:
        balance = await get_balance(session, first.account_id, datetime.now(UTC))
        accounts = await session.scalar(
            select(func.count()).select_from(Account).where(Account.name == "demo")
        )
    assert accounts == 1
    assert balance.balances["subscription"] == 50_000
    assert balance.balances["gift"] == 1_000
    assert balance.total_balance == 51_000


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOWFLOOR_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run(
        [str(SHOWFLOOR), "admin", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def test_cli_demo_data_and_demo_setup(db: Database, db_url: str) -> None:
    done = _cli(db_url, "demo-data", "--scale", "0.01", "--seed", "4")
    assert done.returncode == 0, done.stderr
    assert "1,500 personnel" in done.stdout
    assert await _count_columns(db) == await _independent_counts(db)

    refused = _cli(db_url, "demo-data", "--scale", "0.01")
    assert refused.returncode == 1
    assert "--replace" in refused.stderr

    replaced = _cli(
        db_url, "demo-data", "--events", "2", "--exhibitors", "50", "--personnel", "120", "--replace"
    )
    assert replaced.returncode == 0, replaced.stderr
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 2
        assert await session.scalar(select(func.count()).select_from(Personnel)) == 120

    setup = _cli(db_url, "demo-setup", "--base-url", "http://127.0.0.1:9999")
    assert setup.returncode == 0, setup.stderr
    assert "already has data" in setup.stdout
    assert "http://127.0.0.1:9999/external/" in setup.stdout
    assert "Authorization: Bearer sk_" in setup.stdout
