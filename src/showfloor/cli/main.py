"""The ``showfloor`` command: ``serve``, ``worker``, ``admin …`` and the customer commands."""

from __future__ import annotations

import os
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
    import uvicorn

    from showfloor.server.config import Settings

    settings = Settings()  # fail fast on bad configuration before forking workers
    if settings.is_sqlite and workers > 1:
        # Each process would run its own embedded worker; that is safe (BEGIN IMMEDIATE), just wasteful.
        os.environ.setdefault("SHOWFLOOR_EMBEDDED_WORKER", "true")
    uvicorn.run(
        "showfloor.server.asgi:make_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


def _register() -> None:
    from showfloor.cli.admin import admin_app

    app.add_typer(admin_app, name="admin")


_register()


def main() -> None:
    app()
