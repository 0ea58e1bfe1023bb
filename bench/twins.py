"""The ledger's PostgreSQL twins against their Python twins, on the same PostgreSQL database.

    .venv/bin/python bench/twins.py [--rounds 5] [--ops 300] [--captures 32]

The ledger keeps every money rule twice: in Python (``ledger/spending.py``, ``ledger/holds.py``; the
only path on SQLite) and as PostgreSQL functions (``ledger/sql/*.sql``). The functions are a fast path
and must earn their place. This runs both twins on one PostgreSQL database, one client, one write unit
per operation (BEGIN, the work, COMMIT), in alternating rounds, and prints the wall and client-CPU
time per operation of each and their ratio:

* debit: a spend across two grants (account lock, grants, operation, entries);
* hold + settle: a hold of ``--captures`` credits, then its captures and the final release in one unit,
  as an unlock group settles.

The twins are proven equal by ``tests/integration/test_backend_diff.py``; this shows what the second
copy buys. Creates its own database and drops it. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from showfloor.server.accounts import service as accounts
from showfloor.server.db.uow import Database
from showfloor.server.ledger import functions, holds, spending
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.types import ChargeContext, HoldSettlement

sys.path.insert(0, str(Path(__file__).parent))
from scratch import Op, compare, scratch_database

# One way of doing the operation: the database, the account, a fresh op key.
Twin = Callable[[Database, int, str], Awaitable[None]]


async def new_account(db: Database) -> int:
    """An account with two grants, so a spend crosses grants as real ones do."""
    async with db.write() as session:
        account = await accounts.create_account(session, "twins")
        await ledger.grant(session, account.id, "gift", 10_000_000, expires_at=None, op_key="g")
        await ledger.grant(
            session, account.id, "addon", 50, expires_at=datetime(2099, 1, 1, tzinfo=UTC), op_key="a"
        )
        return account.id


async def debit_sql(db: Database, account_id: int, key: str) -> None:
    async with db.write() as session:
        await functions.spend(
            session, "debit", ChargeContext(account_id), 7, key, datetime.now(UTC), account_locked=False
        )


async def debit_python(db: Database, account_id: int, key: str) -> None:
    async with db.write() as session:
        await spending.spend(session, "debit", ChargeContext(account_id), 7, key, datetime.now(UTC))


def hold_and_settle(captures: int, python: bool) -> Twin:
    """A hold of ``captures`` credits, then one capture per item and the final release."""

    async def run(db: Database, account_id: int, key: str) -> None:
        now = datetime.now(UTC)
        ctx = ChargeContext(account_id)
        async with db.write() as session:
            if python:
                hold_id = (await spending.spend(session, "hold", ctx, captures + 1, key, now))[1]
            else:
                hold_id = (
                    await functions.spend(session, "hold", ctx, captures + 1, key, now, account_locked=False)
                )[1]
        assert hold_id is not None
        settlements = [HoldSettlement("capture", 1, f"{key}:c{i}") for i in range(captures)]
        settlements.append(HoldSettlement("release", None, f"{key}:final"))
        async with db.write() as session:
            if python:
                await holds.settle(session, hold_id, settlements, now)
            else:
                await functions.settle(session, hold_id, settlements, now)

    return run


def as_op(db: Database, account_id: int, twin: Twin) -> Op:
    """The twin as a numbered operation, each call with an op key of its own."""
    tag = uuid.uuid4().hex[:8]

    async def op(n: int) -> None:
        await twin(db, account_id, f"{tag}-{n}")

    return op


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=300, help="operations per cell")
    parser.add_argument("--captures", type=int, default=32, help="captures per settled hold")
    parser.add_argument("--pg-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    async with scratch_database(args.pg_dsn, "twins") as db:
        account = await new_account(db)
        twins: dict[str, tuple[Twin, Twin]] = {
            "debit": (debit_sql, debit_python),
            f"hold + settle {args.captures}": (
                hold_and_settle(args.captures, python=False),
                hold_and_settle(args.captures, python=True),
            ),
        }
        cells = {label: (as_op(db, account, a), as_op(db, account, b)) for label, (a, b) in twins.items()}
        await compare(cells, ("SQL", "Python"), args.rounds, args.ops)


if __name__ == "__main__":
    asyncio.run(main())
