"""``showfloor search company|events|person``: paid reverse lookups (charged only when something is found)."""

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
from showfloor.cli.commands._paid import price_help
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Paid searches by company name.", no_args_is_help=True)


@app.command("company", help=f"Find exhibitor records for a company name. "
             f"{price_help('exhibitor_company_search')[:-1]}, only when something is found.")  # fmt: skip
def company(
    name: Annotated[str, typer.Argument(help="Company name.")],
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
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


@app.command("events", help=f"Find the events where a company exhibits. "
             f"{price_help('exhibitor_event_search')[:-1]}, only when something is found.")  # fmt: skip
def events(
    company: Annotated[str, typer.Argument(help="Company name.")],
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
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


@app.command("person", help=f"Find the events a person attended, by full name (needs a subscription). "
             f"{price_help('personnel_events_by_name')[:-1]}, only when something is found.")  # fmt: skip
def person(
    person_name: Annotated[str, typer.Argument(help="The person's full name.")],
    date_from: Annotated[
        str | None, typer.Option("--from", help="Events starting on or after (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Events starting on or before (YYYY-MM-DD).")
    ] = None,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    yes: YesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    out = Output(as_json)
    require_consent_possible(out, yes)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        confirm = confirmer(out, f"event search for person {person_name!r}", yes)
        result = client.personnel.events_by_name(
            person_name, date_start_from=date_from, date_start_to=date_to, page=page, page_size=page_size,
            confirm=confirm,
        )  # fmt: skip
    out.emit(result)
    if not as_json:
        rows = [(e.id, e.eventId, e.name, e.dateStart, e.country) for e in result.items]
        out.table(
            f"Events of {person_name!r} ({result.total})",
            ["id", "eventId", "name", "starts", "country"],
            rows,
        )
