"""The ``showfloor`` command: ``serve``, ``worker``, ``admin …`` and the customer commands."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

app = typer.Typer(
    help="Showfloor: event-intelligence API server, operator tools and customer CLI.", no_args_is_help=True
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
) -> None:
    """Serve the API (uvicorn). Settings come from SHOWFLOOR_* environment variables."""
    from showfloor.server import serving
    from showfloor.server.config import Settings

    settings = Settings()  # fail fast on bad configuration before forking workers
    if settings.is_sqlite and workers > 1:
        # Each process would run its own embedded worker; that is safe (BEGIN IMMEDIATE), just wasteful.
        os.environ.setdefault("SHOWFLOOR_EMBEDDED_WORKER", "true")
    serving.serve(host, port, workers)


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Provider calls in flight at once.")] = None,
    provider: Annotated[str | None, typer.Option(help="dataset | http | fault (default: settings).")] = None,
    lease_seconds: Annotated[float | None, typer.Option(help="How long a claimed item stays ours.")] = None,
) -> None:
    """Run a contact-unlock worker until interrupted (several may run against one PostgreSQL)."""
    from showfloor.server.unlocks.process import run_worker

    run_worker(concurrency=concurrency, provider=provider, lease_seconds=lease_seconds)


@app.command("mcp")
def mcp_stdio(
    api_key: Annotated[str | None, typer.Option(help="API key (default: SHOWFLOOR_API_KEY).")] = None,
    base_url: Annotated[str | None, typer.Option(help="Server URL (default: SHOWFLOOR_BASE_URL).")] = None,
) -> None:
    """Serve the Showfloor MCP tools over stdio, relayed to a Showfloor server's /mcp (docs/agents.md)."""
    import asyncio

    try:
        from showfloor.cli.mcp_stdio import serve_stdio
    except ImportError:
        typer.echo("showfloor mcp needs the MCP SDK: pip install 'showfloor[server]'", err=True)
        raise typer.Exit(1) from None
    from showfloor.client import ConfigurationError

    try:
        asyncio.run(serve_stdio(api_key, base_url))
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _needs_admin(argv: list[str]) -> bool:
    """Operator commands import the server stack (SQLAlchemy, Alembic); customer commands must not pay
    for that at every start, nor fail on a client-only install."""
    return len(argv) < 2 or argv[1] == "admin" or argv[1].startswith("-")


def _missing_server_extra() -> typer.Typer:
    stub = typer.Typer(help="Operator commands (needs: pip install 'showfloor[server]').")

    @stub.callback(invoke_without_command=True)
    def _explain() -> None:
        typer.echo("showfloor admin needs the server extra: pip install 'showfloor[server]'", err=True)
        raise typer.Exit(1)

    return stub


def _register(argv: list[str]) -> None:
    from showfloor.cli.commands import register as register_customer_commands

    register_customer_commands(app)
    if _needs_admin(argv):
        try:
            from showfloor.cli.admin import admin_app
        except ImportError:
            admin_app = _missing_server_extra()
        app.add_typer(admin_app, name="admin")


_register(sys.argv)


def main() -> None:
    app()
