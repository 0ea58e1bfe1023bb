"""Shared plumbing for operator commands: settings, a database handle, and running a coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from showfloor.server.config import Settings
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def run_with_db(work: Callable[[Database, Settings], Awaitable[T]]) -> T:
    """Run ``work`` against the configured database; domain errors become one line and exit code 1."""
    settings = Settings()

    async def _main() -> T:
        db = Database(make_engine(settings.database_url, null_pool=True))
        try:
            return await work(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(_main())
    except DomainError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
