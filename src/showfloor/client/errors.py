"""One exception class per error kind. Every API error carries the HTTP status, the contract's
``errorKey``, its message, the request id (``traceId`` or ``X-Request-ID``) and the raw ``details``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from showfloor.client.models import Quote


class ShowfloorError(Exception):
    """Base class of everything the SDK raises on purpose."""


class Cancelled(ShowfloorError):
    """A ``confirm`` callback declined a paid action; nothing was spent."""

    def __init__(self, quote: Quote) -> None:
        super().__init__(f"cancelled before spending (cost {quote.cost}, balance {quote.balance})")
        self.quote = quote


class TaskTimeout(ShowfloorError):
    """Waiting for an asynchronous task took longer than the caller allowed."""


class APIError(ShowfloorError):
    status: int = 0
    default_key: str = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_key: str | None = None,
        request_id: str | None = None,
        details: Any = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.error_key = error_key or self.default_key
        self.request_id = request_id
        self.details = details
        self.body = body

    def __str__(self) -> str:
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.status} {self.error_key}: {self.message}{rid}"


class APIConnectionError(APIError):
    """The request could not be sent or its answer not read (after the allowed retries)."""

    default_key = "CONNECTION_ERROR"


class APITimeoutError(APIConnectionError):
    default_key = "TIMEOUT"


class BadRequest(APIError):
    status = 400
    default_key = "INVALID_REQUEST"


class UnknownAction(BadRequest):
    """``quote()`` was asked about an action type the server does not know; nothing was sent to spend."""

    default_key = "UNSUPPORTED_ACTION"


class InvalidParameters(BadRequest):
    """``quote()`` (or a ``confirm`` quote) got parameters the action cannot run with."""

    default_key = "INVALID_SUBJECT"


class AuthenticationError(APIError):
    status = 401
    default_key = "INVALID_API_KEY"


class InsufficientCredits(APIError):
    """402: the account cannot pay. Never retried; ``required`` and ``available`` say by how much."""

    status = 402
    default_key = "INSUFFICIENT_CREDITS"

    @property
    def required(self) -> int | None:
        return _int_detail(self.details, "requiredCredits")

    @property
    def available(self) -> int | None:
        return _int_detail(self.details, "availableCredits")


class SpendCapExceeded(InsufficientCredits):
    """402 ``SPEND_CAP_EXCEEDED``: the API key's daily or monthly spend cap refuses the credits (an
    ``InsufficientCredits``, so code catching that keeps working). Not retried: the cap resets with the
    next UTC day or month."""

    default_key = "SPEND_CAP_EXCEEDED"

    @property
    def cap(self) -> int | None:
        return _int_detail(self.details, "cap")

    @property
    def period(self) -> str | None:
        period = self.details.get("period") if isinstance(self.details, dict) else None
        return period if isinstance(period, str) else None

    @property
    def spent(self) -> int | None:
        return _int_detail(self.details, "spent")

    @property
    def required(self) -> int | None:
        return _int_detail(self.details, "required")


class PermissionDenied(APIError):
    status = 403
    default_key = "FORBIDDEN"


class NotFound(APIError):
    status = 404
    default_key = "NOT_FOUND"


class Conflict(APIError):
    status = 409
    default_key = "STATE_CONFLICT"


class Unprocessable(APIError):
    status = 422
    default_key = "UNPROCESSABLE_ENTITY"


class RateLimited(APIError):
    status = 429
    default_key = "RATE_LIMIT_EXCEEDED"


class ServerError(APIError):
    status = 500
    default_key = "INTERNAL_ERROR"


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: AuthenticationError,
    402: InsufficientCredits,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    429: RateLimited,
}


# Error keys with a class of their own, narrower than their status's.
_BY_KEY: dict[str, type[APIError]] = {"SPEND_CAP_EXCEEDED": SpendCapExceeded}


def error_class_for(status: int, error_key: str | None = None) -> type[APIError]:
    if status >= 500:
        return ServerError
    by_key = _BY_KEY.get(error_key or "")
    if by_key is not None and by_key.status == status:
        return by_key
    return _BY_STATUS.get(status, APIError)


def _int_detail(details: Any, key: str) -> int | None:
    if isinstance(details, dict) and isinstance(details.get(key), int | float):
        return int(details[key])
    return None
