"""``POST /external/actions/precheck``: what an action would do now, without doing it (read-only).

Every paid action answers from the same ``decide_*`` function its execution path uses, on the same
state, so ``allowed``/``should_charge``/``credits``/``reason_code`` match execution at that moment.
Searches are quoted for a non-empty result (the reference's rule: execution charges only when the
page returned has results).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.access.unlock import (
    EventState,
    decide_base,
    decide_full,
    decide_visitor,
    load_event_state,
)
from showfloor.server.catalog.identifiers import resolve_event
from showfloor.server.errors import InvalidRequest, NotFound
from showfloor.server.ledger import spend_caps
from showfloor.server.ledger.pricing import Action
from showfloor.server.ledger.service import Wallet, open_wallet
from showfloor.server.lookups.service import decide_search
from showfloor.server.paid.decision import (
    EXCEED_MAX_UNLOCK_LIMIT,
    FORBIDDEN,
    INVALID_SUBJECT,
    NOT_FOUND,
    OK,
    UNSUPPORTED_ACTION,
    Decision,
    biz_code,
    with_funds,
)
from showfloor.server.paid.errors import MAX_SELECTION
from showfloor.server.unlocks.linkedin import decide_linkedin, plan_linkedin
from showfloor.server.unlocks.service import PRICE_ACTION, decide_unlock, plan_unlock

MAX_NAME_LENGTH = 200


def _text_param(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


def _answer(action_type: str, decision: Decision) -> dict[str, Any]:
    return {
        "ok": True,
        "action_type": action_type,
        "allowed": decision.allowed,
        "should_charge": decision.should_charge,
        "credits": decision.credits,
        "reason_code": decision.reason_code,
        "biz_code": decision.biz_code,
        "detail": decision.detail,
    }


class _Precheck:
    def __init__(
        self,
        session: AsyncSession,
        account_id: int,
        call_source: str,
        preview_limit: int,
        api_key_id: int | None = None,
    ) -> None:
        self.session = session
        self.account_id = account_id
        self.call_source = call_source
        self.preview_limit = preview_limit
        self.api_key_id = api_key_id
        self.now = datetime.now(UTC)

    async def wallet(self) -> Wallet:
        return await open_wallet(self.session, self.account_id, self.now, lock=False)

    async def with_funds(self, decision: Decision, wallet: Wallet) -> Decision:
        """``paid.decision.with_funds`` with the spend caps of the caller's key (read only when needed)."""
        if not decision.should_charge or not wallet.can_pay(decision.credits):
            return with_funds(decision, wallet)
        return with_funds(decision, wallet, await spend_caps.uses(self.session, self.api_key_id, self.now))

    async def _event(self, params: dict[str, Any], decide: Callable[[EventState], Decision]) -> Decision:
        ref = _text_param(params, "event_id")
        if ref is None:
            return Decision(False, 0, INVALID_SUBJECT, detail={"message": "params.event_id is required"})
        try:
            state = await load_event_state(self.session, self.account_id, ref, self.now, lock=False)
        except NotFound:
            return Decision(False, 0, NOT_FOUND, detail={"event_id": ref})
        return await self.with_funds(decide(state), state.wallet)

    async def query_event_personnel(self, params: dict[str, Any]) -> Decision:
        def decide(state: EventState) -> Decision:
            full = state.base_unlocked
            detail = {
                "event_id": state.event.event_id,
                "access_mode": "full" if full else "preview",
                "preview_limit": None if full else self.preview_limit,
                "unlock_action_type": None if full else "unlock_event_contacts",
                "unlock_credits": 0 if full else state.base_price,
            }
            return Decision(True, 0, OK, "", detail)

        return await self._event(params, decide)

    async def unlock_event_contacts(self, params: dict[str, Any]) -> Decision:
        def decide(state: EventState) -> Decision:
            d = decide_base(state, self.call_source)
            detail = {
                "event_id": state.event.event_id,
                "event_unlocked": state.base_unlocked,
                "contacts_available": state.has_contacts,
                "event_access_credits": state.base_price,
                "available_balance": state.wallet.available,
            }
            return Decision(d.allowed, d.credits, d.reason_code, d.biz_code, detail)

        return await self._event(params, decide)

    async def unlock_event_visitors(self, params: dict[str, Any]) -> Decision:
        return await self._event(params, lambda s: decide_visitor(s, self.call_source))

    async def unlock_event_full_access(self, params: dict[str, Any]) -> Decision:
        return await self._event(params, lambda s: decide_full(s, self.call_source))

    async def _contacts(self, params: dict[str, Any], kind: str) -> Decision:
        """The submission's own plan and decision (``unlocks.service``), without submitting."""
        raw = params.get("personnel_ids")
        code = biz_code(PRICE_ACTION[kind], self.call_source)
        if not isinstance(raw, list) or not raw:
            return Decision(False, 0, INVALID_SUBJECT, code, {"message": "params.personnel_ids is required"})
        if len(raw) > MAX_SELECTION:
            too_many = {"requestedCount": len(raw), "limit": MAX_SELECTION}
            return Decision(False, 0, EXCEED_MAX_UNLOCK_LIMIT, code, too_many)
        ref = _text_param(params, "event_id")
        try:
            plan = await plan_unlock(self.session, self.account_id, kind, [str(p) for p in raw], ref)
        except InvalidRequest as error:
            return Decision(False, 0, INVALID_SUBJECT, code, {"message": error.message})
        except NotFound as error:
            missing = {"message": error.message} | ({} if ref is None else {"event_id": ref})
            return Decision(False, 0, NOT_FOUND, code, missing)
        wallet = await self.wallet()
        return await self.with_funds(decide_unlock(plan, wallet, self.call_source), wallet)

    async def unlock_contact_emails(self, params: dict[str, Any]) -> Decision:
        return await self._contacts(params, "email")

    async def unlock_contact_phones(self, params: dict[str, Any]) -> Decision:
        return await self._contacts(params, "phone")

    async def search_exhibitor_events(self, params: dict[str, Any]) -> Decision:
        if "company_name" in params and _text_param(params, "company_name") is None:
            return Decision(False, 0, INVALID_SUBJECT, detail={"message": "params.company_name is blank"})
        wallet = await self.wallet()
        d = decide_search(Action.EXHIBITOR_EVENT_SEARCH, self.call_source, wallet.prices)
        return _with_detail(await self.with_funds(d, wallet), {"charged_only_when_non_empty": True})

    async def search_exhibitors_by_company_name(self, params: dict[str, Any]) -> Decision:
        """Our extension (docs/compatibility.md): the contract has no precheck type for company search."""
        if "company_name" in params and _text_param(params, "company_name") is None:
            return Decision(False, 0, INVALID_SUBJECT, detail={"message": "params.company_name is blank"})
        wallet = await self.wallet()
        d = decide_search(Action.EXHIBITOR_COMPANY_SEARCH, self.call_source, wallet.prices)
        return _with_detail(await self.with_funds(d, wallet), {"charged_only_when_non_empty": True})

    async def search_personnel_events_by_name(self, params: dict[str, Any]) -> Decision:
        name = _text_param(params, "person_name")
        if name is None or len(name) > MAX_NAME_LENGTH:
            msg = f"params.person_name must be 1 to {MAX_NAME_LENGTH} characters"
            return Decision(False, 0, INVALID_SUBJECT, detail={"message": msg})
        wallet = await self.wallet()
        action = Action.PERSONNEL_EVENTS_BY_NAME
        d = await self.with_funds(
            decide_search(action, self.call_source, wallet.prices, subscribed=wallet.subscribed), wallet
        )
        detail = {
            "person_name": name,
            "date_start_from": params.get("date_start_from"),
            "date_start_to": params.get("date_start_to"),
            "charged_only_when_non_empty": True,
        }
        return _with_detail(d, detail)

    # Priced for agent quotes only (``price``): the precheck endpoint's action types do not name them.
    async def search_exhibitor_companies(self, params: dict[str, Any]) -> Decision:
        if _text_param(params, "company_name") is None:
            return Decision(False, 0, INVALID_SUBJECT, detail={"message": "params.company_name is required"})
        wallet = await self.wallet()
        d = decide_search(Action.EXHIBITOR_COMPANY_SEARCH, self.call_source, wallet.prices)
        return _with_detail(await self.with_funds(d, wallet), {"charged_only_when_non_empty": True})

    async def unlock_linkedin_activity(self, params: dict[str, Any]) -> Decision:
        raw = params.get("personnel_ids")
        code = biz_code(Action.LINKEDIN_ACTIVITY, self.call_source)
        if not isinstance(raw, list) or not raw:
            return Decision(False, 0, INVALID_SUBJECT, code, {"message": "params.personnel_ids is required"})
        if len(raw) > MAX_SELECTION:
            too_many = {"requestedCount": len(raw), "limit": MAX_SELECTION}
            return Decision(False, 0, EXCEED_MAX_UNLOCK_LIMIT, code, too_many)
        ref = _text_param(params, "event_id")
        try:
            event = await resolve_event(self.session, ref) if ref is not None else None
        except NotFound:
            return Decision(False, 0, NOT_FOUND, code, {"event_id": ref})
        wallet = await self.wallet()
        items, new_rows = await plan_linkedin(
            self.session, self.account_id, [str(p) for p in raw], event, self.now
        )
        detail = {
            "new_count": len(new_rows),
            "items": items,
            "unit_credits": wallet.prices[Action.LINKEDIN_ACTIVITY],
        }
        return _with_detail(
            await self.with_funds(decide_linkedin(wallet, len(new_rows), self.call_source), wallet), detail
        )

    async def integration(self, params: dict[str, Any]) -> Decision:
        # No CRM integration can be connected on this server: the integration actions are never allowed.
        return Decision(False, 0, FORBIDDEN, detail={"integration_connected": False})

    async def others(self, params: dict[str, Any]) -> Decision:
        return Decision(True, 0, OK)


