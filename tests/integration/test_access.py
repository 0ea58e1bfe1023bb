"""The access module: layer and contact unlock records (idempotent, race-safe) and the preview window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from showfloor.server.access import preview
from showfloor.server.access.service import (
    EventAccess,
    event_access,
    record_contact_unlock,
    record_contact_unlocks,
    record_event_unlock,
    unlocked_contacts,
    unlocked_layers,
)
from showfloor.server.db.uow import Database
from tests.conftest import AccountFixture, new_account
from tests.factories import make_event, make_person


async def test_event_unlock_is_recorded_once_per_layer(db: Database, account: AccountFixture) -> None:
    other = await new_account(db, "other")
    async with db.write() as session:
        event = await make_event(session)
        assert await unlocked_layers(session, account.id, event.id) == set()
        assert await record_event_unlock(session, account.id, event.id, "base", None) is True
        assert await record_event_unlock(session, account.id, event.id, "base", None) is False
        assert await record_event_unlock(session, account.id, event.id, "visitor", None) is True
        assert await unlocked_layers(session, account.id, event.id) == {"base", "visitor"}
        assert await unlocked_layers(session, other.id, event.id) == set()
        access = await event_access(session, account.id, None, event.id)
        assert access == EventAccess(base=True, visitor=True, unlock_credits=2000)
        assert not access.hides_visitor_only
        with pytest.raises(ValueError):
            await record_event_unlock(session, account.id, event.id, "gold", None)


async def test_batch_contact_unlocks_skip_what_the_account_already_has(
    db: Database, account: AccountFixture
) -> None:
    async with db.write() as session:
        event = await make_event(session)
        alice, bob, carol = [await make_person(session, event) for _ in range(3)]
        assert await record_contact_unlock(session, account.id, alice.id, "email", "a@example.com", None)
        now = datetime.now(UTC)
        batch = {carol.id: "c@example.com", alice.id: "other@example.com", bob.id: "b@example.com"}
        recorded = await record_contact_unlocks(session, account.id, "email", batch, now)
        assert set(recorded) == {bob.id, carol.id}  # alice was already unlocked: not written again
        emails = await unlocked_contacts(session, account.id, [alice.id, bob.id, carol.id], "email")
        assert emails == {alice.id: "a@example.com", bob.id: "b@example.com", carol.id: "c@example.com"}
        assert await record_contact_unlocks(session, account.id, "email", {}, now) == {}
        with pytest.raises(ValueError):
            await record_contact_unlocks(session, account.id, "fax", batch, now)


async def test_contact_unlocks_per_kind_and_account(db: Database, account: AccountFixture) -> None:
    other = await new_account(db, "other")
    async with db.write() as session:
        event = await make_event(session)
        alice = await make_person(session, event, email="alice@example.com")
        bob = await make_person(session, event, email=None)
        assert await record_contact_unlock(session, account.id, alice.id, "email", "alice@example.com", None)
        assert not await record_contact_unlock(
            session, account.id, alice.id, "email", "changed@example.com", None
        )
        assert await record_contact_unlock(session, account.id, alice.id, "phone", "+1", None)
        assert await record_contact_unlock(session, account.id, bob.id, "email", None, None)
        emails = await unlocked_contacts(session, account.id, [alice.id, bob.id, 999], "email")
        assert emails == {alice.id: "alice@example.com", bob.id: None}
        assert await unlocked_contacts(session, account.id, [alice.id], "phone") == {alice.id: "+1"}
        assert await unlocked_contacts(session, other.id, [alice.id], "email") == {}
        assert await unlocked_contacts(session, account.id, [], "email") == {}
        with pytest.raises(ValueError):
            await unlocked_contacts(session, account.id, [alice.id], "fax")


async def test_concurrent_unlocks_record_exactly_once(pg_db: Database) -> None:
    account = await new_account(pg_db, "racer")
    async with pg_db.write() as session:
        event = await make_event(session)
        person = await make_person(session, event)

    async def unlock_event() -> bool:
        async with pg_db.write() as session:
            return await record_event_unlock(session, account.id, event.id, "base", None)

    async def unlock_contact() -> bool:
        async with pg_db.write() as session:
            return await record_contact_unlock(session, account.id, person.id, "email", "x@example.com", None)

    event_wins = await asyncio.gather(*(unlock_event() for _ in range(12)))
    contact_wins = await asyncio.gather(*(unlock_contact() for _ in range(12)))
    assert event_wins.count(True) == 1 and contact_wins.count(True) == 1


LOCKED = EventAccess(base=False, visitor=False, unlock_credits=2000)
UNLOCKED = EventAccess(base=True, visitor=False, unlock_credits=2000)


@pytest.mark.parametrize(
    ("access", "total", "page", "size", "visible", "max_page", "accessible", "offset_limit", "code"),
    [
        (LOCKED, 120, 1, 20, 50, 3, True, (0, 20), "preview_results_truncated"),
        (LOCKED, 120, 3, 20, 50, 3, True, (40, 10), "preview_results_truncated"),
        (LOCKED, 120, 4, 20, 50, 3, False, (60, 0), "preview_page_inaccessible"),
        (LOCKED, 30, 1, 20, 30, 2, True, (0, 20), "preview_complete_for_query"),
        (LOCKED, 30, 5, 20, 30, 2, True, (80, 0), "preview_complete_for_query"),  # plain empty page
        (LOCKED, 0, 1, 20, 0, 1, True, (0, 0), "preview_complete_for_query"),
        (LOCKED, 50, 1, 100, 50, 1, True, (0, 50), "preview_complete_for_query"),
        (UNLOCKED, 120, 6, 20, 120, 6, True, (100, 20), "full_access"),
    ],
)
def test_preview_window(
    access: EventAccess,
    total: int,
    page: int,
    size: int,
    visible: int,
    max_page: int,
    accessible: bool,
    offset_limit: tuple[int, int],
    code: str,
) -> None:
    window = preview.window_for(access, total, page, size, preview_limit=50)
    assert (window.visible_total, window.max_accessible_page, window.accessible) == (
        visible,
        max_page,
        accessible,
    )
    assert (window.offset, window.limit) == offset_limit
    sem = preview.semantics(window, noun="personnel", action_type="unlock_event_personnel", credits=2000)
    counts = sem["counts"]
    assert counts["visibleTotal"] + counts["remainingLockedCount"] == counts["actualTotal"] == total
    assert sem["guidance"]["code"] == code
    assert sem["unlock"]["requiredForMoreResults"] is (counts["remainingLockedCount"] > 0 and not access.base)
    assert sem["accessMode"] == ("full" if access.base else "preview")
    page_body = preview.page_envelope(["x"] * window.limit, window)
    if accessible:
        assert page_body["total"] == total
    else:
        assert page_body == {
            "items": [],
            "total": 0,
            "page": page,
            "pageSize": size,
            "totalPages": 0,
            "hasMore": False,
        }
