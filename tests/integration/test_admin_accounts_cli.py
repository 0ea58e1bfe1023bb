"""``showfloor admin accounts|keys`` as a real subprocess against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from showfloor.server.accounts import service as accounts
from showfloor.server.db.uow import Database


def admin(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOWFLOOR_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "showfloor", "admin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def admin_json(db_url: str, *args: str) -> Any:
    done = admin(db_url, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_accounts_and_keys_lifecycle(db: Database, db_url: str, app_client: httpx.AsyncClient) -> None:
    created = admin_json(db_url, "accounts", "create", "--name", "Globex")
    account_id = created["id"]
    issued = admin_json(db_url, "keys", "create", "--account", account_id, "--name", "ci")
    key = issued["key"]
    assert key.startswith("sk_") and key.startswith(issued["prefix"] + "_")

    listed = admin_json(db_url, "keys", "list", "--account", account_id)
    assert [k["prefix"] for k in listed] == [issued["prefix"]]
    assert key not in json.dumps(listed)  # listing shows the prefix only

    headers = {"Authorization": f"Bearer {key}"}
    assert (await app_client.get("/external/credits/balance", headers=headers)).status_code == 200

    assert admin(db_url, "accounts", "set-unlimited", "--account", account_id).returncode == 0
    async with db.read() as session:
        assert (await accounts.get_account(session, int(account_id))).unlimited is True

    revoked = admin(db_url, "keys", "revoke", "--prefix", issued["prefix"])
    assert revoked.returncode == 0, revoked.stderr
    assert (await app_client.get("/external/credits/balance", headers=headers)).status_code == 401


async def test_unknown_account_is_a_clear_error(db: Database, db_url: str) -> None:
    done = admin(db_url, "keys", "create", "--account", "999999")
    assert done.returncode == 1
    assert "Account 999999 not found" in done.stderr


async def test_revoke_needs_exactly_one_selector(db: Database, db_url: str) -> None:
    done = admin(db_url, "keys", "revoke")
    assert done.returncode == 2


def test_unmigrated_database_is_one_clear_line(tmp_path: Path) -> None:
    done = admin(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", "accounts", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "showfloor admin migrate" in " ".join(done.stderr.split())


def test_unreachable_database_is_one_clear_line() -> None:
    done = admin("postgresql+asyncpg://postgres@127.0.0.1:1/none", "accounts", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "SHOWFLOOR_DATABASE_URL" in " ".join(done.stderr.split())
