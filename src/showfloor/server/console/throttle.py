"""Sign-in throttling, kept in the database so every server process counts the same failures.

A failed sign-in is recorded once per email and once per client address. While an email has
``console_login_failures_per_email`` failures in the last ``console_login_window_minutes`` (or an
address ``console_login_failures_per_ip``), sign-in for it is refused without checking the password,
until the oldest of those failures leaves the window. A successful sign-in clears the email's failures.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.config import Settings
from showfloor.server.console.tokens import digest
from showfloor.server.models import ConsoleLoginFailure


def _subjects(email: str, ip: str) -> dict[str, str]:
    return {"email": digest("email:" + email.strip().lower()), "ip": digest("ip:" + ip)}


def window(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.console_login_window_minutes)


async def wait_seconds(
    session: AsyncSession, settings: Settings, email: str, ip: str, now: datetime
) -> int | None:
    """Seconds until a sign-in for ``email`` from ``ip`` may be tried again; None when it may now."""
    since = now - window(settings)
    limits = {
        "email": settings.console_login_failures_per_email,
        "ip": settings.console_login_failures_per_ip,
    }
    waits: list[float] = []
    for scope, subject in _subjects(email, ip).items():
        times = (
            await session.scalars(
                select(ConsoleLoginFailure.created_at)
                .where(
                    ConsoleLoginFailure.scope == scope,
                    ConsoleLoginFailure.subject == subject,
                    ConsoleLoginFailure.created_at > since,
                )
                .order_by(ConsoleLoginFailure.created_at.desc())
                .limit(limits[scope])
            )
        ).all()
        if len(times) >= limits[scope]:
            # The newest ``limit`` failures: sign-in reopens when the oldest of them leaves the window.
            waits.append((times[-1] + window(settings) - now).total_seconds())
    return max(1, int(max(waits)) + 1) if waits else None


async def record_failure(session: AsyncSession, email: str, ip: str, now: datetime) -> None:
    for scope, subject in _subjects(email, ip).items():
        session.add(ConsoleLoginFailure(scope=scope, subject=subject, created_at=now))
    await session.flush()


async def clear_email(session: AsyncSession, email: str) -> None:
    subject = _subjects(email, "")["email"]
    await session.execute(
        delete(ConsoleLoginFailure).where(
            ConsoleLoginFailure.scope == "email", ConsoleLoginFailure.subject == subject
        )
    )


async def purge(session: AsyncSession, settings: Settings, now: datetime) -> int:
    result = await session.execute(
        delete(ConsoleLoginFailure).where(ConsoleLoginFailure.created_at <= now - window(settings))
    )
    return int(getattr(result, "rowcount", 0) or 0)
