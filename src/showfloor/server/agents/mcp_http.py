"""``/mcp`` on ``showfloor serve``: the MCP server over Streamable HTTP, behind the REST API's own
authentication (``Authorization: Bearer <API key>``: the same keys, rate limits and 401 body).

The endpoint authenticates each HTTP request exactly as a paid REST route does (``current_principal``),
leaves the principal on the request for the tools (``mcp_tools.request_principal``) and hands the request
to the SDK's session manager, which serves the current protocol revision and the previous one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from showfloor.server.agents.mcp_tools import PRINCIPAL_STATE, build_mcp_server
from showfloor.server.api.deps import current_principal
from showfloor.server.api.errors import error_response
from showfloor.server.errors import DomainError

MCP_PATH = "/mcp"


class McpEndpoint:
    """A plain ASGI endpoint (Starlette routes an object that is not a function to it as an app)."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        admitted = Response()
        try:
            principal = await current_principal(request, admitted, request.headers.get("authorization"))
        except DomainError as exc:
            refused = error_response(request, exc.code, exc.message, exc.details, headers=exc.headers)
            await refused(scope, receive, send)
            return
        scope.setdefault("state", {})[PRINCIPAL_STATE] = principal
        limit_headers = [
            (k.encode(), v.encode())
            for k, v in admitted.headers.items()
            if k.lower().startswith("x-ratelimit")
        ]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(limit_headers)
            await send(message)

        await self.server.session_manager.handle_request(scope, receive, send_with_limits)


def install_mcp(app: FastAPI) -> None:
    """Mount ``/mcp``; ``mcp_sessions(app)`` must run in the app's lifespan."""
    server = build_mcp_server(app.state)
    # Every request carries an API key, which a DNS-rebinding page cannot supply: the SDK's Host/Origin
    # allow-list (localhost only by default) would only refuse legitimate deployments behind a name.
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app.state.mcp_server = server
    app.router.routes.append(Route(MCP_PATH, endpoint=McpEndpoint(server), methods=["GET", "POST", "DELETE"]))


@asynccontextmanager
async def mcp_sessions(app: FastAPI) -> AsyncIterator[None]:
    """Run the SDK's session manager for the app's lifetime. Its task group lives in a task of its own:
    an anyio task group must be left by the task that entered it, and a lifespan's start and end may run
    in different tasks (test harnesses do that)."""
    server: MCPServer = app.state.mcp_server
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with server.session_manager.run():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    ready = asyncio.create_task(started.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():  # the manager failed to start: say why instead of waiting forever
        ready.cancel()
        task.result()
    try:
        yield
    finally:
        stop.set()
        await task
