"""The credit-safe pattern: quote (precheck + balance) and a ``confirm`` gate before any spend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from showfloor.client._transport import Context, Op
from showfloor.client.errors import (
    APIError,
    BadRequest,
    Cancelled,
    Conflict,
    InsufficientCredits,
    InvalidParameters,
    NotFound,
    PermissionDenied,
    UnknownAction,
    Unprocessable,
)
from showfloor.client.models import Quote
from showfloor.client.resources import actions, credits

UNLOCK_EVENT = "unlock_event_contacts"
UNLOCK_VISITORS = "unlock_event_visitors"
UNLOCK_FULL_ACCESS = "unlock_event_full_access"
UNLOCK_CONTACT_EMAILS = "unlock_contact_emails"
UNLOCK_CONTACT_PHONES = "unlock_contact_phones"
SEARCH_EXHIBITOR_EVENTS = "search_exhibitor_events"
SEARCH_PERSONNEL_EVENTS_BY_NAME = "search_personnel_events_by_name"
# The contract has no precheck type for company search; this server answers it (an extension).
SEARCH_COMPANY = "search_exhibitors_by_company_name"

# The parameters each action is quoted with; a name outside its set is a typo caught before any call.
ACTION_PARAMS: dict[str, frozenset[str]] = {
    UNLOCK_EVENT: frozenset({"event_id"}),
    UNLOCK_VISITORS: frozenset({"event_id"}),
    UNLOCK_FULL_ACCESS: frozenset({"event_id"}),
    UNLOCK_CONTACT_EMAILS: frozenset({"personnel_ids", "event_id"}),
    UNLOCK_CONTACT_PHONES: frozenset({"personnel_ids", "event_id"}),
    SEARCH_PERSONNEL_EVENTS_BY_NAME: frozenset({"person_name", "date_start_from", "date_start_to"}),
    SEARCH_COMPANY: frozenset({"company_name"}),
}

Confirm = Callable[[Quote], bool]

# What execution would raise for a precheck refusal (the server's own mapping of reason to status).
_REFUSALS: dict[str, tuple[type[APIError], str]] = {
    "not_found": (NotFound, "NOT_FOUND"),
    "forbidden": (PermissionDenied, "FEATURE_UNAVAILABLE"),
    "state_conflict": (Conflict, "STATE_CONFLICT"),
    "no_contacts_available": (BadRequest, "NO_CONTACTS_AVAILABLE"),
    "exceed_max_unlock_limit": (Unprocessable, "EXCEED_MAX_UNLOCK_LIMIT"),
    "invalid_subject": (InvalidParameters, "INVALID_SUBJECT"),
    "unsupported_action": (UnknownAction, "UNSUPPORTED_ACTION"),
}


def refusal_error(q: Quote) -> APIError:
    """The typed error matching a quote that cannot proceed (``allowed=False``)."""
    message = str(q.detail.get("message") or f"{q.action_type} cannot proceed: {q.reason}")
    if q.reason == "insufficient_balance":
        return InsufficientCredits(
            f"this costs {q.cost} credits and {q.balance} are available",
            details={"requiredCredits": q.cost, "availableCredits": q.balance},
        )
    cls, key = _REFUSALS.get(q.reason, (APIError, q.reason.upper() or "REFUSED"))
    return cls(message, error_key=key, details=q.detail)


def _check_params(action_type: str, params: dict[str, Any]) -> None:
    allowed = ACTION_PARAMS.get(action_type)
    unknown = sorted(set(params) - allowed) if allowed is not None else []
    if unknown:
        raise InvalidParameters(
            f"{action_type} takes {', '.join(sorted(allowed or ()))}; unknown: {', '.join(unknown)}",
            details={"unknown": unknown},
        )


def quote(ctx: Context, /, action_type: str, **params: Any) -> Op[Quote]:
    """What ``action_type`` would cost now, with the current total balance. Spends nothing. Every price
    comes from the server's precheck (the account's plan), never from a table in the SDK.

    Raises ``UnknownAction`` for an action type the server does not know and ``InvalidParameters``
    for parameters the action cannot run with; any other refusal is a quote with ``allowed=False``.
    """
    _check_params(action_type, params)
    if action_type == SEARCH_COMPANY and not str(params.get("company_name") or "").strip():
        raise InvalidParameters("company_name is required", details={"param": "company_name"})
    balance = (yield from credits.balance(ctx)).totalBalance
    pre = yield from actions.precheck(ctx, action_type, params)
    if pre.reason_code in ("unsupported_action", "invalid_subject"):
        cls, key = _REFUSALS[pre.reason_code]
        message = str(pre.detail.get("message") or f"unknown action type {action_type!r}")
        raise cls(message, error_key=key, details=pre.detail)
    return Quote(
        action_type=pre.action_type or action_type,
        allowed=pre.allowed,
        should_charge=pre.should_charge,
        cost=pre.credits,
        balance=balance,
        reason=pre.reason_code,
        detail=pre.detail,
    )


def guard(ctx: Context, confirm: Confirm | None, action_type: str, **params: Any) -> Op[Quote | None]:
    """With a ``confirm`` callback: quote, ask, and raise ``Cancelled`` on no — before anything paid is sent.

    A quote that cannot proceed (``allowed=False``) is never shown to ``confirm``: the error execution
    would answer (``InsufficientCredits``, ``NotFound`` …) is raised instead, and nothing is sent."""
    if confirm is None:
        return None
    q = yield from quote(ctx, action_type, **params)
    if not q.allowed:
        raise refusal_error(q)
    if not confirm(q):
        raise Cancelled(q)
    return q
