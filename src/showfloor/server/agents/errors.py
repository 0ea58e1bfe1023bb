"""Errors of the agent quote flow: stable codes an agent can act on (``api/errors.py`` maps the status)."""

from __future__ import annotations

from typing import Any

from showfloor.server.errors import DomainError


class McpOnlyKey(DomainError):
    code = "KEY_SCOPE_MCP_ONLY"
    default_message = (
        "This API key may spend only through the MCP server (/mcp); its paid REST routes are closed"
    )


class QuoteNotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "Quote not found"


class QuoteExpired(DomainError):
    code = "QUOTE_EXPIRED"
    default_message = "The quote has expired; ask for a new quote"


class QuoteOfAnotherKey(DomainError):
    code = "QUOTE_OF_ANOTHER_KEY"
    default_message = "A quote can be executed only with the API key that asked for it"


class SelfApproval(DomainError):
    code = "SELF_APPROVAL_FORBIDDEN"
    default_message = "A key can never approve its own quotes; approve with another key of the account"


class QuoteAlreadyExecuted(DomainError):
    code = "QUOTE_ALREADY_EXECUTED"
    default_message = "The quote was already executed"


class QuoteRefused(DomainError):
    code = "QUOTE_REFUSED"
    default_message = "The account owner refused this quote; it can never be executed. Ask for a new quote"


class ActionRefused(DomainError):
    """The action cannot run (not a matter of funds or approval): no quote is stored."""

    code = "ACTION_NOT_ALLOWED"
    default_message = "The action is not allowed"


class ApprovalRequired(DomainError):
    code = "APPROVAL_REQUIRED"
    default_message = "This quote needs the user's approval before it can be executed; nothing was spent"

    def __init__(self, quote_id: str, how: list[str], reason: str, **extra: Any) -> None:
        super().__init__(
            f"Approval required for quote {quote_id} ({reason}); nothing was spent. " + " ".join(how),
            quote_id=quote_id,
            reason=reason,
            how_to_approve=how,
            **extra,
        )


class QuoteRepriced(DomainError):
    """Execution found a higher price or a balance short of it: nothing charged, a new quote offered."""

    code = "QUOTE_REPRICED"
    default_message = "The price or the balance changed since the quote; nothing was charged"

    def __init__(self, message: str, new_quote: dict[str, Any], **extra: Any) -> None:
        super().__init__(message, new_quote=new_quote, **extra)
        self.new_quote = new_quote
