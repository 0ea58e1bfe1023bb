"""``/external/credits/balance`` and ``/external/credits/transactions`` over HTTP, and the operator CLI
(``admin credits …``, ``admin reconcile``) through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from showfloor.server.db.uow import Database
from showfloor.server.ledger import service
from tests.conftest import AccountFixture, new_account

SHOWFLOOR = str(Path(sys.executable).with_name("showfloor"))


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


async def give(db: Database, account_id: int, bucket: str, amount: int, expires: datetime | None) -> int:
    async with db.write() as session:
        return await service.grant(
            session, account_id, bucket, amount, expires_at=expires, op_key=f"{bucket}-{amount}-{expires}"
        )


async def test_balance_fields_and_values(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    early, late = now + timedelta(days=10), now + timedelta(days=40)
    await give(db, account.id, "subscription", 300, late)
    await give(db, account.id, "subscription", 200, early)
    await give(db, account.id, "addon", 150, now + timedelta(days=20))
    await give(db, account.id, "addon", 50, now + timedelta(days=90))
    await give(db, account.id, "gift", 100, None)
    async with db.write() as session:
        held = await service.hold(session, service.ChargeContext(account.id), 250, "hold")
        await service.debit(session, service.ChargeContext(account.id), 260, "spend")
    resp = await client.get("/external/credits/balance")
    assert resp.status_code == 200, resp.text
    # Hold took 200 (early sub) + 50 (late sub); the debit 250 (late sub) + 10 (first addon).
    assert resp.json() == {
        "totalAmount": 800,
        "totalBalance": 290,
        "subscriptionAmount": 500,
        "subscriptionBalance": 0,
        "addonAmount": 200,
        "addonBalance": 190,
        "addonExpireAt": ms(now + timedelta(days=90)),
        "giftAmount": 100,
        "giftBalance": 100,
        # Both subscription grants are spent or held: none has credits, so there is no reset.
        "resetAt": None,
    }
    async with db.write() as session:
        await service.release(session, held.hold_id, None, "release")
    after = (await client.get("/external/credits/balance")).json()
    assert after["subscriptionBalance"] == 250 and after["totalBalance"] == 540
    assert after["resetAt"] == ms(early)


async def test_balance_of_an_empty_account(client: httpx.AsyncClient) -> None:
    body = (await client.get("/external/credits/balance")).json()
    assert body["totalBalance"] == 0 and body["resetAt"] is None and body["addonExpireAt"] is None


async def test_transactions_pagination_order_and_fields(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    grant_id = await give(db, account.id, "gift", 100, None)
    ctx = service.ChargeContext(account.id, account.key_id, "agent", "Event Unlock - Agent", "event", "evt_1")
    ops = []
    async with db.write() as session:
        for i in range(4):
            ops.append(await service.debit(session, ctx, 10 + i, f"d{i}"))
    first = await client.get("/external/credits/transactions", params={"pageSize": 2, "unknown": "x"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert {k: body[k] for k in ("total", "page", "pageSize", "totalPages", "hasMore")} == {
        "total": 5,
        "page": 1,
        "pageSize": 2,
        "totalPages": 3,
        "hasMore": True,
    }
    newest = body["items"][0]
    assert set(newest) == {
        "id",
        "createdAt",
        "type",
        "amount",
        "bucket",
        "businessCode",
        "callSource",
        "apiKeyPrefix",
        "resourceType",
        "resourceId",
        "operationId",
        "grantId",
    }
    assert newest["type"] == "debit" and newest["amount"] == -13 and newest["bucket"] == "gift"
    assert newest["businessCode"] == "Event Unlock - Agent" and newest["callSource"] == "agent"
    assert newest["apiKeyPrefix"] and account.key.startswith(newest["apiKeyPrefix"])
    assert (newest["resourceType"], newest["resourceId"]) == ("event", "evt_1")
    assert newest["operationId"] == str(ops[3].operation_id) and newest["grantId"] == str(grant_id)
    assert isinstance(newest["id"], str) and isinstance(newest["createdAt"], int)
    last = (await client.get("/external/credits/transactions", params={"page": 3, "pageSize": 2})).json()
    assert [i["type"] for i in last["items"]] == ["grant"] and last["items"][0]["amount"] == 100
    assert last["hasMore"] is False
    ids = [int(i["id"]) for i in body["items"]]
    assert ids == sorted(ids, reverse=True)
    grants = (await client.get("/external/credits/transactions", params={"type": "grant"})).json()
    assert grants["total"] == 1
    beyond = (await client.get("/external/credits/transactions", params={"page": 9})).json()
    assert beyond["items"] == [] and beyond["total"] == 5


async def test_transactions_validation_and_auth(
    client: httpx.AsyncClient, app_client: httpx.AsyncClient
) -> None:
    for params in ({"page": 0}, {"pageSize": 0}, {"pageSize": 101}, {"page": "x"}):
        resp = await client.get("/external/credits/transactions", params=params)
        assert resp.status_code == 400 and resp.json()["errorKey"] == "INVALID_REQUEST", params
    app_client.headers.pop("Authorization", None)
    resp = await app_client.get("/external/credits/transactions")
    assert resp.status_code == 401


async def test_another_accounts_entries_are_invisible(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    other = await new_account(db, "other")
    await give(db, other.id, "gift", 500, None)
    async with db.write() as session:
        await service.debit(session, service.ChargeContext(other.id), 10, "theirs")
    mine = (await client.get("/external/credits/transactions")).json()
    assert mine["total"] == 0 and mine["items"] == []
    theirs = (await client.get("/external/credits/transactions", headers=other.headers)).json()
    assert theirs["total"] == 2
    assert (await client.get("/external/credits/balance")).json()["totalBalance"] == 0


def run_cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
    env["SHOWFLOOR_DATABASE_URL"] = db_url
    env["COLUMNS"] = "200"
    return subprocess.run(
        [SHOWFLOOR, "admin", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def run_many(db_url: str, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    """Independent commands in parallel (each is a fresh process; start-up dominates their time)."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda args: run_cli(db_url, *args), commands))


