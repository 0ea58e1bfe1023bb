"""``catalog.filters.id_in``: on PostgreSQL one statement text for every list length (so one prepared
statement), on SQLite an IN list; both select the same rows (the catalog suites run it on both)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from showfloor.server.catalog.filters import id_in
from showfloor.server.models.catalog import EventPersonnel


def _sql(ids: list[int], *, on_sqlite: bool) -> str:
    stmt = select(EventPersonnel.id).where(id_in(EventPersonnel.personnel_id, ids, sqlite=on_sqlite))
    dialect = sqlite.dialect() if on_sqlite else postgresql.asyncpg.dialect()
    return str(stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}))


def test_postgres_uses_one_array_parameter_whatever_the_length() -> None:
    one, seven = _sql([5], on_sqlite=False), _sql(list(range(7)), on_sqlite=False)
    assert one == seven
    assert "= ANY (" in one


def test_sqlite_uses_an_in_list() -> None:
    assert "IN (" in _sql([1, 2, 3], on_sqlite=True)
