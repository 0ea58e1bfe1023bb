"""Row locks. PostgreSQL takes ``SELECT … FOR UPDATE``; SQLite needs none because a write unit already
holds the database's write lock (``BEGIN IMMEDIATE``). Lock order everywhere: account, then grants by id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession


def for_update(session: AsyncSession, stmt: Select[Any], *, skip_locked: bool = False) -> Select[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=skip_locked)
    return stmt
