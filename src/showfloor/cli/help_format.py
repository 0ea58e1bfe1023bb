"""Readable value placeholders in ``--help``: ``TEXT``, ``INTEGER``, ``SECONDS…`` instead of Typer's raw
type names (``<str>``, ``<list[float]>``), and nothing after a flag (``--yes``, not ``--yes <bool>``).

Typer builds the placeholder in one method per parameter class; we wrap those two methods once, at
import of ``showfloor.cli.main``, rather than give every option of every command a ``metavar``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from typer import core

NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN", "Path": "PATH"}
_RAW = re.compile(r"^<(?:list\[(?P<item>.+)\]|(?P<one>.+))>(?P<more>\.\.\.)?$")


def readable(raw: str | None) -> str | None:
    """``<list[float]>`` → ``NUMBER...``; ``<str>`` → ``TEXT``; anything else unchanged."""
    if raw is None:
        return None
    match = _RAW.match(raw)
    if match is None:
        return raw
    name = match.group("item") or match.group("one") or ""
    many = bool(match.group("item") or match.group("more"))
    label = NAMES.get(name, name if "|" in name else name.upper())
    return label + ("..." if many else "")


def _wrap(original: Callable[[Any, Any], str | None]) -> Callable[[Any, Any], str | None]:
    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        if getattr(self, "metavar", None) is not None:
            return str(self.metavar)
        return readable(original(self, ctx))

    return display_type_rich


def install() -> None:
    for cls in (core.TyperOption, core.TyperArgument):
        method = cls.display_type_rich
        if not getattr(method, "_showfloor", False):
            wrapped = _wrap(method)
            wrapped._showfloor = True  # type: ignore[attr-defined]
            cls.display_type_rich = wrapped  # type: ignore[method-assign,assignment]
