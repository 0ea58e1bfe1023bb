"""Showfloor Python SDK: typed sync and async clients that make the credit-safe pattern the easy path.

    from showfloor.client import Client
    client = Client()  # SHOWFLOOR_API_KEY, SHOWFLOOR_BASE_URL
    for event in client.events.iter(keyword="expo"):
        ...

This package imports nothing from ``showfloor.server``.
"""

from showfloor.client._client import AsyncClient, Client
from showfloor.client._config import DEFAULT_BASE_URL, ClientConfig, ConfigurationError, RetryPolicy
from showfloor.client._reconcile import ReconciliationReport
from showfloor.client._safety import (
    SEARCH_COMPANY,
    SEARCH_EXHIBITOR_EVENTS,
    SEARCH_PERSONNEL_EVENTS_BY_NAME,
    UNLOCK_CONTACT_EMAILS,
    UNLOCK_CONTACT_PHONES,
    UNLOCK_EVENT,
    UNLOCK_FULL_ACCESS,
    UNLOCK_VISITORS,
)
from showfloor.client.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequest,
    Cancelled,
    Conflict,
    InsufficientCredits,
    InvalidParameters,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ShowfloorError,
    SpendCapExceeded,
    TaskTimeout,
    UnknownAction,
    Unprocessable,
)

# Preview truncation (a locked event's lists): the typed signal of Page.truncation and iter().
from showfloor.client.models import CreditActivity, PreviewTruncation, Quote
from showfloor.client.pagination import PreviewTruncated
from showfloor.client.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "DEFAULT_BASE_URL",
    "SEARCH_COMPANY",
    "SEARCH_EXHIBITOR_EVENTS",
    "SEARCH_PERSONNEL_EVENTS_BY_NAME",
    "UNLOCK_CONTACT_EMAILS",
    "UNLOCK_CONTACT_PHONES",
    "UNLOCK_EVENT",
    "UNLOCK_FULL_ACCESS",
    "UNLOCK_VISITORS",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequest",
    "Cancelled",
    "Client",
    "ClientConfig",
    "ConfigurationError",
    "Conflict",
    "CreditActivity",
    "InsufficientCredits",
    "InvalidParameters",
    "NotFound",
    "PermissionDenied",
    "PreviewTruncated",
    "PreviewTruncation",
    "Quote",
    "RateLimited",
    "ReconciliationReport",
    "RetryPolicy",
    "ServerError",
    "ShowfloorError",
    "SpendCapExceeded",
    "TaskTimeout",
    "UnknownAction",
    "Unprocessable",
    "WebhookVerificationError",
    "verify_webhook",
]
