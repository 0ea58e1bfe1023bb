"""``Client`` and ``AsyncClient``: the same resources and helpers, driven synchronously or with asyncio."""

from __future__ import annotations

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
        self._http = httpx.Client(transport=transport, timeout=ctx.config.timeout)
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
        return self._driver.ctx.config.base_url

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
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
        self._http = httpx.AsyncClient(transport=transport, timeout=ctx.config.timeout)
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
        return self._driver.ctx.config.base_url

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
