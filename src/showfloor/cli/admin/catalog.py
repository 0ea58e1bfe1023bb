"""``showfloor admin catalog check``: the events' stored counts against their rows."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from showfloor.cli.admin._runtime import console, err_console, run_with_db
from showfloor.data.counts import CountDrift, check_event_counts
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database

catalog_app = typer.Typer(help="Catalog upkeep.", no_args_is_help=True)


@catalog_app.command("check")
def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    fix: Annotated[
        bool, typer.Option("--fix", help="Rewrite the drifting events' counts from their rows.")
    ] = False,
) -> None:
    """Compare every event's stored counts with a fresh count of its rows. Exit 1 on drift, unless
    ``--fix`` repaired it (in one transaction)."""

    async def work(db: Database, _s: Settings) -> list[CountDrift]:
        if fix:
            async with db.write() as session:
                return await check_event_counts(session, fix=True)
        async with db.read() as session:
            return await check_event_counts(session)

    drift = run_with_db(work)
    if as_json:
        report = {"ok": not drift, "fixed": fix and bool(drift), "drift": [asdict(d) for d in drift]}
        console.print_json(json.dumps(report))
    elif not drift:
        console.print("OK: every event's stored counts match its rows")
    else:
        for d in drift:
            err_console.print(
                f"DRIFT event {d.public_id} (id {d.event_id}) {d.column}: stored {d.stored}, rows {d.actual}",
                highlight=False,
                soft_wrap=True,
            )
        if fix:
            console.print(f"Fixed {len({d.event_id for d in drift})} event(s)")
    if drift and not fix:
        raise typer.Exit(1)
