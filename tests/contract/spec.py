"""The published contract, read where the tests run (never copied into this repository), and a checker
that validates a response against the documented schema for its operation and status."""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.reference import openapi

SPEC_URI = "urn:lensmor:openapi"

# AI features not offered yet (listed in docs/compatibility.md).
NOT_OFFERED = {
    ("post", "/external/events/fit-score"),
    ("post", "/external/events/rank"),
    ("post", "/external/profile-matching/actions/apply-recommended-events/paged"),
    ("get", "/external/profile-matching/recommendations/exhibitors"),
    ("post", "/external/personnel/generate-outreach-message"),
    ("get", "/external/personnel/outreach"),
}

# Statuses every route may answer beyond those it documents, each one an addition listed in docs/compatibility.md.
ADDED_STATUSES = {503}


def spec() -> dict[str, Any]:
    """The published contract (skips the test, or fails it in CI, when the reference is missing)."""
    return openapi()


def operations() -> list[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted((m, path) for path, item in spec()["paths"].items() for m in item if m in methods)


def offered_operations() -> list[tuple[str, str]]:
    return [op for op in operations() if op not in NOT_OFFERED]


@cache
def _registry() -> Registry[Any]:
    return Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012)
    )


def _resolve_response(response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    if ref is None:
        return response
    node: Any = spec()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return dict(node)


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (SPEC_URI + v if k == "$ref" and v.startswith("#") else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def response_problems(method: str, template: str, response: httpx.Response) -> list[str]:
    """Why this response does not conform to the documented one (empty when it conforms)."""
    operation = spec()["paths"][template][method]
    documented = operation["responses"]
    status = str(response.status_code)
    if status not in documented:
        if response.status_code in ADDED_STATUSES:
            return []
        return [
            f"{method.upper()} {template}: status {status} is not documented (documented: {sorted(documented)})"
        ]
    content = _resolve_response(documented[status]).get("content", {}).get("application/json")
    if content is None or "schema" not in content:
        return []
    validator = Draft202012Validator(_rewrite_refs(content["schema"]), registry=_registry())
    try:
        body = response.json()
    except ValueError:
        return [f"{method.upper()} {template} {status}: body is not JSON"]
    return [
        f"{method.upper()} {template} {status}: {'/'.join(map(str, err.absolute_path)) or '<root>'}: {err.message}"
        for err in validator.iter_errors(body)
    ]
