"""``showfloor quotes show|approve``: the owner's side of agent quotes (docs/agents.md).

Run with an API key of the account OTHER than the agent's: a key can never approve its own quotes."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from showfloor.cli.commands._common import ApiKeyOpt, BaseUrlOpt, JsonOpt, make_client
from showfloor.cli.output import EXIT_USAGE, Output, reporting_errors
from showfloor.client.resources.agent_quotes import AgentQuote

app = typer.Typer(
    help="Agent quotes: show one, approve one (with another key of the account).", no_args_is_help=True
)

QuoteArg = Annotated[str, typer.Argument(help="The quote id (q_…) the agent reported.")]
ApproveYesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Approve without asking.")]


def _show(out: Output, quote: AgentQuote) -> None:
    items = quote.chargeable
    out.fields(
        f"Quote {quote.quote_id}",
        [
            ("action", quote.action),
            ("params", quote.params),
            ("credits", quote.credits),
            ("chargeable", items or None),
            ("balance", quote.available_balance),
            ("status", quote.status),
            ("approved", quote.approved_via or "no"),
            ("expires", quote.expires_at),
        ],
    )


@app.command("show")
def show(
    quote_id: QuoteArg, as_json: JsonOpt = False, api_key: ApiKeyOpt = None, base_url: BaseUrlOpt = None
) -> None:
    """Show a quote of the account."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        quote = client.agent_quotes.get(quote_id)
    out.emit(quote)
    if not as_json:
        _show(out, quote)


@app.command("approve")
def approve(
    quote_id: QuoteArg,
    yes: ApproveYesOpt = False,
    as_json: JsonOpt = False,
    api_key: ApiKeyOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Show the quote, ask, and approve it (the agent may then execute it once, before it expires)."""
    out = Output(as_json)
    with reporting_errors(out, base_url), make_client(api_key, base_url) as client:
        quote = client.agent_quotes.get(quote_id)
        if not as_json:
            _show(out, quote)
        if not yes:
            if not sys.stdin.isatty():
                out.error_line("approving spends credits and stdin is not a terminal: re-run with --yes")
                raise typer.Exit(EXIT_USAGE)
            if not typer.confirm(f"Approve spending up to {quote.credits} credits?", default=False):
                out.info.print("Not approved; nothing changed.")
                raise typer.Exit(1)
        approved = client.agent_quotes.approve(quote_id)
    out.emit(approved)
    if not as_json:
        out.info.print(f"Approved {approved.quote_id} ({approved.credits} credits).")
