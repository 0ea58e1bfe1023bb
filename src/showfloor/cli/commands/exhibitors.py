"""``showfloor exhibitors list|show``."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, PageSizeOpt, make_client
from showfloor.cli.commands._lists import (
    AllOpt,
    LimitOpt,
    OutputOpt,
    collect,
    emit,
    output_format,
    page_title,
    truncation_hint,
)
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Exhibitors of an event.", no_args_is_help=True)


@app.command("list")
def list_(
    event: Annotated[str, typer.Option("--event", help="Event id or eventId.")],
    keyword: Annotated[str | None, typer.Option(help="Words in the company name.")] = None,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    every: AllOpt = False,
    limit: LimitOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """List an event's exhibitors (free; a preview until the event is unlocked)."""
    fmt = output_format(as_json, output)
    out = Output(fmt != "table")
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        listing = collect(
            lambda p, size: client.exhibitors.list(event, keyword=keyword, page=p, page_size=size),
            page, page_size, every, limit,
        )  # fmt: skip
    rows = [(x.id, x.companyName, x.industry, x.country, x.website) for x in listing.items]
    emit(out, fmt, listing, title=page_title("Exhibitors", listing), noun="exhibitors", rows=rows,
         columns=["id", "company", "industry", "country", "website"],
         hint=truncation_hint(listing, "exhibitors", event))  # fmt: skip


@app.command("show")
def show(
    exhibitor_id: Annotated[str, typer.Argument(help="Exhibitor id.")],
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Show one exhibitor (free)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        exhibitor = client.exhibitors.profile(exhibitor_id)
    out.emit(exhibitor)
    if not as_json:
        out.fields(
            exhibitor.companyName or exhibitor.id,
            [
                ("id", exhibitor.id),
                ("website", exhibitor.website),
                ("industry", exhibitor.industry),
                ("employees", exhibitor.employeeCount),
                ("country", exhibitor.country),
                ("events", ", ".join(e.name or e.id or "" for e in exhibitor.events)),
            ],
        )
