"""Small builders shared by the resource definitions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from showfloor.client._transport import RequestSpec, RetryMode

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def segment(value: str | int) -> str:
    """A path segment, escaped (ids are strings and may hold any character)."""
    return quote(str(value), safe="")


def parser(model: type[M], key: str | None = None) -> Callable[[Any], M]:
    def parse(body: Any) -> M:
        return model.model_validate(body[key] if key is not None else body)

    return parse


def get(
    path: str,
    parse: Callable[[Any], T],
    params: Mapping[str, Any] | None = None,
    *,
    paid: bool = False,
    retry: RetryMode = "safe",
    call_source: str | None = None,
) -> RequestSpec[T]:
    return RequestSpec("GET", path, parse, params=params, paid=paid, retry=retry, call_source=call_source)


def post(
    path: str,
    parse: Callable[[Any], T],
    body: Mapping[str, Any] | None = None,
    *,
    paid: bool = False,
    call_source: str | None = None,
) -> RequestSpec[T]:
    # Paid POSTs carry an Idempotency-Key, so retrying them after a timeout or a 5xx is safe.
    return RequestSpec("POST", path, parse, json=dict(body or {}), paid=paid, call_source=call_source)
