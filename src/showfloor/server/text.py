"""Text the databases cannot store: shared by the request edge (api/request_guard.py) and the unlock
worker's check of provider answers (unlocks/answers.py)."""

from __future__ import annotations

import re

# NUL (PostgreSQL text refuses it) and UTF-16 surrogates (not encodable as UTF-8, so never storable).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable(value: str) -> bool:
    return UNSTORABLE.search(value) is not None
