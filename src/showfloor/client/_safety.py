"""The credit-safe pattern: quote (precheck + balance) and a ``confirm`` gate before any spend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from showfloor.client._transport import Context, Op
from showfloor.client.errors import Cancelled
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

Confirm = Callable[[Quote], bool]


def quote(ctx: Context, /, action_type: str, **params: Any) -> Op[Quote]:
    """What ``action_type`` would cost now, with the current total balance. Spends nothing. Every price
    comes from the server's precheck (the account's plan), never from a table in the SDK."""
    balance = (yield from credits.balance(ctx)).totalBalance
    pre = yield from actions.precheck(ctx, action_type, params)
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
    """With a ``confirm`` callback: quote, ask, and raise ``Cancelled`` on no — before anything paid is sent."""
    if confirm is None:
        return None
    q = yield from quote(ctx, action_type, **params)
    if not confirm(q):
        raise Cancelled(q)
    return q
