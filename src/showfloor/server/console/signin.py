"""Signing in with email and password, and setting a password through a one-time link.

The Argon2 check runs between two short units of work, never inside one (it is slow on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from showfloor.server.config import Settings
from showfloor.server.console import sessions, throttle, users
from showfloor.server.console.passwords import hash_password, strength_problem, verify_password
from showfloor.server.db.uow import Database
from showfloor.server.errors import InvalidRequest

BAD_CREDENTIALS = "Wrong email or password."


@dataclass(frozen=True)
class SignInOutcome:
    token: str | None = None  # the new session's token when signed in
    error: str | None = None
    retry_after: int | None = None  # set when refused by the throttle


async def sign_in(
    db: Database, settings: Settings, email: str, password: str, ip: str, now: datetime
) -> SignInOutcome:
    async with db.read() as session:
        wait = await throttle.wait_seconds(session, settings, email, ip, now)
        user = None if wait is not None else await users.user_by_email(session, email)
    if wait is not None:
        minutes = -(-wait // 60)
        return SignInOutcome(
            error=f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            retry_after=wait,
        )
    matched = await verify_password(user.password_hash if user is not None else None, password)
    async with db.write() as session:
        if not matched or user is None:
            await throttle.record_failure(session, email, ip, now)
            return SignInOutcome(error=BAD_CREDENTIALS)
        await throttle.clear_email(session, email)
        return SignInOutcome(token=await sessions.start(session, user.id, now))


async def set_password(db: Database, link_token: str, password: str, now: datetime) -> str:
    """Spend a one-time link on a new password and sign in; the new session's token. Raises
    ``InvalidRequest`` for a weak password or a link that is no longer valid."""
    problem = strength_problem(password)
    if problem is not None:
        raise InvalidRequest(problem)
    async with db.read() as session:
        if await users.link_user(session, link_token, now) is None:
            raise InvalidRequest("This link is no longer valid. Ask your operator for a new one.")
    password_hash = await hash_password(password)
    async with db.write() as session:
        user = await users.use_link(session, link_token, password_hash, now)
        return await sessions.start(session, user.id, now)
