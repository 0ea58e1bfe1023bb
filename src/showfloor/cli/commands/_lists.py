"""What every list command shares: ``--all`` / ``--limit N`` over pages, ``--output table|json|csv|tsv``,
tables that never wrap when piped, thousands separators, an empty result that says so, and the preview
truncation hint from the server's ``semantics`` ("showing 50 of 921 — unlock this event for 2,000 credits
(`showfloor unlock event ID`)")."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from showfloor.cli.commands._paid import n
from showfloor.cli.output import EXIT_USAGE, Output, jsonable
from showfloor.client.models import Page, PreviewTruncation
from showfloor.client.pagination import next_page

T = TypeVar("T")

FORMATS = ("table", "json", "csv", "tsv")
OutputOpt = Annotated[
    str | None, typer.Option("--output", "-o", help="table (default), json, csv or tsv.", show_default=False)
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every page (up to what your access shows).")]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="At most N items, across pages.")]
MAX_PAGE_SIZE = 100


def check_date(name: str, value: str | None) -> None:
    """A date filter must be YYYY-MM-DD (a clear usage error instead of the server's 400)."""
    if value is None:
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


def output_format(as_json: bool, output: str | None) -> str:
    chosen = "json" if as_json and output is None else (output or "table").lower()
    if chosen not in FORMATS:
        Output(False).error_line(f"--output must be one of {', '.join(FORMATS)}, got {output!r}")
        raise typer.Exit(EXIT_USAGE)
    return chosen


@dataclass
class Listing:
    """The items collected and the pages they came from (the first for totals, the last for semantics)."""

    items: list[Any]
    first: Page[Any]
    last: Page[Any]
    pages: int = 1
    stopped_at_limit: bool = False
    combined: bool = False  # --all / --limit: items gathered over pages
    extra: dict[str, Any] = field(default_factory=dict)


def collect(
    fetch: Callable[[int, int], Page[T]], page: int, page_size: int, every: bool, limit: int | None
) -> Listing:
    """One page, or (``--all`` / ``--limit``) pages from ``page`` on until the end or ``limit`` items."""
    if not every and limit is None:
        one = fetch(page, page_size)
        return Listing(list(one.items), one, one)
    size = min(
        MAX_PAGE_SIZE if every else max(page_size, min(limit or page_size, MAX_PAGE_SIZE)), MAX_PAGE_SIZE
    )
    first = last = fetch(page, size)
    items: list[Any] = list(first.items)
    pages = 1
    while limit is None or len(items) < limit:
        following = next_page(last)
        if following is None:
            break
        last = fetch(following, size)
        items.extend(last.items)
        pages += 1
    stopped = limit is not None and len(items) > limit
    kept = items[:limit] if limit is not None else items
    return Listing(kept, first, last, pages, stopped, combined=True)


def truncation_hint(listing: Listing, noun: str, event_ref: str | None) -> str | None:
    """The preview note from the server's semantics; ``None`` when the list is complete."""
    cut: PreviewTruncation | None = listing.last.truncation or listing.first.truncation
    if cut is None:
        return None
    unlock = f"`showfloor unlock event {event_ref}`" if event_ref else "`showfloor unlock event ID`"
    price = f" for {n(cut.unlock_credits)} credits" if cut.unlock_credits else ""
    if not cut.accessible:
        return (
            f"page {cut.requested_page} is past the preview: only the first {n(cut.visible_total)} of "
            f"{n(cut.actual_total)} {noun} are visible until the event is unlocked — unlock this event{price} "
            f"({unlock}), or see {_pages(cut.max_accessible_page)}"
        )
    shown = (
        len(listing.items) if listing.pages > 1 or listing.first is not listing.last else cut.visible_total
    )
    return f"showing {n(min(shown, cut.visible_total))} of {n(cut.actual_total)} — unlock this event{price} ({unlock})"


def _pages(last: int | None) -> str:
    return "page 1" if not last or last <= 1 else f"pages 1–{n(last)}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return n(value)
    return str(value)


def _raw(value: Any) -> str:
    return "" if value is None else str(value)


def print_table(
    out: Output, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """A table with thousands separators; piped (not a terminal), it is as wide as its content, so ids and
    dates are never wrapped or cut."""
    console = out.out if out.out.is_terminal else Console(highlight=False, width=100_000, file=sys.stdout)
    table = Table(*columns, title=title, title_justify="left")
    for column in table.columns:
        column.no_wrap = not out.out.is_terminal
    for row in rows:
        table.add_row(*(_cell(cell) for cell in row))
    console.print(table)


def emit(
    out: Output,
    fmt: str,
    listing: Listing,
    *,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    noun: str,
    hint: str | None = None,
) -> None:
    """The listing in the chosen format; the hint and "no … found" on stdout for tables, stderr otherwise."""
    notes = out.out if fmt == "table" else out.err
    if fmt == "json":
        body = jsonable(listing.first)
        if isinstance(body, dict):
            body["items"] = jsonable(listing.items)
            if listing.combined:  # one list gathered over pages: how many, from how many pages
                body.update(
                    count=len(listing.items), pages=listing.pages, semantics=jsonable(listing.last.semantics)
                )
            body.update(listing.extra)
        print(json.dumps(body, ensure_ascii=False))
    elif fmt in ("csv", "tsv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_raw(cell) for cell in row] for row in rows])
        sys.stdout.write(buffer.getvalue())
    elif rows:
        print_table(out, title, columns, rows)
    if not rows and listing.first.total == 0 and not listing.items and hint is None:
        notes.print(f"No {noun} found.")
    elif not rows and hint is None:
        notes.print(f"No {noun} on this page.")
    if hint:
        notes.print(hint, soft_wrap=True)


def page_title(noun: str, listing: Listing) -> str:
    first = listing.first
    if not listing.combined:
        pages = f"page {first.page}/{n(max(first.totalPages, 1))}, " if first.totalPages > 1 else ""
        return f"{noun} ({pages}{n(first.total)} total)"
    return f"{noun} ({n(len(listing.items))} of {n(first.total)})"
