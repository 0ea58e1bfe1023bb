"""``showfloor events list|show``."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, PageSizeOpt, make_client
from showfloor.cli.commands._lists import (
    AllOpt,
    LimitOpt,
    OutputOpt,
    check_date,
    collect,
    emit,
    output_format,
    page_title,
)
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Browse the event catalogue.", no_args_is_help=True)


@app.command("list")
def list_(
    keyword: Annotated[str | None, typer.Option(help="Words in the event name.")] = None,
    country: Annotated[str | None, typer.Option(help="Country.")] = None,
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Starting on or after this date (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Starting on or before this date (YYYY-MM-DD).")
    ] = None,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    every: AllOpt = False,
    limit: LimitOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """List events (free). Example: showfloor events list --keyword expo --from 2026-01-01 --all -o csv"""
    fmt = output_format(as_json, output)
    out = Output(fmt != "table")
    for name, value in (("--from", date_from), ("--to", date_to)):
        check_date(name, value)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        listing = collect(
            lambda p, size: client.events.list(
                keyword=keyword, country=country, city=city, date_start_from=date_from,
                date_start_to=date_to, page=p, page_size=size,
            ),
            page, page_size, every, limit,
        )  # fmt: skip
    rows = [(e.id, e.eventId, e.name, e.dateStart, e.city, e.country) for e in listing.items]
    emit(out, fmt, listing, title=page_title("Events", listing), noun="events", rows=rows,
         columns=["id", "eventId", "name", "starts", "city", "country"])  # fmt: skip


@app.command("show")
def show(
    event_id: Annotated[str, typer.Argument(help="Event id or public eventId.")],
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Show one event (free)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        event = client.events.get(event_id)
    out.emit(event)
    if not as_json:
        out.fields(
            event.name or event.id,
            [
                ("id", event.id),
                ("eventId", event.eventId),
                ("dates", f"{event.dateStart} → {event.dateEnd}"),
                ("where", ", ".join(p for p in (event.venue, event.city, event.country) if p)),
                ("exhibitors", event.exhibitorCount),
                ("url", event.url),
            ],
        )
