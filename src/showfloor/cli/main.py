"""The ``showfloor`` command: ``serve``, ``worker``, ``admin …`` and the customer commands."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from showfloor.server.config import Settings

from showfloor.cli import global_options, help_format

help_format.install()
app = typer.Typer(
    help="Showfloor: event-intelligence API server, operator tools and customer CLI.",
    epilog=global_options.EXAMPLES,
    no_args_is_help=True,
)
app.callback()(global_options.options)


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
    _require_server_extra("serve")
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
    metrics_host: Annotated[
        str, typer.Option(help="Interface of the worker's metrics listener.")
    ] = "127.0.0.1",
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's /metrics (provider calls, charges) on this port.")
    ] = None,
) -> None:
    """Run a contact-unlock worker until interrupted (several may run against one PostgreSQL)."""
    _require_server_extra("worker")
    from showfloor.server.unlocks.process import run_worker

    metrics = (metrics_host, metrics_port) if metrics_port is not None else None
    run_worker(concurrency=concurrency, provider=provider, lease_seconds=lease_seconds, metrics=metrics)


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


SERVER_EXTRA_HINT = "pip install 'showfloor[server]'"


def _server_extra_missing(what: str) -> str:
    # Plain text on purpose: Rich markup would read "[server]" as a style tag and drop it.
    return f"showfloor {what} needs the server extra, which is not installed: {SERVER_EXTRA_HINT}"


def _require_server_extra(what: str) -> None:
    try:
        import showfloor.server.app  # noqa: F401  (FastAPI, SQLAlchemy, uvicorn …)
    except ImportError as exc:
        typer.echo(f"{_server_extra_missing(what)} ({exc})", err=True)
        raise typer.Exit(1) from None


def _explain_missing_admin(ctx: typer.Context) -> None:
    """Operator commands (needs the server extra: pip install 'showfloor\\[server]')."""
    typer.echo(_server_extra_missing("admin"), err=True)
    raise typer.Exit(1)


def _register(argv: list[str]) -> None:
    from showfloor.cli.commands import register as register_customer_commands

    register_customer_commands(app)
    if _needs_admin(argv):
        try:
            from showfloor.cli.admin import admin_app
        except ImportError:
            # Any "showfloor admin …" explains the missing extra instead of "No such command".
            extra_args = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
            app.command("admin", context_settings=extra_args)(_explain_missing_admin)
            return
        app.add_typer(admin_app, name="admin")


_register(sys.argv)


def _unexpected(exc: Exception) -> str:
    """One line for an error no command handled, instead of a traceback."""
    if type(exc).__name__ == "ValidationError" and hasattr(exc, "errors"):  # pydantic: bad settings
        problems = [
            f"SHOWFLOOR_{'_'.join(str(p) for p in err.get('loc', ())).upper()}: {err.get('msg')}"
            for err in exc.errors()
        ]
        return "configuration error: " + "; ".join(problems).replace("Value error, ", "")
    if hasattr(exc, "code") and hasattr(exc, "message"):  # a server DomainError
        return str(exc.message)
    return f"unexpected {type(exc).__name__}: {exc} (set SHOWFLOOR_DEBUG=1 to see the traceback)"


def _json_usage_errors() -> None:
    """With ``--json``, usage errors (a missing argument, a bad value) are JSON on stderr too."""
    from typer._click.exceptions import ClickException

    try:
        code = app(prog_name="showfloor", standalone_mode=False)
    except ClickException as exc:
        error = {"message": exc.format_message(), "errorKey": "USAGE", "exitCode": exc.exit_code}
        print(json.dumps({"error": error}), file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print(
            json.dumps({"error": {"message": "aborted", "errorKey": "ABORTED", "exitCode": 1}}),
            file=sys.stderr,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def main() -> None:
    try:
        if "--json" in sys.argv[1:]:
            _json_usage_errors()
        app(prog_name="showfloor")
    except Exception as exc:
        if os.environ.get("SHOWFLOOR_DEBUG"):
            raise
        typer.echo(f"error: {_unexpected(exc)}", err=True)
        sys.exit(1)
