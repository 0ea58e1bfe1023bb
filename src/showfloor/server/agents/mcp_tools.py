"""The MCP server's tools (``build_mcp_server``): free reads, ``quote`` (free) and ``execute_quote``.

Tools never authenticate: a ``PrincipalSource`` says who is calling (over HTTP, the ``/mcp`` endpoint
put the principal its Bearer key resolved to on the request; a later OAuth token verifier only needs a
new source). Every tool calls the same domain function as the REST route it mirrors. Errors are tool
errors whose text is JSON: ``{"error": <code>, "message": …, "details": …}``.
"""

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Protocol, get_args

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.accounts.service import Principal
from showfloor.server.agents import quotes
from showfloor.server.agents.actions import ACTIONS, params_schema
from showfloor.server.agents.mcp_http import PRINCIPAL_STATE
from showfloor.server.catalog import events as catalog_events
from showfloor.server.catalog.contacts import ContactSearch, search_contacts
from showfloor.server.catalog.exhibitors import ExhibitorFilters, list_event_exhibitors
from showfloor.server.catalog.personnel import PersonnelFilters, list_event_personnel
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError
from showfloor.server.ledger.balance import credit_balance_body, get_balance
from showfloor.server.pagination import envelope
from showfloor.server.paid.precheck import price
from showfloor.server.unlocks.service import task_status


class Runtime(Protocol):
    """What the tools need at call time (the FastAPI app's state once its lifespan has run)."""

    db: Database
    settings: Settings


PrincipalSource = Callable[[Context], Awaitable[Principal]]


async def request_principal(ctx: Context) -> Principal:
    """The principal the ``/mcp`` endpoint authenticated for this HTTP request."""
    request = ctx.request_context.request
    principal = getattr(getattr(request, "state", None), PRINCIPAL_STATE, None)
    if not isinstance(principal, Principal):
        raise ToolError(_error_text("INVALID_API_KEY", "Not authenticated", None))
    return principal


def _error_text(code: str, message: str, details: Any) -> str:
    return json.dumps({"error": code, "message": message, "details": details}, default=str)


def _tool_error(exc: DomainError) -> ToolError:
    return ToolError(_error_text(exc.code, exc.message, exc.details))


READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
QUOTE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
SPEND = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)

PageArg = Annotated[int, Field(ge=1, description="Page number, 1-based.")]
PageSizeArg = Annotated[int, Field(ge=1, le=50, description="Items per page (1-50).")]
EventArg = Annotated[
    str, Field(min_length=1, max_length=100, description="The event's `eventId` or numeric `id`.")
]
ActionName = Literal[
    "unlock_event_contacts",
    "unlock_event_visitors",
    "unlock_event_full_access",
    "unlock_contact_emails",
    "unlock_contact_phones",
    "search_exhibitor_companies",
    "search_exhibitor_events",
    "search_personnel_events_by_name",
    "unlock_linkedin_activity",
]
assert set(get_args(ActionName)) == set(ACTIONS)  # one list of paid actions

QUOTE_HELP = """Price a paid action now and store a quote (free: nothing is spent or reserved).

Returns quote_id, credits (the price; already-unlocked items netted out), chargeable (the items and
unit prices), available_balance, allowed/reason_code and expires_at. Nothing is charged until
execute_quote runs an APPROVED quote: the user approves it (a prompt from this client, the owner's
`showfloor quotes approve QUOTE_ID` with another key, or the key's daily agent budget). Show the
quote to the user before executing it.

Actions and their params:
- unlock_event_contacts / unlock_event_visitors / unlock_event_full_access: {"event_id": "E123"}
- unlock_contact_emails / unlock_contact_phones: {"personnel_ids": ["1", "2"], "event_id"?: "E123"}
  (1-2000 ids; contacts already unlocked cost nothing)
- search_exhibitor_companies: {"company_name": "Acme", "page"?: 1, "page_size"?: 20}
- search_exhibitor_events: {"company_name": "Acme", "attendance_scope"?: "all|exhibitor|visitor",
  "sponsor_match_starred"?: 0|1, "page"?: 1, "page_size"?: 20}
- search_personnel_events_by_name: {"person_name": "Jane Doe", "attendance_scope"?:
  "all|exhibitor_employee|visitor", "date_start_from"?: "YYYY-MM-DD", "date_start_to"?: "YYYY-MM-DD"}
- unlock_linkedin_activity: {"personnel_ids": ["1"], "event_id"?: "E123"}
Reverse lookups (the three searches) are charged only for a non-empty page: an empty one is quoted at 0.
"""

