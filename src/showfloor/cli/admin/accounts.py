"""``showfloor admin accounts …`` and ``showfloor admin keys …``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from showfloor.cli.admin._runtime import console, run_with_db
from showfloor.server.accounts import service
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger import spend_caps

accounts_app = typer.Typer(help="Create and list accounts.", no_args_is_help=True)
keys_app = typer.Typer(
    help="Create, list and revoke API keys (stored hashed; shown once); set their spend caps.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]


@accounts_app.command("create")
def accounts_create(
    name: Annotated[str, typer.Option("--name", help="Account name.")],
    unlimited: Annotated[
        bool, typer.Option("--unlimited", help="Never refused for funds (charges still recorded).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create an account (no credits; grant them with `admin credits grant`)."""

    async def work(db: Database, _s: Settings) -> dict[str, object]:
        async with db.write() as session:
            account = await service.create_account(session, name, unlimited=unlimited)
            return {"id": str(account.id), "name": account.name, "unlimited": account.unlimited}

    out = run_with_db(work)
    if as_json:
        print(json.dumps(out))
    else:
        console.print(f"Created account [bold]{out['id']}[/bold] ({out['name']})")


@accounts_app.command("list")
def accounts_list(as_json: JsonFlag = False) -> None:
    """List every account with its id and whether it is unlimited."""

    async def work(db: Database, _s: Settings) -> list[dict[str, object]]:
        async with db.read() as session:
            rows = await service.list_accounts(session)
            return [{"id": str(a.id), "name": a.name, "unlimited": a.unlimited} for a in rows]

    rows = run_with_db(work)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "name", "unlimited")
    for row in rows:
        table.add_row(str(row["id"]), str(row["name"]), str(row["unlimited"]))
    console.print(table)


@accounts_app.command("set-unlimited")
def accounts_set_unlimited(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    off: Annotated[bool, typer.Option("--off", help="Turn unlimited off again.")] = False,
) -> None:
    """Make an account unlimited (never refused for funds), or undo it with --off."""

    async def work(db: Database, _s: Settings) -> None:
        async with db.write() as session:
            await service.set_unlimited(session, account, not off)

    run_with_db(work)
    console.print(f"Account {account}: unlimited {'off' if off else 'on'}")


@keys_app.command("create")
def keys_create(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    name: Annotated[str | None, typer.Option("--name", help="A label for the key.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an API key for an account; it is printed once and stored hashed."""

    async def work(db: Database, _s: Settings) -> service.IssuedKey:
        async with db.write() as session:
            return await service.create_key(session, account, name=name)

    issued = run_with_db(work)
    if as_json:
        print(
            json.dumps(
                {
                    "id": str(issued.id),
                    "account": str(issued.account_id),
                    "prefix": issued.prefix,
                    "key": issued.key,
                }
            )
        )
        return
    console.print(f"API key for account {issued.account_id} (shown once, store it now):")
    print(issued.key)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int | None, typer.Option("--id", help="Key id.")] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Key prefix, e.g. sk_1a2b3c4d5e6f7a8b.")
    ] = None,
) -> None:
    """Revoke an API key: requests with it answer 401 from now on."""

    if (key_id is None) == (prefix is None):
        raise typer.BadParameter("give exactly one of --id or --prefix")

    async def work(db: Database, _s: Settings) -> str:
        async with db.write() as session:
            row = await service.revoke_key(session, key_id=key_id, prefix=prefix)
            return row.prefix

    console.print(f"Revoked {run_with_db(work)}")


@keys_app.command("list")
def keys_list(
    account: Annotated[int | None, typer.Option("--account", help="Only this account's keys.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List an account's API keys (prefix, name, created, revoked; never the key)."""

    async def work(db: Database, _s: Settings) -> list[dict[str, object]]:
        async with db.read() as session:
            rows = await service.list_keys(session, account)
            caps = await spend_caps.caps_by_key(session, [k.id for k in rows])
            return [
                {
                    "id": str(k.id),
                    "account": str(k.account_id),
                    "prefix": k.prefix,
                    "name": k.name,
                    "createdAt": k.created_at.isoformat(),
                    "revokedAt": k.revoked_at.isoformat() if k.revoked_at else None,
                    "dailyCap": caps[k.id].daily_cap if k.id in caps else None,
                    "monthlyCap": caps[k.id].monthly_cap if k.id in caps else None,
                }
                for k in rows
            ]

    rows = run_with_db(work)
    if as_json:
        print(json.dumps(rows))
        return
    columns = ("id", "account", "prefix", "name", "createdAt", "revokedAt", "dailyCap", "monthlyCap")
    table = Table("id", "account", "prefix", "name", "created", "revoked", "daily cap", "monthly cap")
    for r in rows:
        table.add_row(*(str(r[c] if r[c] is not None else "") for c in columns))
    console.print(table)


@keys_app.command("set-cap")
def keys_set_cap(
    key_id: Annotated[int, typer.Argument(help="Key id (see `admin keys list`).")],
    daily: Annotated[
        int | None, typer.Option("--daily", min=0, help="Credits per UTC day (0 removes the daily cap).")
    ] = None,
    monthly: Annotated[
        int | None,
        typer.Option("--monthly", min=0, help="Credits per UTC calendar month (0 removes the monthly cap)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove both caps.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Cap what one API key may spend per day and/or month; a cap not given stays as it is."""
    if clear and (daily is not None or monthly is not None):
        raise typer.BadParameter("give --clear alone, or --daily/--monthly")
    if not clear and daily is None and monthly is None:
        raise typer.BadParameter("give --daily, --monthly or --clear")

    async def work(db: Database, _s: Settings) -> dict[str, object]:
        async with db.write() as session:
            now = datetime.now(UTC)
            caps = await spend_caps.set_caps(session, key_id, now, daily=daily, monthly=monthly, clear=clear)
            return {
                "id": str(key_id),
                "dailyCap": caps.daily_cap if caps else None,
                "monthlyCap": caps.monthly_cap if caps else None,
            }

    out = run_with_db(work)
    if as_json:
        print(json.dumps(out))
        return
    shown = {k: "none" if out[k] is None else out[k] for k in ("dailyCap", "monthlyCap")}
    console.print(f"Key {key_id}: daily cap {shown['dailyCap']}, monthly cap {shown['monthlyCap']}")
