"""The one request core shared by ``Client`` and ``AsyncClient``.

Everything that decides something — building the request, whether and when to retry, which error to
raise, how to parse — is pure code here, written once. An operation is a generator that yields two
kinds of actions, ``Send(request)`` and ``Sleep(seconds)``; the sync and async drivers at the bottom
only perform those two actions. So the retry loop, the idempotency key and composite operations
(quote, unlock-and-wait) exist exactly once.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

import httpx

from showfloor.client._config import ClientConfig, RetryPolicy
from showfloor.client.errors import APIConnectionError, APIError, APITimeoutError, error_class_for

T = TypeVar("T")
RetryMode = Literal["safe", "refused_only"]
USER_AGENT = "showfloor-python"
# A paid POST whose first attempt is still running on the server: wait and ask again, same key.
RETRYABLE_CONFLICTS = frozenset({"IDEMPOTENCY_KEY_IN_USE"})


@dataclass(frozen=True)
class RequestSpec(Generic[T]):
    """One API call, described as data. ``paid`` calls carry an ``Idempotency-Key``.

    ``retry="safe"``: retried on connection errors, timeouts, 429 and 5xx (reads, and paid POSTs
    protected by their idempotency key). ``retry="refused_only"``: retried only when the server
    surely did no work (connection never made, 429) — for paid calls the server may not deduplicate.
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    paid: bool = False
    retry: RetryMode = "safe"
    call_source: str | None = None


@dataclass(frozen=True)
class Send:
    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    seconds: float


Action = Send | Sleep
Outcome = httpx.Response | httpx.TransportError
Op = Generator[Action, Any, T]


