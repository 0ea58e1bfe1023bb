"""Validate response bodies against the reference's openapi.json component schemas (read at test time,
from ``SHOWFLOOR_REFERENCE_DIR``: see tests/reference.py)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.reference import openapi


def _components() -> dict[str, Any]:
    components: dict[str, Any] = openapi()["components"]
    return components


def assert_matches(instance: Any, schema_name: str) -> None:
    """Raise if ``instance`` does not satisfy ``#/components/schemas/<schema_name>``."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=str)
    assert not errors, f"{schema_name}: " + "; ".join(e.message for e in errors[:5])


def schema_properties(schema_name: str) -> set[str]:
    """Every property name the schema (and its allOf parts) documents."""
    components = _components()["schemas"]
    names: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "$ref" in node:
            walk(components[node["$ref"].rsplit("/", 1)[-1]])
        names.update(node.get("properties", {}))
        for part in node.get("allOf", []):
            walk(part)

    walk(components[schema_name])
    return names
