"""When each API key was last used, without a database write on every request.

Each authenticated request notes ``key id -> now`` in this process's memory (a dict assignment); the
notes are written in one unit of work at most once a minute (``run``), when the app stops, and before
the console lists the keys. A key's ``last_used_at`` is therefore exact to about a minute, and a process
that dies loses at most its last minute of notes. A write never moves ``last_used_at`` backwards, so
several processes can flush in any order.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import bindparam, or_, update

from showfloor.server.db.uow import Database
from showfloor.server.models import ApiKey

log = logging.getLogger("showfloor.key_use")
FLUSH_SECONDS = 60.0

# Core UPDATE (not ORM): run with a list of parameter sets it is one executemany.
_RECORD = (
    update(ApiKey.__table__)  # type: ignore[arg-type]
    .where(
        ApiKey.__table__.c.id == bindparam("key_id"),
        or_(
            ApiKey.__table__.c.last_used_at.is_(None), ApiKey.__table__.c.last_used_at < bindparam("used_at")
        ),
    )
    .values(last_used_at=bindparam("used_at"))
)


class KeyUse:
    def __init__(self) -> None:
        self._pending: dict[int, datetime] = {}

    def note(self, key_id: int, when: datetime | None = None) -> None:
        self._pending[key_id] = when or datetime.now(UTC)

    async def flush(self, db: Database) -> int:
        """Write the notes taken since the last flush; how many keys they named. On failure the notes
        are kept for the next flush."""
        pending, self._pending = self._pending, {}
        if not pending:
            return 0
        params = [{"key_id": key_id, "used_at": at} for key_id, at in sorted(pending.items())]
        try:
            async with db.write() as session:
                await session.execute(_RECORD, params)
        except BaseException:
            for key_id, at in pending.items():
                self._pending.setdefault(key_id, at)
            raise
        return len(params)

    async def run(self, db: Database, interval: float = FLUSH_SECONDS) -> None:
        """Flush every ``interval`` seconds until cancelled (the app flushes once more as it stops)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush(db)
            except Exception:
                log.exception("could not record API key use")