EXECUTE_HELP = """Execute a quote made by `quote` (by the same API key), once.

Charges only when the quote is approved: by the user through this client's prompt (if the client
supports it), by the owner (`showfloor quotes approve QUOTE_ID` with another key of the account), or
within the key's daily agent budget. Otherwise it answers APPROVAL_REQUIRED with what the user must do,
and nothing is spent. Calling it again with the same quote_id returns the first result (replayed=true)
and never charges twice. If the price rose or the balance no longer covers it, nothing is charged and
the error carries a new quote (QUOTE_REPRICED, or INSUFFICIENT_CREDITS with requiredCredits and
availableCredits). Expired quotes answer QUOTE_EXPIRED: ask for a new quote.
"""


class ApprovalAnswer(BaseModel):
    approve: bool = Field(description="Approve spending these credits for this action?")


def _approval_message(quote: dict[str, Any]) -> str:
    return (
        f"An agent asks to run {quote['action']} with {json.dumps(quote['params'])} for {quote['credits']} "
        f"credits (balance {quote['available_balance']}). Quote {quote['quote_id']}, expires {quote['expires_at']}. "
        "Approve?"
    )


async def _unlock_price(
    session: AsyncSession, principal: Principal, event_id: str, preview_limit: int
) -> dict[str, Any]:
    """What unlocking the event would cost now (the precheck's ``query_event_personnel`` answer)."""
    decision = await price(
        session, principal.account_id, "query_event_personnel", {"event_id": event_id}, "agent", preview_limit
    )
    detail = decision.detail
    return {
        "access_mode": detail.get("access_mode"),
        "quote_action": detail.get("unlock_action_type"),
        "credits": detail.get("unlock_credits"),
    }


