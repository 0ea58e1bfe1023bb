"""End-to-end conformance to the published contract (issue 7 item 1), on SQLite and PostgreSQL.

One scenario calls every offered operation — success paths, each documented error status we can
produce (400, 401, 402, 404, 409 where reachable, 422, 429) and the HTTP-200 business-error
envelopes — and records every response. Each must have a status the contract documents for the
operation and validate against the documented schema. Documented exceptions: 503 (spec.py) and the
idempotency-key errors (recorder.py), both listed in docs/compatibility.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from showfloor.server.access.service import record_event_unlock
from showfloor.server.app import create_app
from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.paid import concurrency
from showfloor.server.unlocks.providers import DatasetProvider
from showfloor.server.unlocks.worker import UnlockWorker
from tests.conftest import AccountFixture, new_account, test_settings
from tests.contract.recorder import Recorder
from tests.contract.spec import offered_operations
from tests.factories import make_event, make_exhibitor, make_person
from tests.integration.paid_support import give

UNKNOWN = "987654321"


@dataclass
class World:
    event: str  # public eventId: exhibitors, people, visitors
    exhibitor: str
    person: str
    person_name: str
    linkedin: str
    empty_event: str  # no contacts: nothing to unlock
    visitor_event: str  # has visitor data, for full access
    rich: AccountFixture  # subscribed, plenty of credits (the ``client``)
    poor: AccountFixture  # subscribed, 1 credit
    free: AccountFixture  # gift credits only: no subscription


async def build_world(db: Database, rich: AccountFixture) -> World:
    async with db.write() as session:
        event = await make_event(session, name="Conformance Expo")
        company = await make_exhibitor(session, event, company_name="Conformance Robotics")
        people = [await make_person(session, event, company) for _ in range(3)]
        await make_person(session, event, None, visitor_only=True)
        empty = await make_event(session, name="Empty Expo")
        await make_exhibitor(session, empty)
        visitor_event = await make_event(session, name="Visitor Expo")
        await make_person(session, visitor_event, None, visitor_only=True)
        await make_person(session, visitor_event, await make_exhibitor(session, visitor_event))
        world_ids = (event.id, event.event_id, empty.event_id, visitor_event.event_id)
        person = people[0]
        person_fields = (str(person.id), person.full_name, person.linkedin_url or "")
    poor = await new_account(db, "poor")
    free = await new_account(db, "free")
    await give(db, rich.id, 100_000, "subscription")
    await give(db, poor.id, 1, "subscription")
    await give(db, free.id, 100_000, "gift")
    async with db.write() as session:  # the poor account may ask for the visitor layer of the main event
        await record_event_unlock(session, poor.id, world_ids[0], "base", None)
    return World(
        event=world_ids[1],
        exhibitor=str(company.id),
        person=person_fields[0],
        person_name=person_fields[1],
        linkedin=person_fields[2],
        empty_event=world_ids[2],
        visitor_event=world_ids[3],
        rich=rich,
        poor=poor,
        free=free,
    )


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, run_background_jobs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://showfloor.test") as client:
            yield client


async def reads(r: Recorder, w: World) -> None:
    await r.call("get", "/external/credits/balance", 200)
    await r.call("get", "/external/credits/balance", 401, headers={"Authorization": "Bearer sk_nope"})
    await r.call("get", "/external/events/list", 200, params={"keyword": "Conformance"})
    await r.call("get", "/external/events/list", 400, params={"pageSize": 1000})
    await r.call("get", "/external/events/list", 401, headers={"Authorization": ""})
    await r.call("get", "/external/events/{id}", 200, path={"id": w.event})
    await r.call("get", "/external/events/{id}", 404, path={"id": "NO-SUCH-EVENT"})
    await r.call("get", "/external/events/{id}", 400, path={"id": "x" * 101})
    await r.call("get", "/external/events/brief", 200, params={"event_id": w.event})
    await r.call("get", "/external/events/brief", 404, params={"event_id": "NO-SUCH-EVENT"})
    await r.call("get", "/external/events/brief", 400)
    await r.call("get", "/external/exhibitors/list", 200, params={"event_id": w.event, "personnelLimit": 2})
    await r.call("get", "/external/exhibitors/list", 404, params={"event_id": "NO-SUCH-EVENT"})
    await r.call("get", "/external/exhibitors/list", 400)
    await r.call("get", "/external/exhibitors/profile", 200, params={"exhibitor_id": w.exhibitor})
    await r.call("get", "/external/exhibitors/profile", 404, params={"exhibitor_id": UNKNOWN})
    await r.call("get", "/external/exhibitors/profile", 400)
    await r.call("get", "/external/exhibitors/events", 200, params={"exhibitor_id": w.exhibitor})
    await r.call("get", "/external/exhibitors/events", 404, params={"exhibitor_id": UNKNOWN})
    await r.call("get", "/external/exhibitors/events", 400, params={"exhibitor_id": w.exhibitor, "page": 0})
    await r.call("post", "/external/exhibitors/search", 201, json={"target_audience": "software robotics"})
    await r.call("post", "/external/exhibitors/search", 400, json={"pageSize": 0, "target_audience": "x"})
    await r.call("get", "/external/personnel/list", 200, params={"event_id": w.event})
    await r.call("get", "/external/personnel/list", 404, params={"event_id": "NO-SUCH-EVENT"})
    await r.call("get", "/external/personnel/list", 400, params={"event_id": w.event, "sourceType": "bogus"})
    await r.call("get", "/external/personnel/profile", 200, params={"personnel_id": w.person})
    await r.call("get", "/external/personnel/profile", 404, params={"personnel_id": UNKNOWN})
    await r.call("get", "/external/personnel/profile", 400, params={"personnel_id": "abc"})
    await r.call("get", "/external/personnel/events", 200, params={"personnel_id": w.person})
    await r.call("get", "/external/personnel/events", 404, params={"personnel_id": UNKNOWN})
    await r.call(
        "get", "/external/personnel/events", 400, params={"personnel_id": w.person, "attendance_scope": "x"}
    )
    by_linkedin = "/external/personnel/events/by-linkedin"
    await r.call("get", by_linkedin, 200, params={"linkedin_url": w.linkedin})
    await r.call("get", by_linkedin, 404, params={"linkedin_url": "https://linkedin.com/in/nobody-here"})
    await r.call("get", by_linkedin, 400)
    await r.call("get", "/external/contacts/search", 200, params={"company_name": "Conformance Robotics"})
    await r.call("get", "/external/contacts/search", 400, params={"company_name": "   "})


async def precheck_and_searches(r: Recorder, db: Database, w: World) -> None:
    precheck = "/external/actions/precheck"
    await r.call(
        "post", precheck, 200, json={"action_type": "unlock_event_contacts", "params": {"event_id": w.event}}
    )
    await r.call("post", precheck, 200, json={"action_type": "no_such_action", "params": {}})
    await r.call("post", precheck, 400, json={"action_type": "others", "params": {}, "surprise": 1})
    by_company = "/external/exhibitors/search-by-company-name"
    await r.call("post", by_company, 201, json={"company_name": "Conformance"})
    await r.call("post", by_company, 400, json={"company_name": "  "})
    await r.call("post", by_company, 402, json={"company_name": "Conformance"}, headers=w.poor.headers)
    # Our documented addition: the same Idempotency-Key with another body is 422 IDEMPOTENCY_KEY_REUSED.
    await r.call(
        "post", by_company, 201, json={"company_name": "Robotics"}, headers={"Idempotency-Key": "conf-k1"}
    )
    await r.call(
        "post", by_company, 201, json={"company_name": "Robotics"}, headers={"Idempotency-Key": "conf-k1"}
    )
    await r.call(
        "post", by_company, 422, json={"company_name": "Other"}, headers={"Idempotency-Key": "conf-k1"}
    )
    search_events = "/external/exhibitors/search-events"
    await r.call("post", search_events, 201, json={"company_name": "Conformance Robotics"})
    await r.call("post", search_events, 400, json={"company_name": "x", "attendance_scope": "nope"})
    await r.call("post", search_events, 402, json={"company_name": "Conformance"}, headers=w.poor.headers)
    slot = await concurrency.acquire(db, w.rich.id, concurrency.EXHIBITOR_EVENT_SEARCH)
    busy = await r.call("post", search_events, 200, json={"company_name": "Conformance"})
    assert busy.json()["errorKey"] == "USER_CONCURRENCY_LIMIT_EXCEEDED"
    await concurrency.release(db, slot)
    by_name = "/external/personnel/events/by-name"
    past_and_future = {"person_name": w.person_name, "date_start_from": "2020-01-01"}
    await r.call("get", by_name, 200, params=past_and_future)
    await r.call("get", by_name, 400)
    await r.call("get", by_name, 402, params=past_and_future, headers=w.poor.headers)
    no_feature = await r.call("get", by_name, 200, params={"person_name": "Someone"}, headers=w.free.headers)
    assert no_feature.json()["errorKey"] == "USER_HAS_NO_FEATURE"
    slots = [
        await concurrency.acquire(db, w.rich.id, concurrency.PERSONNEL_EVENTS_BY_NAME) for _ in range(10)
    ]
    capped = await r.call("get", by_name, 200, params={"person_name": "Someone"})
    assert capped.json()["errorKey"] == "USER_CONCURRENCY_LIMIT_EXCEEDED"
    for held in slots:
        await concurrency.release(db, held)
    linkedin = "/external/personnel/unlock-linkedin-activity"
    await r.call("post", linkedin, 201, json={"personnel_ids": [w.person, UNKNOWN], "event_id": w.event})
    await r.call("post", linkedin, 400, json={"personnel_ids": []})
    await r.call("post", linkedin, 422, json={"personnel_ids": [str(n) for n in range(1, 2002)]})


async def event_unlocks(r: Recorder, w: World) -> None:
    base = "/external/events/{id}/unlock"
    visitors = "/external/events/{id}/visitors/unlock"
    full = "/external/events/{id}/full-access/unlock"
    await r.call("post", visitors, 400, path={"id": w.event})  # base layer still locked
    await r.call("post", base, 201, path={"id": w.event})
    await r.call("post", base, 201, path={"id": w.event})  # already unlocked: free repeat
    await r.call("post", base, 400, path={"id": w.empty_event})  # nothing chargeable
    await r.call("post", base, 402, path={"id": w.visitor_event}, headers=w.poor.headers)
    await r.call("post", base, 404, path={"id": "NO-SUCH-EVENT"})
    await r.call("post", visitors, 201, path={"id": w.event})
    await r.call("post", visitors, 402, path={"id": w.event}, headers=w.poor.headers)
    await r.call("post", visitors, 404, path={"id": "NO-SUCH-EVENT"})
    free_visitors = await r.call("post", visitors, 200, path={"id": w.event}, headers=w.free.headers)
    assert free_visitors.json()["errorKey"] == "USER_HAS_NO_FEATURE"
    free_full = await r.call("post", full, 200, path={"id": w.visitor_event}, headers=w.free.headers)
    assert free_full.json()["errorKey"] == "USER_HAS_NO_FEATURE"
    await r.call("post", full, 402, path={"id": w.visitor_event}, headers=w.poor.headers)
    await r.call("post", full, 404, path={"id": "NO-SUCH-EVENT"})
    await r.call("post", full, 201, path={"id": w.visitor_event})


async def contact_unlocks(r: Recorder, db: Database, w: World) -> None:
    for submit, poll in (
        ("/external/contacts/unlock", "/external/contacts/unlock-tasks/{taskId}"),
        ("/external/contacts/unlock-phone", "/external/contacts/unlock-phone-tasks/{taskId}"),
    ):
        accepted = await r.call("post", submit, 201, json={"personnel_ids": [w.person], "event_id": w.event})
        task_id = str(accepted.json().get("task_id"))
        await r.call("post", submit, 400, json={"personnel_ids": ["not-a-number"]})
        await r.call("post", submit, 402, json={"personnel_ids": [w.person]}, headers=w.poor.headers)
        await r.call("post", submit, 404, json={"personnel_ids": [w.person], "event_id": "NO-SUCH-EVENT"})
        await r.call("post", submit, 422, json={"personnel_ids": [str(n) for n in range(1, 2002)]})
        await r.call("get", poll, 200, path={"taskId": task_id})  # still open
        await UnlockWorker(db, DatasetProvider(), retry_base_seconds=0.0, poll_seconds=0.05).run(
            until_idle=True
        )
        done = await r.call("get", poll, 200, path={"taskId": task_id})
        assert done.json().get("taskStatus") == "completed", done.text
        await r.call("get", poll, 404, path={"taskId": UNKNOWN})
        again = await r.call("post", submit, 201, json={"personnel_ids": [w.person]})  # nothing left to buy
        assert again.json().get("status") == "success", again.text


async def rate_limited(r: Recorder, db_url: str, w: World) -> None:
    settings = test_settings(db_url, rate_limit_enabled=True, rate_limit_per_key=1)
    async with serve(settings) as limited:
        await r.call("get", "/external/credits/balance", 200, client=limited, headers=w.rich.headers)
        response = await r.call(
            "get", "/external/credits/balance", 429, client=limited, headers=w.rich.headers
        )
        assert response.headers.get("Retry-After")


async def test_every_response_conforms_to_the_published_contract(
    db: Database, db_url: str, client: httpx.AsyncClient, account: AccountFixture
) -> None:
    world = await build_world(db, account)
    recorder = Recorder(client)
    await reads(recorder, world)
    await precheck_and_searches(recorder, db, world)
    await event_unlocks(recorder, world)
    await contact_unlocks(recorder, db, world)
    await rate_limited(recorder, db_url, world)

    problems = recorder.problems + recorder.conformance_problems()
    assert problems == [], "\n".join(["non-conformances:", *problems])
    unexercised = sorted(set(offered_operations()) - recorder.exercised(success_only=True))
    assert unexercised == [], f"offered operations without a 2xx in the scenario: {unexercised}"
    assert len(offered_operations()) == 25
    statuses = set().union(*recorder.statuses().values())
    assert {200, 201, 400, 401, 402, 404, 422, 429} <= statuses


async def test_the_checker_rejects_what_the_contract_does_not_allow(
    db: Database, client: httpx.AsyncClient
) -> None:
    """The checker itself can fail: an undocumented status and a malformed body are both reported."""
    recorder = Recorder(client)
    await recorder.call("get", "/external/credits/balance", 200)
    good = recorder.calls[0].response
    bad_body = httpx.Response(200, json={"totalBalance": "lots"}, request=good.request)
    bad_status = httpx.Response(418, json={}, request=good.request)
    idem_without_key = httpx.Response(
        422, json={"code": 422, "errorKey": "IDEMPOTENCY_KEY_REUSED"}, request=good.request
    )
    recorder.record("get", "/external/credits/balance", bad_body)
    recorder.record("get", "/external/credits/balance", bad_status)
    recorder.record("get", "/external/credits/balance", idem_without_key)
    problems = recorder.conformance_problems()
    assert any("totalBalance" in p or "required" in p for p in problems)
    assert any("status 418" in p for p in problems)
    assert any("status 422" in p for p in problems)