def _with_detail(decision: Decision, detail: dict[str, Any]) -> Decision:
    """``decision`` with the action's own ``detail``: a spend cap refusal keeps its ``spend_cap``, and
    ``error`` stays (agent quotes raise it for a refusal)."""
    capped = {k: v for k, v in decision.detail.items() if k == "spend_cap"}
    return replace(decision, detail=detail | capped)


Handler = Callable[[_Precheck, dict[str, Any]], Awaitable[Decision]]
HANDLERS: dict[str, Handler] = {
    "query_event_personnel": _Precheck.query_event_personnel,
    "unlock_event_contacts": _Precheck.unlock_event_contacts,
    "unlock_event_visitors": _Precheck.unlock_event_visitors,
    "unlock_event_full_access": _Precheck.unlock_event_full_access,
    "unlock_contact_emails": _Precheck.unlock_contact_emails,
    "unlock_contact_phones": _Precheck.unlock_contact_phones,
    "search_exhibitor_events": _Precheck.search_exhibitor_events,
    "search_personnel_events_by_name": _Precheck.search_personnel_events_by_name,
    "search_exhibitors_by_company_name": _Precheck.search_exhibitors_by_company_name,
    "integration_status": _Precheck.integration,
    "integration_export_contacts": _Precheck.integration,
    "integration_export_exhibitors": _Precheck.integration,
    "others": _Precheck.others,
}


