"""``showfloor contacts search``."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, PageSizeOpt, make_client
from showfloor.cli.output import Output, reporting_errors

app = typer.Typer(help="Find people at a company.", no_args_is_help=True)


@app.command("search")
def search(
    company: Annotated[str, typer.Argument(help="Company name.")],
    role: Annotated[str | None, typer.Option(help="Role or title words.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Person name.")] = None,
    page: PageOpt = 1,
    page_size: PageSizeOpt = 20,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Search contacts of a company (free)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        result = client.contacts.search(company, role=role, person_name=name, page=page, page_size=page_size)
    out.emit(result)
    if not as_json:
        rows = [
            (p.id, p.fullName, p.title, p.companyName, p.email or p.contactUnlockStatus) for p in result.items
        ]
        out.table(f"Contacts ({result.total} total)", ["id", "name", "title", "company", "email"], rows)
