"""Webhook delivery to a real HTTP receiver on 127.0.0.1: signatures the SDK verifies, retries with the
same ``webhook-id``, no event for a rolled-back change, no event across accounts, no redirect followed,
private targets refused, give-up after the retry window, endpoints disabled after 3 days of failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from showfloor.client import verify_webhook
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger import service as ledger
from showfloor.server.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from showfloor.server.notify.events import CREDITS_GRANTED, WEBHOOK_ENDPOINT_DISABLED
from showfloor.server.notify.outbox import dispatch
from tests.conftest import AccountFixture, new_account, test_settings
from tests.e2e.provider_outage_drill import wait_until
from tests.integration.webhook_support import (
    Receiver,
    create_endpoint,
    deliver,
    delivery_states,
    webhook_settings,
)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return webhook_settings(test_settings(db_url))


async def grant(db: Database, account_id: int, amount: int = 100, key: str = "g1") -> None:
    async with db.write() as session:
        await ledger.grant(session, account_id, "gift", amount, expires_at=None, op_key=key)


async def outbox_count(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)


async def test_a_receiver_answering_500_then_200_gets_the_same_webhook_id(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver(statuses=[500]) as receiver:
        endpoint = await create_endpoint(client, receiver.url())
        await grant(db, account.id)
        await deliver(db, settings)
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.webhook_id == second.webhook_id and first.webhook_id.startswith("evt_")
    assert first.body == second.body
    for request in receiver.received:
        event = verify_webhook(request.body, request.headers, endpoint["secret"])
        assert event["id"] == request.webhook_id and event["type"] == CREDITS_GRANTED
    assert await delivery_states(db) == [("delivered", 2)]
    async with db.read() as session:
        row = (await session.scalars(select(WebhookEndpoint))).one()
    assert row.failing_since is None  # the success ended the failing streak


async def test_no_event_and_no_delivery_for_a_rolled_back_change(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    class Abort(Exception):
        pass

    async with Receiver() as receiver:
        await create_endpoint(client, receiver.url())
        with pytest.raises(Abort):
            async with db.write() as session:
                await ledger.grant(session, account.id, "gift", 100, expires_at=None, op_key="doomed")
                async with db.read() as peek:  # another transaction cannot see it yet either
                    assert await peek.scalar(select(func.count()).select_from(OutboxEvent)) == 0
                assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == 1
                raise Abort  # the change is rolled back after it was made: so is its event
        assert await outbox_count(db) == 0
        refused = await client.post("/external/events/E1/unlock")  # no such event, nothing charged
        assert refused.status_code == 404
        assert await deliver(db, settings) == 0
    assert receiver.received == []


async def test_an_accounts_events_never_reach_another_accounts_endpoints(
    db: Database, app_client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    other = await new_account(db, "other")
    async with Receiver() as mine, Receiver() as theirs:
        app_client.headers.update(account.headers)
        my_endpoint = await create_endpoint(app_client, mine.url())
        app_client.headers.update(other.headers)
        their_endpoint = await create_endpoint(app_client, theirs.url())
        await grant(db, account.id, 10, "a")
        await grant(db, account.id, 20, "b")
        await grant(db, other.id, 30, "c")
        await deliver(db, settings)

    def amounts(receiver: Receiver, secret: str) -> list[int]:
        return sorted(verify_webhook(r.body, r.headers, secret)["data"]["amount"] for r in receiver.received)

    assert amounts(mine, my_endpoint["secret"]) == [10, 20]
    assert amounts(theirs, their_endpoint["secret"]) == [30]


async def test_redirects_are_not_followed(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver() as target, Receiver(redirect_to=target.url("/stolen")) as receiver:
        await create_endpoint(client, receiver.url())
        await grant(db, account.id)
        await deliver(db, webhook_settings(settings, webhook_retry_base_seconds=3600))
    assert len(receiver.received) == 1 and target.received == []
    async with db.read() as session:
        row = (await session.scalars(select(WebhookDelivery))).one()
    assert (row.state, row.last_status) == ("pending", 302)
    assert row.last_error is not None and "redirect not followed" in row.last_error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_private_targets_are_refused_without_the_setting(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings, host: str
) -> None:
    async with Receiver() as receiver:
        await create_endpoint(client, receiver.url(host=host))  # registered while the setting allowed it
        await grant(db, account.id)
        strict = webhook_settings(settings, webhook_allow_private=False, webhook_retry_base_seconds=3600)
        await deliver(db, strict)
        assert receiver.received == []
        async with db.read() as session:
            row = (await session.scalars(select(WebhookDelivery))).one()
        assert row.state == "pending" and row.last_status is None
        assert row.last_error is not None and "non-public address" in row.last_error
        await deliver(db, settings)  # not due yet: the refusal is retried later like any failure
        assert receiver.received == []


async def test_a_delivery_past_its_retry_window_fails_at_its_next_failed_attempt(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver(default=503) as receiver:
        await create_endpoint(client, receiver.url())
        await grant(db, account.id)
        await deliver(db, webhook_settings(settings, webhook_retry_base_seconds=3600))
        assert await delivery_states(db) == [("pending", 1)]
        async with db.write() as session:  # 24 hours later: the window is over and the retry is due
            past = datetime.now(UTC) - timedelta(seconds=1)
            await session.execute(update(WebhookDelivery).values(give_up_at=past, next_attempt_at=past))
        await deliver(db, settings)
    assert await delivery_states(db) == [("failed", 2)]
    assert len(receiver.received) == 2 and len(set(receiver.ids())) == 1


async def test_an_endpoint_failing_for_3_days_is_disabled_and_the_other_endpoints_are_told(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver(default=500) as broken, Receiver() as healthy:
        bad = await create_endpoint(client, broken.url())
        good = await create_endpoint(client, healthy.url())
        async with db.write() as session:
            since = datetime.now(UTC) - timedelta(days=3, minutes=1)
            await session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == int(bad["id"]))
                .values(failing_since=since)
            )
        await grant(db, account.id)
        await deliver(db, webhook_settings(settings, webhook_retry_base_seconds=3600))
    shown = (await client.get(f"/external/webhooks/{bad['id']}")).json()
    assert (shown["status"], shown["disabledReason"]) == ("disabled", "failing")
    assert len(broken.received) == 1  # the notice is not sent to the endpoint it is about
    events = [verify_webhook(r.body, r.headers, good["secret"]) for r in healthy.received]
    assert sorted(e["type"] for e in events) == [CREDITS_GRANTED, WEBHOOK_ENDPOINT_DISABLED]
    notice = next(e for e in events if e["type"] == WEBHOOK_ENDPOINT_DISABLED)
    assert notice["data"]["endpointId"] == bad["id"] and notice["data"]["reason"] == "failing"
    assert notice["data"]["url"] == broken.url()


async def test_one_failure_starts_a_streak_but_does_not_disable(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver(default=500) as broken:
        bad = await create_endpoint(client, broken.url())
        await grant(db, account.id)
        await deliver(db, webhook_settings(settings, webhook_retry_base_seconds=3600))
    shown = (await client.get(f"/external/webhooks/{bad['id']}")).json()
    assert shown["status"] == "enabled" and shown["failingSince"] is not None


async def test_a_rotated_secret_signs_beside_the_new_one_for_the_grace_period(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver() as receiver:
        created = await create_endpoint(client, receiver.url())
        rotated = (await client.post(f"/external/webhooks/{created['id']}/rotate-secret")).json()
        await grant(db, account.id)
        await deliver(db, settings)
        (request,) = receiver.received
        assert len(request.headers["webhook-signature"].split()) == 2
        for secret in (created["secret"], rotated["secret"]):
            assert verify_webhook(request.body, request.headers, secret)["type"] == CREDITS_GRANTED
        async with db.write() as session:  # the grace period is over: only the new secret signs
            await session.execute(update(WebhookEndpoint).values(previous_secret_until=datetime.now(UTC)))
        await grant(db, account.id, key="g2")
        await deliver(db, settings)
    latest = receiver.received[-1]
    assert len(latest.headers["webhook-signature"].split()) == 1
    assert verify_webhook(latest.body, latest.headers, rotated["secret"])


async def test_disabled_endpoints_get_nothing_and_resume_when_enabled(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    async with Receiver() as receiver:
        created = await create_endpoint(client, receiver.url())
        await grant(db, account.id, key="before")
        async with db.write() as session:  # fanned out while enabled (the worker's first step) …
            await dispatch(session, datetime.now(UTC))
        await client.post(f"/external/webhooks/{created['id']}/disable")  # … and delivered after
        await deliver(db, settings)
        assert receiver.received == []
        await grant(db, account.id, key="while")  # happens while disabled: never for this endpoint
        await deliver(db, settings)
        await client.post(f"/external/webhooks/{created['id']}/enable")
        await deliver(db, settings)
    assert len(receiver.received) == 1
    assert await delivery_states(db) == [("delivered", 1)]


async def test_the_server_delivers_in_process_where_the_embedded_worker_runs(
    db: Database, account: AccountFixture, settings: Settings
) -> None:
    from showfloor.server.app import create_app

    embedded = settings.model_copy(update={"embedded_worker": True})
    app = create_app(embedded, run_background_jobs=True)
    async with Receiver() as receiver, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=account.headers) as c:
            endpoint = await create_endpoint(c, receiver.url())
            await grant(db, account.id)
            arrived = await wait_until(lambda: _received(receiver), 20)
    assert arrived, "the in-process worker did not deliver"
    (request,) = receiver.received
    assert verify_webhook(request.body, request.headers, endpoint["secret"])["type"] == CREDITS_GRANTED


async def _received(receiver: Receiver) -> bool:
    return bool(receiver.received)
