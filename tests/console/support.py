"""Helpers for console tests: console users, signing in through the real form, reading forms back."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from showfloor.server.console import users
from showfloor.server.console.passwords import hash_password
from showfloor.server.db.uow import Database

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FIELD = r'name="{name}" value="([^"]*)"'


async def make_user(db: Database, account_id: int, email: str, password: str = PASSWORD) -> int:
    """A console user with a password already set (the link flow has tests of its own)."""
    now = datetime.now(UTC)
    async with db.write() as session:
        user = await users.create_user(session, account_id, email, now)
        user.password_hash = await hash_password(password)
        user.password_set_at = now
        return user.id


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def field_of(html: str, name: str) -> str:
    found = re.search(_FIELD.format(name=re.escape(name)), html)
    assert found, f"no {name} field on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/console/login")
    return await client.post(
        "/console/login",
        data={"csrf_token": csrf_of(page.text), "email": email, "password": password, "next": "/console"},
    )


async def page_csrf(client: httpx.AsyncClient, path: str = "/console") -> str:
    """The session's CSRF token, as a signed-in page carries it."""
    page = await client.get(path)
    assert page.status_code == 200, page.text[:500]
    return csrf_of(page.text)
