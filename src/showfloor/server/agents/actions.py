"""Every paid action an agent can quote: its parameters (validated, stored canonically) and the SAME
service function its REST route calls. Prices come from ``paid.precheck.price`` (the precheck's rule).

The action names are the precheck's ``action_type`` values, plus ``search_exhibitor_companies`` and
``unlock_linkedin_activity`` (priced by the same ``decide_*`` functions as their routes).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access import unlock as event_unlock
from showfloor.server.errors import InvalidRequest
from showfloor.server.lookups import service as lookups
from showfloor.server.paid.concurrency import (
    EXHIBITOR_EVENT_SEARCH,
    PERSONNEL_EVENTS_BY_NAME,
    ConcurrencyLimit,
)
from showfloor.server.paid.decision import Caller
from showfloor.server.paid.errors import MAX_SELECTION
from showfloor.server.unlocks import linkedin
from showfloor.server.unlocks import service as contact_unlocks

Name = Annotated[str, Field(min_length=1, max_length=200)]
EventId = Annotated[str, Field(min_length=1, max_length=100)]
PersonnelIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=40)]], Field(min_length=1, max_length=MAX_SELECTION)
]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EventParams(_Params):
    event_id: EventId = Field(description="The event's `eventId` (or numeric `id`).")


class ContactParams(_Params):
    personnel_ids: PersonnelIds = Field(description="Personnel ids (1-2000).")
    event_id: EventId | None = Field(default=None, description="Optional event every person must belong to.")


class CompanySearchParams(_Params):
    company_name: Name
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=100)


class EventSearchParams(CompanySearchParams):
    attendance_scope: Literal["all", "exhibitor", "visitor"] = "all"
    sponsor_match_starred: Literal[0, 1] | None = None


class PersonEventsParams(_Params):
    person_name: Name
    attendance_scope: Literal["all", "exhibitor_employee", "visitor"] = "all"
    date_start_from: date | None = Field(
        default=None, description="Default: today (UTC), fixed in the quote."
    )
    date_start_to: date | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=100)


Execute = Callable[[AsyncSession, Caller, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class AgentAction:
    name: str
    title: str
    params: type[_Params]
    execute: Execute
    # A reverse lookup: charged only when the page returned has results (an empty one is quoted at 0).
    lookup: bool = False
    limit: ConcurrencyLimit | None = None


async def _unlock_event(s: AsyncSession, c: Caller, p: EventParams) -> dict[str, Any]:
    return await event_unlock.unlock_event(s, c, p.event_id)


async def _unlock_visitors(s: AsyncSession, c: Caller, p: EventParams) -> dict[str, Any]:
    return await event_unlock.unlock_visitors(s, c, p.event_id)


async def _unlock_full(s: AsyncSession, c: Caller, p: EventParams) -> dict[str, Any]:
    return await event_unlock.unlock_full_access(s, c, p.event_id)


def _contacts(kind: str) -> Execute:
    async def run(s: AsyncSession, c: Caller, p: ContactParams) -> dict[str, Any]:
        submission = await contact_unlocks.submit(
            s,
            account_id=c.account_id,
            api_key_id=c.api_key_id,
            kind=kind,
            personnel_ids=p.personnel_ids,
            event_ref=p.event_id,
            call_source=c.call_source,
        )
        return submission.body()

    return run


async def _company_search(s: AsyncSession, c: Caller, p: CompanySearchParams) -> dict[str, Any]:
    return await lookups.search_companies(s, c, p.company_name, p.page, p.page_size)


async def _event_search(s: AsyncSession, c: Caller, p: EventSearchParams) -> dict[str, Any]:
    return await lookups.search_company_events(
        s, c, p.company_name, p.attendance_scope, p.sponsor_match_starred, p.page, p.page_size
    )


async def _person_events(s: AsyncSession, c: Caller, p: PersonEventsParams) -> dict[str, Any]:
    date_from = p.date_start_from or datetime.now(UTC).date()
    return await lookups.events_by_person_name(
        s, c, p.person_name, p.attendance_scope, date_from, p.date_start_to, p.page, p.page_size
    )


async def _linkedin(s: AsyncSession, c: Caller, p: ContactParams) -> dict[str, Any]:
    return await linkedin.unlock_linkedin_activity(s, c, p.personnel_ids, p.event_id)


ACTIONS: dict[str, AgentAction] = {
    a.name: a
    for a in (
        AgentAction("unlock_event_contacts", "Unlock an event's contact layer", EventParams, _unlock_event),
        AgentAction("unlock_event_visitors", "Unlock an event's visitors", EventParams, _unlock_visitors),
        AgentAction("unlock_event_full_access", "Unlock an event's full access", EventParams, _unlock_full),
        AgentAction("unlock_contact_emails", "Unlock contact emails", ContactParams, _contacts("email")),
        AgentAction("unlock_contact_phones", "Unlock contact phones", ContactParams, _contacts("phone")),
        AgentAction(
            "search_exhibitor_companies",
            "Search exhibitors by company name",
            CompanySearchParams,
            _company_search,
            lookup=True,
        ),
        AgentAction(
            "search_exhibitor_events",
            "Events of a company name",
            EventSearchParams,
            _event_search,
            lookup=True,
            limit=EXHIBITOR_EVENT_SEARCH,
        ),
        AgentAction(
            "search_personnel_events_by_name",
            "Events of a person by exact name",
            PersonEventsParams,
            _person_events,
            lookup=True,
            limit=PERSONNEL_EVENTS_BY_NAME,
        ),
        AgentAction("unlock_linkedin_activity", "Start LinkedIn activity analysis", ContactParams, _linkedin),
    )
}


def action_named(name: str) -> AgentAction:
    action = ACTIONS.get(name.strip().lower())
    if action is None:
        raise InvalidRequest(f"Unknown action {name!r}; one of: {', '.join(ACTIONS)}", field="action")
    return action


def canonical_params(action: AgentAction, raw: dict[str, Any]) -> dict[str, Any]:
    """The parameters as validated and stored (defaults filled in; the by-name lower date bound fixed to
    today), so a quote is bound to exactly what will run."""
    try:
        parsed = action.params.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "params"
        raise InvalidRequest(f"params.{where}: {first['msg']}", field=where) from exc
    if isinstance(parsed, PersonEventsParams) and parsed.date_start_from is None:
        parsed = parsed.model_copy(update={"date_start_from": datetime.now(UTC).date()})
    return parsed.model_dump(mode="json")


def parsed_params(action: AgentAction, stored: dict[str, Any]) -> Any:
    return action.params.model_validate(stored)


def params_schema() -> dict[str, Any]:
    """The JSON schema of the quote tool's ``params``: one alternative per parameter shape, titled with
    the actions that take it, so an agent sees every field (the action's own model validates them)."""
    users: dict[type[_Params], list[str]] = {}
    for action in ACTIONS.values():
        users.setdefault(action.params, []).append(action.name)
    return {
        "anyOf": [
            {**model.model_json_schema(), "title": "params of " + ", ".join(names)}
            for model, names in users.items()
        ]
    }
