"""``client.credits.activity`` (sync and async) against a real ``showfloor serve`` process: one typed row
per operation, with filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from showfloor.client import AsyncClient, BadRequest, Client
from showfloor.client.models import CreditActivity
from tests.client.live import LiveServer


def test_activity_groups_an_unlock_task_into_one_row(live_server: LiveServer) -> None:
    cat = live_server.catalog
    account = live_server.new_account(credits=1_000)
    with Client(account.key, live_server.base_url) as client:
        report = client.contacts.unlock(
            [*cat.deliverable, cat.no_email], cat.event, poll_intervals=(0.1, 0.2), timeout=30
        )
        assert report.finished
        page = client.credits.activity()
        unlocks = client.credits.activity(action="contact_email_unlock", source="api")
        none_yet = client.credits.activity(since=datetime.now(UTC) + timedelta(hours=1))
        rows = list(client.credits.iter_activity(page_size=1))
        with pytest.raises(BadRequest):
            client.credits.activity(action="bogus")
    assert page.total == 2 and all(isinstance(row, CreditActivity) for row in page.items)
    task, grant = page.items
    delivered = len(cat.deliverable)
    assert task.taskId and task.delivered == delivered and task.credits == 15 * delivered
    assert task.description == (
        f"contact email unlock, task {task.taskId}: {delivered} delivered × 15 = {15 * delivered} credits"
        " (15 released)"
    )
    assert grant.type == "grant" and grant.credits == 1_000
    assert unlocks.total == 1 and none_yet.total == 0
    assert [r.operationId for r in rows] == [r.operationId for r in page.items]


async def test_async_activity(live_server: LiveServer) -> None:
    account = live_server.new_account(credits=500)
    async with AsyncClient(account.key, live_server.base_url) as client:
        page = await client.credits.activity(action="grant")
        rows = [row async for row in client.credits.iter_activity()]
    assert page.total == 1 and page.items[0].description == "gift grant: +500 credits"
    assert len(rows) == 1