@dataclass
class Context:
    """What operations need besides the network: config, and injectable randomness and clock."""

    config: ClientConfig
    new_key: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))
    random: Callable[[], float] = field(default=random.random)
    monotonic: Callable[[], float] = field(default=time.monotonic)

    def with_options(
        self,
        *,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Context:
        """A copy for one call (or a ``with_options`` client): a caller's idempotency key is used for
        the paid request instead of a fresh one, so a process that crashed can resume the same call."""
        config = self.config
        if timeout is not None:
            config = replace(config, timeout=timeout)
        if extra_headers:
            config = replace(config, extra_headers=(*config.extra_headers, *extra_headers.items()))
        new_key = self.new_key if idempotency_key is None else (lambda: idempotency_key)
        return replace(self, config=config, new_key=new_key)


# -- building ---------------------------------------------------------------------------------


def _clean(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (mapping or {}).items() if v is not None}


def build_request(config: ClientConfig, spec: RequestSpec[Any], idempotency_key: str | None) -> httpx.Request:
    headers = {
        "Authorization": f"Bearer {config.api_key}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    call_source = spec.call_source or config.call_source
    if call_source:
        headers["x-call-source"] = call_source
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    headers.update(config.extra_headers)
    body = _clean(spec.json) if isinstance(spec.json, Mapping) else spec.json
    timeout = httpx.Timeout(config.timeout)
    return httpx.Request(
        spec.method,
        config.base_url + spec.path,
        params=_clean(spec.params),
        json=body if spec.method != "GET" else None,
        headers=headers,
        extensions={"timeout": timeout.as_dict()},
    )


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorInfo:
    status: int
    error_key: str | None
    message: str
    request_id: str | None
    details: Any
    body: Any


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def error_info(response: httpx.Response) -> ErrorInfo | None:
    """``None`` for a success. HTTP-200 business errors (``USER_HAS_NO_FEATURE``,
    ``USER_CONCURRENCY_LIMIT_EXCEEDED``) count as errors with the status their body's ``code`` gives."""
    body = _json(response)
    status = response.status_code
    if status < 400:
        is_business_error = (
            isinstance(body, dict)
            and isinstance(body.get("errorKey"), str)
            and isinstance(body.get("code"), int)
            and body["code"] >= 400
        )
        if not is_business_error:
            return None
        status = int(body["code"])
    fields = body if isinstance(body, dict) else {}
    message = fields.get("message") or response.reason_phrase or "request failed"
    request_id = fields.get("traceId") or response.headers.get("x-request-id")
    return ErrorInfo(
        status=status,
        error_key=fields.get("errorKey"),
        message=str(message),
        request_id=request_id,
        details=fields.get("details"),
        body=body if body is not None else response.text[:500],
    )


def to_exception(info: ErrorInfo) -> APIError:
    cls = error_class_for(info.status, info.error_key)
    return cls(
        info.message,
        status=info.status,
        error_key=info.error_key,
        request_id=info.request_id,
        details=info.details,
        body=info.body,
    )


def connection_exception(exc: httpx.TransportError) -> APIConnectionError:
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return cls(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


# -- deciding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay: float = 0.0
    reason: str = ""


NO_RETRY = RetryDecision(False)


def backoff_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Exponential backoff (initial × 2^attempt, capped) minus up to 25 % jitter."""
    base = min(policy.max_delay, policy.initial_delay * (2.0**attempt))
    return base * (1 - 0.25 * rand())


def retry_after_seconds(
    headers: httpx.Headers, policy: RetryPolicy, now: datetime | None = None
) -> float | None:
    """``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date; ``None`` if absent or out of range."""
    value: float | None = None
    if "retry-after-ms" in headers:
        try:
            value = float(headers["retry-after-ms"]) / 1000
        except ValueError:
            value = None
    if value is None and "retry-after" in headers:
        raw = headers["retry-after"]
        try:
            value = float(raw)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                return None
            value = (when - (now or datetime.now(UTC))).total_seconds()
    if value is None or not 0 <= value <= policy.max_retry_after:
        return None
    return value


def decide_retry(
    spec: RequestSpec[Any], outcome: Outcome, attempt: int, policy: RetryPolicy, rand: Callable[[], float]
) -> RetryDecision:
    if attempt >= policy.max_retries:
        return NO_RETRY
    delay = backoff_delay(attempt, policy, rand)
    if isinstance(outcome, httpx.TransportError):
        never_sent = isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout)
        if never_sent or spec.retry == "safe":
            return RetryDecision(True, delay, type(outcome).__name__)
        return NO_RETRY
    info = error_info(outcome)
    if info is None or info.status == 402:
        return NO_RETRY  # success, or a 402: the account cannot pay, retrying changes nothing
    if info.status == 429:
        honoured = retry_after_seconds(outcome.headers, policy)
        return RetryDecision(True, delay if honoured is None else honoured, "429")
    if info.status == 409 and spec.paid and info.error_key in RETRYABLE_CONFLICTS:
        return RetryDecision(True, delay, str(info.error_key))
    if info.status >= 500 and spec.retry == "safe":
        honoured = retry_after_seconds(outcome.headers, policy)
        return RetryDecision(True, delay if honoured is None else honoured, str(info.status))
    return NO_RETRY


# -- the one request loop ---------------------------------------------------------------------


# Retries worth telling a person about (a 429 wait); silent unless the application configures logging.
retry_log = logging.getLogger("showfloor.client.retry")
retry_log.addHandler(logging.NullHandler())


def call(ctx: Context, spec: RequestSpec[T]) -> Op[T]:
    """Send ``spec`` until it succeeds or may not be retried. A paid call's idempotency key is made
    once, here, and reused on every attempt — so a retry can replay but never charge again."""
    key = ctx.new_key() if spec.paid else None
    attempt = 0
    while True:
        outcome = yield Send(build_request(ctx.config, spec, key))
        decision = decide_retry(spec, outcome, attempt, ctx.config.retry, ctx.random)
        if decision.retry:
            if decision.reason == "429":  # a waiting client must not look hung (the CLI shows this)
                retry_log.warning("rate limited; retrying in %s s", f"{decision.delay:.3g}")
            yield Sleep(decision.delay)
            attempt += 1
            continue
        if isinstance(outcome, httpx.TransportError):
            raise connection_exception(outcome) from outcome
        info = error_info(outcome)
        if info is not None:
            raise to_exception(info)
        return spec.parse(_json(outcome))


# -- drivers: the only code that differs between sync and async -------------------------------


class SyncDriver:
    def __init__(self, ctx: Context, http: httpx.Client, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ctx = ctx
        self.http = http
        self.sleep = sleep

    def _send(self, request: httpx.Request) -> Outcome:
        try:
            return self.http.send(request)
        except httpx.TransportError as exc:
            return exc

    def run(self, op: Op[T]) -> T:
        reply: Any = None
        while True:
            try:
                action = op.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(action, Send):
                reply = self._send(action.request)
            else:
                self.sleep(action.seconds)
                reply = None


class AsyncDriver:
    def __init__(
        self,
        ctx: Context,
        http: httpx.AsyncClient,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.ctx = ctx
        self.http = http
        self.sleep = sleep

    async def _send(self, request: httpx.Request) -> Outcome:
        try:
            return await self.http.send(request)
        except httpx.TransportError as exc:
            return exc

    async def run(self, op: Op[T]) -> T:
        reply: Any = None
        while True:
            try:
                action = op.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(action, Send):
                reply = await self._send(action.request)
            else:
                await self.sleep(action.seconds)
                reply = None
