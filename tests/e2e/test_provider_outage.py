"""The enrichment provider down for a while (drill: tests/e2e/provider_outage_drill.py, also run by
``make chaos``): items are retried, then delivered or released; nothing is charged for what was not
delivered; holds are resolved and the ledger reconciles."""

from __future__ import annotations

import pytest

from tests.e2e.drill_support import Report
from tests.e2e.private_pg import PG_BIN_CANDIDATES
from tests.e2e.provider_outage_drill import run_provider_outage_drill

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_BIN_CANDIDATES, reason="PostgreSQL server binaries (initdb, pg_ctl) not found"),
]


async def test_provider_outage_retries_then_delivers_or_releases_without_charging() -> None:
    report = Report()
    await run_provider_outage_drill(report)
    names = {name for name, _, _ in report.checks}
    assert "nothing charged while the provider is down" in names
    assert "reconcile() finds no problem" in names, "the drill stopped before its final checks"
    assert not report.failures, "\n".join(report.failures)
