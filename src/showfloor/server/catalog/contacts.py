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

from showfloor.server.access.service import CONTACT_KINDS, unlocked_contacts
from showfloor.server.catalog.search import keyword_words
from showfloor.server.catalog.serializers import SOURCE_TYPES, contact_item, normalize_source_types
from showfloor.server.models.access import LinkedinActivityUnlock
from showfloor.server.models.catalog import EventPersonnel, Personnel

__all__ = ["SOURCE_TYPES", "ContactSearch", "card_extras", "cards_for", "contact_card", "search_contacts"]


# --- text search restricted to some personnel columns ----------------------------------------


def personnel_text_condition(
    terms: Sequence[tuple[tuple[str, ...], str]], *, sqlite: bool
) -> ColumnElement[bool]:
    """Personnel rows where, for every ``(columns, keyword)`` term, each word of the keyword starts a
    word in one of ``columns``. Served by the search objects of migration 0002 (SQLite FTS5 column
    filters; PostgreSQL trigram indexes with a word-start regex), never by a ``LIKE '%…%'`` scan."""
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
    conditions = [
        or_(*(getattr(Personnel, col).op("~*")(r"\m" + w) for col in cols))
        for cols, words in parts
        for w in words
    ]
    return and_(*conditions)


# --- cards ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardExtras:
    """What a page of cards needs besides the personnel rows, fetched in a few batched queries."""

    contacts: dict[int, dict[str, str | None]]  # personnel id -> {"email": .., "phone": ..}
    activity_status: dict[int, str]  # personnel id -> LinkedIn-activity unlock status
    event_counts: dict[int, int]
    source_types: dict[int, list[str]]  # aggregated over the person's events (profile, search)


async def unlocked_contact_values(
    session: AsyncSession, account_id: int, personnel_ids: Sequence[int]
) -> dict[int, dict[str, str | None]]:
    """personnel id -> {kind: value} for the kinds (email, phone) this account unlocked."""
    values: dict[int, dict[str, str | None]] = {}
    for kind in CONTACT_KINDS:
        for pid, value in (await unlocked_contacts(session, account_id, personnel_ids, kind)).items():
            values.setdefault(pid, {})[kind] = value
    return values


async def linkedin_activity_statuses(
    session: AsyncSession, account_id: int, personnel_ids: Sequence[int]
) -> dict[int, str]:
    if not personnel_ids:
        return {}
    rows = await session.execute(
        select(LinkedinActivityUnlock.personnel_id, LinkedinActivityUnlock.status).where(
            LinkedinActivityUnlock.account_id == account_id,
            LinkedinActivityUnlock.personnel_id.in_(personnel_ids),
        )
    )
    return {int(pid): str(status) for pid, status in rows}


async def event_counts(session: AsyncSession, personnel_ids: Sequence[int]) -> dict[int, int]:
    if not personnel_ids:
        return {}
    rows = await session.execute(
        select(EventPersonnel.personnel_id, func.count())
        .where(EventPersonnel.personnel_id.in_(personnel_ids))
        .group_by(EventPersonnel.personnel_id)
    )
    return {int(pid): int(n) for pid, n in rows}


async def aggregated_source_types(
    session: AsyncSession, personnel_ids: Sequence[int]
) -> dict[int, list[str]]:
    if not personnel_ids:
        return {}
    rows = await session.execute(
        select(EventPersonnel.personnel_id, EventPersonnel.source_types).where(
            EventPersonnel.personnel_id.in_(personnel_ids)
        )
    )
    labels: dict[int, set[str]] = {}
    for pid, types in rows:
        labels.setdefault(int(pid), set()).update(types or [])
    return {pid: normalize_source_types(list(found)) for pid, found in labels.items()}


async def card_extras(
    session: AsyncSession,
    account_id: int,
    personnel_ids: Sequence[int],
    *,
    with_activity: bool,
    with_aggregated_sources: bool,
) -> CardExtras:
    return CardExtras(
        contacts=await unlocked_contact_values(session, account_id, personnel_ids),
        activity_status=(
            await linkedin_activity_statuses(session, account_id, personnel_ids) if with_activity else {}
        ),
        event_counts=await event_counts(session, personnel_ids),
        source_types=(
            await aggregated_source_types(session, personnel_ids) if with_aggregated_sources else {}
        ),
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
    total = int(await session.scalar(select(func.count()).select_from(Personnel).where(condition)) or 0)
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total
    people = list(
        (
            await session.scalars(
                select(Personnel).where(condition).order_by(Personnel.id).limit(page_size).offset(offset)
            )
        ).all()
    )
    return await cards_for(session, account_id, people), total
