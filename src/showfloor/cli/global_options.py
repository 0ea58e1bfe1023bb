"""Options accepted before the subcommand: ``showfloor --json --profile work events list``.

``--json``, ``--api-key`` and ``--base-url`` become the defaults of the same-named options of every
subcommand (Click's ``default_map``), so a command sees them exactly as if they had been given after
it; an option given after the subcommand still wins. ``--profile`` picks the stored profile that
``make_client`` reads (see ``showfloor.cli.profiles``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from showfloor import __version__
from showfloor.cli import profiles

# Global option → the parameter name the subcommands use for it.
FORWARDED = {"as_json": "as_json", "api_key": "api_key", "base_url": "base_url"}

EXAMPLES = """Examples:

  showfloor login                                  # store a base URL and API key (a profile)

  showfloor events list --keyword expo --json      # machine-readable output

  showfloor --profile staging credits balance      # another stored profile

  showfloor unlock contacts --event EVENT_ID PERSONNEL_ID ... --yes

  showfloor admin migrate                          # operators: create or upgrade the database
"""


def default_map(command: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Defaults for every command below ``command`` that has a parameter of a forwarded name."""
    if hasattr(command, "commands"):
        nested = {name: default_map(child, values) for name, child in command.commands.items()}
        return {name: sub for name, sub in nested.items() if sub}
    names = {param.name for param in command.params}
    return {name: value for name, value in values.items() if name in names}


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"showfloor {__version__}")
        raise typer.Exit()


def options(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout only.")] = False,
    api_key: Annotated[str | None, typer.Option("--api-key", help="API key for this run.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Server URL for this run.")] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="Stored profile to use (`showfloor login --profile NAME`)."),
    ] = None,
) -> None:
    given = {"as_json": as_json or None, "api_key": api_key, "base_url": base_url}
    values = {FORWARDED[name]: value for name, value in given.items() if value is not None}
    if values:
        ctx.default_map = default_map(ctx.command, values)
    profiles.select(profile)
