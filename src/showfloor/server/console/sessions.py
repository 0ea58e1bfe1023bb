"""Server-side console sessions: a random token in an HttpOnly cookie, its digest in the database.

A session ends when signed out, when its user signs out everywhere or sets a new password, after
``console_session_idle_minutes`` without a request, or ``console_session_max_hours`` after sign-in,
whichever comes first. ``last_seen_at`` is written at most once a minute, not on every page view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts.service import Principal
from showfloor.server.config import Settings
from showfloor.server.console.tokens import csrf_token_for, digest, new_token
from showfloor.server.models import Account, ConsoleSession, ConsoleUser

TOUCH_EVERY = timedelta(minutes=1)
CONSOLE_KEY_PREFIX = "console"  # what logs show in place of an API key prefix


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request, and the account they act for."""

    session_id: int
    user_id: int
    email: str
    account_id: int
    account_name: str
    unlimited: bool
    plan_id: int | None
    csrf_token: str

    @property
    def principal(self) -> Principal:
        """The account as the API's services see a caller: no API key (spend attributed to no key)."""
        return Principal(self.account_id, None, CONSOLE_KEY_PREFIX, self.unlimited, self.plan_id)


def limits(settings: Settings) -> tuple[timedelta, timedelta]:
    return (
        timedelta(minutes=settings.console_session_idle_minutes),
        timedelta(hours=settings.console_session_max_hours),
    )


async def start(session: AsyncSession, user_id: int, now: datetime) -> str:
    token = new_token()
    session.add(ConsoleSession(user_id=user_id, token_hash=digest(token), created_at=now, last_seen_at=now))
    await session.flush()
    return token


@dataclass(frozen=True)
class Found:
    signed_in: SignedIn
    touch_due: bool  # last_seen_at is over a minute old: ``touch`` it


async def resolve(session: AsyncSession, token: str, settings: Settings, now: datetime) -> Found | None:
    """The live session of ``token``; None when unknown, revoked or expired. Reads only."""
    row = (
        await session.execute(
            select(
                ConsoleSession,
                ConsoleUser.email,
                Account.id,
                Account.name,
                Account.unlimited,
                Account.plan_id,
            )
            .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
            .join(Account, Account.id == ConsoleUser.account_id)
            .where(ConsoleSession.token_hash == digest(token))
        )
    ).first()
    if row is None:
        return None
    live, email, account_id, account_name, unlimited, plan_id = row
    idle, absolute = limits(settings)
    if live.revoked_at is not None or now >= live.last_seen_at + idle or now >= live.created_at + absolute:
        return None
    signed_in = SignedIn(
        live.id,
        live.user_id,
        email,
        account_id,
        account_name,
        bool(unlimited),
        plan_id,
        csrf_token_for(token),
    )
    return Found(signed_in, now - live.last_seen_at >= TOUCH_EVERY)


async def touch(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


async def end(session: AsyncSession, token: str, now: datetime) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_hash == digest(token), ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def end_all(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Sign the user out everywhere; how many sessions ended."""
    result = await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
