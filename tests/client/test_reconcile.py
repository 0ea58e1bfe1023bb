"""Polling schedule and the item-by-item reconciliation report (network faked)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from showfloor.client._reconcile import build_report, poll_schedule
from showfloor.client.models import UnlockSubmission, UnlockTask
from tests.client.fakes import Script, sync_client

SUBMISSION = {
    "status": "accepted",
    "task_id": "77",
    "job_id": "77",
    "skipped_personnel_ids": ["5"],
    "skipped_detail": {"already_unlocked_personnel_ids": ["5"], "invalid_personnel_ids": []},
}
MIXED_ITEMS = [
    {"personnelId": "1", "status": "unlocked", "email": "a@x.test"},
    {"personnelId": "2", "status": "failed", "errorCode": "NO_EMAIL"},
    {"personnelId": "3", "status": "failed", "errorCode": "INELIGIBLE"},
    {"personnelId": "4", "status": "failed", "errorCode": "PROVIDER_TIMEOUT"},
]


def test_poll_schedule_repeats_the_last_interval() -> None:
    schedule = poll_schedule((3, 5, 10))
    assert [next(schedule) for _ in range(6)] == [3, 5, 10, 10, 10, 10]
    with pytest.raises(ValueError):
        next(poll_schedule(()))


def test_report_classifies_every_item() -> None:
    report = build_report(
        kind="email",
        submitted=["1", "2", "3", "4", "5", "6"],
        submission=UnlockSubmission.model_validate(SUBMISSION),
        task=UnlockTask.model_validate({"taskId": "77", "taskStatus": "processing", "items": MIXED_ITEMS}),
        price_per_contact=15,
        balance_before=1000,
        balance_after=985,
    )
    assert report.delivered == {"1": "a@x.test"}
    assert report.not_delivered == {"no_email": ["2"], "ineligible": ["3"], "failed": ["4"]}
    assert report.skipped == {"already_unlocked_personnel_ids": ["5"]}
    assert report.unresolved == ["6"] and not report.finished
    assert (report.credits_expected, report.balance_moved, report.consistent) == (15, 15, True)
    dumped = report.model_dump(mode="json")
    assert dumped["credits_expected"] == 15 and dumped["balance_moved"] == 15


def _server(task_states: list[dict[str, Any]], balances: list[int], unit: int = 15) -> Script:
    state = {"polls": 0, "balance": 0}

    def route(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/precheck"):
            detail = {"unit_credits": unit, "chargeable_count": 1}
            return httpx.Response(200, json={"allowed": True, "credits": unit, "detail": detail})
        if path.endswith("/balance"):
            value = balances[min(state["balance"], len(balances) - 1)]
            state["balance"] += 1
            return httpx.Response(200, json={"totalBalance": value})
        if path == "/external/contacts/unlock":
            return httpx.Response(201, json=SUBMISSION)
        state["polls"] += 1
        return httpx.Response(200, json=task_states[min(state["polls"], len(task_states)) - 1])

    return Script(route)


def test_unlock_polls_with_growing_intervals_until_the_task_ends() -> None:
    pending = {
        "taskId": "77",
        "taskStatus": "processing",
        "items": [{"personnelId": "1", "status": "pending"}],
    }
    done = {"taskId": "77", "taskStatus": "completed", "items": MIXED_ITEMS}
    script = _server([pending, pending, pending, pending, done], [1000, 985])
    sleeps: list[float] = []
    progress: list[str] = []
    with sync_client(script, sleeps) as client:
        report = client.contacts.unlock(
            ["1", "2", "3", "4", "5", "1"], "E1", on_progress=lambda t: progress.append(t.taskStatus)
        )
    assert sleeps == [3, 5, 10, 10]
    assert progress == ["processing"] * 4 + ["completed"]
    submit = next(r for r in script.requests if r.url.path == "/external/contacts/unlock")
    assert submit.headers["idempotency-key"]
    assert report.finished and report.task_status == "completed"
    assert report.submitted == ["1", "2", "3", "4", "5"]  # deduplicated
    assert report.consistent and report.credits_expected == 15


def test_unlock_reconciles_against_the_price_the_server_quotes() -> None:
    # A plan price of 20 (not the default 15): the report expects what the server's precheck stated.
    done = {"taskId": "77", "taskStatus": "completed", "items": MIXED_ITEMS}
    script = _server([done], [1000, 980], unit=20)
    with sync_client(script, []) as client:
        report = client.contacts.unlock(["1", "2", "3", "4"])
    assert report.price_per_contact == 20 and report.credits_expected == 20 and report.consistent


def test_unlock_timeout_returns_unresolved_items_without_resubmitting() -> None:
    pending = {
        "taskId": "77",
        "taskStatus": "processing",
        "items": [{"personnelId": "1", "status": "processing"}],
    }
    script = _server([pending], [1000, 1000])
    clock = iter(range(0, 1000, 1))
    with sync_client(script, []) as client:
        client._driver.ctx.monotonic = lambda: float(next(clock))
        report = client.contacts.unlock(["1"], poll_intervals=(1,), timeout=3)
    assert not report.finished and report.unresolved == ["1"]
    assert sum(1 for r in script.requests if r.url.path == "/external/contacts/unlock") == 1


def test_nothing_chargeable_means_no_task_and_no_poll() -> None:
    nothing = {
        "status": "success",
        "skipped_personnel_ids": ["5"],
        "skipped_detail": {"already_unlocked_personnel_ids": ["5"]},
    }

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/balance"):
            return httpx.Response(200, json={"totalBalance": 10})
        return httpx.Response(201, json=nothing)

    script = Script(route)
    with sync_client(script, []) as client:
        report = client.contacts.unlock(["5"])
    assert (
        report.finished
        and report.task_id is None
        and report.skipped == {"already_unlocked_personnel_ids": ["5"]}
    )
    assert not any("unlock-tasks" in r.url.path for r in script.requests)
