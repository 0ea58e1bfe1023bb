"""PostgreSQL's one-statement fast paths against the portable code they replace, on the same database.

    .venv/bin/python bench/portable.py [--rounds 5] [--ops 60] [--claim 16]

Two places answer PostgreSQL with one hand-built statement where SQLite runs portable SQLAlchemy code
(AGENTS.md, "Fast paths we keep"); ``tests/integration/test_fast_paths_equal.py`` proves each equal to
its portable twin. This shows what each buys: both versions run on one PostgreSQL database, one client,
in alternating rounds, and it prints wall and client-CPU time per operation and their ratio.

* claim: ``unlocks.claim.claim_in_one_statement`` vs ``claim_portably``, ``--claim`` items per claim in a
  write unit each (items stay claimed under a long lease, so each claim takes fresh ones);
* company page: ``lookups.service.company_page_in_one_statement`` vs ``company_page_portably`` (the page
  of 20 companies and their event ids) for keywords drawn from 2,000 company names, in a read unit each.

Creates its own database and drops it. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select

from showfloor.server.accounts import service as accounts
from showfloor.server.catalog.search import indexed_tsquery
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.lookups.service import company_page_in_one_statement, company_page_portably
from showfloor.server.models import Event, EventExhibitor, Exhibitor, Personnel
from showfloor.server.unlocks import service
from showfloor.server.unlocks.claim import claim_in_one_statement, claim_portably

sys.path.insert(0, str(Path(__file__).parent))
from scratch import Op, compare, scratch_database

BATCH = 2000  # the API's per-submission limit
COMPANIES = 2000
WORDS = ["Global", "Acme", "North", "Blue", "Delta", "Summit", "Prime", "Vertex", "Harbor", "Nova"]


async def seed_claimable(db: Database, items: int) -> None:
    """``items`` people with an email, submitted as email unlock tasks: all pending, none claimed."""
    async with db.write() as session:
        account = await accounts.create_account(session, "portable")
        await ledger.grant(session, account.id, "gift", items * 15, expires_at=None, op_key="bench")
        await session.execute(
            insert(Personnel),
            [
                {"full_name": f"Person {n}", "full_name_norm": f"person {n}", "email": f"p{n}@b.example"}
                for n in range(items)
            ],
        )
        ids = list((await session.scalars(select(Personnel.id).order_by(Personnel.id))).all())
    for start in range(0, len(ids), BATCH):
        async with db.write() as session:
            await service.submit(
                session,
                account_id=account.id,
                api_key_id=None,
                kind="email",
                personnel_ids=[str(i) for i in ids[start : start + BATCH]],
                event_ref=None,
                call_source="api",
            )


async def seed_companies(db: Database, rng: random.Random) -> list[str]:
    """Companies named from a small vocabulary (so keywords match pages), each at up to 5 of 50 events;
    returns keywords: one or two word prefixes."""
    async with db.write() as session:
        event_ids = [
            (
                await session.execute(
                    insert(Event)
                    .values(event_id=f"BENCH-{n}", name=f"Bench {n}", date_start=date(2026, 1 + n % 12, 1))
                    .returning(Event.id)
                )
            ).scalar_one()
            for n in range(50)
        ]
        names = [f"{rng.choice(WORDS)} {rng.choice(WORDS)} Company {n}" for n in range(COMPANIES)]
        exhibitor_ids = (
            await session.scalars(
                insert(Exhibitor).returning(Exhibitor.id), [{"company_name": name} for name in names]
            )
        ).all()
        links = {(e, x) for x in exhibitor_ids for e in rng.sample(event_ids, rng.randint(0, 5))}
        await session.execute(insert(EventExhibitor), [{"event_id": e, "exhibitor_id": x} for e, x in links])
    return [f"{a[: rng.randint(2, len(a))]} {b[:3]}" if rng.random() < 0.5 else a for a, b in (
        (rng.choice(WORDS), rng.choice(WORDS)) for _ in range(200))]  # fmt: skip


def claim_op(db: Database, claim: int, portable: bool) -> Op:
    run = claim_portably if portable else claim_in_one_statement

    async def op(_: int) -> None:
        async with db.write() as session:
            claimed = await run(session, "bench", claim, 3600.0, datetime.now(UTC))
        assert len(claimed) == claim, "ran out of claimable items: lower --ops or --rounds"

    return op


def page_op(db: Database, keywords: list[str], portable: bool) -> Op:
    async def op(n: int) -> None:
        keyword = keywords[n % len(keywords)]
        async with db.read() as session:
            if portable:
                await company_page_portably(session, keyword, 20, 0)
            else:
                tsquery = indexed_tsquery(keyword)
                assert tsquery is not None
                await company_page_in_one_statement(session, tsquery, 20, 0)

    return op


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=60, help="operations per cell")
    parser.add_argument("--claim", type=int, default=16, help="items per claim")
    parser.add_argument("--pg-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    rng = random.Random(2027)
    async with scratch_database(args.pg_dsn, "portable") as db:
        # Every claim (warm-ups included) takes ``--claim`` fresh items.
        await seed_claimable(db, 2 * args.rounds * (args.ops + 1) * args.claim)
        keywords = [k for k in await seed_companies(db, rng) if indexed_tsquery(k) is not None]
        cells: dict[str, tuple[Op, Op]] = {
            f"claim {args.claim}": (claim_op(db, args.claim, False), claim_op(db, args.claim, True)),
            "company page": (page_op(db, keywords, False), page_op(db, keywords, True)),
        }
        await compare(cells, ("fast", "portable"), args.rounds, args.ops)


if __name__ == "__main__":
    asyncio.run(main())
