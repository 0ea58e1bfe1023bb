"""``showfloor admin demo-data``, ``admin demo-setup`` and ``admin import``: catalog data commands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from showfloor.cli.admin._runtime import console, err_console, run_with_db
from showfloor.data.bulk import catalog_is_empty
from showfloor.data.demo import LoadResult, load_demo
from showfloor.data.demo_console import demo_sign_in_link
from showfloor.data.demo_setup import DemoAccess, DemoExamples, demo_examples, ensure_demo_account
from showfloor.data.generator import DEFAULT_SEED, size_for
from showfloor.data.importers import ImportRejected, ImportResult, import_file, parse_format, parse_kind
from showfloor.server.config import Settings
from showfloor.server.console.users import IssuedLink
from showfloor.server.db.uow import Database


class RichProgress:
    """The loaders' progress interface on a Rich progress bar (one task per phase)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int) -> None:
        if self._task is not None and amount:
            self._progress.advance(self._task, amount)


@contextmanager
def progress_bar() -> Iterator[RichProgress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as progress:
        yield RichProgress(progress)


def _print_load(result: LoadResult) -> None:
    rows = ", ".join(f"{n:,} {table}" for table, n in result.rows.items())
    console.print(f"Loaded demo data (seed {result.seed}) in {result.seconds:.1f}s: {rows}", soft_wrap=True)


def demo_data(
    scale: Annotated[
        float, typer.Option("--scale", help="Multiple of the base set (fractions allowed).")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data.")] = DEFAULT_SEED,
    events: Annotated[int | None, typer.Option("--events", help="Exact number of events.")] = None,
    exhibitors: Annotated[
        int | None, typer.Option("--exhibitors", help="Exact number of exhibitors.")
    ] = None,
    personnel: Annotated[int | None, typer.Option("--personnel", help="Exact number of personnel.")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Delete the existing catalog first (refused otherwise).")
    ] = False,
) -> None:
    """Load the generated demo dataset (base scale 1: 300 events, 30,000 exhibitors, 150,000 personnel)."""
    try:
        size = size_for(scale, events=events, exhibitors=exhibitors, personnel=personnel)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    async def work(db: Database, _s: Settings) -> LoadResult:
        with progress_bar() as progress:
            return await load_demo(db, size, seed=seed, replace=replace, progress=progress)

    _print_load(run_with_db(work))


def demo_setup(
    base_url: Annotated[
        str, typer.Option("--base-url", help="Where `make demo` serves the API.")
    ] = "http://127.0.0.1:8000",
    new_key: Annotated[
        bool, typer.Option("--new-key", help="Issue a new demo API key even if the saved one still works.")
    ] = False,
) -> None:
    """For `make demo`: load the demo set if the catalog is empty; create the demo account, credits and a key.

    The key is saved beside the database (`demo-api-key`, mode 0600) and reused by the next run while it
    still works, so re-running `make demo` does not mint a new key each time (`--new-key` to force one).
    """

    async def work(db: Database, settings: Settings) -> tuple[LoadResult | None, DemoAccess, Path]:
        saved = demo_key_path(settings)
        kept = None if new_key or not saved.exists() else saved.read_text().strip()
        async with db.read() as session:
            empty = await catalog_is_empty(session)
        loaded = None
        if empty:
            with progress_bar() as progress:
                loaded = await load_demo(db, size_for(1.0), progress=progress)
        return loaded, await ensure_demo_account(db, keep_key=kept), saved

    async def find_examples(db: Database, _s: Settings) -> DemoExamples | None:
        return await demo_examples(db)

    loaded, access, saved = run_with_db(work)
    examples = run_with_db(find_examples)
    if access.new_key:
        save_private(saved, access.api_key)
    if loaded is not None:
        _print_load(loaded)
    else:
        console.print("The catalog already has data; not loading the demo set.")
    base = base_url.rstrip("/")
    console.rule("Showfloor demo")
    console.print(f"Base URL:   {base}")
    console.print(f"Account id: {access.account_id} (name 'demo')")
    where = f"saved to {saved}" if access.new_key else f"the key saved in {saved}; --new-key for another"
    console.print(f"API key:    [bold]{access.api_key}[/bold]  ({escape(where)})", soft_wrap=True)
    console.print("For the CLI and the SDK, in your shell:")
    console.print(f"  export SHOWFLOOR_BASE_URL={base}", soft_wrap=True, highlight=False)
    console.print(f"  export SHOWFLOOR_API_KEY={access.api_key}", soft_wrap=True, highlight=False)
    console.print("  showfloor events list --keyword retail")
    if examples is not None:
        people = " ".join(str(p) for p in examples.personnel_ids)
        for line in (
            f"showfloor events show {examples.event_id}",
            f"showfloor exhibitors list --event {examples.event_id}",
            f'showfloor contacts search "{examples.company}"',
            f"showfloor unlock contacts --event {examples.event_id} {people}",
        ):
            console.print(f"  {line}", soft_wrap=True, highlight=False, markup=False)
    console.print("Try:")
    console.print(
        escape(f'  curl -H "Authorization: Bearer {access.api_key}" "{base}/external/credits/balance"'),
        soft_wrap=True,
    )
    console.print(
        escape(
            f'  curl -H "Authorization: Bearer {access.api_key}" '
            f'"{base}/external/events/list?keyword=retail&pageSize=5"'
        ),
        soft_wrap=True,
    )
    _print_console_sign_in(base, access.account_id)


def demo_key_path(settings: Settings) -> Path:
    """Beside the SQLite file (``var/demo-api-key`` for the default database), else ``./var``."""
    db_file = settings.sqlite_path()
    return (db_file.parent if db_file is not None else Path("var")) / "demo-api-key"


def save_private(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    os.chmod(path, 0o600)


def _print_console_sign_in(base: str, account_id: int) -> None:
    """The console block of the demo banner: a one-time link to set the demo user's password."""

    async def work(db: Database, _s: Settings) -> IssuedLink:
        return await demo_sign_in_link(db, account_id)

    link = run_with_db(work)
    console.print("Console (owner's web app): open this one-time link to set a password and sign in:")
    console.print(f"  {link.url(base)}", soft_wrap=True, highlight=False)
    console.print(f"  then sign in as {link.email} at {base}/console (link valid 24 h)", highlight=False)


def import_command(
    file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file.")],
    kind: Annotated[
        str | None, typer.Option("--kind", help="events|exhibitors|personnel (default: from the file name).")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl|csv (default: from the extension).")
    ] = None,
) -> None:
    """Import events, exhibitors or personnel. Any bad row: nothing is imported, every bad row is listed."""

    async def work(db: Database, _s: Settings) -> ImportResult | ImportRejected:
        with progress_bar() as progress:
            try:
                return await import_file(
                    db, file, kind=parse_kind(kind), fmt=parse_format(fmt), progress=progress
                )
            except ImportRejected as rejected:
                return rejected

    result = run_with_db(work)
    if isinstance(result, ImportRejected):
        err_console.print(f"[red]error:[/red] {escape(result.message)}")
        for error in result.errors:
            err_console.print(escape(f"  line {error.line}: {error.reason}"), soft_wrap=True)
        raise typer.Exit(1)
    console.print(
        f"Imported {result.rows:,} {result.kind} from {file.name}: {result.created:,} created, "
        f"{result.updated:,} updated; counts recomputed for {result.events_touched:,} event(s)."
    )


def register(app: typer.Typer) -> None:
    app.command("demo-data")(demo_data)
    app.command("demo-setup")(demo_setup)
    app.command("import")(import_command)
