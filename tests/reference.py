"""Where the tests find the published Lensmor contract: the one place that reads ``SHOWFLOOR_REFERENCE_DIR``.

The contract is read where the tests run, never copied into this repository. ``SHOWFLOOR_REFERENCE_DIR``
names the folder that holds ``openapi.json`` and ``api-reference/openapi.json``; unset, it is
``../shared/reference/lensmor-api-doc`` next to the checkout; a relative value is taken from the
repository root, so the tests find it from any working directory. A test that needs the contract calls
``openapi()``: when the folder is missing that test is skipped with a message naming the setting, or fails
when ``CI`` is set (a CI run must check the contract, not silently skip it).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SETTING = "SHOWFLOOR_REFERENCE_DIR"
DEFAULT = "../shared/reference/lensmor-api-doc"
# The contract file the tests validate against (the newest form of openapi.json in the reference).
OPENAPI = Path("api-reference") / "openapi.json"


def reference_dir() -> Path:
    """The configured folder (whether or not it exists)."""
    return (REPO_ROOT / os.environ.get(SETTING, DEFAULT)).resolve()


def require(relative: Path | str) -> Path:
    """A file of the reference; skips the calling test (fails with ``CI`` set) when it is missing."""
    path = reference_dir() / relative
    if not path.is_file():
        message = f"the reference contract is not at {path}: set {SETTING} to the lensmor-api-doc folder"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is an error)", pytrace=False)
        pytest.skip(message)
    return path


@cache
def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def openapi() -> dict[str, Any]:
    """The reference's OpenAPI document, parsed once per run."""
    return _load(require(OPENAPI))
