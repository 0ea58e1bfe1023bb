"""``showfloor personnel list|show``."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, PageOpt, make_client
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
from showfloor.client.models import Contact

app = typer.Typer(help="People of an event.", no_args_is_help=True)


def email_cell(person: Contact) -> str:
    """The address once unlocked; "none found" when an unlock was tried and found none (not charged);
    "locked" when never unlocked; the task state while one runs."""
    if person.email:
        return person.email
    status = person.contactUnlockStatus or "locked"
    return "none found (tried, not charged)" if status in ("unlocked", "not_found") else status


@app.command("list")
def list_(
    event: Annotated[str, typer.Option("--event", help="Event id or eventId.")],
    search: Annotated[str | None, typer.Option(help="Name or title words.")] = None,
    exhibitor: Annotated[str | None, typer.Option(help="Only this exhibitor's people.")] = None,
    page: PageOpt = 1,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=50, help="Items per page.")] = 50,
    every: AllOpt = False,
    limit: LimitOpt = None,
    output: OutputOpt = None,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """List an event's people (free; a preview until the event is unlocked). The email column shows the
    address once unlocked, "none found" when an unlock found none (not charged), "locked" if never tried."""
    fmt = output_format(as_json, output)
    out = Output(fmt != "table")
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        listing = collect(
            lambda p, size: client.personnel.list(
                event, search_query=search, exhibitor_id=exhibitor, page=p, page_size=min(size, 50)
            ),
            page, page_size, every, limit,
        )  # fmt: skip
    rows = [(p.id, p.fullName, p.title, p.companyName, email_cell(p)) for p in listing.items]
    emit(out, fmt, listing, title=page_title("Personnel", listing), noun="personnel", rows=rows,
         columns=["id", "name", "title", "company", "email"],
         hint=truncation_hint(listing, "personnel", event))  # fmt: skip


@app.command("show")
def show(
    personnel_id: Annotated[str, typer.Argument(help="Personnel id.")],
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Show one person (free)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        person = client.personnel.profile(personnel_id)
    out.emit(person)
    if not as_json:
        out.fields(
            person.fullName or person.id,
            [
                ("id", person.id),
                ("title", person.title),
                ("company", person.companyName),
                ("linkedin", person.linkedinUrl),
                ("email", email_cell(person)),
                (
                    "phone",
                    person.phone or ("none found (tried)" if person.phoneUnlockStatus == "failed" else ""),
                ),
            ],
        )
