"""Client configuration: arguments first, then ``SHOWFLOOR_*`` (or ``LENSMOR_API_KEY``) environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from showfloor.client.errors import ShowfloorError

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2


class ConfigurationError(ShowfloorError):
    """The client cannot be built (e.g. no API key anywhere)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How reads and idempotent paid calls are retried: exponential backoff with jitter."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5  # seconds before the first retry, doubled each time
    max_delay: float = 8.0
    max_retry_after: float = 60.0  # a longer Retry-After is not honoured; backoff is used instead


@dataclass(frozen=True)
class ClientConfig:
    """The resolved configuration of a client: key, URL, timeout, retry policy, headers."""

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    call_source: str | None = None  # sent as x-call-source ("api" or "agent")
    extra_headers: tuple[tuple[str, str], ...] = ()  # sent with every request (per-call options too)


def resolve_config(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    timeout: float | None = None,
    max_retries: int | None = None,
    call_source: str | None = None,
    retry: RetryPolicy | None = None,
    env: Mapping[str, str] | None = None,
) -> ClientConfig:
    env = os.environ if env is None else env
    key = api_key or env.get("SHOWFLOOR_API_KEY") or env.get("LENSMOR_API_KEY")
    if not key:
        raise ConfigurationError(
            "no API key: pass api_key=, use --api-key, or set SHOWFLOOR_API_KEY (or LENSMOR_API_KEY)"
        )
    url = (base_url or env.get("SHOWFLOOR_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    policy = retry or RetryPolicy()
    if max_retries is not None:
        policy = RetryPolicy(max_retries, policy.initial_delay, policy.max_delay, policy.max_retry_after)
    return ClientConfig(
        api_key=key,
        base_url=url,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        retry=policy,
        call_source=call_source,
    )
