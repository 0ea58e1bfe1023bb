"""``showfloor admin users create|reset-link`` as a real subprocess: the printed link signs a person in."""

from __future__ import annotations

import httpx

from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture
from tests.console.support import csrf_of
from tests.integration.test_admin_accounts_cli import admin, admin_json


async def _use_link(client: httpx.AsyncClient, link: str, password: str) -> httpx.Response:
    path = link.split("showfloor.test", 1)[1]
    page = await client.get(path)
    assert page.status_code == 200, page.text[:300]
    token = path.split("token=", 1)[1]
    return await client.post(
        "/console/setup",
        data={
            "csrf_token": csrf_of(page.text),
            "token": token,
            "password": password,
            "password_again": password,
        },
    )


async def test_create_prints_a_link_that_sets_a_password_and_reset_link_replaces_it(
    db: Database, db_url: str, account: AccountFixture, app_client: httpx.AsyncClient
) -> None:
    base = "--base-url", "http://showfloor.test"
    created = admin_json(
        db_url, "users", "create", "--account", str(account.id), "--email", "Ann@Example.com", *base
    )
    assert created["email"] == "ann@example.com" and created["account"] == str(account.id)
    assert created["link"].startswith("http://showfloor.test/console/setup?token=")
    human = admin(db_url, "users", "reset-link", "--email", "ann@example.com", *base)
    assert human.returncode == 0 and "valid until" in human.stdout
    new_link = human.stdout.strip().splitlines()[-1]
    stale = await app_client.get(created["link"].split("showfloor.test", 1)[1])
    assert stale.status_code == 400  # the newer link voided it
    assert (await _use_link(app_client, new_link, "a long enough password")).status_code == 303
    assert (await app_client.get("/console")).status_code == 200


async def test_bad_input_is_one_clear_line(db: Database, db_url: str, account: AccountFixture) -> None:
    cases = [
        (("users", "create", "--account", "999999", "--email", "a@example.com"), "Account 999999 not found"),
        (
            ("users", "create", "--account", str(account.id), "--email", "not-an-email"),
            "Not an email address",
        ),
        (("users", "reset-link", "--email", "nobody@example.com"), "No console user"),
    ]
    for args, message in cases:
        done = admin(db_url, *args)
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
    admin(db_url, "users", "create", "--account", str(account.id), "--email", "a@example.com")
    dup = admin(db_url, "users", "create", "--account", str(account.id), "--email", "A@example.com")
    assert dup.returncode == 1 and "already exists" in dup.stderr


async def test_demo_setup_prints_a_console_sign_in_link(
    db: Database, db_url: str, app_client: httpx.AsyncClient
) -> None:
    from tests.factories import make_event

    async with db.write() as session:
        await make_event(session)  # a catalog with data: demo-setup loads nothing
    first = admin(db_url, "demo-setup", "--base-url", "http://showfloor.test")
    second = admin(db_url, "demo-setup", "--base-url", "http://showfloor.test")
    assert first.returncode == second.returncode == 0, first.stderr

    def link_of(out: str) -> str:
        return next(w for w in out.split() if w.startswith("http://showfloor.test/console/setup?token="))

    assert "demo@showfloor.local" in second.stdout
    assert (await app_client.get(link_of(first.stdout).split("showfloor.test", 1)[1])).status_code == 400
    assert (await _use_link(app_client, link_of(second.stdout), "demo password 123")).status_code == 303
    overview = await app_client.get("/console")
    assert (
        overview.status_code == 200 and "demo@showfloor.local" in overview.text and "51,000" in overview.text
    )
