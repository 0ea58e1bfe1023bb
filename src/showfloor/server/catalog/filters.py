"""Query-side helpers shared by the catalog lists: multi-value params, portable JSON-array tests and id
lists, and the dialect check they need."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ARRAY, BigInteger, ColumnElement, any_, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import InvalidRequest

# Bounds on multi-valued filters: a longer value matches nothing real, and SQLite refuses LIKE patterns
# over 50,000 bytes (which answered 503 before these bounds).
MAX_FILTER_VALUE_LENGTH = 200
MAX_FILTER_VALUES = 100


def multi_values(*groups: Sequence[str] | None) -> list[str]:
    """Repeated params (``a=x&a=y``, ``a[]=x``) and CSV (``a=x,y``) flattened, trimmed, de-duplicated."""
    seen: dict[str, None] = {}
    for group in groups:
        for raw in group or ():
            for part in raw.split(","):
                value = part.strip()
                if len(value) > MAX_FILTER_VALUE_LENGTH:
                    raise InvalidRequest(f"Filter values are at most {MAX_FILTER_VALUE_LENGTH} characters")
                if value:
                    seen.setdefault(value, None)
    if len(seen) > MAX_FILTER_VALUES:
        raise InvalidRequest(f"A filter takes at most {MAX_FILTER_VALUES} values")
    return list(seen)


def is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def id_in(column: Any, ids: Sequence[int], *, sqlite: bool) -> ColumnElement[bool]:
    """``column IN ids``. PostgreSQL: one array parameter (``= ANY``), so one prepared statement serves
    every list length; an IN list is a new statement text (prepared and planned again) per length,
    and a page's ids come in every length from 1 to 100. SQLite: an IN list."""
    if sqlite:
        return column.in_(ids)  # type: ignore[no-any-return]
    return column == any_(bindparam("ids", list(ids), type_=ARRAY(BigInteger), unique=True))  # type: ignore[no-any-return]


def lowered(values: Iterable[str]) -> list[str]:
    return [v.lower() for v in values]


def parse_day(value: str | None, field: str) -> date | None:
    """A strict ``YYYY-MM-DD`` date (or None when absent/blank)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{field} must be a date in YYYY-MM-DD format", field=field) from None


def json_array_has_any(column: Any, values: Sequence[str], *, sqlite: bool) -> ColumnElement[bool]:
    """True when the JSON array ``column`` holds any of ``values`` (case-insensitive)."""
    if sqlite:
        elements = func.json_each(column).table_valued("value")
    else:
        elements = func.json_array_elements_text(column).table_valued("value")
    return exists(select(1).select_from(elements).where(func.lower(elements.c.value).in_(lowered(values))))
