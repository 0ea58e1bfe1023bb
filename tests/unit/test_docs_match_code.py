"""The operator and customer docs state the values the code uses."""

from __future__ import annotations

import re
from pathlib import Path

from showfloor.server.config import Settings
from showfloor.server.paid.idempotency import RUNNING_LEASE

ROOT = Path(__file__).resolve().parents[2]
DOCS, DEPLOY = ROOT / "docs", ROOT / "deploy"
SETTINGS_ENV = {f"SHOWFLOOR_{name.upper()}" for name in Settings.model_fields}


def test_paid_actions_doc_states_the_running_lease() -> None:
    text = (DOCS / "paid-actions.md").read_text()
    stated = re.search(r"taken over after (\d+) s \(`RUNNING_LEASE`", text)
    assert stated is not None, "docs/paid-actions.md no longer states the running lease with its name"
    assert int(stated.group(1)) == RUNNING_LEASE.total_seconds()


def settings_table() -> set[str]:
    """The variables of docs/operations.md's "Every setting" table (its rows' first cells)."""
    text = (DOCS / "operations.md").read_text()
    section = text[text.index("## Every setting") :]
    return set(re.findall(r"^\| `(SHOWFLOOR_[A-Z0-9_]+)` \|", section, re.MULTILINE))


def test_operations_doc_lists_every_setting() -> None:
    """A new setting in config.py must be a row of docs/operations.md's "Every setting" table; a row
    without a setting is a stale one."""
    table = settings_table()
    assert not SETTINGS_ENV - table, f"not in the table: {', '.join(sorted(SETTINGS_ENV - table))}"
    assert not table - SETTINGS_ENV, f"not settings: {', '.join(sorted(table - SETTINGS_ENV))}"


def test_deploy_examples_use_real_settings_and_commands() -> None:
    env_file = (DEPLOY / "showfloor.env.example").read_text()
    used = set(re.findall(r"^(SHOWFLOOR_[A-Z0-9_]+)=", env_file, re.MULTILINE))
    assert used and used <= SETTINGS_ENV, f"not settings: {sorted(used - SETTINGS_ENV)}"
    for unit, command in (("showfloor-serve.service", "serve"), ("showfloor-worker.service", "worker")):
        text = (DEPLOY / unit).read_text()
        assert "EnvironmentFile=/etc/showfloor/showfloor.env" in text
        assert re.search(rf"^ExecStart=\S*/showfloor {command}\b", text, re.MULTILINE), unit
