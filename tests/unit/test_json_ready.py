"""``api.idempotency.json_ready``: paid bodies made of JSON types pass through untouched; anything else
still goes through FastAPI's encoder (so a new field of another type can never turn into a 500)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from showfloor.server.api.paid import json_ready


def test_a_body_of_json_types_is_returned_as_it_is() -> None:
    body = {"items": [{"id": "1", "n": 2, "ok": True, "x": None, "f": 1.5, "tags": ["a"]}], "total": 1}
    assert json_ready(body) is body


def test_other_types_are_encoded() -> None:
    body = {
        "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "day": [date(2026, 1, 2)],
        "pair": ("a", 1),
        "amount": Decimal("1.5"),
        "nested": {"inner": {3: "non-string key"}},
    }
    assert json_ready(body) == {
        "at": "2026-01-02T03:04:00+00:00",
        "day": ["2026-01-02"],
        "pair": ["a", 1],
        "amount": 1.5,
        "nested": {"inner": {3: "non-string key"}},  # as FastAPI leaves it (json.dumps writes "3")
    }
