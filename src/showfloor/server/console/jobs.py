"""The periodic purge of console rows nobody can use any more (old failures, dead sessions and links)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_

from showfloor.server.config import Settings
from showfloor.server.console import throttle
from showfloor.server.console.sessions import limits
from showfloor.server.db.uow import Database
from showfloor.server.models import ConsoleLink, ConsoleSession

KEEP_ENDED = timedelta(days=1)


async def purge_console_rows(db: Database, settings: Settings) -> None:
    now = datetime.now(UTC)
    _idle, absolute = limits(settings)
    async with db.write() as session:
        await throttle.purge(session, settings, now)
        await session.execute(
            delete(ConsoleSession).where(
                or_(
                    ConsoleSession.created_at < now - absolute - KEEP_ENDED,
                    ConsoleSession.revoked_at < now - KEEP_ENDED,
                )
            )
        )
        await session.execute(delete(ConsoleLink).where(ConsoleLink.expires_at < now - KEEP_ENDED))
