"""``showfloor admin alerts …``: an account's balance alert thresholds (docs/spend-controls.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from showfloor.cli.admin._runtime import console, run_with_db
from showfloor.server.accounts import service as accounts
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger import alerts

alerts_app = typer.Typer(
    help="Balance alerts: thresholds in credits; an event when the balance drops below one, reaches "
    "zero, or recovers.",
    no_args_is_help=True,
)

AccountOption = Annotated[int, typer.Option("--account", help="Account id.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


def _show(body: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(body))
        return
    table = Table("threshold", "alert", "state")
    rows = body["alerts"]
    assert isinstance(rows, list)
    for row in rows:
        table.add_row(str(row["threshold"]), str(row["kind"]), str(row["state"]))
    console.print(table if rows else "No balance alerts.")


async def _set(db: Database, account: int, thresholds: list[int]) -> dict[str, object]:
    async with db.write() as session:
        await accounts.get_account(session, account)  # NotFound for an unknown account
        return alerts.alerts_body(
            await alerts.set_thresholds(session, account, thresholds, datetime.now(UTC))
        )


@alerts_app.command("set")
def alerts_set(
    thresholds: Annotated[list[int], typer.Argument(help="Thresholds in credits, e.g. 1000 500.", min=1)],
    account: AccountOption,
    as_json: JsonFlag = False,
) -> None:
    """Replace the account's thresholds (the depleted alert at zero comes with them)."""

    async def work(db: Database, _s: Settings) -> dict[str, object]:
        return await _set(db, account, thresholds)

    _show(run_with_db(work), as_json)


@alerts_app.command("list")
def alerts_list(account: AccountOption, as_json: JsonFlag = False) -> None:
    """The account's thresholds and each alert's state (ok or low)."""

    async def work(db: Database, _s: Settings) -> dict[str, object]:
        async with db.read() as session:
            await accounts.get_account(session, account)
            return alerts.alerts_body(await alerts.list_alerts(session, account))

    _show(run_with_db(work), as_json)


@alerts_app.command("clear")
def alerts_clear(account: AccountOption, as_json: JsonFlag = False) -> None:
    """Remove every balance alert of the account."""

    async def work(db: Database, _s: Settings) -> dict[str, object]:
        return await _set(db, account, [])

    _show(run_with_db(work), as_json)