# Agent quotes (``showfloor.server.agents``) price every paid action: the precheck's handlers and these.
QUOTE_HANDLERS: dict[str, Handler] = {
    **HANDLERS,
    "search_exhibitor_companies": _Precheck.search_exhibitor_companies,
    "unlock_linkedin_activity": _Precheck.unlock_linkedin_activity,
}


async def price(
    session: AsyncSession,
    account_id: int,
    action_type: str,
    params: dict[str, Any],
    call_source: str,
    preview_limit: int,
) -> Decision:
    """The decision behind a precheck answer, for any paid action (agent quotes re-use it, so a quote and
    the precheck never disagree)."""
    handler = QUOTE_HANDLERS.get(action_type)
    if handler is None:
        return Decision(False, 0, UNSUPPORTED_ACTION)
    return await handler(_Precheck(session, account_id, call_source, preview_limit), params)


async def precheck(
    session: AsyncSession,
    account_id: int,
    action_type: str,
    params: dict[str, Any],
    call_source: str,
    preview_limit: int,
    api_key_id: int | None = None,
) -> dict[str, Any]:
    """``api_key_id``: the caller's key, whose spend caps the answer includes (None: no key's caps)."""
    normalized = action_type.strip().lower()
    handler = HANDLERS.get(normalized)
    if handler is None:
        return _answer(normalized, Decision(False, 0, UNSUPPORTED_ACTION))
    checker = _Precheck(session, account_id, call_source, preview_limit, api_key_id)
    decision = await handler(checker, params)
    return _answer(normalized, decision)
