"""Turn one operation (a generator function taking a ``Context``) into a sync or an async method.

A resource is defined once as operations; ``Events`` and ``AsyncEvents`` only list which operations
they expose, each with one line such as ``get = sync_method(ops.get_event)``.

The methods look like ordinary methods to ``help()`` and ``inspect.signature``: the operation's own
parameters without the internal ``ctx``, the result type instead of the generator type, the
operation's docstring, and the per-call request options (``idempotency_key``, ``timeout``,
``extra_headers``) as keyword-only parameters.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from showfloor.client._transport import AsyncDriver, Context, Op, SyncDriver
from showfloor.client.models import Page
from showfloor.client.pagination import next_page, warn_if_truncated

P = ParamSpec("P")
T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - item type of a page

# Per-call request options every method accepts, unless the operation has a parameter of that name
# (``contacts.unlock(timeout=…)`` is how long to wait for the task; its request timeout comes from
# ``client.with_options(timeout=…)``).
REQUEST_OPTIONS: dict[str, str] = {
    "idempotency_key": "str | None",
    "timeout": "float | None",
    "extra_headers": "Mapping[str, str] | None",
}
OPTIONS_DOC = (
    "Per-call options: ``idempotency_key`` (the paid request's Idempotency-Key; reuse it to resume a "
    "call after a crash without paying twice), ``timeout`` (seconds per request), ``extra_headers``."
)
_OP_RESULT = re.compile(r"^Op\[(.*)\]$")
_PAGE = re.compile(r"^Page\[(.*)\]$")


def _result_type(op: Callable[..., Any]) -> str:
    annotation = inspect.signature(op).return_annotation
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    match = _OP_RESULT.match(text)
    return match.group(1) if match else text


def _own_options(op: Callable[..., Any]) -> list[str]:
    names = set(inspect.signature(op).parameters)
    return [name for name in REQUEST_OPTIONS if name not in names]


def public_signature(op: Callable[..., Any], returns: str) -> inspect.Signature:
    """``op``'s signature as users call it: no ``ctx``, the request options, ``returns`` as result."""
    params = list(inspect.signature(op).parameters.values())[1:]
    extra = [
        inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=REQUEST_OPTIONS[name]
        )
        for name in _own_options(op)
    ]
    var_kw = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    rest = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    return inspect.Signature([*rest, *extra, *var_kw], return_annotation=returns)


def _doc(op: Callable[..., Any], lead: str = "") -> str:
    body = inspect.cleandoc(op.__doc__ or "")
    return "\n\n".join(part for part in (lead, body, OPTIONS_DOC) if part)


def _dress(
    fn: Callable[..., Any], op: Callable[..., Any], name: str, signature: inspect.Signature, doc: str
) -> None:
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__module__ = op.__module__
    fn.__doc__ = doc
    fn.__signature__ = signature  # type: ignore[attr-defined]


def _call_context(ctx: Context, options: list[str], kwargs: dict[str, Any]) -> Context:
    chosen = {name: kwargs.pop(name) for name in options if name in kwargs}
    if not any(value is not None for value in chosen.values()):
        return ctx
    return ctx.with_options(**chosen)


class SyncResource:
    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._driver.ctx.config.base_url}>"


class AsyncResource:
    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._driver.ctx.config.base_url}>"


class _Described:
    """What the class-level attribute shows to ``help()``: the public signature and docstring."""

    op: Callable[..., Any]
    name: str = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{self.name}{getattr(self, '__signature__', '(...)')}"


class sync_method(_Described, Generic[P, T]):
    def __init__(self, op: Callable[Concatenate[Context, P], Op[T]]) -> None:
        self.op = op
        self.options = _own_options(op)
        self.__signature__ = public_signature(op, _result_type(op))
        self.__doc__ = _doc(op)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> sync_method[P, T]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> sync_method[P, T] | Callable[P, T]:
        if obj is None:
            return self
        driver: SyncDriver = obj._driver  # type: ignore[attr-defined]
        op, options = self.op, self.options

        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            ctx = _call_context(driver.ctx, options, kwargs)
            result: T = driver.run(op(ctx, *args, **kwargs))
            return result

        _dress(method, op, self.name or op.__name__, self.__signature__, self.__doc__ or "")
        return method


class async_method(_Described, Generic[P, T]):
    def __init__(self, op: Callable[Concatenate[Context, P], Op[T]]) -> None:
        self.op = op
        self.options = _own_options(op)
        self.__signature__ = public_signature(op, _result_type(op))
        self.__doc__ = _doc(op)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> async_method[P, T]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> async_method[P, T] | Callable[P, Awaitable[T]]:
        if obj is None:
            return self
        driver: AsyncDriver = obj._driver  # type: ignore[attr-defined]
        op, options = self.op, self.options

        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            ctx = _call_context(driver.ctx, options, kwargs)
            return await driver.run(op(ctx, *args, **kwargs))

        _dress(method, op, self.name or op.__name__, self.__signature__, self.__doc__ or "")
        return method


def _item_type(op: Callable[..., Any]) -> str:
    result = _result_type(op)
    match = _PAGE.match(result)
    return match.group(1) if match else "Any"


_ITER_LEAD = "Every item of the listing, page after page, fetched as you iterate (``page``: where to start)."


class sync_pager(_Described, Generic[P, I]):
    """``iter(...)``: the list operation's parameters; ``page`` is where to start."""

    def __init__(self, op: Callable[Concatenate[Context, P], Op[Page[I]]]) -> None:
        self.op = op
        self.options = _own_options(op)
        self.__signature__ = public_signature(op, f"Iterator[{_item_type(op)}]")
        self.__doc__ = _doc(op, _ITER_LEAD)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> sync_pager[P, I]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, Iterator[I]]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> sync_pager[P, I] | Callable[P, Iterator[I]]:
        if obj is None:
            return self
        driver: SyncDriver = obj._driver  # type: ignore[attr-defined]
        op, options = self.op, self.options

        def iterate(*args: P.args, **kwargs: P.kwargs) -> Iterator[I]:
            ctx = _call_context(driver.ctx, options, kwargs)
            page: int | None = kwargs.pop("page", None) or 1  # type: ignore[assignment]
            while page is not None:
                result = driver.run(op(ctx, *args, page=page, **kwargs))
                yield from result.items
                page = next_page(result)
            warn_if_truncated(result)

        _dress(iterate, op, self.name or "iter", self.__signature__, self.__doc__ or "")
        return iterate


class async_pager(_Described, Generic[P, I]):
    def __init__(self, op: Callable[Concatenate[Context, P], Op[Page[I]]]) -> None:
        self.op = op
        self.options = _own_options(op)
        self.__signature__ = public_signature(op, f"AsyncIterator[{_item_type(op)}]")
        self.__doc__ = _doc(op, _ITER_LEAD)

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
        op, options = self.op, self.options

        async def iterate(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[I]:
            ctx = _call_context(driver.ctx, options, kwargs)
            page: int | None = kwargs.pop("page", None) or 1  # type: ignore[assignment]
            while page is not None:
                result = await driver.run(op(ctx, *args, page=page, **kwargs))
                for item in result.items:
                    yield item
                page = next_page(result)
            warn_if_truncated(result)

        _dress(iterate, op, self.name or "iter", self.__signature__, self.__doc__ or "")
        return iterate
