"""``showfloor mcp``: the Showfloor MCP server for clients that launch a local process over stdio.

It holds no data and no policy: every tools/list and tools/call is forwarded to the ``/mcp`` endpoint of
a Showfloor server (SHOWFLOOR_BASE_URL) with the user's key (SHOWFLOOR_API_KEY or LENSMOR_API_KEY, as
every customer command), through the SDK's own client. A question the server asks the user (the
approval of a quote) is passed on to the local client's user; a client that cannot ask declines.
"""

from __future__ import annotations

from typing import Any

import httpx2
import mcp.types as mt
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp_types.version import is_version_at_least

from showfloor.client._config import resolve_config


class _Relay:
    """Passes the remote server's elicitations to the local client's user (the call being served)."""

    def __init__(self) -> None:
        self.local: ServerRequestContext[Any] | None = None

    async def elicit(self, _context: ClientRequestContext, params: mt.ElicitRequestParams) -> mt.ElicitResult:
        local = self.local
        caps = local.session.client_capabilities if local is not None else None
        if (
            local is None
            or caps is None
            or caps.elicitation is None
            or not isinstance(params, mt.ElicitRequestFormParams)
        ):
            return mt.ElicitResult(action="decline")
        return await local.session.elicit_form(params.message, params.requested_schema)


async def _ask_local(local: ServerRequestContext[Any], request: mt.InputRequest) -> mt.InputResponse:
    """A question of the remote server, put to a local client that speaks the previous protocol revision
    (it takes server-initiated requests, not ``InputRequiredResult``); declined when it cannot ask."""
    caps = local.session.client_capabilities
    can_ask = caps is not None and caps.elicitation is not None
    if (
        can_ask
        and isinstance(request, mt.ElicitRequest)
        and isinstance(request.params, mt.ElicitRequestFormParams)
    ):
        return await local.session.elicit_form(request.params.message, request.params.requested_schema)
    return mt.ElicitResult(action="decline")


def build_proxy(remote: Client, relay: _Relay) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: mt.PaginatedRequestParams | None
    ) -> mt.ListToolsResult:
        return await remote.list_tools(cursor=params.cursor if params else None)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: mt.CallToolRequestParams
    ) -> mt.CallToolResult | mt.InputRequiredResult:
        relay.local = ctx
        try:
            result = await remote.session.call_tool(
                params.name,
                params.arguments or {},
                input_responses=params.input_responses,
                request_state=params.request_state,
                allow_input_required=True,
            )
            # A client of the current revision that can ask its user answers InputRequiredResult itself and
            # retries through us; one of the previous revision is asked here, over its back-channel; one that
            # cannot ask declines (the server then answers APPROVAL_REQUIRED and spends nothing).
            relay_to_client = _modern(ctx.protocol_version) and _can_ask(ctx)
            rounds = 0
            while isinstance(result, mt.InputRequiredResult) and not relay_to_client and rounds < 10:
                rounds += 1
                answers = {
                    key: await _ask_local(ctx, req) for key, req in (result.input_requests or {}).items()
                }
                result = await remote.session.call_tool(
                    params.name,
                    params.arguments or {},
                    input_responses=answers,
                    request_state=result.request_state,
                    allow_input_required=True,
                )
            return result
        finally:
            relay.local = None

    return Server("showfloor", on_list_tools=list_tools, on_call_tool=call_tool)


def _can_ask(local: ServerRequestContext[Any]) -> bool:
    caps = local.session.client_capabilities
    return caps is not None and caps.elicitation is not None


def _modern(protocol_version: str | None) -> bool:
    return protocol_version is not None and is_version_at_least(protocol_version, "2026-07-28")


async def serve_stdio(api_key: str | None = None, base_url: str | None = None) -> None:
    config = resolve_config(api_key, base_url)
    relay = _Relay()
    headers = {"Authorization": f"Bearer {config.api_key}"}
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(config.timeout, read=300))
    transport = streamable_http_client(f"{config.base_url}/mcp", http_client=http)
    async with http, Client(transport, elicitation_callback=relay.elicit) as remote:  # type: ignore[arg-type]
        server = build_proxy(remote, relay)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
