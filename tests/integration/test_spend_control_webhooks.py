"""``spend_cap.reached`` and ``credits.balance_alert`` from a real paid request to a real receiver,
signed and verified with the SDK (issue 19, items 1, 2 and 5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from showfloor.client import verify_webhook
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.ledger import alerts, spend_caps
from showfloor.server.notify.events import CREDITS_BALANCE_ALERT, SPEND_CAP_REACHED
from tests.conftest import AccountFixture, test_settings
from tests.integration.paid_support import event_with, give
from tests.integration.webhook_support import Receiver, create_endpoint, deliver, webhook_settings


@pytest.fixture
def settings(db_url: str) -> Settings:
    return webhook_settings(test_settings(db_url))


async def test_cap_and_alert_events_reach_the_receiver_signed(
    db: Database, client: httpx.AsyncClient, account: AccountFixture, settings: Settings
) -> None:
    now = datetime.now(UTC)
    await give(db, account.id, 5000)
    async with db.write() as session:
        await spend_caps.set_caps(session, account.key_id, now, daily=2000)
        await alerts.set_thresholds(session, account.id, [4000], now)
    first, second = await event_with(db), await event_with(db)
    async with Receiver() as receiver:
        endpoint = await create_endpoint(
            client, receiver.url(), event_types=[SPEND_CAP_REACHED, CREDITS_BALANCE_ALERT]
        )
        assert (await client.post(f"/external/events/{first.event_id}/unlock")).status_code == 201
        assert (await client.post(f"/external/events/{second.event_id}/unlock")).status_code == 402
        await deliver(db, settings)

    by_type: dict[str, list[dict[str, Any]]] = {}
    for request in receiver.received:
        verified = verify_webhook(request.body, request.headers, endpoint["secret"])
        by_type.setdefault(verified["type"], []).append(verified["data"])
    (reached,) = by_type[SPEND_CAP_REACHED]  # reached exactly; the refusal after it is not told again
    assert (reached["apiKeyId"], reached["period"], reached["cap"], reached["spent"], reached["refused"]) == (
        str(account.key_id),
        "day",
        2000,
        2000,
        False,
    )
    assert by_type[CREDITS_BALANCE_ALERT] == [
        {"alert": "dropped", "threshold": 4000, "availableBalance": 3000}
    ]
