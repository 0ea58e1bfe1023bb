"""Errors of the paid actions.

Most are ordinary ``DomainError``s (mapped to an HTTP status by ``api/errors.py``). ``BusinessError``s
are the reference's HTTP-200 business-error envelopes: the HTTP status is 200 and the body's ``code``
carries the business status (400 for ``USER_HAS_NO_FEATURE``, 429 for the concurrency cap).
"""

from __future__ import annotations

from typing import Any

from showfloor.server.errors import DomainError


class BusinessError(DomainError):
    body_code: int = 400
    # The concurrency envelope has exactly six keys, ``data`` and ``details`` both null.
    null_data_and_details: bool = False

    def body(self, trace_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.body_code, "message": self.message, "errorKey": self.code}
        if self.null_data_and_details:
            body["data"] = None
            body["details"] = None
        body["traceId"] = trace_id
        return body


class FeatureUnavailable(BusinessError):
    """The account has no active subscription (``USER_HAS_NO_FEATURE``, HTTP 200, body code 400)."""

    code = "USER_HAS_NO_FEATURE"
    default_message = "This feature is not available to free users, please upgrade to continue"
    body_code = 400


class ConcurrencyLimitExceeded(BusinessError):
    code = "USER_CONCURRENCY_LIMIT_EXCEEDED"
    default_message = "Too many concurrent requests for this endpoint"
    body_code = 429
    null_data_and_details = True


class NoContactsAvailable(DomainError):
    code = "NO_CONTACTS_AVAILABLE"
    default_message = "No chargeable event contacts are available for this event"


class EventNotUnlocked(DomainError):
    code = "EVENT_NOT_UNLOCKED"
    default_message = "Unlock the event (base access) before unlocking its visitor layer"


class VisitorDataNotAvailable(DomainError):
    code = "VISITOR_DATA_NOT_AVAILABLE"
    default_message = "No visitor data is available for this event"


# The most people one request may select (contact unlocks, LinkedIn activity, their precheck).
MAX_SELECTION = 2000


class SelectionLimitExceeded(DomainError):
    """More than ``MAX_SELECTION`` people in one request (the reference's 422)."""

    code = "LEAD_SELECTION_LIMIT_EXCEEDED"

    def __init__(self, requested: int) -> None:
        super().__init__(
            f"Selected leads limit exceeded: requested {requested}, limit {MAX_SELECTION}",
            requestedCount=requested,
            limit=MAX_SELECTION,
            selectionMode="selected",
        )


def check_selection(requested: int) -> None:
    if requested > MAX_SELECTION:
        raise SelectionLimitExceeded(requested)
