"""Console passwords at their production cost: Argon2id, RFC 9106's low-memory profile."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from showfloor.server.console import passwords


@pytest.fixture(autouse=True)
def _cheap_argon2() -> None:
    """Overrides the package's cheap hasher: these tests use the real parameters."""


async def test_hashes_are_argon2id_with_the_production_parameters() -> None:
    stored = await passwords.hash_password("correct horse battery")
    params = PasswordHasher().check_needs_rehash  # argon2-cffi's defaults are the production choice
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert not params(stored)
    assert await passwords.verify_password(stored, "correct horse battery")
    assert not await passwords.verify_password(stored, "correct horse batterY")


async def test_an_unknown_user_or_a_broken_hash_never_verifies() -> None:
    assert not await passwords.verify_password(None, "anything at all")
    assert not await passwords.verify_password("not-a-hash", "anything at all")


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "at least 12"), ("x" * 257, "at most 256"), (" " * 12, "spaces only"), ("twelve chars", None)],
)
def test_password_rules(password: str, problem: str | None) -> None:
    found = passwords.strength_problem(password)
    assert (found is None) if problem is None else (found is not None and problem in found)
