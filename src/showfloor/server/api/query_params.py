"""Reject a single-valued query parameter sent more than once (``country=a&country=b``).

Starlette would silently keep the last value; the reference's server refuses such input with 400,
and so do we. Which parameters take several values is read from our own OpenAPI document, so the
rule can never disagree with what ``/openapi.json`` describes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import FastAPI, Request

from showfloor.server.errors import InvalidRequest


def _is_array(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(option.get("type") == "array" for option in options)


def _scalar_query_params(app: FastAPI) -> dict[tuple[str, str], frozenset[str]]:
    table: dict[tuple[str, str], frozenset[str]] = {}
    for path, item in app.openapi().get("paths", {}).items():
        for method, operation in item.items():
            names = {
                p["name"]
                for p in operation.get("parameters", [])
                if p.get("in") == "query" and not _is_array(p.get("schema", {}))
            }
            table[(method.upper(), path)] = frozenset(names)
    return table


def index_scalar_query_params(app: FastAPI) -> None:
    """Build the table at start-up: it reads the whole OpenAPI document (over a second of CPU), which must
    not fall on a customer's first request to each server process."""
    app.state.scalar_query_params = _scalar_query_params(app)


async def reject_repeated_scalars(request: Request) -> None:
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    if template is None or not request.query_params:
        return
    app: FastAPI = request.app
    table: dict[tuple[str, str], frozenset[str]] | None = getattr(app.state, "scalar_query_params", None)
    if table is None:
        table = app.state.scalar_query_params = _scalar_query_params(app)
    scalars = table.get((request.method, template), frozenset())
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(name for name, count in counts.items() if count > 1 and name in scalars)
    if repeated:
        raise InvalidRequest(
            f"Query parameter {repeated[0]!r} takes one value but was given {counts[repeated[0]]}",
            params=repeated,
        )
