"""``showfloor exhibitors list|show``."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, PageSizeOpt, make_client
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Exhibitors of an event.", no_args_is_help=True)


@app.command("list")
def list_(
    event: Annotated[str, typer.Option("--event", help="Event id or eventId.")],
    keyword: Annotated[str | None, typer.Option(help="Words in the company name.")] = None,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """List an event's exhibitors (free; a preview until the event is unlocked)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        result = client.exhibitors.list(event, keyword=keyword, page=page, page_size=page_size)
    out.emit(result)
    if not as_json:
        rows = [(x.id, x.companyName, x.industry, x.country, x.website) for x in result.items]
        out.table(
            f"Exhibitors (page {result.page}/{result.totalPages}, {result.total} total)",
            ["id", "company", "industry", "country", "website"],
            rows,
        )
        access = result.semantics.accessMode if result.semantics else None
        if access == "preview":
            out.info.print("Preview only: `showfloor unlock event` gives the full list.")


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
