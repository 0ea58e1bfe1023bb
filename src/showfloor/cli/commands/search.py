"""``showfloor search company|events``: paid reverse lookups (50 credits when something is found)."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.commands._common import (
    ApiKeyOpt,
    BaseUrlOpt,
    JsonOpt,
    PageOpt,
    PageSizeOpt,
    YesOpt,
    confirmer,
    make_client,
    require_consent_possible,
)
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Paid searches by company name.", no_args_is_help=True)


@app.command("company")
def company(
    name: Annotated[str, typer.Argument(help="Company name.")],
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Find exhibitor records for a company name."""
    out = Output(as_json)
    require_consent_possible(out, yes)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        confirm = confirmer(out, f"company search for {name!r}", yes)
        result = client.exhibitors.search_by_company_name(
            name, page=page, page_size=page_size, confirm=confirm
        )
    out.emit(result)
    if not as_json:
        rows = [(x.id, x.companyName, x.industry, x.country, x.website) for x in result.items]
        out.table(
            f"Exhibitors matching {name!r} ({result.total})",
            ["id", "company", "industry", "country", "website"],
            rows,
        )


@app.command("events")
def events(
    company: Annotated[str, typer.Argument(help="Company name.")],
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Find the events where a company exhibits."""
    out = Output(as_json)
    require_consent_possible(out, yes)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        confirm = confirmer(out, f"event search for {company!r}", yes)
        result = client.exhibitors.search_events(company, page=page, page_size=page_size, confirm=confirm)
    out.emit(result)
    if not as_json:
        rows = [(e.id, e.eventId, e.name, e.dateStart, e.country) for e in result.items]
        out.table(
            f"Events of {company!r} ({result.total})", ["id", "eventId", "name", "starts", "country"], rows
        )
