"""``showfloor contacts search``."""

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
)
from showfloor.cli.commands.personnel import email_cell
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Find people at a company.", no_args_is_help=True)


@app.command("search")
def search(
    company: Annotated[str, typer.Argument(help="Company name.")],
    role: Annotated[str | None, typer.Option(help="Role or title words.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Person name.")] = None,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    every: AllOpt = False,
    limit: LimitOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Search contacts of a company (free)."""
    fmt = output_format(as_json, output)
    out = Output(fmt != "table")
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        listing = collect(
            lambda p, size: client.contacts.search(company, role=role, person_name=name, page=p, page_size=size),
            page, page_size, every, limit,
        )  # fmt: skip
    rows = [(p.id, p.fullName, p.title, p.companyName, email_cell(p)) for p in listing.items]
    emit(out, fmt, listing, title=page_title("Contacts", listing), noun="contacts", rows=rows,
         columns=["id", "name", "title", "company", "email"])  # fmt: skip