def _elicits_forms(ctx: Context) -> bool:
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def build_mcp_server(runtime: Runtime, principal_of: PrincipalSource = request_principal) -> MCPServer:
    server = MCPServer(
        "showfloor",
        title="Showfloor",
        instructions=(
            "Event intelligence with a credit balance. Reading events, exhibitors and people is free; "
            "paid actions go quote -> user approval -> execute_quote. Never execute a quote the user has "
            "not seen. Ambiguous company names return candidates: ask the user which one."
        ),
    )

    async def who(ctx: Context) -> Principal:
        return await principal_of(ctx)

    @server.tool(name="get_balance", title="Credit balance", annotations=READ)
    async def get_balance_tool(ctx: Context) -> dict[str, Any]:
        """The account's credit balance by bucket (totalBalance is what can be spent now)."""
        principal = await who(ctx)
        async with runtime.db.read() as session:
            return credit_balance_body(await get_balance(session, principal.account_id, datetime.now(UTC)))

    @server.tool(title="Search events", annotations=READ)
    async def search_events(
        ctx: Context,
        keyword: Annotated[
            str | None, Field(max_length=200, description="Words in the event's name.")
        ] = None,
        country: Annotated[str | None, Field(max_length=100)] = None,
        date_start_from: Annotated[
            date | None, Field(description="Events starting on or after (YYYY-MM-DD).")
        ] = None,
        date_start_to: Annotated[
            date | None, Field(description="Events starting on or before (YYYY-MM-DD).")
        ] = None,
        page: PageArg = 1,
        page_size: PageSizeArg = 20,
    ) -> dict[str, Any]:
        """Find trade shows and events (free). Returns a page of events with their `eventId`."""
        await who(ctx)
        filters = catalog_events.EventFilters(
            keyword=keyword, country=country, date_start_from=date_start_from, date_start_to=date_start_to
        )
        async with runtime.db.read() as session:
            items, total = await catalog_events.list_events(session, filters, page, page_size)
        return envelope(items, total, page, page_size)

    @server.tool(title="Event detail", annotations=READ)
    async def get_event(ctx: Context, event_id: EventArg) -> dict[str, Any]:
        """One event's detail (free)."""
        await who(ctx)
        try:
            async with runtime.db.read() as session:
                return await catalog_events.event_detail(session, event_id)
        except DomainError as exc:
            raise _tool_error(exc) from exc

    @server.tool(title="Exhibitors of an event", annotations=READ)
    async def list_exhibitors(
        ctx: Context,
        event_id: EventArg,
        keyword: Annotated[str | None, Field(max_length=200)] = None,
        page: PageArg = 1,
        page_size: PageSizeArg = 20,
    ) -> dict[str, Any]:
        """Exhibitors of one event (free). While the event is locked only a preview is shown (`semantics`);
        `unlock` gives the price to unlock it: quote its `quote_action` to unlock."""
        principal = await who(ctx)
        try:
            async with runtime.db.read() as session:
                listed = await list_event_exhibitors(
                    session,
                    principal.account_id,
                    principal.plan_id,
                    event_id,
                    ExhibitorFilters(keyword=keyword),
                    page,
                    page_size,
                    preview_limit=runtime.settings.preview_limit,
                )
                unlock = await _unlock_price(session, principal, event_id, runtime.settings.preview_limit)
                return {**listed, "unlock": unlock}
        except DomainError as exc:
            raise _tool_error(exc) from exc

    @server.tool(title="People of an event", annotations=READ)
    async def list_personnel(
        ctx: Context,
        event_id: EventArg,
        search_query: Annotated[
            str | None, Field(max_length=200, description="Name, title or company words.")
        ] = None,
        page: PageArg = 1,
        page_size: PageSizeArg = 50,
    ) -> dict[str, Any]:
        """People of one event (free; a preview while the event is locked, see `semantics`; `unlock` gives
        the price to unlock it). Emails and phones stay locked until unlocked through a quote."""
        principal = await who(ctx)
        try:
            async with runtime.db.read() as session:
                result = await list_event_personnel(
                    session,
                    principal.account_id,
                    principal.plan_id,
                    event_id,
                    PersonnelFilters(search_query=search_query),
                    page,
                    page_size,
                    preview_limit=runtime.settings.preview_limit,
                    sqlite=runtime.db.is_sqlite,
                )
                unlock = await _unlock_price(session, principal, event_id, runtime.settings.preview_limit)
        except DomainError as exc:
            raise _tool_error(exc) from exc
        return {**result.envelope, "semantics": result.semantics, "unlock": unlock}

    @server.tool(title="Contacts at a company", annotations=READ)
    async def find_contacts(
        ctx: Context,
        company_name: Annotated[str, Field(min_length=1, max_length=200)],
        role: Annotated[
            str | None, Field(max_length=200, description="Title words, e.g. 'marketing director'.")
        ] = None,
        page: PageArg = 1,
        page_size: PageSizeArg = 20,
    ) -> dict[str, Any]:
        """People at a company, optionally by role (free). When the name matches several companies the
        answer is `ambiguous: true` with `candidates` and no people: ask the user which company, then call
        again with its exact name. Emails and phones are locked until unlocked through a quote."""
        principal = await who(ctx)
        async with runtime.db.read() as session:
            items, total = await search_contacts(
                session,
                principal.account_id,
                ContactSearch(company_name=company_name, role=role),
                1,
                100,
                sqlite=runtime.db.is_sqlite,
            )
            names = sorted({str(i.get("companyName") or "") for i in items} - {""})
            exact = [n for n in names if n.strip().lower() == company_name.strip().lower()]
            if len(names) > 1 and not exact:
                return {"ambiguous": True, "candidates": names, "items": [], "total": 0}
            if exact and len(names) > 1:
                query = ContactSearch(company_name=exact[0], role=role)
            else:
                query = ContactSearch(company_name=company_name, role=role)
            items, total = await search_contacts(
                session, principal.account_id, query, page, page_size, sqlite=runtime.db.is_sqlite
            )
            if exact and len(names) > 1:
                items = [i for i in items if str(i.get("companyName") or "").lower() == exact[0].lower()]
        return {"ambiguous": False, **envelope(items, total, page, page_size)}

    @server.tool(title="Unlock task status", annotations=READ)
    async def get_unlock_task(
        ctx: Context,
        task_id: Annotated[
            str, Field(min_length=1, max_length=40, description="The task_id an unlock returned.")
        ],
        kind: Literal["email", "phone"] = "email",
    ) -> dict[str, Any]:
        """Progress of a contact email/phone unlock task: which contacts were found (and charged)."""
        principal = await who(ctx)
        try:
            async with runtime.db.read() as session:
                return (await task_status(session, principal.account_id, kind, task_id)).body()
        except DomainError as exc:
            raise _tool_error(exc) from exc

    @server.tool(name="quote", title="Quote a paid action", description=QUOTE_HELP, annotations=QUOTE)
    async def quote_tool(
        ctx: Context,
        action: Annotated[ActionName, Field(description="The paid action to price.")],
        params: Annotated[
            dict[str, Any],
            Field(
                description="The action's parameters (see the description).",
                json_schema_extra=params_schema(),
            ),
        ],
    ) -> dict[str, Any]:
        principal = await who(ctx)
        try:
            return await quotes.create_quote(runtime.db, runtime.settings, principal, action, params)
        except DomainError as exc:
            raise _tool_error(exc) from exc

    @server.tool(title="Show a quote", annotations=READ)
    async def get_quote(
        ctx: Context, quote_id: Annotated[str, Field(min_length=1, max_length=40)]
    ) -> dict[str, Any]:
        """A quote of this account: price, status (pending, expired, executed) and whether it is approved."""
        principal = await who(ctx)
        try:
            return await quotes.get_quote(runtime.db, principal, quote_id)
        except DomainError as exc:
            raise _tool_error(exc) from exc

    async def ask_for_approval(quote_id: str, ctx: Context) -> Elicit[ApprovalAnswer] | str:
        """Ask the human through the client (never the model) when the quote still needs an approval."""
        if not _elicits_forms(ctx):
            return "no-elicitation"
        principal = await who(ctx)
        try:
            pending = await quotes.needs_human(runtime.db, principal, quote_id)
        except DomainError:
            return "no-question"  # execute_quote reports the error itself
        if pending is None:
            return "no-question"
        return Elicit(_approval_message(pending), ApprovalAnswer)

    @server.tool(
        name="execute_quote", title="Execute an approved quote", description=EXECUTE_HELP, annotations=SPEND
    )
    async def execute_quote_tool(
        ctx: Context,
        quote_id: Annotated[
            str, Field(min_length=1, max_length=40, description="The quote_id from `quote`.")
        ],
        approval: Annotated[ElicitationResult[ApprovalAnswer], Resolve(ask_for_approval)],
    ) -> dict[str, Any]:
        principal = await who(ctx)
        approved = (
            isinstance(approval, AcceptedElicitation)
            and isinstance(approval.data, ApprovalAnswer)
            and approval.data.approve
        )

        async def asked(_quote: dict[str, Any]) -> bool:
            return approved

        try:
            return await quotes.execute_quote(
                runtime.db, runtime.settings, principal, quote_id, ask_user=asked
            )
        except DomainError as exc:
            raise _tool_error(exc) from exc

    return server
