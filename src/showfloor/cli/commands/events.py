"""``showfloor events list|show``."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, PageSizeOpt, make_client
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Browse the event catalogue.", no_args_is_help=True)


@app.command("list")
def list_(
    keyword: Annotated[str | None, typer.Option(help="Words in the event name.")] = None,
    country: Annotated[str | None, typer.Option(help="Country.")] = None,
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """List events (free)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        result = client.events.list(
            keyword=keyword, country=country, city=city, page=page, page_size=page_size
        )
    out.emit(result)
    if not as_json:
        rows = [(e.id, e.eventId, e.name, e.dateStart, e.city, e.country) for e in result.items]
        out.table(
            f"Events (page {result.page}/{result.totalPages}, {result.total} total)",
            ["id", "eventId", "name", "starts", "city", "country"],
            rows,
        )


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
