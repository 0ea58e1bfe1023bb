"""Redis black-holed, refused and restored under ``serve --workers 2`` (drill: tests/e2e/redis_drill.py,
also run by ``make chaos``): every request answered, limits per process meanwhile, shared again after."""

from __future__ import annotations

import pytest

from tests.e2e.drill_support import Report
from tests.e2e.private_pg import PG_BIN_CANDIDATES
from tests.e2e.redis_drill import run_redis_drill
from tests.integration.test_rate_limit import redis_or_skip

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_BIN_CANDIDATES, reason="PostgreSQL server binaries (initdb, pg_ctl) not found"),
]


async def test_redis_outage_keeps_serving_with_per_process_limits_then_recovers() -> None:
    await redis_or_skip()
    report = Report()
    await run_redis_drill(report)
    names = {name for name, _, _ in report.checks}
    assert "Redis back: the limit is shared again" in names, "the drill stopped before its final checks"
    assert not report.failures, "\n".join(report.failures)
