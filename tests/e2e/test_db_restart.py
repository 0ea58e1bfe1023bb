"""PostgreSQL stopped and started under a paid-action load (drill: tests/e2e/db_restart_drill.py, also
run by ``make chaos``): the server answers 503 while the database is down, becomes ready again without a
restart of its own, and the ledger holds exactly the charges the clients saw succeed.

The drill runs once per module; each test asserts one group of its checks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.db_restart_drill import NEVER_500, run_db_restart_drill
from tests.e2e.drill_support import Report
from tests.e2e.private_pg import PG_BIN_CANDIDATES

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_BIN_CANDIDATES, reason="PostgreSQL server binaries (initdb, pg_ctl) not found"),
]


@pytest.fixture(scope="module")
async def drill() -> AsyncIterator[Report]:
    report = Report()
    await run_db_restart_drill(report)
    yield report


def failures(report: Report, *names: str) -> list[str]:
    wanted = [(n, ok, d) for n, ok, d in report.checks if n in names]
    assert len(wanted) == len(names), f"checks not run: {set(names) - {n for n, _, _ in wanted}}"
    return [f"{n}: {d}" for n, ok, d in wanted if not ok]


async def test_server_reports_unavailable_then_recovers_without_a_restart(drill: Report) -> None:
    assert not failures(
        drill,
        "showfloor serve is ready",
        "/readyz answers 503 while the database is down",
        "the API answers 503 SERVICE_UNAVAILABLE in the error body while down",
        "/readyz answers 200 again, same server process",
        "clients kept going after the restart",
        "the outage was felt by the clients (503s or connection errors)",
        "every 503 carries errorKey SERVICE_UNAVAILABLE",
    )


async def test_every_charge_seen_is_in_the_ledger_and_no_other(drill: Report) -> None:
    assert not failures(
        drill,
        "every retry of a paid request reused its Idempotency-Key",
        "every charge a client saw succeed is in the ledger, and no other",
        "only grants and debits in the ledger",
        "no negative balance (no grant below zero)",
        "every credit hold resolved",
        "reconcile() finds no problem",
    )
    unresolved = [n for n, _, _ in drill.checks if n.startswith("requests still unresolved")]
    assert not failures(drill, *unresolved)


async def test_nothing_else_failed(drill: Report) -> None:
    assert not drill.failures


async def test_never_a_500_while_the_database_restarts(drill: Report) -> None:
    assert not failures(drill, NEVER_500)
