"""Paid reverse lookups, charged only when the page returned has results (one charge per page).

``search_companies`` (POST /external/exhibitors/search-by-company-name), ``search_company_events``
(POST /external/exhibitors/search-events) and ``events_by_person_name``
(GET /external/personnel/events/by-name). Each runs its query first, then — only for a non-empty page —
decides with ``decide_search`` (shared with the precheck) and debits the ledger, which locks the account
and refuses what it cannot pay, all in the caller's one transaction: a 402 returns no records and
charges nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.catalog.filters import id_in, is_sqlite
from showfloor.server.catalog.personnel import attendance_identity
from showfloor.server.catalog.search import (
    company_name_condition,
    indexed_tsquery,
    keyword_condition,
    word_prefixes_match,
)
from showfloor.server.catalog.serializers import event_item, exhibitor_item
from showfloor.server.db.prepared import PreparedQuery
from showfloor.server.ledger.pricing import Action, plan_prices
from showfloor.server.ledger.service import open_wallet
from showfloor.server.models import Event, EventExhibitor, EventPersonnel, Exhibitor, Personnel
from showfloor.server.pagination import envelope
from showfloor.server.paid.decision import FORBIDDEN, OK, Caller, Decision, biz_code, charge, refused
from showfloor.server.paid.errors import FeatureUnavailable

CompanyScope = Literal["all", "exhibitor", "visitor"]
PersonScope = Literal["all", "exhibitor_employee", "visitor"]
MAX_NAME_CANDIDATES = 50  # the reference's fixed candidate window for the exact-name lookup
MAX_MATCHED_COMPANIES = 500


def decide_search(
    action: Action, call_source: str, prices: dict[Action, int], *, subscribed: bool = True
) -> Decision:
    """A non-empty search page costs the plan's price; by-name also needs an active subscription
    (``subscribed``)."""
    code = biz_code(action, call_source)
    if not subscribed:
        return refused(FORBIDDEN, FeatureUnavailable(), biz_code=code)
    return Decision(True, prices[action], OK, code)


async def _charge_page(
    session: AsyncSession, caller: Caller, action: Action, subject: str, *, needs_subscription: bool
) -> None:
    """Charge one non-empty page in the caller's transaction. A search that needs a subscription reads
    it under the account lock (the transaction's one lock, passed on to the ledger); the others let the
    ledger take the lock."""
    op_key, resource = f"{action.value}:{uuid.uuid4().hex}", (action.value, subject[:100])
    if needs_subscription:
        wallet = await open_wallet(session, caller.account_id, datetime.now(UTC), lock=True)
        decision = decide_search(action, caller.call_source, wallet.prices, subscribed=wallet.subscribed)
        decision.raise_if_refused()
        await charge(session, caller, decision, op_key, resource, wallet=wallet)
        return
    decision = decide_search(action, caller.call_source, await plan_prices(session, caller.plan_id))
    await charge(session, caller, decision, op_key, resource)


# --- exhibitor company search ----------------------------------------------------------------------


async def search_companies(
    session: AsyncSession,
    caller: Caller,
    company_name: str,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    limit, offset = page_size, (page - 1) * page_size
    tsquery = None if is_sqlite(session) else indexed_tsquery(company_name)
    if tsquery is not None:  # the common case on PostgreSQL: one statement, built once
        rows, total, events = await company_page_in_one_statement(session, tsquery, limit, offset)
    else:
        rows, total, events = await company_page_portably(session, company_name, limit, offset)
    if not rows:
        return envelope([], await _total_past_the_end(session, company_name, offset), page, page_size)
    await _charge_page(
        session,
        caller,
        Action.EXHIBITOR_COMPANY_SEARCH,
        company_name,
        needs_subscription=False,
    )
    items = [exhibitor_item(e, events.get(e.id, [])) for e in rows]
    return envelope(items, total, page, page_size)


CompanyPage = tuple[Sequence[Any], int, dict[int, list[str]]]


async def company_page_in_one_statement(
    session: AsyncSession, tsquery: str, limit: int, offset: int
) -> CompanyPage:
    """PostgreSQL's fast path (AGENTS.md): the page, its total and each company's event ids at once."""
    params = {"tsquery": tsquery, "limit": limit, "offset": offset}
    rows = [_Row(r) for r in await _PG_COMPANY_PAGE.all(session, params)]
    total = int(rows[0].total) if rows else 0
    return rows, total, {int(row.id): list(row.event_ids or ()) for row in rows}


async def company_page_portably(
    session: AsyncSession, company_name: str, limit: int, offset: int
) -> CompanyPage:
    """The page on any database: the companies, then their event ids (``bench/portable.py`` runs it on
    PostgreSQL next to the fast path)."""
    condition = company_name_condition(company_name, sqlite=is_sqlite(session))
    page_rows = (await session.execute(company_page_query(condition, limit=limit, offset=offset))).all()
    rows, total = [r[0] for r in page_rows], int(page_rows[0][1]) if page_rows else 0
    return rows, total, await _event_ids_of(session, [e.id for e in rows]) if rows else {}


def company_page_query(condition: ColumnElement[bool], *, limit: Any, offset: Any) -> Select[Any]:
    """A page of the matching companies, shortest name first, each row with the total. The window count
    and the sort see only ids and names; the page's rows are read whole afterwards. On a common word
    (10,100 "LLC" of 100,000 names) sorting and counting whole rows took twice as long. ``limit`` and
    ``offset``: numbers, or bound parameters."""
    order = (func.length(Exhibitor.company_name), Exhibitor.company_name, Exhibitor.id)
    ids = (
        select(Exhibitor.id, func.count().over().label("total"))
        .where(condition)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    return select(Exhibitor, ids.c.total).join(ids, ids.c.id == Exhibitor.id).order_by(*order)


def _event_ids_query(exhibitors: ColumnElement[bool]) -> Select[int, str]:
    return (
        select(EventExhibitor.exhibitor_id, Event.event_id)
        .join(Event, Event.id == EventExhibitor.event_id)
        .where(exhibitors)
        .order_by(Event.date_start.desc().nulls_last(), Event.id.desc())
    )


# PostgreSQL, every keyword word on the word-prefix index: the page with each company's event ids (an
# array in ``_event_ids_query`` order) as one prepared query (db/prepared.py). Building and
# loading it through the ORM was a quarter of a search's CPU, and the event ids were a second round trip
# (py-spy, docs/benchmarks.md). Page rows are read by column name (``_Row``).
_EVENT_IDS_OF_ROW = (
    select(
        func.array_agg(
            aggregate_order_by(Event.event_id, Event.date_start.desc().nulls_last(), Event.id.desc())
        )
    )
    .select_from(EventExhibitor)
    .join(Event, Event.id == EventExhibitor.event_id)
    .where(EventExhibitor.exhibitor_id == Exhibitor.id)
    .scalar_subquery()
)
_PG_COMPANY_PAGE = PreparedQuery(
    company_page_query(
        word_prefixes_match(Exhibitor.company_name, bindparam("tsquery", type_=String)),
        limit=bindparam("limit", type_=Integer),
        offset=bindparam("offset", type_=Integer),
    ).add_columns(_EVENT_IDS_OF_ROW.label("event_ids"))
)


class _Row:
    """A prepared query's row read by attribute, as the serializers read an ``Exhibitor``."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None


async def _total_past_the_end(session: AsyncSession, company_name: str, offset: int) -> int:
    """The total for an empty page: 0 on the first page; past the end, no row carried it."""
    if offset == 0:
        return 0
    condition = company_name_condition(company_name, sqlite=is_sqlite(session))
    return int(await session.scalar(select(func.count()).select_from(Exhibitor).where(condition)) or 0)


async def _event_ids_of(session: AsyncSession, exhibitor_ids: list[int]) -> dict[int, list[str]]:
    sqlite = is_sqlite(session)
    rows = (
        await session.execute(
            _event_ids_query(id_in(EventExhibitor.exhibitor_id, exhibitor_ids, sqlite=sqlite))
        )
    ).all()
    out: dict[int, list[str]] = {}
    for exhibitor_id, event_id in rows:
        out.setdefault(int(exhibitor_id), []).append(event_id)
    return out


# --- exhibitor event search -------------------------------------------------------------------------


async def search_company_events(
    session: AsyncSession,
    caller: Caller,
    company_name: str,
    scope: CompanyScope,
    starred: int | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    # The regexes, not the word-prefix index: this takes the first matches in id order and stops,
    # which the index cannot do ("LLC" over 100,000 names: 1.8 ms with the regexes, 6.7 with the index).
    condition = keyword_condition("exhibitors", company_name, sqlite=is_sqlite(session))
    companies = dict(
        (
            await session.execute(
                select(Exhibitor.id, Exhibitor.company_name)
                .where(condition)
                .order_by(Exhibitor.id)
                .limit(MAX_MATCHED_COMPANIES)
            )
        ).all()
    )
    if not companies:
        return envelope([], 0, page, page_size)
    ids = list(companies)
    exhibiting: dict[int, list[int]] = {}
    for event_pk, exhibitor_id in await session.execute(
        select(EventExhibitor.event_id, EventExhibitor.exhibitor_id).where(
            EventExhibitor.exhibitor_id.in_(ids)
        )
    ):
        exhibiting.setdefault(int(event_pk), []).append(int(exhibitor_id))
    visiting = set(
        (
            await session.scalars(
                select(EventPersonnel.event_id)
                .join(Personnel, Personnel.id == EventPersonnel.personnel_id)
                .where(Personnel.exhibitor_id.in_(ids), EventPersonnel.is_visitor_only.is_(True))
                .distinct()
            )
        ).all()
    )
    if scope == "exhibitor":
        wanted = set(exhibiting)
    elif scope == "visitor":
        wanted = visiting - set(exhibiting)
    else:
        wanted = set(exhibiting) | visiting
    stmt = select(Event).where(Event.id.in_(wanted)) if wanted else None
    if stmt is None:
        return envelope([], 0, page, page_size)
    if starred is not None:
        stmt = stmt.where(Event.sponsor_match_starred.is_(bool(starred)))
    events = (
        await session.scalars(stmt.order_by(Event.date_start.desc().nulls_last(), Event.id.desc()))
    ).all()
    page_rows = events[(page - 1) * page_size : page * page_size]
    if not page_rows:
        return envelope([], len(events), page, page_size)
    await _charge_page(
        session,
        caller,
        Action.EXHIBITOR_EVENT_SEARCH,
        company_name,
        needs_subscription=False,
    )
    items = []
    for event in page_rows:
        identity = (["exhibitor"] if event.id in exhibiting else []) + (
            ["visitor"] if event.id in visiting else []
        )
        matched = [{"id": str(x), "companyName": companies[x]} for x in sorted(exhibiting.get(event.id, []))]
        items.append({**event_item(event), "matchedExhibitors": matched, "attendance_identity": identity})
    return envelope(items, len(events), page, page_size)


# --- personnel events by exact name ---------------------------------------------------------------


def normalize_name(name: str) -> str:
    return name.strip().lower()


async def events_by_person_name(
    session: AsyncSession,
    caller: Caller,
    person_name: str,
    scope: PersonScope,
    date_from: date,
    date_to: date | None,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    wallet = await open_wallet(session, caller.account_id, datetime.now(UTC), lock=False)
    if not wallet.subscribed:  # the reference's paid-feature guard runs before the lookup
        raise FeatureUnavailable()
    candidates = (
        select(Personnel.id)
        .where(Personnel.full_name_norm == normalize_name(person_name))
        .order_by(Personnel.id)
        .limit(MAX_NAME_CANDIDATES)
        .scalar_subquery()
    )
    stmt = (
        select(EventPersonnel.event_id, EventPersonnel.source_types, EventPersonnel.exhibitor_id)
        .join(Event, Event.id == EventPersonnel.event_id)
        .where(EventPersonnel.personnel_id.in_(candidates), Event.date_start >= date_from)
    )
    if date_to is not None:
        stmt = stmt.where(Event.date_start <= date_to)
    evidence: dict[int, set[str]] = {}
    for event_pk, types, exhibitor_id in await session.execute(stmt):
        evidence.setdefault(int(event_pk), set()).update(attendance_identity(types, exhibitor_id))
    if scope == "exhibitor_employee":
        wanted = [pk for pk, ids in evidence.items() if "exhibitor_employee" in ids]
    elif scope == "visitor":
        wanted = [pk for pk, ids in evidence.items() if ids == {"visitor"}]
    else:
        wanted = [pk for pk, ids in evidence.items() if ids]
    events = (
        (
            await session.scalars(
                select(Event).where(Event.id.in_(wanted)).order_by(Event.date_start, Event.id)
            )
        ).all()
        if wanted
        else []
    )
    page_rows = events[(page - 1) * page_size : page * page_size]
    if not page_rows:
        return envelope([], len(events), page, page_size)
    await _charge_page(session, caller, Action.PERSONNEL_EVENTS_BY_NAME, person_name, needs_subscription=True)
    items = [
        {
            **event_item(e),
            "attendance_identity": sorted(evidence[e.id], key=("exhibitor_employee", "visitor").index),
        }
        for e in page_rows
    ]
    return envelope(items, len(events), page, page_size)
