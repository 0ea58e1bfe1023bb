"""Options every customer command shares, the client factory, and the confirmation step."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from showfloor.cli import profiles
from showfloor.cli.output import EXIT_USAGE, Output
from showfloor.client import Client, ConfigurationError, Quote

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout only.")]
ApiKeyOpt = Annotated[
    str | None, typer.Option("--api-key", help="API key (default: SHOWFLOOR_API_KEY or LENSMOR_API_KEY).")
]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="Server URL (default: SHOWFLOOR_BASE_URL or local).")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Spend credits without asking.")]
PageOpt = Annotated[int, typer.Option("--page", min=1, help="Page number (1-based).")]
PageSizeOpt = Annotated[int, typer.Option("--page-size", min=1, max=100, help="Items per page.")]


def make_client(api_key: str | None, base_url: str | None) -> Client:
    """Flags first, then the environment, then the stored profile (``showfloor login``)."""
    try:
        profile = profiles.current()
    except profiles.ProfileError as exc:
        raise ConfigurationError(str(exc)) from None
    key = api_key or os.environ.get("SHOWFLOOR_API_KEY") or os.environ.get("LENSMOR_API_KEY")
    key = key or (profile.api_key if profile else None)
    if not key:
        raise ConfigurationError(
            "no API key: run `showfloor login`, use --api-key, or set SHOWFLOOR_API_KEY (or LENSMOR_API_KEY)"
        )
    url = base_url or os.environ.get("SHOWFLOOR_BASE_URL") or (profile.base_url if profile else None)
    return Client(key, url)


def require_consent_possible(output: Output, yes: bool) -> None:
    """Off a terminal, never prompt: without ``--yes`` refuse before anything is sent."""
    if yes or sys.stdin.isatty():
        return
    output.error_line("this command spends credits and stdin is not a terminal: re-run with --yes to confirm")
    raise typer.Exit(EXIT_USAGE)


def confirmer(output: Output, target: str, yes: bool) -> Callable[[Quote], bool]:
    """The SDK ``confirm`` callback: show target, cost and balance, then ask (unless ``--yes``)."""

    def confirm(quote: Quote) -> bool:
        console = output.err if output.as_json else output.out
        charge = f"{quote.cost} credits" if quote.should_charge else "no charge"
        console.print(f"Target:  {target}")
        console.print(f"Cost:    {charge} ({quote.reason or 'ok'})")
        console.print(f"Balance: {quote.balance} credits")
        if quote.should_charge and quote.cost > quote.balance:
            console.print("[yellow]The balance does not cover this cost; the server will refuse it.[/yellow]")
        if yes or not quote.should_charge:
            return True
        return typer.confirm(f"Spend up to {quote.cost} credits?", default=False, err=output.as_json)

    return confirm
