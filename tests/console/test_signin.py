"""Console sign-in: one-time links, Argon2 passwords, DB sessions and their expiry, CSRF, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from showfloor.server.config import Settings
from showfloor.server.console import users
from showfloor.server.db.uow import Database
from showfloor.server.models import ConsoleLink, ConsoleSession, ConsoleUser
from tests.conftest import AccountFixture, test_settings
from tests.console.support import PASSWORD, csrf_of, field_of, page_csrf, sign_in
from tests.integration.test_rate_limit import serve

NEW_PASSWORD = "a much longer passphrase"


async def _link(db: Database, account_id: int, email: str) -> users.IssuedLink:
    now = datetime.now(UTC)
    async with db.write() as session:
        user = await users.create_user(session, account_id, email, now)
        return await users.issue_link(session, user, now)


async def _set_password(
    client: httpx.AsyncClient, token: str, password: str, again: str | None = None
) -> httpx.Response:
    page = await client.get(f"/console/setup?token={token}")
    assert page.status_code == 200, page.text[:300]
    form = {"csrf_token": csrf_of(page.text), "token": field_of(page.text, "token")}
    return await client.post(
        "/console/setup", data={**form, "password": password, "password_again": again or password}
    )


async def test_a_one_time_link_sets_the_password_signs_in_and_works_once(
    app_client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    link = await _link(db, account.id, "New.Person@Example.com")
    assert link.email == "new.person@example.com"
    response = await _set_password(app_client, link.token, NEW_PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/console"
    assert (await app_client.get("/console")).status_code == 200
    async with db.read() as session:
        user = await session.scalar(select(ConsoleUser))
        stored = (await session.scalars(select(ConsoleLink.token_hash))).all()
    assert user is not None and user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in user.password_hash and link.token not in stored
    app_client.cookies.clear()
    again = await app_client.get(f"/console/setup?token={link.token}")
    assert again.status_code == 400 and "no longer valid" in again.text
    assert (await sign_in(app_client, "new.person@example.com", NEW_PASSWORD)).status_code == 303


async def test_a_link_expires_after_24_hours_and_a_new_one_voids_the_old(
    app_client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    first = await _link(db, account.id, "p@example.com")
    async with db.write() as session:
        second = await users.reset_link(session, "P@example.com", datetime.now(UTC))
    assert (await app_client.get(f"/console/setup?token={first.token}")).status_code == 400
    assert (await app_client.get(f"/console/setup?token={second.token}")).status_code == 200
    async with db.write() as session:
        await session.execute(update(ConsoleLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert (await app_client.get(f"/console/setup?token={second.token}")).status_code == 400
    assert (await app_client.get("/console/setup?token=nonsense")).status_code == 400


async def test_a_weak_or_mistyped_password_is_refused_and_the_link_stays_usable(
    app_client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    link = await _link(db, account.id, "p@example.com")
    short = await _set_password(app_client, link.token, "short")
    assert short.status_code == 400 and "at least 12 characters" in short.text
    differ = await _set_password(app_client, link.token, NEW_PASSWORD, "something else entirely")
    assert differ.status_code == 400 and "differ" in differ.text
    assert (await _set_password(app_client, link.token, NEW_PASSWORD)).status_code == 303


async def test_a_reset_link_signs_the_user_out_everywhere(
    app_client: httpx.AsyncClient, console: httpx.AsyncClient, db: Database
) -> None:
    assert (await console.get("/console")).status_code == 200
    async with db.write() as session:
        link = await users.reset_link(session, "owner@example.com", datetime.now(UTC))
    transport = app_client._transport  # a second browser, same app
    async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as other:
        assert (await _set_password(other, link.token, NEW_PASSWORD)).status_code == 303
    assert (await console.get("/console")).status_code == 303  # the old session ended


async def test_signed_out_requests_are_sent_to_sign_in(
    app_client: httpx.AsyncClient, owner: AccountFixture
) -> None:
    for path in ("/console", "/console/events", "/console/contacts", "/console/keys", "/console/tasks"):
        response = await app_client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")
    htmx = await app_client.get("/console/tasks/email/1/progress", headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.headers["hx-redirect"].startswith("/console/login")
    app_client.cookies.set("sf_session", "forged")
    assert (await app_client.get("/console")).status_code == 303


async def test_sign_in_sets_a_strict_cookie_and_stores_the_session_hashed(
    app_client: httpx.AsyncClient, db: Database, owner: AccountFixture
) -> None:
    response = await sign_in(app_client, "Owner@Example.com")
    assert response.status_code == 303
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("sf_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    token = app_client.cookies["sf_session"]
    async with db.read() as session:
        stored = (await session.scalars(select(ConsoleSession.token_hash))).all()
    assert len(stored) == 1 and token not in stored[0]


async def test_cookies_are_secure_over_https(db: Database, settings: Settings, owner: AccountFixture) -> None:
    from showfloor.server.app import create_app

    app = create_app(settings, run_background_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://showfloor.test") as client:
            page = await client.get("/console/login")
            assert "Secure" in page.headers["set-cookie"]
            response = await sign_in(client, "owner@example.com")
            assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


async def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    app_client: httpx.AsyncClient, db_url: str
) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Secure" not in (await app_client.get("/console/login", headers=forwarded)).headers["set-cookie"]
    # httpx's ASGI client address is 127.0.0.1: a TLS-terminating proxy there.
    async with serve(test_settings(db_url, trusted_proxies=["127.0.0.1"])) as behind_proxy:
        page = await behind_proxy.get("/console/login", headers=forwarded)
        assert "Secure" in page.headers["set-cookie"]


async def test_a_bad_password_or_unknown_email_is_refused_alike(
    app_client: httpx.AsyncClient, owner: AccountFixture
) -> None:
    wrong = await sign_in(app_client, "owner@example.com", "not the password")
    unknown = await sign_in(app_client, "nobody@example.com", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
        assert "sf_session" not in app_client.cookies


async def test_sign_in_is_throttled_per_email_across_addresses_and_a_success_clears_it(
    app_client: httpx.AsyncClient, db: Database, owner: AccountFixture, settings: Settings
) -> None:
    limit = settings.console_login_failures_per_email
    for _ in range(limit - 1):
        assert (await sign_in(app_client, "owner@example.com", "wrong password!")).status_code == 401
    assert (await sign_in(app_client, "owner@example.com")).status_code == 303  # clears the count
    for _ in range(limit):
        assert (await sign_in(app_client, "owner@example.com", "wrong password!")).status_code == 401
    refused = await sign_in(app_client, "owner@example.com")  # the right password, but throttled
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in refused.text


async def test_sign_in_is_throttled_per_address(db_url: str, db: Database, owner: AccountFixture) -> None:
    from showfloor.server.app import create_app
    from tests.conftest import test_settings

    app = create_app(test_settings(db_url, console_login_failures_per_ip=3), run_background_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as client:
            for n in range(3):
                assert (await sign_in(client, f"guess{n}@example.com", "whatever guess")).status_code == 401
            assert (await sign_in(client, "owner@example.com")).status_code == 429


async def test_throttling_is_shared_by_server_processes(
    db_url: str, db: Database, owner: AccountFixture, settings: Settings
) -> None:
    """Two apps (two processes' worth of state) count the same failures: they live in the database."""
    from showfloor.server.app import create_app

    statuses = []
    for n in range(settings.console_login_failures_per_email + 1):
        app = create_app(settings, run_background_jobs=False)  # a new app per attempt
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                statuses.append((await sign_in(client, "owner@example.com", f"wrong guess {n}")).status_code)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}


