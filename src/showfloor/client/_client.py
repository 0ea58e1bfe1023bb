"""``Client`` and ``AsyncClient``: the same resources and helpers, driven synchronously or with asyncio."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Self

import httpx

from showfloor.client import _safety
from showfloor.client._config import RetryPolicy, resolve_config
from showfloor.client._methods import async_method, sync_method
from showfloor.client._transport import AsyncDriver, Context, SyncDriver
from showfloor.client.resources.actions import Actions, AsyncActions
from showfloor.client.resources.agent_quotes import AgentQuotes, AsyncAgentQuotes
from showfloor.client.resources.contacts import AsyncContacts, Contacts
from showfloor.client.resources.credits import AsyncCredits, Credits
from showfloor.client.resources.events import AsyncEvents, Events
from showfloor.client.resources.exhibitors import AsyncExhibitors, Exhibitors
from showfloor.client.resources.personnel import AsyncPersonnel, Personnel


def _context(
    api_key: str | None,
    base_url: str | None,
    timeout: float | None,
    max_retries: int | None,
    call_source: str | None,
    retry: RetryPolicy | None,
) -> Context:
    config = resolve_config(
        api_key, base_url, timeout=timeout, max_retries=max_retries, call_source=call_source, retry=retry
    )
    return Context(config)


def _masked(key: str) -> str:
    return f"{key[:7]}…{key[-4:]}" if len(key) > 16 else "…"


def _derived(
    ctx: Context,
    timeout: float | None,
    max_retries: int | None,
    extra_headers: Mapping[str, str] | None,
    idempotency_key: str | None,
    call_source: str | None,
) -> Context:
    derived = ctx.with_options(idempotency_key=idempotency_key, timeout=timeout, extra_headers=extra_headers)
    config = derived.config
    if max_retries is not None:
        config = replace(config, retry=replace(config.retry, max_retries=max_retries))
    if call_source is not None:
        config = replace(config, call_source=call_source)
    return replace(derived, config=config)


class Client:
    """Synchronous client. ``Client()`` reads SHOWFLOOR_API_KEY / SHOWFLOOR_BASE_URL from the environment.

    ``transport`` (an ``httpx.BaseTransport``) replaces the network, e.g. in tests.
    """

    quote = sync_method(_safety.quote)

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        call_source: str | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        ctx = _context(api_key, base_url, timeout, max_retries, call_source, retry)
        self._setup(ctx, httpx.Client(transport=transport, timeout=ctx.config.timeout), owns_http=True)

    def _setup(self, ctx: Context, http: httpx.Client, *, owns_http: bool) -> None:
        self._http = http
        self._owns_http = owns_http
        self._driver = SyncDriver(ctx, self._http)
        self.credits = Credits(self._driver)
        self.actions = Actions(self._driver)
        self.events = Events(self._driver)
        self.exhibitors = Exhibitors(self._driver)
        self.personnel = Personnel(self._driver)
        self.contacts = Contacts(self._driver)
        self.agent_quotes = AgentQuotes(self._driver)

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._driver.ctx.config.base_url

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        call_source: str | None = None,
    ) -> Client:
        """A copy of this client with other request options, sharing its connections:
        ``client.with_options(timeout=5).events.list()``. An ``idempotency_key`` is sent with the paid
        request of each call made through the copy: use one copy per paid call you may need to resume."""
        clone = object.__new__(Client)
        ctx = _derived(self._driver.ctx, timeout, max_retries, extra_headers, idempotency_key, call_source)
        clone._setup(ctx, self._http, owns_http=False)
        return clone

    def close(self) -> None:
        """Close the connections (a ``with_options`` copy leaves its parent's open)."""
        if self._owns_http:
            self._http.close()

    def __repr__(self) -> str:
        config = self._driver.ctx.config
        return f"Client(base_url={config.base_url!r}, api_key={_masked(config.api_key)!r}, timeout={config.timeout})"

    def __enter__(self) -> Self:
        """``with Client() as client:`` closes the connections at the end."""
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient:
    """Asynchronous client with the same surface as ``Client``; every method is awaited and the
    ``iter*`` methods are async iterators. Callbacks (``confirm``, ``on_progress``) are plain functions."""

    quote = async_method(_safety.quote)

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        call_source: str | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        ctx = _context(api_key, base_url, timeout, max_retries, call_source, retry)
        self._setup(ctx, httpx.AsyncClient(transport=transport, timeout=ctx.config.timeout), owns_http=True)

    def _setup(self, ctx: Context, http: httpx.AsyncClient, *, owns_http: bool) -> None:
        self._http = http
        self._owns_http = owns_http
        self._driver = AsyncDriver(ctx, self._http)
        self.credits = AsyncCredits(self._driver)
        self.actions = AsyncActions(self._driver)
        self.events = AsyncEvents(self._driver)
        self.exhibitors = AsyncExhibitors(self._driver)
        self.personnel = AsyncPersonnel(self._driver)
        self.contacts = AsyncContacts(self._driver)
        self.agent_quotes = AsyncAgentQuotes(self._driver)

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._driver.ctx.config.base_url

    def with_options(
        self,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        call_source: str | None = None,
    ) -> AsyncClient:
        """A copy of this client with other request options, sharing its connections (see
        ``Client.with_options``)."""
        clone = object.__new__(AsyncClient)
        ctx = _derived(self._driver.ctx, timeout, max_retries, extra_headers, idempotency_key, call_source)
        clone._setup(ctx, self._http, owns_http=False)
        return clone

    async def aclose(self) -> None:
        """Close the connections (a ``with_options`` copy leaves its parent's open)."""
        if self._owns_http:
            await self._http.aclose()

    def __repr__(self) -> str:
        config = self._driver.ctx.config
        return (
            f"AsyncClient(base_url={config.base_url!r}, api_key={_masked(config.api_key)!r}, "
            f"timeout={config.timeout})"
        )

    async def __aenter__(self) -> Self:
        """``async with AsyncClient() as client:`` closes the connections at the end."""
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
