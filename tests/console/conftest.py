from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher

from showfloor.server.console import passwords
from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture, new_account
from tests.console.support import make_user, sign_in


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes ~0.5 s per hash on a shared CI core; these tests hash a lot.
    ``test_passwords.py`` checks the production parameters themselves."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
async def owner(db: Database, account: AccountFixture) -> AccountFixture:
    """``account`` with a console user ``owner@example.com``."""
    await make_user(db, account.id, "owner@example.com")
    return account


@pytest.fixture
async def other(db: Database) -> AccountFixture:
    """A second account with its own console user ``other@example.com``."""
    found = await new_account(db, "globex")
    await make_user(db, found.id, "other@example.com")
    return found


@pytest.fixture
async def console(app_client: httpx.AsyncClient, owner: AccountFixture) -> httpx.AsyncClient:
    """The app client signed in to the console as ``owner@example.com``."""
    response = await sign_in(app_client, "owner@example.com")
    assert response.status_code == 303, response.text[:500]
    return app_client
