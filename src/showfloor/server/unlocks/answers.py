"""Is a provider's answer something we can store and deliver? Checked in the worker before settlement.

A delivered value that does not fit — longer than its column, not shaped like an email or a phone
number, or holding characters PostgreSQL cannot store — settles as the per-item failure
``INVALID_RESULT``: not charged, its hold released, reported in the task status. Checking here, in
Python, means both settlement twins (``settlement.py`` and ``sql/unlock_settle.sql``) only ever receive
values that fit, so a bad answer can never make a settlement fail and stall the task (issue 15).
"""

from __future__ import annotations

import re

from showfloor.server.text import has_unstorable

INVALID_RESULT = "INVALID_RESULT"

# The columns that receive the value: unlock_task_items.value and contact_unlocks.value are String(320);
# a phone number is also stored alongside the catalog's String(50) phone.
MAX_EMAIL_LENGTH = 320
MAX_PHONE_LENGTH = 50

# Deliberately permissive (providers format differently) but structural: one @, no spaces or controls,
# a dotted domain. The local part is at most 64 characters (RFC 5321).
_EMAIL = re.compile(r"^[^\s@\x00-\x1f\x7f]{1,64}@[^\s@\x00-\x1f\x7f]+\.[^\s@\x00-\x1f\x7f.]+$")
# Digits (five at least) with the usual separators, an optional leading +, an optional extension.
_PHONE = re.compile(
    r"^(?=(?:\D*\d){5})\+?[0-9(][0-9 ()./-]{3,40}(?:\s*(?:x|ext\.?)\s*[0-9]{1,8})?$", re.IGNORECASE
)


def invalid_answer(kind: str, value: str) -> str | None:
    """Why ``value`` cannot be delivered for a ``kind`` ("email" | "phone") unlock, or None if it can."""
    if not isinstance(value, str):
        return "not text"
    limit = MAX_EMAIL_LENGTH if kind == "email" else MAX_PHONE_LENGTH
    if len(value) > limit:
        return f"longer than {limit} characters ({len(value)})"
    if has_unstorable(value):
        return "holds characters the database cannot store"
    shape = _EMAIL if kind == "email" else _PHONE
    if not shape.match(value):
        return f"not shaped like {'an email address' if kind == 'email' else 'a phone number'}"
    return None
