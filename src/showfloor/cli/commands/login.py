"""``showfloor login`` and ``showfloor logout``: store or forget a profile (base URL and API key)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from showfloor.cli import profiles
from showfloor.cli.output import EXIT_USAGE, Output, reporting_errors
from showfloor.client import DEFAULT_BASE_URL, Client

ProfileOpt = Annotated[
    str | None, typer.Option("--profile", help="Profile name (default: the global --profile, or 'default').")
]


def _profile_name(given: str | None) -> str:
    return given or profiles.selected_name()[0]


def login(
    profile: ProfileOpt = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Server URL (asked if not given).")
    ] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key (asked if not given).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout only.")] = False,
) -> None:
    """Ask for a base URL and an API key, check them with a balance call, and store them as a profile.

    Example: showfloor login --profile staging
    """
    out = Output(as_json)
    name = _profile_name(profile)
    suggested = os.environ.get("SHOWFLOOR_BASE_URL") or DEFAULT_BASE_URL
    url = (base_url or typer.prompt("Base URL", default=suggested, err=True)).strip().rstrip("/")
    # Hidden input on a terminal; piped input is read as is (getpass would insist on the terminal).
    key = (api_key or typer.prompt("API key", hide_input=sys.stdin.isatty(), err=True)).strip()
    if not key:
        out.error_line("no API key given")
        raise typer.Exit(EXIT_USAGE)
    with reporting_errors(out, url), Client(key, url) as client:
        balance = client.credits.balance()
    try:
        path = profiles.save(name, url, key)
    except (OSError, profiles.ProfileError) as exc:
        out.error_line(f"cannot store the profile: {exc}")
        raise typer.Exit(1) from None
    out.emit({"profile": name, "baseUrl": url, "path": str(path), "totalBalance": balance.totalBalance})
    out.info.print(
        f"Logged in to {url} as profile {name!r} (balance {balance.totalBalance:,} credits); saved to {path}"
    )


def logout(profile: ProfileOpt = None) -> None:
    """Forget a stored profile (its API key is deleted from the config file)."""
    name = _profile_name(profile)
    try:
        removed = profiles.remove(name)
    except profiles.ProfileError as exc:
        Output(False).error_line(str(exc))
        raise typer.Exit(1) from None
    if removed:
        typer.echo(f"Removed profile {name!r} from {profiles.config_path()}")
    else:
        typer.echo(f"No profile {name!r} in {profiles.config_path()}; nothing to do")
