"""Jinja filters for numbers and times as the console shows them (UTC, thousands separators)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from showfloor.server.console.nav import NAV
from showfloor.server.console.web import TEMPLATES


def credits(value: int | None) -> str:
    return "—" if value is None else f"{int(value):,}"


def when(value: datetime | None, empty: str = "never") -> str:
    return empty if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def day(value: date | datetime | None, empty: str = "—") -> str:
    return empty if value is None else value.strftime("%Y-%m-%d")


def epoch(value: int | None, empty: str = "—") -> str:
    """Epoch milliseconds (the API's time fields, e.g. a webhook view's) as ``when`` shows a time."""
    return empty if value is None else when(datetime.fromtimestamp(value / 1000, UTC))


def spreadsheet_safe(value: str | None) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: CSV injection)."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def install_filters() -> None:
    env = TEMPLATES.env
    env.filters.update(credits=credits, when=when, day=day, epoch=epoch)
    env.globals["nav"] = NAV
