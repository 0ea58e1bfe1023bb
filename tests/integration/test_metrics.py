"""``/metrics``: request latency by route template, maintained charge counters, database-derived gauges,
and who may scrape (the metrics listener, or the metrics token on the API port; nobody else)."""

from __future__ import annotations

import httpx
import pytest

from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.ledger.service import ChargeContext
from showfloor.server.metrics import CREDITS_CHARGED, PROVIDER_CALLS, PROVIDER_ERRORS
from showfloor.server.unlocks.providers import (
    DatasetProvider,
    LookupResult,
    MeteredProvider,
    Person,
    TransientProviderError,
)
from tests.conftest import AccountFixture, scrape_metrics, test_settings
from tests.integration.paid_support import event_with, give
from tests.integration.test_foundation import assert_error_body
from tests.integration.test_rate_limit import serve
from tests.integration.unlock_support import drain, give_credits, seed_cast

EMAIL_UNLOCK = "Contact Email Unlock - API"


def charged(business_code: str, call_source: str = "api") -> float:
    value: float = CREDITS_CHARGED.labels(business_code, call_source)._value.get()
    return value


async def test_metrics_exposes_request_latency_by_route(client: httpx.AsyncClient) -> None:
    assert (await client.get("/external/credits/balance")).status_code == 200
    text = await scrape_metrics(client)
    assert (
        'showfloor_http_request_duration_seconds_count{method="GET",route="/external/credits/balance",status="200"}'
        in text
    )
    assert "showfloor_credit_holds_outstanding 0.0" in text


async def test_task_backlog_and_provider_metrics(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    cast = await seed_cast(db, deliverable=2, ineligible=1)
    await give_credits(db, account.id, 1000)
    charged_before = charged(EMAIL_UNLOCK)
    resp = await client.post(
        "/external/contacts/unlock",
        json={"personnel_ids": [str(pid) for pid in cast.people.values()], "event_id": cast.public_event_id},
    )
    assert resp.status_code == 201, resp.text
    backlog = await scrape_metrics(client)
    assert 'showfloor_unlock_task_items{kind="email",state="pending"} 3.0' in backlog
    assert "showfloor_credit_holds_outstanding 45.0" in backlog
    assert charged(EMAIL_UNLOCK) == charged_before  # held, not charged yet

    before = PROVIDER_CALLS.labels("dataset", "delivered")._value.get()
    await drain(db, MeteredProvider(DatasetProvider()))
    after = await scrape_metrics(client)
    assert 'showfloor_unlock_task_items{kind="email",state="pending"} 0.0' in after
    assert PROVIDER_CALLS.labels("dataset", "delivered")._value.get() == before + 2
    assert 'showfloor_provider_latency_seconds_count{provider="dataset"}' in after
    assert "showfloor_credit_holds_outstanding 0.0" in after
    # The two delivered contacts, counted once when the task closed (the ineligible one was released).
    assert charged(EMAIL_UNLOCK) == charged_before + 30
    assert f'showfloor_credits_charged_total{{business_code="{EMAIL_UNLOCK}",call_source="api"}}' in after


async def test_debits_are_counted_once_when_they_commit(
    client: httpx.AsyncClient, db: Database, account: AccountFixture
) -> None:
    await give(db, account.id, 5000)
    event = await event_with(db)
    code = "Event Unlock - API"
    before = charged(code)
    headers = {"Idempotency-Key": "metrics-unlock-1"}
    first = await client.post(f"/external/events/{event.event_id}/unlock", headers=headers)
    assert first.status_code == 201, first.text
    assert charged(code) == before + 2000
    replay = await client.post(f"/external/events/{event.event_id}/unlock", headers=headers)
    assert replay.headers.get("idempotent-replayed") == "true"
    again = await client.post(f"/external/events/{event.event_id}/unlock")  # already unlocked: free
    assert again.status_code == 201 and again.json()["creditsUsed"] == 0
    assert charged(code) == before + 2000
    assert f'showfloor_credits_charged_total{{business_code="{code}",call_source="api"}}' in (
        await scrape_metrics(client)
    )


async def test_a_debit_rolled_back_is_not_counted(db: Database, account: AccountFixture) -> None:
    await give(db, account.id, 100)
    ctx = ChargeContext(account_id=account.id, business_code="Metrics Probe - API")
    before = charged("Metrics Probe - API")
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await ledger.debit(session, ctx, 40, "metrics:probe")
            raise RuntimeError("the unit fails after the debit")
    assert charged("Metrics Probe - API") == before
    async with db.write() as session:
        await ledger.debit(session, ctx, 40, "metrics:probe")
    async with db.write() as session:
        assert (await ledger.debit(session, ctx, 40, "metrics:probe")).replayed
    assert charged("Metrics Probe - API") == before + 40


async def test_provider_errors_are_counted() -> None:
    class Down:
        name = "down"

        async def lookup(self, person: Person) -> LookupResult:
            raise TransientProviderError("timeout")

        async def aclose(self) -> None:
            return None

    provider = MeteredProvider(Down())
    person = Person(1, "email", "Ada", None, None, None, None, None, False)
    before = PROVIDER_ERRORS.labels("down", "timeout")._value.get()
    with pytest.raises(TransientProviderError):
        await provider.lookup(person)
    assert PROVIDER_ERRORS.labels("down", "timeout")._value.get() == before + 1


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_metrics_are_not_open_on_the_api_port(
    db: Database, db_url: str, account: AccountFixture
) -> None:
    # The production default: no token, no listener → as if there were no such path.
    async with serve(test_settings(db_url, metrics_token=None)) as client:
        assert_error_body(await client.get("/metrics"), 404, "NOT_FOUND")
        assert_error_body(await client.get("/metrics", headers=account.headers), 404, "NOT_FOUND")
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]
    async with serve(test_settings(db_url)) as client:  # a token configured
        assert_error_body(await client.get("/metrics"), 404, "NOT_FOUND")
        assert_error_body(await client.get("/metrics", headers=account.headers), 401, "INVALID_API_KEY")
        assert "showfloor_http_request_duration_seconds" in await scrape_metrics(client)
