"""``showfloor admin credits …`` (grants, history, balance) and ``showfloor admin reconcile``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from showfloor.cli.admin._runtime import console, err_console, run_with_db
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service
from showfloor.server.ledger.balance import get_balance
from showfloor.server.ledger.history import list_entries
from showfloor.server.ledger.operations import find_operation
from showfloor.server.ledger.reconcile import reconcile

credits_app = typer.Typer(help="Grant, void and inspect credits.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
AccountOpt = Annotated[int, typer.Option("--account", help="Account id.")]


def parse_time(value: str) -> datetime:
    """ISO-8601; a time without an offset is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO-8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@credits_app.command("grant")
def grant(
    account: AccountOpt,
    amount: Annotated[int, typer.Option("--amount", help="Credits to grant.")],
    subscription: Annotated[
        bool, typer.Option("--subscription", help="Subscription period credits.")
    ] = False,
    addon: Annotated[bool, typer.Option("--addon", help="Purchased add-on credits.")] = False,
    gift: Annotated[bool, typer.Option("--gift", help="Gift credits (never expire).")] = False,
    expires_at: Annotated[
        str | None, typer.Option("--expires-at", help="ISO-8601 expiry (required for --subscription).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why the credits were granted.")] = None,
    op_key: Annotated[
        str | None, typer.Option("--op-key", help="Idempotency key (a repeat grants nothing more).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Put credits into an account: --subscription --expires-at T, --addon [--expires-at T] or --gift."""
    chosen = [name for name, on in (("subscription", subscription), ("addon", addon), ("gift", gift)) if on]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --subscription, --addon or --gift")
    bucket = chosen[0]
    expiry = parse_time(expires_at) if expires_at else None
    key = op_key or f"admin-grant:{uuid.uuid4().hex}"

    async def work(db: Database, _s: Settings) -> tuple[int, bool]:
        async with db.write() as session:
            replayed = op_key is not None and await find_operation(session, account, key) is not None
            grant_id = await service.grant(
                session, account, bucket, amount, expires_at=expiry, op_key=key, note=note
            )
            return grant_id, replayed

    grant_id, replayed = run_with_db(work)
    if as_json:
        out = {"grantId": str(grant_id), "account": str(account), "bucket": bucket, "amount": amount}
        print(json.dumps(out | {"replayed": replayed}))
    elif replayed:
        console.print(
            f"Replay: --op-key {op_key!r} was already used for grant {grant_id}; nothing more was granted"
        )
    else:
        console.print(f"Granted {amount} {bucket} credits to account {account} (grant {grant_id})")


@credits_app.command("void-grant")
def void_grant(
    grant_id: Annotated[int, typer.Option("--grant", help="Grant id.")],
    as_json: JsonFlag = False,
) -> None:
    """Withdraw a grant's unspent, unheld credits."""

    async def work(db: Database, _s: Settings) -> service.OperationResult:
        async with db.write() as session:
            return await service.void_grant(session, grant_id, f"admin-void:{grant_id}")

    result = run_with_db(work)
    if as_json:
        print(json.dumps({"grantId": str(grant_id), "voided": result.amount}))
    else:
        console.print(f"Voided grant {grant_id}: {result.amount} credits withdrawn")


@credits_app.command("history")
def history(
    account: AccountOpt,
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=1000)] = 100,
    as_json: JsonFlag = False,
) -> None:
    """The account's ledger entries, newest first."""

    async def work(db: Database, _s: Settings) -> tuple[list[dict[str, Any]], int]:
        async with db.read() as session:
            items, total = await list_entries(session, account, page=page, page_size=page_size)
            return [item.to_api() for item in items], total

    items, total = run_with_db(work)
    if as_json:
        print(json.dumps({"items": items, "total": total, "page": page, "pageSize": page_size}))
        return
    table = Table("id", "time", "type", "amount", "bucket", "grant", "operation", "business code", "key")
    for item in items:
        when = datetime.fromtimestamp(item["createdAt"] / 1000, UTC).isoformat(timespec="seconds")
        table.add_row(
            item["id"],
            when,
            item["type"],
            str(item["amount"]),
            item["bucket"] or "",
            item["grantId"] or "",
            item["operationId"],
            item["businessCode"] or "",
            item["apiKeyPrefix"] or "",
        )
    console.print(table)
    console.print(f"{total} entries")


@credits_app.command("balance")
def balance(account: AccountOpt, as_json: JsonFlag = False) -> None:
    """The account's balance as GET /external/credits/balance reports it."""

    async def work(db: Database, _s: Settings) -> dict[str, Any]:
        async with db.read() as session:
            b = await get_balance(session, account, datetime.now(UTC))
        return {
            "totalAmount": b.total_amount,
            "totalBalance": b.total_balance,
            **{f"{bucket}Amount": b.amounts[bucket] for bucket in b.amounts},
            **{f"{bucket}Balance": b.balances[bucket] for bucket in b.balances},
            "resetAt": b.reset_at.isoformat() if b.reset_at else None,
            "addonExpireAt": b.addon_expire_at.isoformat() if b.addon_expire_at else None,
        }

    out = run_with_db(work)
    if as_json:
        print(json.dumps(out))
        return
    table = Table("bucket", "balance", "granted", "expires", title=f"Credits of account {account}")
    for label, bucket, expires in (
        ("subscription", "subscription", out["resetAt"]),
        ("add-on", "addon", out["addonExpireAt"]),
        ("gift", "gift", "never"),
    ):
        table.add_row(
            label, f"{out.get(bucket + 'Balance', 0):,}", f"{out.get(bucket + 'Amount', 0):,}", expires or ""
        )
    table.add_row("total", f"{out['totalBalance']:,}", f"{out['totalAmount']:,}", "")
    console.print(table)


def reconcile_command(
    account: Annotated[int | None, typer.Option("--account", help="Only this account.")] = None,
) -> None:
    """Check that every credit is explained by the ledger (LEDGER.md invariant 2); exit 1 on a mismatch."""

    async def work(db: Database, _s: Settings) -> list[str]:
        async with db.read() as session:
            return await reconcile(session, account)

    problems = run_with_db(work)
    if not problems:
        console.print("OK: the ledger reconciles" + (f" for account {account}" if account else ""))
        return
    for problem in problems:
        err_console.print(f"MISMATCH {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)
