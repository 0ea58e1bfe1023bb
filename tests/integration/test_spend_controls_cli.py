"""``showfloor admin keys set-cap`` (and ``admin alerts``) as a real subprocess against the test database."""

from __future__ import annotations

from showfloor.server.db.uow import Database
from tests.conftest import new_account
from tests.integration.test_admin_accounts_cli import admin, admin_json


async def test_set_show_and_clear_a_keys_caps(db: Database, db_url: str) -> None:
    acct = await new_account(db)
    key = str(acct.key_id)
    assert admin_json(db_url, "keys", "set-cap", key, "--daily", "500") == {
        "id": key,
        "dailyCap": 500,
        "monthlyCap": None,
    }
    set_both = admin_json(db_url, "keys", "set-cap", key, "--monthly", "9000")
    assert (set_both["dailyCap"], set_both["monthlyCap"]) == (500, 9000)  # the daily cap stays
    (listed,) = admin_json(db_url, "keys", "list", "--account", str(acct.id))
    assert (listed["dailyCap"], listed["monthlyCap"]) == (500, 9000)
    table = admin(db_url, "keys", "list", "--account", str(acct.id))
    assert "daily cap" in table.stdout and "9000" in table.stdout
    assert admin_json(db_url, "keys", "set-cap", key, "--daily", "0")["dailyCap"] is None
    cleared = admin_json(db_url, "keys", "set-cap", key, "--clear")
    assert (cleared["dailyCap"], cleared["monthlyCap"]) == (None, None)
    (listed,) = admin_json(db_url, "keys", "list", "--account", str(acct.id))
    assert (listed["dailyCap"], listed["monthlyCap"]) == (None, None)


async def test_set_cap_errors_are_clear(db: Database, db_url: str) -> None:
    acct = await new_account(db)
    unknown = admin(db_url, "keys", "set-cap", "999999", "--daily", "5")
    assert unknown.returncode == 1 and "API key 999999 not found" in unknown.stderr
    nothing = admin(db_url, "keys", "set-cap", str(acct.key_id))
    assert nothing.returncode == 2 and "--daily, --monthly or --clear" in nothing.stderr
    both = admin(db_url, "keys", "set-cap", str(acct.key_id), "--clear", "--daily", "5")
    assert both.returncode == 2
    negative = admin(db_url, "keys", "set-cap", str(acct.key_id), "--daily", "-5")
    assert negative.returncode == 2


async def test_set_list_and_clear_balance_alerts(db: Database, db_url: str) -> None:
    acct = await new_account(db)
    account = str(acct.id)
    body = admin_json(db_url, "alerts", "set", "--account", account, "500", "2000")
    assert body["thresholds"] == [2000, 500]
    assert [a["kind"] for a in body["alerts"]] == ["threshold", "threshold", "depleted"]
    assert admin_json(db_url, "alerts", "list", "--account", account) == body
    table = admin(db_url, "alerts", "list", "--account", account)
    assert "depleted" in table.stdout and "2000" in table.stdout
    assert admin_json(db_url, "alerts", "clear", "--account", account) == {"thresholds": [], "alerts": []}
    assert "No balance alerts." in admin(db_url, "alerts", "list", "--account", account).stdout


async def test_alert_errors_are_clear(db: Database, db_url: str) -> None:
    unknown = admin(db_url, "alerts", "set", "--account", "999999", "100")
    assert unknown.returncode == 1 and "Account 999999 not found" in unknown.stderr
    acct = await new_account(db)
    zero = admin(db_url, "alerts", "set", "--account", str(acct.id), "0")
    assert zero.returncode == 2
    none = admin(db_url, "alerts", "set", "--account", str(acct.id))
    assert none.returncode == 2
