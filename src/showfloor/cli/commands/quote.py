"""``showfloor quote event|visitors|full-access|contacts|phones|search-company|search-events|person-events``:
what a paid command would cost now, from the server's precheck (``POST /external/actions/precheck``) and
the balance. Free, never prompts, works without a terminal. Exit codes: 0 allowed (or no charge); 1 refused
or not found; 3 the balance does not cover it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, make_client
from showfloor.cli.commands._paid import charge_words, chargeable, n, quote_json, reason_words
from showfloor.cli.output import EXIT_ERROR, EXIT_NO_CREDITS, Output, reporting_errors
from showfloor.client import Quote

app = typer.Typer(help="What a paid command would cost now (free; nothing is spent).", no_args_is_help=True)

EventArg = Annotated[str, typer.Argument(help="Event id or eventId.")]
IdsArg = Annotated[list[str], typer.Argument(help="Personnel ids.")]
EventOpt = Annotated[str | None, typer.Option("--event", help="Event the people belong to.")]


def _quote(
    target: str, action_type: str, params: dict[str, Any], as_json: bool, api_key: str | None,
    base_url: str | None,
) -> None:  # fmt: skip
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        quote: Quote = client.quote(action_type, **params)
    if quote.reason == "not_found":  # before any cost: there is nothing to price
        out.error_line(f"not found: {target}")
        raise typer.Exit(EXIT_ERROR)
    out.emit(quote_json(quote, target))
    if not as_json:
        out.fields(
            "Quote",
            [
                ("target", target),
                ("price", charge_words(quote)),
                ("chargeable", n(chargeable(quote))),
                ("balance", f"{n(quote.balance)} credits"),
                ("verdict", reason_words(quote)),
            ],
        )
    if quote.reason == "insufficient_balance" or (quote.should_charge and quote.cost > quote.balance):
        raise typer.Exit(EXIT_NO_CREDITS)
    if not quote.allowed:
        raise typer.Exit(EXIT_ERROR)


@app.command("event")
def event(
    event_id: EventArg, as_json: JsonOpt = False, api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None
) -> None:
    """Quote `showfloor unlock event`."""
    _quote(f"event {event_id}", "unlock_event_contacts", {"event_id": event_id}, as_json, api_key, base_url)


@app.command("visitors")
def visitors(
    event_id: EventArg, as_json: JsonOpt = False, api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None
) -> None:
    """Quote `showfloor unlock visitors`."""
    target = f"visitors of event {event_id}"
    _quote(target, "unlock_event_visitors", {"event_id": event_id}, as_json, api_key, base_url)


@app.command("full-access")
def full_access(
    event_id: EventArg, as_json: JsonOpt = False, api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None
) -> None:
    """Quote `showfloor unlock full-access`."""
    target = f"full access to event {event_id}"
    _quote(target, "unlock_event_full_access", {"event_id": event_id}, as_json, api_key, base_url)


def _contacts(
    kind: str, ids: list[str], event: str | None, as_json: bool, api_key: str | None, base_url: str | None
) -> None:
    target = f"{n(len(set(ids)))} contact {kind}(s)" + (f" of event {event}" if event else "")
    action = "unlock_contact_emails" if kind == "email" else "unlock_contact_phones"
    _quote(
        target,
        action,
        {"personnel_ids": list(dict.fromkeys(ids)), "event_id": event},
        as_json,
        api_key,
        base_url,
    )


@app.command("contacts")
def contacts(
    personnel_ids: IdsArg, event: EventOpt = None, as_json: JsonOpt = False, api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    """Quote `showfloor unlock contacts` (the most it can charge: only delivered emails are)."""
    _contacts("email", personnel_ids, event, as_json, api_key, base_url)


@app.command("phones")
def phones(
    personnel_ids: IdsArg, event: EventOpt = None, as_json: JsonOpt = False, api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    """Quote `showfloor unlock phones` (the most it can charge: only delivered phones are)."""
    _contacts("phone", personnel_ids, event, as_json, api_key, base_url)


@app.command("search-company")
def search_company(
    name: Annotated[str, typer.Argument(help="Company name.")], as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    """Quote `showfloor search company` (charged only when something is found)."""
    target = f"company search for {name!r}"
    _quote(target, "search_exhibitors_by_company_name", {"company_name": name}, as_json, api_key, base_url)


@app.command("search-events")
def search_events(
    company: Annotated[str, typer.Argument(help="Company name.")], as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    """Quote `showfloor search events` (charged only when something is found)."""
    target = f"event search for {company!r}"
    _quote(target, "search_exhibitor_events", {"company_name": company}, as_json, api_key, base_url)


@app.command("person-events")
def person_events(
    person_name: Annotated[str, typer.Argument(help="Person's full name.")], as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None,
) -> None:  # fmt: skip
    """Quote `showfloor search person` (charged only when something is found)."""
    target = f"events of person {person_name!r}"
    params = {"person_name": person_name}
    _quote(target, "search_personnel_events_by_name", params, as_json, api_key, base_url)
