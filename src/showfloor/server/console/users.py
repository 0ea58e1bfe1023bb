"""Console users of an account and their one-time links to set a password (valid 24 hours)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts.service import get_account
from showfloor.server.console.tokens import digest, new_token
from showfloor.server.errors import Conflict, InvalidRequest, NotFound
from showfloor.server.models import ConsoleLink, ConsoleSession, ConsoleUser

LINK_LIFETIME = timedelta(hours=24)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def checked_email(email: str) -> str:
    value = normalize_email(email)
    if len(value) > 320 or not _EMAIL.match(value):
        raise InvalidRequest(f"Not an email address: {email!r}")
    return value


@dataclass(frozen=True)
class IssuedLink:
    user_id: int
    account_id: int
    email: str
    token: str  # shown once (in the link), stored only as a digest
    expires_at: datetime

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/console/setup?token={self.token}"


async def create_user(session: AsyncSession, account_id: int, email: str, now: datetime) -> ConsoleUser:
    await get_account(session, account_id)
    address = checked_email(email)
    if await user_by_email(session, address) is not None:
        raise Conflict(f"A console user with email {address} already exists")
    user = ConsoleUser(account_id=account_id, email=address, created_at=now)
    session.add(user)
    await session.flush()
    return user


async def user_by_email(session: AsyncSession, email: str) -> ConsoleUser | None:
    found: ConsoleUser | None = await session.scalar(
        select(ConsoleUser).where(ConsoleUser.email == normalize_email(email))
    )
    return found


async def issue_link(session: AsyncSession, user: ConsoleUser, now: datetime) -> IssuedLink:
    """A new one-time link for ``user``; links issued before it and not used are void from now on."""
    await session.execute(
        update(ConsoleLink)
        .where(ConsoleLink.user_id == user.id, ConsoleLink.used_at.is_(None))
        .values(used_at=now)
    )
    token = new_token()
    expires_at = now + LINK_LIFETIME
    session.add(ConsoleLink(user_id=user.id, token_hash=digest(token), created_at=now, expires_at=expires_at))
    await session.flush()
    return IssuedLink(user.id, user.account_id, user.email, token, expires_at)


async def reset_link(session: AsyncSession, email: str, now: datetime) -> IssuedLink:
    user = await user_by_email(session, email)
    if user is None:
        raise NotFound(f"No console user with email {normalize_email(email)}")
    return await issue_link(session, user, now)


async def link_user(session: AsyncSession, token: str, now: datetime) -> ConsoleUser | None:
    """The user a link is for, while the link is unused and unexpired; None otherwise."""
    row = (
        await session.execute(
            select(ConsoleUser)
            .join(ConsoleLink, ConsoleLink.user_id == ConsoleUser.id)
            .where(
                ConsoleLink.token_hash == digest(token),
                ConsoleLink.used_at.is_(None),
                ConsoleLink.expires_at > now,
            )
        )
    ).scalar_one_or_none()
    return row


async def use_link(session: AsyncSession, token: str, password_hash: str, now: datetime) -> ConsoleUser:
    """Spend the link: set the password and end every session of the user (a reset signs out
    everywhere). Raises ``InvalidRequest`` when the link is used, expired or unknown."""
    claimed = await session.execute(
        update(ConsoleLink)
        .where(
            ConsoleLink.token_hash == digest(token),
            ConsoleLink.used_at.is_(None),
            ConsoleLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(ConsoleLink.user_id)
    )
    user_id = claimed.scalar_one_or_none()
    if user_id is None:
        raise InvalidRequest("This link is no longer valid. Ask your operator for a new one.")
    user = await session.get(ConsoleUser, user_id)
    assert user is not None
    user.password_hash = password_hash
    user.password_set_at = now
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await session.flush()
    return user
