"""The MCP server of a real ``showfloor serve`` process, driven by the SDK's own client over HTTP (both
protocol revisions, elicitation through the client), over stdio through ``showfloor mcp``, and the
owner's ``showfloor quotes approve`` (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.client.live import Account, LiveServer
from tests.integration.mcp_support import Human, error, ok
from tests.integration.test_mcp_server import TOOLS

SHOWFLOOR = [sys.executable, "-m", "showfloor"]


@asynccontextmanager
async def over_http(
    server: LiveServer, key: str, *, mode: str = "auto", human: Human | None = None
) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
    transport = streamable_http_client(f"{server.base_url}/mcp", http_client=http)
    async with http, Client(transport, mode=mode, elicitation_callback=human) as client:  # type: ignore[arg-type]
        yield client


def second_key(server: LiveServer, account: Account) -> str:
    return str(server.admin("keys", "create", "--account", account.id)["key"])


def quotes_cli(server: LiveServer, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.env, "SHOWFLOOR_BASE_URL": server.base_url, "SHOWFLOOR_API_KEY": key, "COLUMNS": "200"}
    return subprocess.run([*SHOWFLOOR, "quotes", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_real_server_asks_the_user_through_the_client(cli_server: LiveServer, mode: str) -> None:
    account = cli_server.create_account(10_000)
    human = Human(approve=True)
    async with over_http(cli_server, account.key, mode=mode, human=human) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        event = cli_server.catalog.event
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": event}}
            )
        )
        assert quote["credits"] == 2000
        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["approved_via"] == "elicitation" and done["credits_charged"] == 2000
        replay = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert replay["replayed"] is True
        assert ok(await client.call_tool("get_balance", {}))["totalBalance"] == 8000
    assert len(human.asked) == 1 and quote["quote_id"] in human.asked[0]


async def test_owner_approves_with_the_cli_and_another_key(cli_server: LiveServer) -> None:
    account = cli_server.create_account(10_000)
    owner_key = second_key(cli_server, account)
    async with over_http(cli_server, account.key) as client:
        event = cli_server.catalog.event
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": event}}
            )
        )
        refused = error(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert refused["error"] == "APPROVAL_REQUIRED"
        assert any("showfloor quotes approve" in line for line in refused["details"]["how_to_approve"])

        own = quotes_cli(cli_server, account.key, "approve", quote["quote_id"], "--yes")
        assert own.returncode != 0 and "SELF_APPROVAL_FORBIDDEN" in own.stderr
        unasked = quotes_cli(cli_server, owner_key, "approve", quote["quote_id"])  # stdin is not a terminal
        assert unasked.returncode == 2 and "--yes" in unasked.stderr
        shown = quotes_cli(cli_server, owner_key, "show", quote["quote_id"], "--json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["approved"] is False
        approved = quotes_cli(cli_server, owner_key, "approve", quote["quote_id"], "--yes", "--json")
        assert approved.returncode == 0, approved.stderr
        assert json.loads(approved.stdout)["approvedVia"] == "key"  # CLI JSON is camelCase

        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["approved_via"] == "key" and done["credits_charged"] == 2000


def _stdio(server: LiveServer, key: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOWFLOOR_", "LENSMOR_"))}
    env |= {"SHOWFLOOR_API_KEY": key, "SHOWFLOOR_BASE_URL": server.base_url}
    return StdioServerParameters(command=sys.executable, args=["-m", "showfloor", "mcp"], env=env)


async def test_stdio_through_showfloor_mcp(cli_server: LiveServer) -> None:
    account = cli_server.create_account(10_000)
    event = cli_server.catalog.event
    async with Client(_stdio(cli_server, account.key)) as client:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        assert ok(await client.call_tool("get_balance", {}))["totalBalance"] == 10_000
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": event}}
            )
        )
        refused = error(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert refused["error"] == "APPROVAL_REQUIRED"  # a client that cannot ask its user: nothing spent
        assert ok(await client.call_tool("get_balance", {}))["totalBalance"] == 10_000
    human = Human(approve=True)
    async with Client(_stdio(cli_server, account.key), elicitation_callback=human) as client:
        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["approved_via"] == "elicitation" and done["credits_charged"] == 2000
    assert len(human.asked) == 1


async def test_stdio_client_of_the_previous_revision_is_asked_too(cli_server: LiveServer) -> None:
    account = cli_server.create_account(10_000)
    human = Human(approve=True)
    async with Client(_stdio(cli_server, account.key), mode="legacy", elicitation_callback=human) as client:
        event = cli_server.catalog.event
        quote = ok(
            await client.call_tool(
                "quote", {"action": "unlock_event_contacts", "params": {"event_id": event}}
            )
        )
        done = ok(await client.call_tool("execute_quote", {"quote_id": quote["quote_id"]}))
        assert done["approved_via"] == "elicitation" and done["credits_charged"] == 2000
    assert len(human.asked) == 1


def test_showfloor_mcp_without_a_key_says_how_to_configure_one(cli_server: LiveServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOWFLOOR_", "LENSMOR_"))}
    done = subprocess.run([*SHOWFLOOR, "mcp"], env=env, capture_output=True, text=True, timeout=60, input="")
    assert done.returncode == 2 and "SHOWFLOOR_API_KEY" in done.stderr
