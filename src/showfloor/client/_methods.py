"""Turn one operation (a generator function taking a ``Context``) into a sync or an async method.

A resource is defined once as operations; ``Events`` and ``AsyncEvents`` only list which operations
they expose, each with one line such as ``get = sync_method(ops.get_event)``.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from showfloor.client._transport import AsyncDriver, Context, Op, SyncDriver
from showfloor.client.models import Page
from showfloor.client.pagination import next_page, warn_if_truncated

P = ParamSpec("P")
T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - item type of a page


class SyncResource:
    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver


class AsyncResource:
    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver


class sync_method(Generic[P, T]):
    def __init__(self, op: Callable[Concatenate[Context, P], Op[T]]) -> None:
        self.op = op

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> sync_method[P, T]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> sync_method[P, T] | Callable[P, T]:
        if obj is None:
            return self
        driver: SyncDriver = obj._driver  # type: ignore[attr-defined]
        op = self.op

        @functools.wraps(op)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return driver.run(op(driver.ctx, *args, **kwargs))

        return method


class async_method(Generic[P, T]):
    def __init__(self, op: Callable[Concatenate[Context, P], Op[T]]) -> None:
        self.op = op

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> async_method[P, T]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> async_method[P, T] | Callable[P, Awaitable[T]]:
        if obj is None:
            return self
        driver: AsyncDriver = obj._driver  # type: ignore[attr-defined]
        op = self.op

        @functools.wraps(op)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await driver.run(op(driver.ctx, *args, **kwargs))

        return method


class sync_pager(Generic[P, I]):
    """``iter(...)``: the list operation's parameters; ``page`` is where to start."""

    def __init__(self, op: Callable[Concatenate[Context, P], Op[Page[I]]]) -> None:
        self.op = op

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> sync_pager[P, I]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, Iterator[I]]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> sync_pager[P, I] | Callable[P, Iterator[I]]:
        if obj is None:
            return self
        driver: SyncDriver = obj._driver  # type: ignore[attr-defined]
        op = self.op

        def iterate(*args: P.args, **kwargs: P.kwargs) -> Iterator[I]:
            page: int | None = kwargs.pop("page", None) or 1  # type: ignore[assignment]
            while page is not None:
                result = driver.run(op(driver.ctx, *args, page=page, **kwargs))  # type: ignore[arg-type]
                yield from result.items
                page = next_page(result)
            warn_if_truncated(result)

        return iterate


class async_pager(Generic[P, I]):
    def __init__(self, op: Callable[Concatenate[Context, P], Op[Page[I]]]) -> None:
        self.op = op

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> async_pager[P, I]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, AsyncIterator[I]]: ...
    def __get__(
        self, obj: object | None, owner: type[Any]
    ) -> async_pager[P, I] | Callable[P, AsyncIterator[I]]:
        if obj is None:
            return self
        driver: AsyncDriver = obj._driver  # type: ignore[attr-defined]
        op = self.op

        async def iterate(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[I]:
            page: int | None = kwargs.pop("page", None) or 1  # type: ignore[assignment]
            while page is not None:
                result = await driver.run(op(driver.ctx, *args, page=page, **kwargs))  # type: ignore[arg-type]
                for item in result.items:
                    yield item
                page = next_page(result)
            warn_if_truncated(result)

        return iterate
