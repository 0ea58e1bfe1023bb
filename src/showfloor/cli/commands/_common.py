"""Options every customer command shares, the client factory, and the confirmation step."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from showfloor.cli import profiles
from showfloor.cli.output import EXIT_ERROR, EXIT_NO_CREDITS, EXIT_USAGE, Output
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
    show_retry_waits()
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


class _StderrLine(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(record.getMessage(), file=sys.stderr, flush=True)


def show_retry_waits() -> None:
    """Print the SDK's retry waits ("rate limited; retrying in 3 s") on stderr, so a wait never looks hung."""
    log = logging.getLogger("showfloor.client.retry")
    if not any(isinstance(h, _StderrLine) for h in log.handlers):
        log.addHandler(_StderrLine())
        log.setLevel(logging.INFO)


def require_consent_possible(output: Output, yes: bool) -> None:
    """Off a terminal, never prompt: without ``--yes`` refuse before anything is sent."""
    if yes or sys.stdin.isatty():
        return
    output.error_line("this command spends credits and stdin is not a terminal: re-run with --yes to confirm")
    raise typer.Exit(EXIT_USAGE)


def confirmer(output: Output, target: str, yes: bool) -> Callable[[Quote], bool]:
    """The SDK ``confirm`` callback: show target, cost and balance, then ask (unless ``--yes``). A quote
    that cannot proceed ends the command with its reason (a not-found before any cost is shown)."""
    from showfloor.cli.commands._paid import charge_words, n, reason_words

    def confirm(quote: Quote) -> bool:
        console = output.err if output.as_json else output.out
        if quote.reason == "not_found":
            output.error_line(f"not found: {target} ({reason_words(quote)})")
            raise typer.Exit(EXIT_ERROR)
        console.print(f"Target:  {target}")
        console.print(f"Cost:    {charge_words(quote)}")
        console.print(f"Balance: {n(quote.balance)} credits")
        if not quote.allowed or (quote.should_charge and quote.cost > quote.balance):
            if quote.reason == "insufficient_balance" or quote.cost > quote.balance:
                output.error_line(f"insufficient credits: {reason_words(quote)}")
                raise typer.Exit(EXIT_NO_CREDITS)
            output.error_line(f"cannot proceed: {reason_words(quote)}")
            raise typer.Exit(EXIT_ERROR)
        if yes or not quote.should_charge:
            return True
        return typer.confirm(f"Spend up to {n(quote.cost)} credits?", default=False, err=output.as_json)

    return confirm
