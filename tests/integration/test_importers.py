"""Importers: good files (JSONL and CSV), files with bad rows (nothing imported), re-imports, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from showfloor.data.importers import ImportRejected, import_file, parse_format, parse_kind
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.models import Event, EventExhibitor, EventPersonnel, Exhibitor, Personnel

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHOWFLOOR = Path(sys.executable).parent / "showfloor"


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def _count(db: Database, model: type[object]) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _event(db: Database, external_id: str) -> Event:
    async with db.read() as session:
        event = await session.scalar(select(Event).where(Event.external_id == external_id))
    assert event is not None
    return event


async def _import_examples(db: Database) -> None:
    await import_file(db, EXAMPLES / "events.jsonl")
    await import_file(db, EXAMPLES / "exhibitors.csv")
    await import_file(db, EXAMPLES / "personnel.jsonl")


async def test_example_files_import_with_links_and_counts(db: Database) -> None:
    await _import_examples(db)
    assert await _count(db, Event) == 2
    assert await _count(db, Exhibitor) == 2
    assert await _count(db, Personnel) == 4
    retail = await _event(db, "acme-ev-1")
    assert retail.event_id == "ACME-RETAIL-2027"
    assert retail.categories[0]["code"] == "retail"
    # acme-ev-1: Northwind exhibits; Jane (exhibitor), Priya (visitor), Max (opted out, has email).
    assert (retail.exhibitor_count, retail.personnel_count, retail.visitor_count, retail.contact_count) == (
        1,
        3,
        1,
        3,
    )
    factory = await _event(db, "acme-ev-2")
    assert factory.event_id == "acme-ev-2"  # defaults to the external id
    assert factory.categories == [
        {
            "id": None,
            "code": "manufacturing",
            "name": "Manufacturing",
            "description": None,
            "confidence": None,
        }
    ]
    assert (
        factory.exhibitor_count,
        factory.personnel_count,
        factory.visitor_count,
        factory.contact_count,
    ) == (
        2,
        2,
        0,
        1,
    )
    async with db.read() as session:
        globex = await session.scalar(select(Exhibitor).where(Exhibitor.external_id == "acme-co-2"))
        tom = await session.scalar(select(Personnel).where(Personnel.external_id == "acme-p-2"))
        priya_link = await session.scalar(
            select(EventPersonnel).join(Personnel).where(Personnel.external_id == "acme-p-3")
        )
    assert globex is not None and globex.tech_stacks == ["SAP", "Azure"]
    assert tom is not None and tom.exhibitor_id == globex.id and tom.full_name_norm == "tom becker"
    assert priya_link is not None and priya_link.is_visitor_only and priya_link.source_types == ["visitors"]


async def test_reimport_updates_in_place_without_duplicates(db: Database, tmp_path: Path) -> None:
    await _import_examples(db)
    again = await import_file(db, EXAMPLES / "personnel.jsonl")
    assert (again.created, again.updated) == (0, 4)
    assert await _count(db, Personnel) == 4
    assert await _count(db, EventPersonnel) == 5

    changed = _jsonl(
        tmp_path / "personnel.jsonl",
        [
            # Jane now only at acme-ev-2 and without contact data; a new person joins acme-ev-1.
            {
                "external_id": "acme-p-1",
                "full_name": "Jane Doe-Smith",
                "exhibitor": "acme-co-1",
                "events": ["acme-ev-2"],
            },
            {
                "external_id": "acme-p-9",
                "full_name": "Ana Silva",
                "email": "ana@x.example",
                "events": ["acme-ev-1"],
            },
        ],
    )
    result = await import_file(db, changed)
    assert (result.created, result.updated) == (1, 1)
    assert await _count(db, Personnel) == 5
    async with db.read() as session:
        jane = await session.scalar(select(Personnel).where(Personnel.external_id == "acme-p-1"))
        links = (
            await session.scalars(select(EventPersonnel).where(EventPersonnel.personnel_id == jane.id))
        ).all()  # type: ignore[union-attr]
    assert (
        jane is not None and jane.full_name == "Jane Doe-Smith" and jane.email is None and jane.title is None
    )
    assert [link.event_id for link in links] == [(await _event(db, "acme-ev-2")).id]
    retail = await _event(db, "acme-ev-1")
    assert (retail.personnel_count, retail.contact_count) == (3, 3)  # Jane left, Ana came
    factory = await _event(db, "acme-ev-2")
    assert (factory.personnel_count, factory.contact_count) == (2, 0)  # Jane stayed but lost her email

    # Exhibitor links given in a row replace the old ones.
    (tmp_path / "exhibitors.csv").write_text(
        "external_id,company_name,events\nacme-co-1,Northwind Analytics AG,acme-ev-2\n", encoding="utf-8"
    )
    await import_file(db, tmp_path / "exhibitors.csv")
    assert await _count(db, Exhibitor) == 2
    assert (await _event(db, "acme-ev-1")).exhibitor_count == 0
    assert (await _event(db, "acme-ev-2")).exhibitor_count == 2
    async with db.read() as session:
        ranks = (await session.scalars(select(EventExhibitor.rank).order_by(EventExhibitor.rank))).all()
    assert ranks == [1, 2]


async def test_csv_personnel_and_jsonl_exhibitors(db: Database, tmp_path: Path) -> None:
    await import_file(db, EXAMPLES / "events.jsonl")
    _jsonl(
        tmp_path / "companies.jsonl",
        [{"external_id": "c1", "company_name": "Initech", "tech_stacks": ["Slack"], "events": ["acme-ev-1"]}],
    )
    await import_file(db, tmp_path / "companies.jsonl", kind="exhibitors")
    (tmp_path / "people.csv").write_text(
        "external_id,full_name,exhibitor,events,source_types,opted_out,phone\n"
        "p1,Bill Lumbergh,c1,acme-ev-1|acme-ev-2,exhibitor|social,yes,+1 555 0100\n"
        'p2,Milton Waddams,,"[""acme-ev-1""]",visitors,,\n',
        encoding="utf-8",
    )
    result = await import_file(db, tmp_path / "people.csv")
    assert (result.kind, result.created) == ("personnel", 2)
    async with db.read() as session:
        bill = await session.scalar(select(Personnel).where(Personnel.external_id == "p1"))
        links = (await session.scalars(select(EventPersonnel).order_by(EventPersonnel.id))).all()
    assert bill is not None and bill.opted_out and bill.phone == "+1 555 0100" and bill.email is None
    assert [link.source_types for link in links] == [["exhibitor", "social"]] * 2 + [["visitors"]]
    assert [link.is_visitor_only for link in links] == [False, False, True]
    retail = await _event(db, "acme-ev-1")
    assert (retail.exhibitor_count, retail.personnel_count, retail.visitor_count, retail.contact_count) == (
        1,
        2,
        1,
        1,
    )


async def test_a_file_with_bad_rows_imports_nothing_and_names_each_line(db: Database, tmp_path: Path) -> None:
    await import_file(db, EXAMPLES / "events.jsonl")
    path = tmp_path / "personnel.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({"external_id": "ok-1", "full_name": "Good Person", "events": ["acme-ev-1"]}),
                json.dumps({"external_id": "bad-1", "title": "No Name"}),
                "{not json",
                json.dumps({"external_id": "ok-1", "full_name": "Same Id Again"}),
                "",
                json.dumps({"external_id": "bad-2", "full_name": "X", "events": ["no-such-event"]}),
                json.dumps({"external_id": "bad-3", "full_name": "Y", "email": "not-an-address"}),
                json.dumps({"external_id": "bad-4", "full_name": "Z", "exhibitor": "ghost-co"}),
                json.dumps({"external_id": "bad-5", "full_name": "W", "favourite_colour": "blue"}),
                json.dumps(["a", "list"]),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as caught:
        await import_file(db, path)
    reasons = {e.line: e.reason for e in caught.value.errors}
    assert sorted(reasons) == [2, 3, 4, 6, 7, 8, 9, 10]
    assert "full_name" in reasons[2] and "Field required" in reasons[2]
    assert "invalid JSON" in reasons[3]
    assert "duplicate external_id" in reasons[4] and "line 1" in reasons[4]
    assert "no-such-event" in reasons[6]
    assert "email" in reasons[7]
    assert "ghost-co" in reasons[8]
    assert "favourite_colour" in reasons[9]
    assert "JSON object" in reasons[10]
    assert await _count(db, Personnel) == 0  # the good row was not imported either
    assert await _count(db, EventPersonnel) == 0


async def test_bad_csv_rows_and_event_id_clashes(db: Database, tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text(
        "external_id,name,date_start,date_end,attendee_count\n"
        "e1,Fine Expo,2026-05-01,2026-05-02,100\n"
        "e2,Backwards Expo,2026-05-03,2026-05-01,\n"
        "e3,Bad Date Expo,2026-13-01,,\n"
        "e4,Negative Expo,,,-5\n"
        "e5,Too,Many,Cells,1,2\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as caught:
        await import_file(db, tmp_path / "events.csv")
    lines = [e.line for e in caught.value.errors]
    assert lines == [3, 4, 5, 6]
    assert "date_end is before date_start" in caught.value.errors[0].reason
    assert await _count(db, Event) == 0

    await import_file(db, EXAMPLES / "events.jsonl")
    _jsonl(
        tmp_path / "clash.jsonl", [{"external_id": "other", "event_id": "ACME-RETAIL-2027", "name": "Clash"}]
    )
    with pytest.raises(ImportRejected) as clash:
        await import_file(db, tmp_path / "clash.jsonl", kind="events")
    assert "belongs to another event" in clash.value.errors[0].reason


async def test_kind_and_format_must_be_known(db: Database, tmp_path: Path) -> None:
    (tmp_path / "stuff.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(DomainError, match="--kind"):
        await import_file(db, tmp_path / "stuff.jsonl")
    (tmp_path / "events.txt").write_text("{}\n", encoding="utf-8")
    with pytest.raises(DomainError, match="--format"):
        await import_file(db, tmp_path / "events.txt")
    with pytest.raises(DomainError, match="no such file"):
        await import_file(db, tmp_path / "missing-events.jsonl")


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOWFLOOR_DATABASE_URL": db_url, "COLUMNS": "200"}
    return subprocess.run(
        [str(SHOWFLOOR), "admin", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_cli_import_reports_bad_lines_and_exit_codes(db: Database, db_url: str, tmp_path: Path) -> None:
    ok = _cli(db_url, str(EXAMPLES / "events.jsonl"))
    assert ok.returncode == 0, ok.stderr
    assert "2 created" in ok.stdout

    bad = tmp_path / "rows.data"
    bad.write_text("external_id,company_name\nc1,Fine Co\nc2,\n", encoding="utf-8")
    done = _cli(db_url, str(bad), "--kind", "exhibitors", "--format", "csv")
    assert done.returncode == 1
    assert "line 3: company_name" in done.stderr
    assert "nothing was imported" in done.stderr
    assert await _count(db, Exhibitor) == 0


def test_kind_and_format_options_are_checked() -> None:
    assert parse_kind("personnel") == "personnel" and parse_kind(None) is None
    assert parse_format("csv") == "csv" and parse_format(None) is None
    with pytest.raises(DomainError, match="--kind"):
        parse_kind("people")
    with pytest.raises(DomainError, match="--format"):
        parse_format("xml")