async def test_sessions_expire_when_idle_and_at_their_absolute_limit(
    console: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    now = datetime.now(UTC)
    idle = timedelta(minutes=settings.console_session_idle_minutes)
    async with db.write() as session:
        await session.execute(update(ConsoleSession).values(last_seen_at=now - idle + timedelta(seconds=30)))
    assert (await console.get("/console")).status_code == 200  # active again: last_seen_at refreshed
    async with db.read() as session:
        seen = await session.scalar(select(ConsoleSession.last_seen_at))
    assert seen is not None and seen > now - timedelta(seconds=5)
    async with db.write() as session:
        await session.execute(update(ConsoleSession).values(last_seen_at=now - idle - timedelta(seconds=1)))
    assert (await console.get("/console")).status_code == 303

    async with db.write() as session:  # fresh activity, but signed in too long ago
        absolute = timedelta(hours=settings.console_session_max_hours)
        await session.execute(update(ConsoleSession).values(last_seen_at=now, created_at=now - absolute))
    assert (await console.get("/console")).status_code == 303


async def test_a_page_view_writes_the_session_at_most_once_a_minute(
    console: httpx.AsyncClient, db: Database
) -> None:
    async with db.read() as session:
        before = await session.scalar(select(ConsoleSession.last_seen_at))
    for _ in range(3):
        assert (await console.get("/console")).status_code == 200
    async with db.read() as session:
        assert await session.scalar(select(ConsoleSession.last_seen_at)) == before


async def test_sign_out_ends_the_session(console: httpx.AsyncClient, db: Database) -> None:
    token = console.cookies["sf_session"]
    response = await console.post("/console/logout", data={"csrf_token": await page_csrf(console)})
    assert response.status_code == 303 and response.headers["location"] == "/console/login?notice=out"
    console.cookies.set("sf_session", token, path="/console")  # a stolen copy of the cookie is dead too
    assert (await console.get("/console")).status_code == 303


async def test_sign_out_everywhere_ends_every_session_of_the_user(
    app_client: httpx.AsyncClient, console: httpx.AsyncClient, db: Database
) -> None:
    async with httpx.AsyncClient(transport=app_client._transport, base_url="http://showfloor.test") as laptop:
        assert (await sign_in(laptop, "owner@example.com")).status_code == 303
        assert (await laptop.get("/console")).status_code == 200
        response = await console.post(
            "/console/logout-everywhere", data={"csrf_token": await page_csrf(console)}
        )
        assert response.status_code == 303
        assert (await laptop.get("/console")).status_code == 303
    async with db.read() as session:
        live = await session.scalar(select(ConsoleSession.id).where(ConsoleSession.revoked_at.is_(None)))
    assert live is None


async def test_a_forged_or_missing_csrf_token_is_refused(console: httpx.AsyncClient) -> None:
    for data in ({}, {"csrf_token": "0" * 64}):
        response = await console.post("/console/logout", data=data)
        assert response.status_code == 403 and "did not come from this console" in response.text
    assert (await console.get("/console")).status_code == 200  # still signed in
    forged_header = await console.post("/console/keys", headers={"X-CSRF-Token": "x"}, data={"name": "n"})
    assert forged_header.status_code == 403
    good_header = await console.post(
        "/console/keys", headers={"X-CSRF-Token": await page_csrf(console)}, data={"name": "n"}
    )
    assert good_header.status_code == 201


async def test_the_sign_in_form_needs_its_own_csrf_token(
    app_client: httpx.AsyncClient, owner: AccountFixture
) -> None:
    await app_client.get("/console/login")
    response = await app_client.post(
        "/console/login", data={"csrf_token": "forged", "email": "owner@example.com", "password": PASSWORD}
    )
    assert response.status_code == 403 and "sf_session" not in app_client.cookies


async def test_sign_in_only_redirects_inside_the_console(
    app_client: httpx.AsyncClient, owner: AccountFixture
) -> None:
    page = await app_client.get("/console/login?next=https://evil.example/")
    assert 'name="next" value="/console"' in page.text
    response = await app_client.post(
        "/console/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "owner@example.com",
            "password": PASSWORD,
            "next": "//evil.example",
        },
    )
    assert response.headers["location"] == "/console"


async def test_console_pages_carry_security_headers(app_client: httpx.AsyncClient) -> None:
    page = await app_client.get("/console/login")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
