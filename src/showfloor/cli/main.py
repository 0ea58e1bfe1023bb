"""The ``showfloor`` command: ``serve``, ``worker``, ``admin …`` and the customer commands."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from showfloor.server.config import Settings

app = typer.Typer(
    help="Showfloor: event-intelligence API server, operator tools and customer CLI.", no_args_is_help=True
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes.")] = 1,
    metrics_host: Annotated[
        str | None, typer.Option(help="Interface of the metrics listener (default: SHOWFLOOR_METRICS_HOST).")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve /metrics on this port only, not on the API port (default: SHOWFLOOR_METRICS_PORT)."
        ),
    ] = None,
) -> None:
    """Serve the API (uvicorn). Settings come from SHOWFLOOR_* environment variables."""
    from showfloor.server import serving
    from showfloor.server.config import Settings

    settings = Settings()  # fail fast on bad configuration before forking workers
    if settings.is_sqlite and workers > 1:
        # Each process would run its own embedded worker; that is safe (BEGIN IMMEDIATE), just wasteful.
        os.environ.setdefault("SHOWFLOOR_EMBEDDED_WORKER", "true")
    metrics = _metrics_listener(settings, metrics_host, metrics_port, port)
    serving.serve(host, port, workers, metrics)


def _metrics_listener(
    settings: Settings, host: str | None, port: int | None, api_port: int
) -> tuple[str, int] | None:
    """The metrics listener's address, announced to the app processes through the environment."""
    from showfloor.server import serving

    host = host or settings.metrics_host
    port = settings.metrics_port if port is None else port
    if port is None:
        return None
    if port == api_port and port != 0:
        typer.echo("showfloor serve: --metrics-port must differ from --port", err=True)
        raise typer.Exit(2)
    port = serving.resolve_port(host, port)
    os.environ["SHOWFLOOR_METRICS_HOST"], os.environ["SHOWFLOOR_METRICS_PORT"] = host, str(port)
    return host, port


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Provider calls in flight at once.")] = None,
    provider: Annotated[str | None, typer.Option(help="dataset | http | fault (default: settings).")] = None,
    lease_seconds: Annotated[float | None, typer.Option(help="How long a claimed item stays ours.")] = None,
) -> None:
    """Run a contact-unlock worker until interrupted (several may run against one PostgreSQL)."""
    from showfloor.server.unlocks.process import run_worker

    run_worker(concurrency=concurrency, provider=provider, lease_seconds=lease_seconds)


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
