"""Helpers of the agent quote tests: principals of fixture accounts, a second key, expiring a quote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from showfloor.server.accounts import service as accounts
from showfloor.server.accounts.service import Principal
from showfloor.server.agents import policy
from showfloor.server.db.uow import Database
from showfloor.server.models import AgentQuote
from tests.conftest import AccountFixture


async def principal_of(db: Database, key: str) -> Principal:
    async with db.read() as session:
        return await accounts.authenticate(session, key)


async def second_key(db: Database, account: AccountFixture) -> AccountFixture:
    async with db.write() as session:
        issued = await accounts.create_key(session, account.id, name="owner")
    return AccountFixture(account.id, issued.key, issued.id)


async def expire(db: Database, quote_id: str) -> None:
    async with db.write() as session:
        await session.execute(
            update(AgentQuote)
            .where(AgentQuote.public_id == quote_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


async def set_budget(db: Database, key_id: int, daily: int | None) -> None:
    async with db.write() as session:
        await policy.set_agent_budget(session, key_id, daily)


async def set_mcp_only(db: Database, key_id: int, flag: bool = True) -> None:
    async with db.write() as session:
        await policy.set_mcp_only(session, key_id, flag)
