"""The operator and customer docs state the values the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from showfloor.server.paid.idempotency import RUNNING_LEASE

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_paid_actions_doc_states_the_running_lease() -> None:
    text = (DOCS / "paid-actions.md").read_text()
    stated = re.search(r"taken over after (\d+) s \(`RUNNING_LEASE`", text)
    assert stated is not None, "docs/paid-actions.md no longer states the running lease with its name"
    assert int(stated.group(1)) == RUNNING_LEASE.total_seconds()
