"""Helpers of the MCP tests: the SDK's own client in memory (a fixed principal) or over HTTP through the
ASGI app (the real ``/mcp`` endpoint), and reading tool results."""

from __future__ import annotations

import json
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import mcp.types as mt
from fastapi import FastAPI
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client

from showfloor.server.accounts.service import Principal
from showfloor.server.agents.mcp_tools import build_mcp_server
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database


class Human:
    """An MCP client's user answering elicitations: approves or declines, and remembers what was asked."""

    def __init__(self, approve: bool) -> None:
        self.approve = approve
        self.asked: list[str] = []

    async def __call__(
        self, context: ClientRequestContext, params: mt.ElicitRequestParams
    ) -> mt.ElicitResult:
        assert isinstance(params, mt.ElicitRequestFormParams)
        self.asked.append(params.message)
        return mt.ElicitResult(action="accept", content={"approve": self.approve})


@asynccontextmanager
async def memory_client(
    db: Database, settings: Settings, principal: Principal, human: Human | None = None
) -> AsyncIterator[Client]:
    async def fixed(_ctx: Any) -> Principal:
        return principal

    server = build_mcp_server(types.SimpleNamespace(db=db, settings=settings), fixed)
    async with Client(server, elicitation_callback=human) as client:
        yield client


@asynccontextmanager
async def http_client(app: FastAPI, key: str, *, mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK client over Streamable HTTP against the ASGI app (its lifespan must be running)."""
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app),
        base_url="http://showfloor.test",
        headers={"Authorization": f"Bearer {key}"},
    )
    async with (
        http,
        Client(streamable_http_client("http://showfloor.test/mcp", http_client=http), mode=mode) as client,
    ):  # type: ignore[arg-type]
        yield client


def ok(result: mt.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def error(result: mt.CallToolResult) -> dict[str, Any]:
    """The JSON error a tool answered (``{"error", "message", "details"}``)."""
    assert result.is_error, result.structured_content
    text = result.content[0]
    assert isinstance(text, mt.TextContent)
    return dict(json.loads(text.text[text.text.index("{") :]))
