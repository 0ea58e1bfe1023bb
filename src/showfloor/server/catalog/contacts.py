"""Contact cards (the reference's ContactItem) and the company-scoped contacts search.

A card joins catalog data with what the calling account bought: email/phone only when that account
unlocked them, LinkedIn activity only when that account unlocked it. Every per-card lookup is one
batched query per page (never one per person).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.service import account_unlocks
from showfloor.server.catalog.paging import page_with_total
from showfloor.server.catalog.search import company_names_matching, keyword_words
from showfloor.server.catalog.serializers import SOURCE_TYPES, contact_item, normalize_source_types
from showfloor.server.models.catalog import EventPersonnel, Personnel

__all__ = ["SOURCE_TYPES", "ContactSearch", "card_extras", "cards_for", "contact_card", "search_contacts"]


# --- text search restricted to some personnel columns ----------------------------------------


def personnel_text_condition(
    terms: Sequence[tuple[tuple[str, ...], str]], *, sqlite: bool
) -> ColumnElement[bool]:
    """Personnel rows where, for every ``(columns, keyword)`` term, each word of the keyword starts a
    word in one of ``columns``. Served by the search objects of migration 0002 (SQLite FTS5 column
    filters; PostgreSQL trigram indexes with a word-start regex) and, for a company-name term on
    PostgreSQL, the company-name dictionary of 0007; never by a ``LIKE '%…%'`` scan."""
    parts: list[tuple[tuple[str, ...], list[str]]] = []
    for columns, keyword in terms:
        words = keyword_words(keyword)
        if not words:
            return false()
        parts.append((columns, words))
    if sqlite:
        # One MATCH expression: '{col col} : ("w1"* "w2"*) AND {col} : (...)'; words are quoted.
        match = " AND ".join(
            "{" + " ".join(cols) + "} : (" + " ".join('"' + w.replace('"', '""') + '"*' for w in words) + ")"
            for cols, words in parts
        )
        ids = (
            select(text("rowid"))
            .select_from(text("personnel_fts"))
            .where(text("personnel_fts MATCH :personnel_match").bindparams(personnel_match=match))
        )
        return Personnel.id.in_(ids)
    conditions: list[ColumnElement[bool]] = []
    for cols, words in parts:
        if cols == ("company_name",):
            # Few distinct company names among many people: match the names, then read people by the
            # B-tree on company_name (same word-start semantics, see migration 0007).
            conditions.append(Personnel.company_name.in_(company_names_matching(words)))
            continue
        conditions += [or_(*(getattr(Personnel, col).op("~*")(r"\m" + w) for col in cols)) for w in words]
    return and_(*conditions)


# --- cards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardExtras:
    """What a page of cards needs besides the personnel rows, fetched in a few batched queries."""

    contacts: dict[int, dict[str, str | None]]  # personnel id -> {"email": .., "phone": ..}
    activity_status: dict[int, str]  # personnel id -> LinkedIn-activity unlock status
    event_counts: dict[int, int]
    source_types: dict[int, list[str]]  # aggregated over the person's events (profile, search)


async def event_counts(session: AsyncSession, personnel_ids: Sequence[int]) -> dict[int, int]:
    if not personnel_ids:
        return {}
    rows = await session.execute(
        select(EventPersonnel.personnel_id, func.count())
        .where(EventPersonnel.personnel_id.in_(personnel_ids))
        .group_by(EventPersonnel.personnel_id)
    )
    return {int(pid): int(n) for pid, n in rows}


async def attendance_summary(
    session: AsyncSession, personnel_ids: Sequence[int]
) -> tuple[dict[int, int], dict[int, list[str]]]:
    """Per person: the number of events (attendance rows) and the labels aggregated over them, from
    one read of their attendance rows."""
    if not personnel_ids:
        return {}, {}
    rows = await session.execute(
        select(EventPersonnel.personnel_id, EventPersonnel.source_types).where(
            EventPersonnel.personnel_id.in_(personnel_ids)
        )
    )
    counts: dict[int, int] = {}
    labels: dict[int, set[str]] = {}
    for pid, types in rows:
        counts[int(pid)] = counts.get(int(pid), 0) + 1
        labels.setdefault(int(pid), set()).update(types or [])
    return counts, {pid: normalize_source_types(list(found)) for pid, found in labels.items()}


async def card_extras(
    session: AsyncSession,
    account_id: int,
    personnel_ids: Sequence[int],
    *,
    with_activity: bool,
    with_aggregated_sources: bool,
    known_event_counts: dict[int, int] | None = None,
) -> CardExtras:
    """``known_event_counts``: counts the caller already read (e.g. with its page), else queried."""
    unlocks = await account_unlocks(session, account_id, personnel_ids, with_activity=with_activity)
    sources: dict[int, list[str]] = {}
    if with_aggregated_sources:
        counts, sources = await attendance_summary(session, personnel_ids)
    elif known_event_counts is not None:
        counts = known_event_counts
    else:
        counts = await event_counts(session, personnel_ids)
    return CardExtras(
        contacts=unlocks.contacts,
        activity_status=unlocks.activity_status,
        event_counts=counts,
        source_types=sources,
    )


def contact_card(
    person: Personnel,
    extras: CardExtras,
    *,
    source_types: Sequence[str] | None = None,
    with_activity: bool = False,
) -> dict[str, Any]:
    """ContactItem for ``person``. ``source_types``: event-scoped labels (else the aggregated ones)."""
    unlocked = extras.contacts.get(person.id, {})
    return contact_item(
        person,
        unlocked_email=unlocked.get("email"),
        unlocked_phone=unlocked.get("phone"),
        linkedin_status=extras.activity_status.get(person.id) if with_activity else None,
        source_types=source_types if source_types is not None else extras.source_types.get(person.id, []),
        event_count=extras.event_counts.get(person.id, 0),
        # A recorded unlock counts even if the delivered value was empty.
        email_status="unlocked" if "email" in unlocked else None,
        phone_status="ready" if "phone" in unlocked else None,
    )


async def cards_for(
    session: AsyncSession,
    account_id: int,
    people: Sequence[Personnel],
) -> list[dict[str, Any]]:
    """Cards with labels aggregated over the person's events and no LinkedIn activity (profile,
    LinkedIn lookup, contacts search: the reference keeps ``linkedinActivity*`` null there)."""
    ids = [p.id for p in people]
    extras = await card_extras(session, account_id, ids, with_activity=False, with_aggregated_sources=True)
    return [contact_card(p, extras) for p in people]


# --- contacts search --------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactSearch:
    company_name: str
    role: str | None = None
    person_name: str | None = None


def _search_condition(query: ContactSearch, *, sqlite: bool) -> ColumnElement[bool]:
    terms: list[tuple[tuple[str, ...], str]] = [(("company_name",), query.company_name)]
    if query.role and query.role.strip():
        terms.append((("title",), query.role))
    if query.person_name and query.person_name.strip():
        terms.append((("full_name",), query.person_name))
    return personnel_text_condition(terms, sqlite=sqlite)


async def search_contacts(
    session: AsyncSession,
    account_id: int,
    query: ContactSearch,
    page: int,
    page_size: int,
    *,
    sqlite: bool,
) -> tuple[list[dict[str, Any]], int]:
    """One page of people at a company (optionally narrowed by role and name), and the total."""
    condition = _search_condition(query, sqlite=sqlite)
    rows, total = await page_with_total(
        session,
        select(Personnel).where(condition).order_by(Personnel.id),
        select(func.count()).select_from(Personnel).where(condition),
        limit=page_size,
        offset=(page - 1) * page_size,
    )
    return await cards_for(session, account_id, [row[0] for row in rows]), total
