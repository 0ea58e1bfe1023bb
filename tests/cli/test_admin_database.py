"""Issue 18, item 13: operator commands never create a stray database, ``migrate`` says what it
applied, a replayed ``--op-key`` grant says so, and ``admin credits balance`` prints a table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHOWFLOOR = [sys.executable, "-m", "showfloor"]


def admin(cwd: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")} | {"COLUMNS": "200"}
    if database_url:
        env["SHOWFLOOR_DATABASE_URL"] = database_url
    return subprocess.run(
        [*SHOWFLOOR, "admin", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "args",
    [
        ["accounts", "list"],
        ["credits", "balance", "--account", "1"],
        ["reconcile"],
        ["plans", "list", "--json"],
        ["demo-setup"],
    ],
)
def test_no_database_at_the_default_path_is_explained_not_created(tmp_path: Path, args: list[str]) -> None:
    done = admin(tmp_path, *args)
    text = " ".join(done.stderr.split())
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        f"no database at {tmp_path.resolve() / 'var' / 'showfloor.db'}" in text
        or '"DATABASE_MISSING"' in text
    )
    assert "showfloor admin migrate" in text and "SHOWFLOOR_DATABASE_URL" in text
    assert not (tmp_path / "var").exists()  # nothing was created


def test_a_missing_file_named_by_the_url_is_not_created_either(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'typo' / 'shwofloor.db'}"
    done = admin(tmp_path, "keys", "list", "--account", "1", database_url=url)
    assert done.returncode == 1 and "no database at" in done.stderr
    assert not (tmp_path / "typo").exists()


def test_migrate_says_what_it_applied_and_grants_say_when_replayed(tmp_path: Path) -> None:
    first = admin(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert str(tmp_path.resolve() / "var" / "showfloor.db") in first.stdout
    assert "Applied" in first.stdout and "0001" in first.stdout and "0014" in first.stdout
    again = admin(tmp_path, "migrate", "--json")
    assert json.loads(again.stdout)["applied"] == []
    assert "Nothing to apply" in admin(tmp_path, "migrate").stdout

    account = json.loads(admin(tmp_path, "accounts", "create", "--name", "Acme", "--json").stdout)["id"]
    grant = ["credits", "grant", "--account", account, "--gift", "--amount", "1500", "--op-key", "invoice-7"]
    granted = admin(tmp_path, *grant)
    assert granted.returncode == 0 and "Granted 1500" in granted.stdout
    replayed = admin(tmp_path, *grant)
    assert replayed.returncode == 0 and "Replay" in replayed.stdout and "invoice-7" in replayed.stdout
    assert json.loads(admin(tmp_path, *grant, "--json").stdout)["replayed"] is True

    table = admin(tmp_path, "credits", "balance", "--account", account)
    assert table.returncode == 0, table.stderr
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.count("│") >= 4}
    assert "bucket" in table.stdout and {"subscription", "add-on", "gift", "total"} <= set(rows)
    assert "1,500" in rows["gift"] and "1,500" in rows["total"]
