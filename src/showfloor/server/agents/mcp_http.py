"""``/mcp`` on ``showfloor serve``: the MCP server over Streamable HTTP, behind the REST API's own
authentication (``Authorization: Bearer <API key>``: the same keys, rate limits and 401 body).

The endpoint authenticates each HTTP request exactly as a paid REST route does (``current_principal``),
leaves the principal on the request for the tools (``mcp_tools.request_principal``) and hands the request
to the SDK's session manager, which serves the current protocol revision and the previous one.

The SDK (about 1.7 s of CPU to import) is loaded, and the server built, on the first ``/mcp`` request:
a process that never serves MCP starts as fast as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from showfloor.server.api.deps import current_principal
from showfloor.server.api.errors import error_response
from showfloor.server.errors import DomainError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

MCP_PATH = "/mcp"
PRINCIPAL_STATE = "showfloor_principal"  # where the endpoint leaves the principal (read by mcp_tools)


class McpEndpoint:
    """A plain ASGI endpoint (Starlette routes an object that is not a function to it as an app)."""

    def __init__(self, state: Any) -> None:
        self.state = state  # the app's state: db and settings once the lifespan has run
        self._server: MCPServer | None = None
        self._starting = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def server(self) -> MCPServer:
        if self._server is None:
            async with self._starting:
                if self._server is None:
                    self._server = await self._start()
        return self._server

    async def _start(self) -> MCPServer:
        from mcp.server.transport_security import TransportSecuritySettings

        from showfloor.server.agents.mcp_tools import build_mcp_server

        server = build_mcp_server(self.state)
        # Every request carries an API key, which a DNS-rebinding page cannot supply: the SDK's Host/Origin
        # allow-list (localhost only by default) would only refuse legitimate deployments behind a name.
        server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        started = asyncio.Event()

        # The session manager's task group lives in a task of its own: an anyio task group must be left
        # by the task that entered it, and requests and the lifespan's end run in other tasks.
        async def hold() -> None:
            async with server.session_manager.run():
                started.set()
                await self._stop.wait()

        self._task = asyncio.create_task(hold())
        ready = asyncio.create_task(started.wait())
        await asyncio.wait({self._task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():  # the manager failed to start: say why
            ready.cancel()
            self._task.result()
        return server

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

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

        server = await self.server()
        await server.session_manager.handle_request(scope, receive, send_with_limits)


def install_mcp(app: FastAPI) -> None:
    """Mount ``/mcp``; ``mcp_sessions(app)`` must wrap the app's lifespan (it stops the sessions)."""
    endpoint = McpEndpoint(app.state)
    app.state.mcp_endpoint = endpoint
    app.router.routes.append(Route(MCP_PATH, endpoint=endpoint, methods=["GET", "POST", "DELETE"]))


@asynccontextmanager
async def mcp_sessions(app: FastAPI) -> AsyncIterator[None]:
    endpoint: McpEndpoint = app.state.mcp_endpoint
    try:
        yield
    finally:
        await endpoint.close()
