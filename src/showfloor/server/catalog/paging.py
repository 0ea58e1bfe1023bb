"""A page and its total in one statement (``count(*) OVER ()``), with a COUNT only past the end.

The window count is computed over every matching row before LIMIT/OFFSET, so the total costs no second
scan of the same rows; only a page past the last row (no rows to carry the count) needs its own COUNT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, func
from sqlalchemy.ext.asyncio import AsyncSession

TOTAL_LABEL = "_page_total"


async def page_with_total(
    session: AsyncSession,
    query: Select[Any],
    count_query: Select[Any] | None,
    *,
    limit: int,
    offset: int,
) -> tuple[Sequence[Row[Any]], int]:
    """Rows ``offset .. offset + limit`` of ``query`` (the total appended as each row's last column) and
    the total number of rows ``query`` matches; ``count_query`` must count the same rows (None: the
    caller knows the total, and a page past the end reports 0)."""
    paged = query.add_columns(func.count().over().label(TOTAL_LABEL)).limit(limit).offset(offset)
    rows = (await session.execute(paged)).all()
    if rows:
        return rows, int(rows[0][-1])
    if offset == 0 or count_query is None:
        return rows, 0
    return rows, int(await session.scalar(count_query) or 0)
