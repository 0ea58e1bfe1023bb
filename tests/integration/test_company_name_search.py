"""The paid company searches (``catalog.search.company_name_condition``). PostgreSQL sends ASCII words to
the word-prefix index of migration 0010: it must answer exactly what the word-start regexes answer
(``keyword_condition``) on every name shape, and be the plan for the benchmark's near-identical names
(``bench/paid.py``: 2,000 "Benchmark Company N"), where the regexes cost a sequential scan."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import ColumnElement, insert, select, text
from sqlalchemy.dialects import postgresql

from showfloor.server.catalog.search import company_name_condition, keyword_condition
from showfloor.server.db.engine import make_engine
from showfloor.server.db.migrate import current_revision, downgrade, upgrade
from showfloor.server.db.uow import Database
from showfloor.server.lookups.service import company_page_query
from showfloor.server.models import Exhibitor
from tests.conftest import AccountFixture, scratch_pg_url
from tests.integration.paid_support import give

URL = "/external/exhibitors/search-by-company-name"
KELVIN, DOTTED_I, LONG_S = "\u212a", "\u0130", "\u017f"  # lower() maps them to ASCII; `~*` does not
TRICKY_NAMES = [
    "Foo_bar Ltd",
    "foo-BAR & Sons, Inc.",
    "O'Neil Co.",
    "AcmeBase Co.",
    "  Padded\tName  ",
    "...",
    "1.5x Capital 2000",
    "x²y Labs",
    "Café Müller GmbH",
    "ÉCOLE Ünited",
    f"{DOTTED_I}stanbul Expo",
    f"{KELVIN}elvin Instruments",
    f"Bu{LONG_S}iness Straße",
    "ΟΔΟΣ Σίγμα",
    "kelvin istanbul",
]
_CHARS = [*"aaBbkKsSiI019_", "é", "Ü", "ß", "ς", "Σ", "²", KELVIN, DOTTED_I, LONG_S, "ı"]
_SEPARATORS = [" ", "-", ".", "'", "&", "\t", ", ", "/"]


def random_names(rng: random.Random, count: int) -> list[str]:
    def token() -> str:
        return "".join(rng.choice(_CHARS) for _ in range(rng.randint(1, 5)))

    return [
        "".join(token() + rng.choice(_SEPARATORS) for _ in range(rng.randint(1, 4))).strip()
        for _ in range(count)
    ]


def random_keywords(rng: random.Random, names: list[str], count: int) -> list[str]:
    """Keywords of one to three words: prefixes of the names' words (some case-flipped) and stray
    characters, so ASCII words (index), other words (regex) and mixes all occur."""
    words = [w for name in names for w in name.replace("\t", " ").split(" ") if w]
    keywords = []
    for _ in range(count):
        picked = []
        for _ in range(rng.randint(1, 3)):
            word = rng.choice(words)
            word = word[: rng.randint(1, len(word))]
            picked.append(word.swapcase() if rng.random() < 0.3 else word)
        keywords.append(" ".join(picked))
    return [*keywords, "k", "i", "s", "ss", "istanbul", "kelvin", "bar", "foo_bar", "1", "2000", "5x", "y"]


async def matching_ids(db: Database, condition: ColumnElement[bool]) -> list[int]:
    async with db.read() as session:
        return list(
            (await session.scalars(select(Exhibitor.id).where(condition).order_by(Exhibitor.id))).all()
        )


async def test_word_prefix_index_answers_what_the_regexes_answer(pg_db: Database) -> None:
    rng = random.Random(20261125)
    names = TRICKY_NAMES + random_names(rng, 300)
    async with pg_db.write() as session:
        await session.execute(
            insert(Exhibitor), [{"company_name": n, "categories": [], "tech_stacks": []} for n in names]
        )
    matched_through_index = 0
    for keyword in random_keywords(rng, names, 200):
        expected = await matching_ids(pg_db, keyword_condition("exhibitors", keyword, sqlite=False))
        assert await matching_ids(pg_db, company_name_condition(keyword, sqlite=False)) == expected, keyword
        matched_through_index += bool(expected) and "word_prefixes" in sql_of(keyword)
    assert matched_through_index > 40  # the comparison is not vacuous


def sql_of(keyword: str) -> str:
    return str(company_name_condition(keyword, sqlite=False).compile(dialect=postgresql.dialect()))


async def explain(db: Database, keyword: str, *, generic: bool) -> str:
    """The plan of the search's page statement, prepared by asyncpg as the server does: custom (the
    keyword's tsquery a constant) or generic (what PostgreSQL may settle on for a reused statement)."""
    query = company_page_query(company_name_condition(keyword, sqlite=False), limit=20, offset=0)
    compiled = query.compile(dialect=postgresql.asyncpg.dialect())
    params = [compiled.params[name] for name in compiled.positiontup or []]
    async with db.read() as session:
        await session.execute(text("SELECT 1"))  # SQLAlchemy's transaction is open: SET LOCAL stays in it
        driver: Any = (await (await session.connection()).get_raw_connection()).driver_connection
        mode = "force_generic_plan" if generic else "force_custom_plan"
        await driver.execute(f"SET LOCAL plan_cache_mode = {mode}")
        return "\n".join(row[0] for row in await driver.fetch("EXPLAIN " + str(compiled), *params))


