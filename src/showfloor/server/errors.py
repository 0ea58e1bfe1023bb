"""Domain errors: a stable string code (the reference's ``errorKey``), never an HTTP status.

``showfloor.server.api.errors`` maps each code to a status and the reference's error body.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code: str = "INVALID_REQUEST"
    default_message: str = "Invalid request"

    def __init__(self, message: str | None = None, *, code: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] | None = details or None
        self.headers: dict[str, str] | None = None
        super().__init__(self.message)


class InvalidRequest(DomainError):
    code = "INVALID_REQUEST"
    default_message = "Invalid request"


class Unauthorized(DomainError):
    code = "INVALID_API_KEY"
    default_message = "Invalid API key"


class InsufficientCredits(DomainError):
    """The account cannot pay. ``details`` carries ``requiredCredits`` and ``availableCredits``."""

    code = "INSUFFICIENT_CREDITS"
    default_message = "Insufficient credits"

    def __init__(self, required: int, available: int, message: str | None = None, **extra: Any) -> None:
        super().__init__(
            message or f"Insufficient credits: {required} required, {available} available",
            requiredCredits=required,
            availableCredits=available,
            **extra,
        )
        self.required = required
        self.available = available


class SpendCapExceeded(DomainError):
    """The API key's spend cap for a period would be exceeded (docs/spend-controls.md). ``details``:
    ``cap``, ``period`` (``day`` | ``month``), ``spent`` (in the period so far), ``required``."""

    code = "SPEND_CAP_EXCEEDED"
    default_message = "Spend cap exceeded"

    def __init__(self, cap: int, period: str, spent: int, required: int) -> None:
        super().__init__(
            f"Spend cap exceeded: this API key may spend {cap} credits per {period}, "
            f"{spent} spent, {required} required",
            cap=cap,
            period=period,
            spent=spent,
            required=required,
        )
        self.cap = cap
        self.period = period
        self.spent = spent
        self.required = required


class Forbidden(DomainError):
    code = "NO_ACTIVE_SUBSCRIPTION"
    default_message = "An active paid subscription is required"


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "Resource not found"


class Conflict(DomainError):
    code = "STATE_CONFLICT"
    default_message = "The request conflicts with the current state"


class Unprocessable(DomainError):
    code = "UNPROCESSABLE_ENTITY"
    default_message = "Unprocessable request"


class RateLimited(DomainError):
    code = "RATE_LIMIT_EXCEEDED"
    default_message = "Rate limit exceeded"

    def __init__(self, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__()
        self.headers = {**headers, "Retry-After": str(retry_after)}
