"""A real ``showfloor worker`` SIGKILLed mid-delivery, and a receiver that goes down (drill:
tests/e2e/webhook_drill.py, also run by ``make chaos``): no event is lost, a resent event keeps its
``webhook-id``, every request verifies with the SDK."""

from __future__ import annotations

import pytest

from tests.e2e.drill_support import Report
from tests.e2e.private_pg import PG_BIN_CANDIDATES
from tests.e2e.webhook_drill import run_webhook_drill

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_BIN_CANDIDATES, reason="PostgreSQL server binaries (initdb, pg_ctl) not found"),
]


async def test_webhook_delivery_survives_a_worker_kill_and_a_receiver_outage() -> None:
    report = Report()
    await run_webhook_drill(report)
    names = {name for name, _, _ in report.checks}
    assert "the request in flight at the kill was sent again with the same webhook-id" in names
    assert "no transaction left open" in names, "the drill stopped before its final checks"
    assert not report.failures, "\n".join(report.failures)
