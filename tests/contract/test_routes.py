"""Every documented operation of the published contract exists in Showfloor (AI features excepted)."""

from __future__ import annotations

from showfloor.server.app import create_app
from showfloor.server.config import Settings
from tests.contract.spec import NOT_OFFERED, offered_operations, operations
from tests.reference import REPO_ROOT


def _served() -> set[tuple[str, str]]:
    """Operations in our own OpenAPI document, which is built from the mounted routes."""
    app = create_app(Settings(), run_background_jobs=False)
    return {(method, path) for path, item in app.openapi()["paths"].items() for method in item}


def test_spec_has_the_operations_we_expect() -> None:
    assert len(operations()) == 31
    assert set(operations()) >= NOT_OFFERED


def test_every_documented_operation_is_served() -> None:
    missing = sorted(set(offered_operations()) - _served())
    assert missing == [], f"documented but not served: {missing}"


def test_ai_features_are_listed_as_not_offered_in_the_docs() -> None:
    text = (REPO_ROOT / "docs" / "compatibility.md").read_text()
    for _method, path in NOT_OFFERED:
        assert path in text, f"{path} is not listed in docs/compatibility.md"
