"""Shared plumbing for operator commands: settings, a database handle, and running a coroutine."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import exc as sa_exc

from showfloor.server.config import DEFAULT_DATABASE_URL, Settings
from showfloor.server.db.engine import make_engine
from showfloor.server.db.uow import Database
from showfloor.server.errors import DomainError

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def run_with_db(work: Callable[[Database, Settings], Awaitable[T]], *, create: bool = False) -> T:
    """Run ``work`` against the configured database; domain errors become one line and exit code 1.

    Only ``create=True`` (``admin migrate``) may bring a new SQLite file into being: any other command
    against a missing file says where it looked instead of leaving an empty database behind."""
    settings = Settings()
    if not create:
        require_existing_sqlite(settings)

    async def _main() -> T:
        db = Database(
            make_engine(
                settings.database_url,
                null_pool=True,
                statement_timeout_ms=settings.db_worker_statement_timeout_ms,
            )
        )
        try:
            return await work(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(_main())
    except DomainError as exc:
        fail("error", exc.message, exc.code)
        raise typer.Exit(1) from exc
    except (sa_exc.DBAPIError, OSError) as exc:
        fail("database error", _describe(exc), "DATABASE_ERROR")
        raise typer.Exit(1) from exc


def require_existing_sqlite(settings: Settings) -> None:
    path = settings.sqlite_path()
    if path is None or path.exists():
        return
    source = (
        "SHOWFLOOR_DATABASE_URL"
        if os.environ.get("SHOWFLOOR_DATABASE_URL")
        else f"the default {DEFAULT_DATABASE_URL}, relative to the current directory, as SHOWFLOOR_DATABASE_URL is not set"
    )
    fail(
        "error",
        f"no database at {path.resolve()} (from {source}). Create it with `showfloor admin migrate` "
        "(or `make demo`), or set SHOWFLOOR_DATABASE_URL to an existing database.",
        "DATABASE_MISSING",
    )
    raise typer.Exit(1)


def fail(label: str, message: str, code: str) -> None:
    """An operator command's error: one line, or a JSON object on stderr when ``--json`` was given."""
    if "--json" in sys.argv:
        print(json.dumps({"error": {"message": message, "errorKey": code, "exitCode": 1}}), file=sys.stderr)
    else:
        err_console.print(f"[red]{label}:[/red] {escape(message)}", highlight=False)


def _describe(exc: BaseException) -> str:
    """One actionable line instead of a traceback (the database URL never includes a secret we print)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return f"{text}: the schema is missing or old; run `showfloor admin migrate`"
    if isinstance(exc, OSError) or "connect" in text.lower():
        return f"{text}: check SHOWFLOOR_DATABASE_URL and that the database is running"
    return text
