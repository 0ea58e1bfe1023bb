"""``showfloor admin keys set-agent-budget`` and ``set-scope``: each key's agent policy (docs/agents.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from showfloor.cli.admin._runtime import console, run_with_db
from showfloor.cli.admin.accounts import keys_app
from showfloor.server.agents import policy
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database


@keys_app.command("set-agent-budget")
def keys_set_agent_budget(
    key_id: Annotated[int, typer.Argument(help="Key id (showfloor admin keys list).")],
    daily: Annotated[
        int | None,
        typer.Option("--daily", help="Credits per UTC day this key's agent quotes may spend unasked."),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Remove the budget: every quote needs a human.")
    ] = False,
) -> None:
    """Auto-approve this key's agent quotes up to a daily amount (default: none, every quote needs a human)."""
    if (daily is None) == (not clear):
        raise typer.BadParameter("give exactly one of --daily N or --clear")

    async def work(db: Database, _s: Settings) -> None:
        async with db.write() as session:
            await policy.set_agent_budget(session, key_id, None if clear else daily)

    run_with_db(work)
    console.print(
        f"Key {key_id}: " + ("no agent budget" if clear else f"agent budget {daily} credits per UTC day")
    )


@keys_app.command("set-scope")
def keys_set_scope(
    key_id: Annotated[int, typer.Argument(help="Key id (showfloor admin keys list).")],
    mcp_only: Annotated[
        bool, typer.Option("--mcp-only/--all-routes", help="Close (or reopen) the key's paid REST routes.")
    ] = True,
) -> None:
    """Mark a key MCP-only: its paid REST routes answer 403, so it spends only through approved quotes."""

    async def work(db: Database, _s: Settings) -> None:
        async with db.write() as session:
            await policy.set_mcp_only(session, key_id, mcp_only)

    run_with_db(work)
    console.print(f"Key {key_id}: " + ("MCP only" if mcp_only else "all routes"))