async def test_admin_credit_commands_and_reconcile(
    db: Database, db_url: str, account: AccountFixture
) -> None:
    expiry = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    a = str(account.id)
    grant = ("credits", "grant", "--account", a)
    sub, addon, gift, no_expiry, two_buckets, bad_time = run_many(
        db_url,
        (*grant, "--subscription", "--amount", "100", "--expires-at", expiry, "--json"),
        (*grant, "--addon", "--amount", "50", "--json"),
        (*grant, "--gift", "--amount", "25", "--json"),
        (*grant, "--subscription", "--amount", "5"),
        (*grant, "--gift", "--addon", "--amount", "5"),
        (*grant, "--addon", "--amount", "5", "--expires-at", "soon"),
    )
    for ok in (sub, addon, gift):
        assert ok.returncode == 0, ok.stderr
    assert json.loads(sub.stdout)["bucket"] == "subscription"
    assert no_expiry.returncode == 1 and "expiry" in no_expiry.stderr
    assert two_buckets.returncode != 0 and bad_time.returncode != 0

    addon_id = json.loads(addon.stdout)["grantId"]
    void = run_cli(db_url, "credits", "void-grant", "--grant", addon_id, "--json")
    assert void.returncode == 0 and json.loads(void.stdout)["voided"] == 50

    balance, history, human, ok = run_many(
        db_url,
        ("credits", "balance", "--account", a, "--json"),
        ("credits", "history", "--account", a, "--json"),
        ("credits", "history", "--account", a),
        ("reconcile",),
    )
    assert json.loads(balance.stdout)["totalBalance"] == 125
    assert [i["type"] for i in json.loads(history.stdout)["items"]] == ["void", "grant", "grant", "grant"]
    assert human.returncode == 0 and "void" in human.stdout
    assert ok.returncode == 0 and "OK" in ok.stdout, ok.stdout + ok.stderr

    clean = await new_account(db, "clean")
    await give(db, clean.id, "gift", 10, None)
    async with db.write() as session:  # corrupt one grant behind the ledger's back
        await session.execute(
            text(
                "UPDATE credit_grants SET remaining = remaining - 7 WHERE account_id = :a AND bucket = 'gift'"
            ),
            {"a": account.id},
        )
    bad, still_clean, missing = run_many(
        db_url,
        ("reconcile",),
        ("reconcile", "--account", str(clean.id)),
        ("reconcile", "--account", "999999"),
    )
    assert bad.returncode == 1
    assert f"account {account.id}" in bad.stderr and f"account {clean.id}" not in bad.stderr
    assert still_clean.returncode == 0
    assert missing.returncode == 1 and "not found" in missing.stderr
