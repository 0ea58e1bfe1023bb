"""Providers: the HTTP provider against a real local HTTP server, the fault provider's injections, and
the embedded worker that ``showfloor serve`` runs in-process."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.unlocks.providers import (
    DatasetProvider,
    FaultPlan,
    FaultProvider,
    HttpProvider,
    Outcome,
    PermanentProviderError,
    Person,
    TransientProviderError,
    build_provider,
)
from tests.conftest import AccountFixture, test_settings
from tests.integration.unlock_support import (
    assert_settled_cleanly,
    available_now,
    drain,
    give_credits,
    seed_cast,
)


def person(pid: int, **overrides: Any) -> Person:
    values: dict[str, Any] = {
        "personnel_id": pid,
        "kind": "email",
        "full_name": "Jane Doe",
        "company_name": "Acme",
        "title": "CTO",
        "linkedin_url": None,
        "email": "jane@acme.example",
        "phone": None,
        "opted_out": False,
    }
    values.update(overrides)
    return Person(**values)


class Enrichment(BaseHTTPRequestHandler):
    """Answers by the last digit of personnel_id: 1 delivered, 2 no_email, 3 ineligible, 4 HTTP 500,
    5 not JSON, 6 HTTP 400, 7 delivered without value; anything else delivered."""

    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body["auth"] = self.headers.get("Authorization")
        Enrichment.seen.append(body)
        digit = body["personnel_id"][-1]
        status, answer = 200, {"outcome": "delivered", "value": f"p{body['personnel_id']}@found.example"}
        if digit == "2":
            answer = {"outcome": "no_email", "value": None}
        elif digit == "3":
            answer = {"outcome": "ineligible"}
        elif digit == "4":
            status = 500
        elif digit == "6":
            status = 400
        elif digit == "7":
            answer = {"outcome": "delivered", "value": ""}
        raw = b"<html>oops" if digit == "5" else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def enrichment_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Enrichment)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Enrichment.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/enrich"
    server.shutdown()
    server.server_close()


async def test_http_provider_against_a_real_server(enrichment_url: str) -> None:
    provider = HttpProvider(enrichment_url, token="s3cret", retries=1, retry_delay_seconds=0.01)
    try:
        found = await provider.lookup(person(11))
        assert found.outcome is Outcome.DELIVERED and found.value == "p11@found.example"
        assert Enrichment.seen[-1]["kind"] == "email" and Enrichment.seen[-1]["auth"] == "Bearer s3cret"
        assert Enrichment.seen[-1]["full_name"] == "Jane Doe"
        assert (await provider.lookup(person(12))).outcome is Outcome.NO_EMAIL
        assert (await provider.lookup(person(13))).outcome is Outcome.INELIGIBLE
        before = len(Enrichment.seen)
        with pytest.raises(TransientProviderError) as unavailable:
            await provider.lookup(person(14))
        assert unavailable.value.code == "PROVIDER_UNAVAILABLE" and len(Enrichment.seen) == before + 2
        for pid in (15, 17):
            with pytest.raises(TransientProviderError) as malformed:
                await provider.lookup(person(pid))
            assert malformed.value.code == "MALFORMED_RESPONSE"
        with pytest.raises(PermanentProviderError):
            await provider.lookup(person(16))
    finally:
        await provider.aclose()
    dead = HttpProvider("http://127.0.0.1:9/nothing", retries=0, timeout_seconds=1)
    with pytest.raises(TransientProviderError):
        await dead.lookup(person(1))
    await dead.aclose()


async def test_worker_with_http_provider_settles_by_answer(
    db: Database, account: AccountFixture, enrichment_url: str
) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=10)
    from showfloor.server.unlocks import service

    async with db.write() as session:
        await service.submit(
            session,
            account_id=account.id,
            api_key_id=account.key_id,
            kind="email",
            personnel_ids=[str(v) for v in cast.people.values()],
            event_ref=None,
            call_source="api",
        )
    settings = Settings(unlock_provider="http", unlock_http_url=enrichment_url, unlock_http_retries=0)
    await drain(db, build_provider(settings), max_attempts=2)
    expected = sum(str(pid)[-1] not in "234567" for pid in cast.people.values())
    assert await available_now(db, account.id) == 1000 - 15 * expected
    await assert_settled_cleanly(db, account.id)


async def test_fault_provider_is_seeded_and_injects_every_kind() -> None:
    plan = FaultPlan(
        error_rate=0.25, permanent_rate=0.25, timeout_rate=0.25, malformed_rate=0.1, timeout_ms=1, seed=3
    )

    async def outcomes() -> list[str]:
        provider = FaultProvider(DatasetProvider(), plan)
        seen = []
        for pid in range(1, 80):
            try:
                seen.append((await provider.lookup(person(pid))).outcome.value)
            except (TransientProviderError, PermanentProviderError) as exc:
                seen.append(exc.code)
        return seen

    first, second = await outcomes(), await outcomes()
    assert first == second
    assert {
        "delivered",
        "PROVIDER_REJECTED",
        "PROVIDER_UNAVAILABLE",
        "PROVIDER_TIMEOUT",
        "MALFORMED_RESPONSE",
    } <= set(first)
    slow = FaultProvider(DatasetProvider(), FaultPlan(latency_ms=50))
    started = asyncio.get_running_loop().time()
    await slow.lookup(person(1))
    assert asyncio.get_running_loop().time() - started >= 0.045


async def test_dataset_provider() -> None:
    provider = DatasetProvider()
    assert (await provider.lookup(person(1))).value == "jane@acme.example"
    assert (await provider.lookup(person(1, email=None))).outcome is Outcome.NO_EMAIL
    assert (await provider.lookup(person(1, opted_out=True))).outcome is Outcome.INELIGIBLE
    assert (await provider.lookup(person(1, kind="phone", phone="+1 555"))).value == "+1 555"
    with pytest.raises(ValueError):
        build_provider(Settings(unlock_provider="http"))


async def test_embedded_worker_settles_in_process(db: Database, db_url: str, account: AccountFixture) -> None:
    await give_credits(db, account.id, 1000)
    cast = await seed_cast(db, deliverable=3, no_email=1)
    settings = test_settings(db_url, embedded_worker=True, worker_poll_seconds=0.05)
    app = create_app(settings, run_background_jobs=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=account.headers
        ) as client:
            out = await client.post(
                "/external/contacts/unlock", json={"personnel_ids": [str(v) for v in cast.people.values()]}
            )
            assert out.status_code == 201
            url = f"/external/contacts/unlock-tasks/{out.json()['task_id']}"
            for _ in range(200):
                status = (await client.get(url)).json()
                if status["taskStatus"] == "completed":
                    break
                await asyncio.sleep(0.05)
            assert status["taskStatus"] == "completed"
            assert sorted(i["status"] for i in status["items"]) == [
                "failed",
                "unlocked",
                "unlocked",
                "unlocked",
            ]
    assert await available_now(db, account.id) == 1000 - 45
    await assert_settled_cleanly(db, account.id)
