"""The pricing policy: credits per action, by plan. Defaults are the customer's price table.

Everything that quotes or charges a price — ``semantics.unlock.credits``, the actions precheck and the
charge itself — reads it through ``price_of``, so they cannot disagree.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.prepared import PreparedQuery
from showfloor.server.models import Plan, PlanPrice


class Action(StrEnum):
    EVENT_UNLOCK = "event_unlock"
    VISITOR_UNLOCK = "visitor_unlock"
    CONTACT_EMAIL = "contact_email"
    CONTACT_PHONE = "contact_phone"
    EXHIBITOR_COMPANY_SEARCH = "exhibitor_company_search"
    EXHIBITOR_EVENT_SEARCH = "exhibitor_event_search"
    PERSONNEL_EVENTS_BY_NAME = "personnel_events_by_name"
    LINKEDIN_ACTIVITY = "linkedin_activity"


DEFAULT_PRICES: dict[Action, int] = {
    Action.EVENT_UNLOCK: 2000,
    Action.VISITOR_UNLOCK: 3000,
    Action.CONTACT_EMAIL: 15,
    Action.CONTACT_PHONE: 150,
    Action.EXHIBITOR_COMPANY_SEARCH: 50,
    Action.EXHIBITOR_EVENT_SEARCH: 50,
    Action.PERSONNEL_EVENTS_BY_NAME: 50,
    Action.LINKEDIN_ACTIVITY: 0,
}


# Read by every paid action of an account on a plan (a prepared query, see db/prepared.py).
_PLAN_PRICES = PreparedQuery(
    select(PlanPrice.action, PlanPrice.credits).where(
        PlanPrice.plan_id == bindparam("plan_id", type_=BigInteger)
    )
)


async def plan_prices(session: AsyncSession, plan_id: int | None) -> dict[Action, int]:
    """Every action's price for a plan (``None``: the default plan); unnamed actions take the default."""
    prices = dict(DEFAULT_PRICES)
    if plan_id is None:
        return prices
    for row in await _PLAN_PRICES.all(session, {"plan_id": plan_id}):
        if row["action"] in Action.__members__.values():
            prices[Action(row["action"])] = int(row["credits"])
    return prices


async def price_of(session: AsyncSession, plan_id: int | None, action: Action) -> int:
    if plan_id is None:
        return DEFAULT_PRICES[action]
    credits = await session.scalar(
        select(PlanPrice.credits).where(PlanPrice.plan_id == plan_id, PlanPrice.action == action.value)
    )
    return DEFAULT_PRICES[action] if credits is None else int(credits)


async def plan_by_name(session: AsyncSession, name: str) -> Plan | None:
    return await session.scalar(select(Plan).where(Plan.name == name))
