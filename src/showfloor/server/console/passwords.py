"""Console passwords: Argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile).

Hashing and verifying take tens of milliseconds of CPU on purpose, so they run in a worker thread and
never inside a database transaction.
"""

from __future__ import annotations

import asyncio
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

_HASHER = PasswordHasher()


def strength_problem(password: str) -> str | None:
    """Why a new password is refused, or None. Length is the rule that matters (NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if not password.strip():
        return "A password of spaces only is not allowed."
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


@functools.cache
def _decoy_hash() -> str:
    """A hash of a random secret: verified for an unknown email so it takes as long as a known one."""
    return _HASHER.hash(secrets.token_hex(16))


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user (``None``) costs the same time and fails."""
    target = stored_hash if stored_hash is not None else await asyncio.to_thread(_decoy_hash)

    def check() -> bool:
        try:
            return _HASHER.verify(target, password)
        except (VerificationError, InvalidHashError):
            return False

    matched = await asyncio.to_thread(check)
    return matched and stored_hash is not None