async def test_near_identical_names_are_searched_through_the_index(pg_db: Database) -> None:
    async with pg_db.write() as session:
        await session.execute(
            insert(Exhibitor),
            [
                {"company_name": f"Benchmark Company {n}", "categories": [], "tech_stacks": []}
                for n in range(2000)
            ],
        )
    # Right after the load (no statistics yet, as in bench/paid.py) and after ANALYZE, a word every row
    # holds included: word_prefixes() is never a filter evaluated row by row, only the index's condition
    # (a recheck runs only on lossy bitmap pages).
    for analyze in (False, True):
        if analyze:
            async with pg_db.write() as session:
                await session.execute(text("ANALYZE exhibitors"))
        for keyword in ("Benchmark Company 123", "benchmark", "company 7"):
            for generic in (False, True):
                plan = await explain(pg_db, keyword, generic=generic)
                assert "Bitmap Index Scan on ix_exhibitors_company_name_words" in plan, plan
                evaluated = [line.strip() for line in plan.splitlines() if "word_prefixes" in line]
                assert all(line.startswith(("Index Cond", "Recheck Cond")) for line in evaluated), plan


async def search(client: httpx.AsyncClient, keyword: str, **body: Any) -> dict[str, Any]:
    resp = await client.post(URL, json={"company_name": keyword, **body})
    assert resp.status_code == 201, resp.text
    result: dict[str, Any] = resp.json()
    return result


async def test_company_search_pages_near_identical_names(
    db: Database, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    await give(db, account.id, 10_000)
    async with db.write() as session:
        await session.execute(
            insert(Exhibitor),
            [
                {"company_name": f"Benchmark Company {n}", "categories": [], "tech_stacks": []}
                for n in range(2000)
            ],
        )
        await session.execute(
            insert(Exhibitor),
            [{"company_name": n, "categories": [], "tech_stacks": []} for n in TRICKY_NAMES],
        )
    page = await search(client, "benchmark COMPANY 12", pageSize=3)
    assert page["total"] == 111  # 12, 120-129, 1200-1299
    assert [i["companyName"] for i in page["items"]] == [
        "Benchmark Company 12",
        "Benchmark Company 120",
        "Benchmark Company 121",
    ]
    last = await search(client, "benchmark company 12", pageSize=100, page=2)
    assert [i["companyName"] for i in last["items"]][-2:] == [
        "Benchmark Company 1298",
        "Benchmark Company 1299",
    ]
    assert (await search(client, "Benchmark Company 1999"))["total"] == 1
    assert (await search(client, "enchmark"))["total"] == 0  # word starts only
    assert [i["companyName"] for i in (await search(client, "bar sons"))["items"]] == ["foo-BAR & Sons, Inc."]
    assert [i["companyName"] for i in (await search(client, "acmebase co"))["items"]] == ["AcmeBase Co."]
    assert [i["companyName"] for i in (await search(client, "5X 2000 capital"))["items"]] == [
        "1.5x Capital 2000"
    ]
    assert [i["companyName"] for i in (await search(client, "café gmbh"))["items"]] == ["Café Müller GmbH"]


@pytest.fixture
async def scratch_pg() -> AsyncIterator[Database]:
    """A database of its own: migrations are undone and redone on it."""
    async with scratch_pg_url("words") as url:
        db = Database(make_engine(url, null_pool=True))
        try:
            yield db
        finally:
            await db.dispose()


async def word_objects(db: Database) -> tuple[int, int]:
    async with db.read() as session:
        indexes = await session.scalar(
            text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_exhibitors_company_name_words'")
        )
        functions = await session.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = 'word_prefixes'"))
    return int(indexes or 0), int(functions or 0)


async def test_0010_downgrade_and_upgrade(scratch_pg: Database) -> None:
    await upgrade(scratch_pg.engine, "0010")
    async with scratch_pg.write() as session:
        await session.execute(
            insert(Exhibitor), [{"company_name": "Acme Co.", "categories": [], "tech_stacks": []}]
        )
    assert await word_objects(scratch_pg) == (1, 1)
    await downgrade(scratch_pg.engine, "0009")
    assert await current_revision(scratch_pg.engine) == "0009"
    assert await word_objects(scratch_pg) == (0, 0)
    await upgrade(scratch_pg.engine, "0010")  # indexes the rows already there
    assert await matching_ids(scratch_pg, company_name_condition("acme c", sqlite=False)) == [1]
