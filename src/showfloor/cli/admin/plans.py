"""``showfloor admin plans …``: price lists per plan, and which plan an account belongs to.

A plan names prices for some actions; the actions it does not name cost the default price
(``showfloor.server.ledger.pricing.DEFAULT_PRICES``). Accounts without a plan pay the defaults.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from showfloor.cli.admin._runtime import console, run_with_db
from showfloor.server.accounts.service import get_account
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.errors import Conflict, NotFound
from showfloor.server.ledger.pricing import Action, plan_by_name, plan_prices
from showfloor.server.models import Plan, PlanPrice

plans_app = typer.Typer(help="Price lists per plan and plan membership of accounts.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
ACTIONS = ", ".join(a.value for a in Action)


def _action(value: str) -> Action:
    try:
        return Action(value)
    except ValueError:
        raise typer.BadParameter(f"unknown action {value!r}; expected one of {ACTIONS}") from None


async def _plan(db_session: Any, name: str) -> Plan:
    plan = await plan_by_name(db_session, name)
    if plan is None:
        raise NotFound(f"Plan {name!r} not found")
    return plan


@plans_app.command("create", help="Create a plan (prices it does not set stay at the defaults).")
def plans_create(name: Annotated[str, typer.Argument(help="Plan name.")], as_json: JsonFlag = False) -> None:
    async def work(db: Database, _s: Settings) -> dict[str, Any]:
        async with db.write() as session:
            if await plan_by_name(session, name) is not None:
                raise Conflict(f"Plan {name!r} already exists")
            plan = Plan(name=name, created_at=datetime.now(UTC))
            session.add(plan)
            await session.flush()
            return {"id": str(plan.id), "name": plan.name}

    out = run_with_db(work)
    if as_json:
        print(json.dumps(out))
    else:
        console.print(f"Created plan [bold]{out['name']}[/bold] (id {out['id']})")


@plans_app.command("set-price", help="Set one action's price in credits for a plan.")
def plans_set_price(
    plan: Annotated[str, typer.Option("--plan", help="Plan name.")],
    action: Annotated[str, typer.Option("--action", help=f"One of: {ACTIONS}.")],
    credits: Annotated[int, typer.Option("--credits", min=0, help="Credits per action (0 = free).")],
) -> None:
    chosen = _action(action)

    async def work(db: Database, _s: Settings) -> None:
        async with db.write() as session:
            row = await _plan(session, plan)
            price = await session.scalar(
                select(PlanPrice).where(PlanPrice.plan_id == row.id, PlanPrice.action == chosen.value)
            )
            if price is None:
                session.add(PlanPrice(plan_id=row.id, action=chosen.value, credits=credits))
            else:
                price.credits = credits

    run_with_db(work)
    console.print(f"Plan {plan}: {chosen.value} costs {credits} credits")


@plans_app.command("list", help="Every plan with its prices (defaults included).")
def plans_list(as_json: JsonFlag = False) -> None:
    async def work(db: Database, _s: Settings) -> list[dict[str, Any]]:
        async with db.read() as session:
            plans = (await session.scalars(select(Plan).order_by(Plan.id))).all()
            rows: list[tuple[str | None, str, int | None]] = [(None, "(default)", None)]
            rows += [(str(p.id), p.name, p.id) for p in plans]
            out = []
            for plan_id, name, pk in rows:
                prices = await plan_prices(session, pk)
                out.append({"id": plan_id, "name": name, "prices": {a.value: c for a, c in prices.items()}})
            return out

    rows = run_with_db(work)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("plan", *[a.value for a in Action])
    for row in rows:
        table.add_row(str(row["name"]), *[str(row["prices"][a.value]) for a in Action])
    console.print(table)


@plans_app.command("assign", help="Put an account on a plan (its next charges use the plan's prices).")
def plans_assign(
    account: Annotated[int, typer.Option("--account", help="Account id.")],
    plan: Annotated[str, typer.Option("--plan", help="Plan name, or 'default' for the default prices.")],
) -> None:
    async def work(db: Database, _s: Settings) -> None:
        async with db.write() as session:
            row = await get_account(session, account)
            named = await plan_by_name(session, plan)
            if named is None and plan != "default":
                raise NotFound(f"Plan {plan!r} not found")
            row.plan_id = named.id if named is not None else None

    run_with_db(work)
    console.print(f"Account {account} is on plan {plan}")
