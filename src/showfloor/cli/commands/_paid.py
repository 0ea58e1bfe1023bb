"""What paid commands share: numbers as people read them, the default prices their ``--help`` states, and
a quote (the server's precheck and the balance) put into words."""

from __future__ import annotations

from typing import Any

from showfloor.client import Quote

# The default price table (credits), for --help only: what is charged is the account's plan price, which
# the commands quote from the server before spending. tests/cli keep this equal to the server's table.
DEFAULT_PRICES: dict[str, int] = {
    "event_unlock": 2000,
    "visitor_unlock": 3000,
    "contact_email": 15,
    "contact_phone": 150,
    "exhibitor_company_search": 50,
    "exhibitor_event_search": 50,
    "personnel_events_by_name": 50,
}


def n(value: int | None) -> str:
    """A count or an amount with thousands separators (``2,000``); empty for ``None``."""
    return "" if value is None else f"{value:,}"


def price_help(action: str, per: str = "") -> str:
    """``Costs 2,000 credits (default price; see `showfloor quote`).`` for a command's help."""
    each = f" per {per}" if per else ""
    return f"Costs {n(DEFAULT_PRICES[action])} credits{each} (default price; `showfloor quote` shows yours)."


# The precheck's reason codes in words (a refusal says what to do about it).
REASONS: dict[str, str] = {
    "ok": "allowed",
    "already_unlocked": "already unlocked: no charge",
    "not_found": "not found",
    "forbidden": "not included in your plan",
    "state_conflict": "the event must be unlocked first (`showfloor unlock event ID`)",
    "no_contacts_available": "nothing to unlock: no contacts are available",
    "invalid_subject": "invalid request",
    "exceed_max_unlock_limit": "too many ids: at most 2,000 at once",
    "unsupported_action": "this action cannot be quoted",
}


def reason_words(quote: Quote) -> str:
    """The quote's verdict in words: ``costs 2,000; you have 100`` when the balance is short."""
    if quote.reason == "insufficient_balance" or (quote.should_charge and quote.cost > quote.balance):
        return f"costs {n(quote.cost)}; you have {n(quote.balance)}"
    words = REASONS.get(quote.reason, quote.reason.replace("_", " "))
    message = quote.detail.get("message")
    return f"{words}: {message}" if message and quote.reason != "ok" else words


def charge_words(quote: Quote) -> str:
    """What the action would charge: ``75 credits (5 × 15)``, ``no charge``, ``50 credits if found``."""
    if not quote.should_charge or quote.cost == 0:
        return "no charge" if quote.allowed else "nothing (refused)"
    unit, count = quote.detail.get("unit_credits"), quote.detail.get("chargeable_count")
    text = f"{n(quote.cost)} credits"
    if isinstance(unit, int) and isinstance(count, int):
        text += f" ({n(count)} × {n(unit)})"
    if quote.detail.get("charged_only_when_non_empty"):
        text += ", only if something is found"
    if quote.detail.get("charged_per_delivered", quote.action_type.startswith("unlock_contact")):
        text += ", at most: only delivered contacts are charged"
    return text


def chargeable(quote: Quote) -> int | None:
    count = quote.detail.get("chargeable_count")
    if isinstance(count, int):
        return count
    return 1 if quote.should_charge else 0


def quote_json(quote: Quote, target: str) -> dict[str, Any]:
    return {
        "target": target,
        "actionType": quote.action_type,
        "allowed": quote.allowed,
        "shouldCharge": quote.should_charge,
        "credits": quote.cost,
        "unitCredits": quote.detail.get("unit_credits"),
        "chargeableCount": chargeable(quote),
        "balance": quote.balance,
        "reasonCode": quote.reason,
        "reason": reason_words(quote),
        "detail": quote.detail,
    }
