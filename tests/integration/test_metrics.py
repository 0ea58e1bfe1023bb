"""``/metrics``: request latency by route template, and database-derived ledger gauges."""

from __future__ import annotations

import httpx
import pytest

from showfloor.server.db.uow import Database
from showfloor.server.metrics import PROVIDER_CALLS, PROVIDER_ERRORS
from showfloor.server.unlocks.providers import (
    DatasetProvider,
    LookupResult,
    MeteredProvider,
    Person,
    TransientProviderError,
)
from tests.conftest import AccountFixture
from tests.integration.unlock_support import drain, give_credits, seed_cast


async def test_metrics_exposes_request_latency_by_route(client: httpx.AsyncClient) -> None:
    assert (await client.get("/external/credits/balance")).status_code == 200
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    text = resp.text
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
    resp = await client.post(
        "/external/contacts/unlock",
        json={"personnel_ids": [str(pid) for pid in cast.people.values()], "event_id": cast.public_event_id},
    )
    assert resp.status_code == 201, resp.text
    backlog = (await client.get("/metrics")).text
    assert 'showfloor_unlock_task_items{kind="email",state="pending"} 3.0' in backlog
    assert "showfloor_credit_holds_outstanding 45.0" in backlog

    before = PROVIDER_CALLS.labels("dataset", "delivered")._value.get()
    await drain(db, MeteredProvider(DatasetProvider()))
    after = (await client.get("/metrics")).text
    assert 'showfloor_unlock_task_items{kind="email",state="pending"} 0.0' in after
    assert PROVIDER_CALLS.labels("dataset", "delivered")._value.get() == before + 2
    assert 'showfloor_provider_latency_seconds_count{provider="dataset"}' in after
    assert "showfloor_credit_holds_outstanding 0.0" in after
    assert (
        'showfloor_credits_charged{business_code="Contact Email Unlock - API",call_source="api"} 30.0'
        in after
    )


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
