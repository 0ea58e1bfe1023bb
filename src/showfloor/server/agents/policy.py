"""Each API key's agent policy, set by the operator or owner: a daily agent budget (credits a key's agent
quotes may spend per UTC day without a human approval; None: every quote needs one) and the MCP-only
scope (the key's paid REST routes answer 403, so an agent cannot go around its approvals)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import InvalidRequest, NotFound
from showfloor.server.models import ApiKey


async def _key(session: AsyncSession, key_id: int) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found")
    return key


async def set_agent_budget(session: AsyncSession, key_id: int, daily: int | None) -> ApiKey:
    if daily is not None and daily < 0:
        raise InvalidRequest("The daily agent budget must be 0 or more credits")
    key = await _key(session, key_id)
    key.agent_daily_budget = daily
    return key


async def set_mcp_only(session: AsyncSession, key_id: int, mcp_only: bool) -> ApiKey:
    key = await _key(session, key_id)
    key.mcp_only = mcp_only
    return key
