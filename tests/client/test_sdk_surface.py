"""Issue 18, items 15 and 17: every public SDK method reads well in ``help()`` and ``inspect``, and the
per-call options (``idempotency_key``, ``timeout``, ``extra_headers``, ``with_options``) reach the wire.
The crash-and-resume case runs a real subprocess killed right after its paid request was sent."""

from __future__ import annotations

import inspect
import json
import os
import pydoc
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from showfloor.client import AsyncClient, Client
from showfloor.client._methods import AsyncResource, SyncResource
from tests.client.live import LiveServer

INTERNAL = ("Context", "Op[", "Generator", "ctx")


def public_methods(client: Client | AsyncClient) -> Iterator[tuple[str, Any]]:
    for name in dir(client):
        if name.startswith("_"):
            continue
        value = getattr(client, name)
        if isinstance(value, SyncResource | AsyncResource):
            for member in dir(value):
                if not member.startswith("_"):
                    yield f"{name}.{member}", getattr(value, member)
        elif callable(value):
            yield name, value


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_every_public_method_has_a_docstring_and_a_user_facing_signature(cls: type[Any]) -> None:
    client = cls("sk_test_0123456789abcdef", "http://sdk.test")
    seen = dict(public_methods(client))
    assert {"events.list", "events.iter", "contacts.unlock", "quote", "with_options"} <= set(seen)
    for name, method in seen.items():
        assert inspect.getdoc(method), f"{name} has no docstring"
        signature = inspect.signature(method)
        text = str(signature)
        assert not any(word in text for word in INTERNAL), f"{name}{text}"
        assert "ctx" not in signature.parameters, name
        assert not any(word in pydoc.render_doc(method) for word in ("Op[", "Generator")), name
    iterate = inspect.signature(seen["events.iter"])
    assert {"keyword", "country", "page", "page_size"} <= set(iterate.parameters)
    assert "Iterator[EventItem]" in str(iterate.return_annotation)
    assert str(inspect.signature(seen["events.get"]).return_annotation) == "EventDetail"
    assert "sk_test_0123456789abcdef" not in repr(client)
    assert repr(client).startswith(f"{cls.__name__}(base_url='http://sdk.test'")


class Recording(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)


def test_per_call_options_and_with_options_reach_the_request(live_server: LiveServer) -> None:
    account = live_server.new_account(10_000)
    company = live_server.catalog.company
    transport = Recording()
    with Client(account.key, live_server.base_url, transport=transport) as client:
        client.credits.balance(timeout=7.5, extra_headers={"X-Trace": "abc"})
        first = client.exhibitors.search_by_company_name(company, idempotency_key="my-search-1")
        again = client.exhibitors.search_by_company_name(company, idempotency_key="my-search-1")
        tuned = client.with_options(timeout=4.0, extra_headers={"X-Team": "sales"})
        tuned.events.list()
        assert client.credits.balance().totalBalance == 10_000 - 50  # the same key charged once
    balance_call, search, replay, listing = (
        transport.requests[0],
        *transport.requests[1:3],
        transport.requests[3],
    )
    assert balance_call.headers["x-trace"] == "abc" and balance_call.extensions["timeout"]["read"] == 7.5
    assert search.headers["idempotency-key"] == replay.headers["idempotency-key"] == "my-search-1"
    assert first.total == again.total
    assert listing.headers["x-team"] == "sales" and listing.extensions["timeout"]["read"] == 4.0
    assert "x-team" not in transport.requests[-1].headers  # the parent client is unchanged


CRASHING_CALL = """
import json, os, signal, sys
import httpx
from showfloor.client import Client

class DieAfterSending(httpx.HTTPTransport):
    def handle_request(self, request):
        response = super().handle_request(request)
        if request.method == "POST" and sys.argv[3] == "crash":
            os.kill(os.getpid(), signal.SIGKILL)  # the server did the work; the answer is lost
        return response

key = sys.argv[4] if len(sys.argv) > 4 else None
with Client(sys.argv[1], sys.argv[2], transport=DieAfterSending()) as client:
    page = client.exhibitors.search_by_company_name("Globex Dynamics", idempotency_key=key)
print(json.dumps({"total": page.total}))
"""


def run_call(
    server: LiveServer, api_key: str, mode: str, key: str | None
) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-c", CRASHING_CALL, api_key, server.base_url, mode, *([key] if key else [])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWFLOOR_")}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)


def test_a_crashed_process_resuming_with_its_idempotency_key_is_charged_once(live_server: LiveServer) -> None:
    account = live_server.new_account(10_000)
    crashed = run_call(live_server, account.key, "crash", "resume-me-1")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    resumed = run_call(live_server, account.key, "normal", "resume-me-1")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["total"] >= 1
    with Client(account.key, live_server.base_url) as client:
        assert client.credits.balance().totalBalance == 10_000 - 50
        # Without a caller's key, the resumed process is a new call and pays again.
        assert run_call(live_server, account.key, "normal", None).returncode == 0
        assert client.credits.balance().totalBalance == 10_000 - 100
