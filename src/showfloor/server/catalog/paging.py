"""A page and its total in one statement (``count(*) OVER ()``), with a COUNT only past the end.

The window count is computed over every matching row before LIMIT/OFFSET, so the total costs no second
scan of the same rows; only a page past the last row (no rows to carry the count) needs its own COUNT.
When the caller already knows the total (an unfiltered event-scoped list reads it from the event row,
``data/counts.py``), the page is read alone: no window count, the cost of the page only.
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
    known_total: int | None = None,
) -> tuple[Sequence[Row[Any]], int]:
    """Rows ``offset .. offset + limit`` of ``query`` and the total number of rows ``query`` matches.
    Counted, the total is appended as each row's last column; ``count_query`` must count the same rows
    (None: a page past the end reports 0). ``known_total``: the total, exact, so nothing is counted."""
    if known_total is not None:
        return (await session.execute(query.limit(limit).offset(offset))).all(), known_total
    paged = query.add_columns(func.count().over().label(TOTAL_LABEL)).limit(limit).offset(offset)
    rows = (await session.execute(paged)).all()
    if rows:
        return rows, int(rows[0][-1])
    if offset == 0 or count_query is None:
        return rows, 0
    return rows, int(await session.scalar(count_query) or 0)
