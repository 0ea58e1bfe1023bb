"""PostgreSQL's one-statement fast paths answer exactly what their portable twins answer on the same
PostgreSQL data (AGENTS.md, "Fast paths we keep"): the unlock claim and the company search page.
``bench/portable.py`` measures what each fast path buys."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from showfloor.server.catalog.search import indexed_tsquery
from showfloor.server.db.uow import Database
from showfloor.server.lookups.service import company_page_in_one_statement, company_page_portably
from showfloor.server.unlocks import service
from showfloor.server.unlocks.claim import ClaimedItem, claim_in_one_statement, claim_portably
from tests.conftest import new_account
from tests.factories import attach_exhibitor, make_event, make_exhibitor
from tests.integration.test_company_name_search import TRICKY_NAMES, random_keywords, random_names
from tests.integration.unlock_support import give_credits, seed_cast


class _Rollback(Exception):
    """Leaves a unit without committing, so both paths claim from the same state."""


async def _claim_then_roll_back(db: Database, portable: bool, limit: int, now: datetime) -> list[ClaimedItem]:
    claimed: list[ClaimedItem] = []
    try:
        async with db.write() as session:
            run = claim_portably if portable else claim_in_one_statement
            claimed = await run(session, "worker-a", limit, 30.0, now)
            raise _Rollback
    except _Rollback:
        pass
    return claimed


async def test_the_claim_statement_claims_what_the_portable_claim_claims(pg_db: Database) -> None:
    account = await new_account(pg_db)
    await give_credits(pg_db, account.id, 10_000)
    cast = await seed_cast(pg_db, deliverable=7, no_email=2, ineligible=1)
    for kind, people in (
        ("email", list(cast.people.values())[:6]),
        ("phone", list(cast.people.values())[4:]),
    ):
        async with pg_db.write() as session:
            await service.submit(
                session,
                account_id=account.id,
                api_key_id=None,
                kind=kind,
                personnel_ids=[str(p) for p in people],
                event_ref=None,
                call_source="api",
            )
    now = datetime.now(UTC)
    for limit in (1, 3, 8, 50):
        portable = await _claim_then_roll_back(pg_db, True, limit, now)
        one_statement = await _claim_then_roll_back(pg_db, False, limit, now)
        assert portable, "nothing was claimable"
        assert sorted(one_statement, key=lambda c: c.item_id) == sorted(portable, key=lambda c: c.item_id)


def _page(rows: Any, total: int, events: dict[int, list[str]]) -> list[tuple[Any, ...]]:
    return [(int(r.id), r.company_name, total, events.get(int(r.id), [])) for r in rows]


async def test_the_company_page_statement_answers_what_the_portable_page_answers(pg_db: Database) -> None:
    rng = random.Random(7)
    names = [*TRICKY_NAMES, *random_names(rng, 120), *[f"Benchmark Company {n}" for n in range(40)]]
    async with pg_db.write() as session:
        events = [await make_event(session) for _ in range(4)]
        for name in names:
            exhibitor = await make_exhibitor(session, company_name=name)
            for event in rng.sample(events, rng.randint(0, 3)):
                await attach_exhibitor(session, event, exhibitor)
    compared = 0
    for keyword in [*random_keywords(rng, names, 60), "benchmark company", "company 1"]:
        tsquery = indexed_tsquery(keyword)
        if tsquery is None:  # not a keyword the fast path takes
            continue
        for limit, offset in ((20, 0), (5, 5), (100, 0)):
            async with pg_db.read() as session:
                fast = _page(*await company_page_in_one_statement(session, tsquery, limit, offset))
                portable = _page(*await company_page_portably(session, keyword, limit, offset))
            assert fast == portable, keyword
            compared += bool(fast)
    assert compared >= 20, "too few keywords matched for the comparison to mean anything"
