"""Keyword search over the catalog, on the search objects made by migration 0002.

SQLite: external-content FTS5 tables ``<table>_fts`` (kept in sync by triggers). PostgreSQL: GIN
trigram indexes ``ix_<table>_<column>_trgm`` serving a case-insensitive word-prefix regex. Both give the
same semantics: every word of the keyword must start a word in one of the table's searchable columns.
These objects have no model, so the models-vs-migrations drift check skips them (``include_name``), as
it skips the PostgreSQL read-path objects of migration 0007 (company-name dictionary, covering indexes)
and the word-prefix index of migration 0010 that serves the paid company searches
(``company_name_condition``).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    cast,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import InstrumentedAttribute

from showfloor.server.models.catalog import Event, Exhibitor, Personnel

SEARCH_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("name",),
    "exhibitors": ("company_name",),
    "personnel": ("full_name", "title", "company_name"),
}
_MODELS: dict[str, Any] = {"events": Event, "exhibitors": Exhibitor, "personnel": Personnel}
_WORD = re.compile(r"\w+", re.UNICODE)
# PostgreSQL read-path objects of migration 0007 (no model either).
COMPANY_NAMES = table("personnel_company_names", column("company_name"))
_MODEL_LESS_TABLES = ("personnel_company_names",)
_MODEL_LESS_INDEX_SUFFIXES = ("_trgm", "_cover", "_words")
# Words that migration 0010's word_prefixes() index matches exactly as `~* '\mword'` does: ASCII only
# (it lowers A-Z only, as `~*` folds them), and no longer than a company name (varchar(300)).
_PREFIX_WORD = re.compile(r"[a-z0-9_]{1,300}")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the model-less search objects out of comparisons."""
    if name is None:
        return True
    if type_ == "table":
        if name in _MODEL_LESS_TABLES:
            return False
        return not any(name == f"{t}_fts" or name.startswith(f"{t}_fts_") for t in SEARCH_COLUMNS)
    if type_ == "index":
        return not name.endswith(_MODEL_LESS_INDEX_SUFFIXES)
    return True


def keyword_words(keyword: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(keyword)]


def company_names_matching(words: list[str]) -> Select[Any]:
    """PostgreSQL: the distinct personnel company names in which every word starts a word (0007)."""
    name = COMPANY_NAMES.c.company_name
    return select(name).where(*(name.op("~*")(r"\m" + re.escape(w)) for w in words))


def keyword_condition(table: str, keyword: str, *, sqlite: bool) -> ColumnElement[bool]:
    """A WHERE condition on ``table``'s model matching ``keyword`` through the search objects."""
    words = keyword_words(keyword)
    model = _MODELS[table]
    if not words:
        return false()
    if sqlite:
        fts = f"{table}_fts"
        # Each word quoted (no FTS syntax injection) and prefix-matched; FTS5 ANDs the terms.
        match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        matching_ids = select(text("rowid")).select_from(text(fts)).where(text(f"{fts} MATCH :kw"))
        return model.id.in_(matching_ids.params(kw=match))  # type: ignore[no-any-return]
    columns: list[InstrumentedAttribute[Any]] = [getattr(model, c) for c in SEARCH_COLUMNS[table]]
    per_word = [or_(*(col.op("~*")(r"\m" + re.escape(w)) for col in columns)) for w in words]
    return and_(*per_word)


def company_name_condition(keyword: str, *, sqlite: bool) -> ColumnElement[bool]:
    """``keyword_condition("exhibitors", ...)`` for searches over all exhibitors. PostgreSQL: the ASCII
    words go to the word-prefix index of migration 0010 as one AND query, which costs what its rarest
    word costs; any other word keeps its word-start regex (same semantics, see the migration)."""
    words = keyword_words(keyword)
    if sqlite or not words:
        return keyword_condition("exhibitors", keyword, sqlite=sqlite)
    indexed = [w for w in words if _PREFIX_WORD.fullmatch(w)]
    conditions: list[ColumnElement[bool]] = (
        [word_prefixes_match(Exhibitor.company_name, literal(prefix_tsquery(indexed)))] if indexed else []
    )
    conditions += [Exhibitor.company_name.op("~*")(r"\m" + re.escape(w)) for w in words if w not in indexed]
    return and_(*conditions)


def indexed_tsquery(keyword: str) -> str | None:
    """The tsquery text when every word of ``keyword`` can go to the word-prefix index (the
    common case: then the whole condition is one bound parameter); None otherwise."""
    words = keyword_words(keyword)
    if not words or not all(_PREFIX_WORD.fullmatch(w) for w in words):
        return None
    return prefix_tsquery(words)


def prefix_tsquery(words: list[str]) -> str:
    """``'w1' & 'w2'``; the words are [a-z0-9_] only and need no escaping inside the quotes."""
    return " & ".join(f"'{w}'" for w in dict.fromkeys(words))


def word_prefixes_match(column: Any, tsquery: ColumnElement[str]) -> ColumnElement[bool]:
    """``word_prefixes(column) @@ tsquery``: every word is a prefix of a word of ``column``. One bound
    tsquery whatever the number of words (one prepared statement)."""
    return func.word_prefixes(column).bool_op("@@")(cast(tsquery, TSQUERY))


def word_start_filters(model: Any, columns: tuple[str, ...], keyword: str) -> list[ColumnElement[bool]]:
    """PostgreSQL: every word of ``keyword`` starts a word in one of ``columns``, as plain filters for
    rows already narrowed by an indexed key (an event, a company's people). The columns are wrapped so
    that no trigram index serves them: the planner may otherwise intersect the few narrowed rows with
    an index scan over every row holding a common word (all 180,000 "Director" titles: 50 ms, or 0.5 s
    with a generic plan for the two-letter "VP", measured on the 1M-person dataset)."""
    words = keyword_words(keyword)
    if not words:
        return [false()]
    return [
        or_(*(func.coalesce(getattr(model, c), "").op("~*")(r"\m" + re.escape(w)) for c in columns))
        for w in words
    ]
