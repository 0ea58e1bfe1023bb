"""The SDK against a real ``showfloor serve`` process (SQLite, free port)."""

from __future__ import annotations

import httpx
import pytest

from showfloor.client import (
    APIError,
    AsyncClient,
    AuthenticationError,
    BadRequest,
    Client,
    InsufficientCredits,
    NotFound,
)
from tests.client.live import Account, LiveServer, or_skip_missing


def test_credits_balance_and_history(sdk: Client) -> None:
    assert sdk.credits.balance().totalBalance == 10_000
    history = sdk.credits.transactions()
    assert history.total >= 1 and history.items[0].amount == 10_000 and history.items[0].bucket == "gift"
    assert [t.id for t in sdk.credits.iter_transactions(page_size=1)] == [t.id for t in history.items]


def test_events_list_get_brief_and_pagination(sdk: Client, live_server: LiveServer) -> None:
    cat = live_server.catalog
    page = sdk.events.list(keyword=cat.paginated_keyword, page_size=2)
    assert (page.total, page.totalPages, page.hasMore, len(page.items)) == (5, 3, True, 2)
    names = [e.name for e in sdk.events.iter(keyword=cat.paginated_keyword, page_size=2)]
    assert len(names) == cat.paginated_count == len(set(names))
    detail = sdk.events.get(cat.event)
    assert detail.eventId == cat.event and detail.name == "Globex World Expo"
    assert sdk.events.brief(cat.event).event.eventId == cat.event
    with pytest.raises(NotFound):
        sdk.events.get("E-does-not-exist")


def test_exhibitors(sdk: Client, live_server: LiveServer) -> None:
    cat = live_server.catalog
    listed = sdk.exhibitors.list(cat.event)
    assert listed.total == 3 and any(x.companyName == cat.company for x in listed.items)
    assert len(list(sdk.exhibitors.iter(cat.event, page_size=1))) == 3
    profile = sdk.exhibitors.profile(cat.exhibitor)
    assert profile.companyName == cat.company
    assert [e.eventId for e in sdk.exhibitors.events(cat.exhibitor).items] == [cat.event]
    found = sdk.exhibitors.search(target_audience="Globex Dynamics software")
    assert found.page == 1


def test_personnel_and_contacts(sdk: Client, live_server: LiveServer) -> None:
    cat = live_server.catalog
    people = sdk.personnel.list(cat.event)
    assert people.total == 5
    person = sdk.personnel.profile(cat.deliverable[0])
    assert person.id == cat.deliverable[0] and person.email is None  # locked until unlocked
    assert [e.eventId for e in sdk.personnel.events(person.id).items] == [cat.event]
    assert person.linkedinUrl
    by_linkedin = sdk.personnel.events_by_linkedin(person.linkedinUrl)
    assert by_linkedin.personnel.id == person.id and by_linkedin.events.total == 1
    contacts = sdk.contacts.search(cat.company)
    assert contacts.total == 5
    assert len(list(sdk.contacts.iter(cat.company, page_size=2))) == 5


async def test_async_client_against_the_server(live_server: LiveServer, reader: Account) -> None:
    async with AsyncClient(reader.key, live_server.base_url) as client:
        assert (await client.credits.balance()).totalBalance == 10_000
        names = [e.name async for e in client.events.iter(keyword="Paginated Expo", page_size=2)]
    assert len(names) == 5


def test_bad_key_raises_authentication_error(live_server: LiveServer) -> None:
    with (
        Client("sk_0000000000000000_" + "0" * 64, live_server.base_url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.credits.balance()
    assert caught.value.error_key == "INVALID_API_KEY" and caught.value.request_id


def test_contact_unlock_reconciles_a_mixed_batch(live_server: LiveServer) -> None:
    cat = live_server.catalog
    account = live_server.new_account(credits=1_000)
    with Client(account.key, live_server.base_url) as client:
        first = client.contacts.unlock([cat.deliverable[0]], cat.event, poll_intervals=(0.2,), timeout=30)
        assert first.finished and list(first.delivered) == [cat.deliverable[0]]
        batch = [*cat.deliverable, cat.no_email, cat.opted_out]
        seen: list[str] = []
        report = client.contacts.unlock(
            batch,
            cat.event,
            poll_intervals=(0.1, 0.2, 0.4),
            timeout=30,
            on_progress=lambda t: seen.append(t.taskStatus),
        )
        balance = client.credits.balance().totalBalance
    assert report.finished and seen[-1] == "completed"
    assert sorted(report.delivered) == sorted(cat.deliverable[1:])
    assert all("@" in email for email in report.delivered.values())
    assert report.not_delivered == {"no_email": [cat.no_email], "ineligible": [cat.opted_out]}
    assert report.skipped == {"already_unlocked_personnel_ids": [cat.deliverable[0]]}
    assert report.unresolved == []
    assert report.credits_expected == 30 == report.balance_moved and report.consistent
    assert balance == 1_000 - 45


class TimeoutAfterSending(httpx.HTTPTransport):
    """Delivers the first paid POST to the server, then pretends the answer never came."""

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path == "/external/contacts/unlock":
            self.posts.append(request.headers.get("idempotency-key"))
            if len(self.posts) == 1:
                response.read()
                response.close()
                raise httpx.ReadTimeout("simulated timeout after the server answered", request=request)
        return response


def test_retried_paid_post_after_a_timeout_charges_once(live_server: LiveServer) -> None:
    cat = live_server.catalog
    account = live_server.new_account(credits=1_000)
    transport = TimeoutAfterSending()
    with Client(account.key, live_server.base_url, transport=transport) as client:
        client._driver.sleep = lambda _s: None
        report = client.contacts.unlock(cat.deliverable[:2], cat.event, poll_intervals=(0.2,), timeout=30)
        history = client.credits.transactions(page_size=100).items
    assert len(transport.posts) == 2 and transport.posts[0] == transport.posts[1]
    assert len(report.delivered) == 2 and report.balance_moved == 30
    holds = [t for t in history if t.type == "hold"]
    assert len(holds) == 1, history  # one task, one hold: the retry was a replay


def test_402_when_the_account_cannot_pay(live_server: LiveServer) -> None:
    cat = live_server.catalog
    account = live_server.new_account(credits=20)
    with Client(account.key, live_server.base_url) as client:
        with pytest.raises(InsufficientCredits) as caught:
            client.contacts.unlock(cat.deliverable, cat.event)
        assert client.credits.balance().totalBalance == 20
    assert caught.value.status == 402 and caught.value.required == 45 and caught.value.available == 20


def test_paid_event_unlock_and_quote(funded: Account, live_server: LiveServer) -> None:
    cat = live_server.catalog
    sdk = Client(funded.key, live_server.base_url)
    quote = or_skip_missing(
        "POST /external/actions/precheck", lambda: sdk.quote("unlock_event_contacts", event_id=cat.event)
    )
    assert (quote.cost, quote.balance, quote.allowed) == (2000, 10_000, True)
    result = or_skip_missing(
        "POST /external/events/{id}/unlock", lambda: sdk.events.unlock(cat.event, confirm=lambda q: True)
    )
    assert result.creditsUsed == 2000 and not result.alreadyUnlocked
    again = sdk.events.unlock(cat.event)
    assert again.alreadyUnlocked and again.creditsUsed == 0
    assert sdk.credits.balance().totalBalance == 8_000
    semantics = sdk.exhibitors.list(cat.event).semantics
    assert semantics is None or semantics.accessMode == "full"


def test_visitor_and_full_access_unlocks(live_server: LiveServer) -> None:
    cat = live_server.catalog
    account = live_server.new_account(credits=10_000)
    with Client(account.key, live_server.base_url) as client:
        full = or_skip_missing(
            "POST /external/events/{id}/full-access/unlock",
            lambda: client.events.unlock_full_access(cat.event),
        )
        # No visitor data: the base layer is unlocked and paid, the visitor layer skipped.
        assert (full.eventUnlocked, full.visitorSkipped, full.totalCreditsUsed) == (True, True, 2000)
        with pytest.raises(APIError) as caught:
            or_skip_missing(
                "POST /external/events/{id}/visitors/unlock", lambda: client.events.unlock_visitors(cat.event)
            )
        assert caught.value.error_key in {
            "VISITOR_DATA_NOT_AVAILABLE",
            "NO_ACTIVE_SUBSCRIPTION",
            "USER_HAS_NO_FEATURE",
        }
        with pytest.raises(BadRequest) as empty:
            client.events.unlock(cat.empty_event)
        assert empty.value.error_key == "NO_CONTACTS_AVAILABLE"
        assert client.credits.balance().totalBalance == 8_000


def test_paid_searches(funded: Account, live_server: LiveServer) -> None:
    cat = live_server.catalog
    sdk = Client(funded.key, live_server.base_url)
    found = or_skip_missing(
        "POST /external/exhibitors/search-by-company-name",
        lambda: sdk.exhibitors.search_by_company_name(cat.company),
    )
    assert any(x.companyName == cat.company for x in found.items)
    events = or_skip_missing(
        "POST /external/exhibitors/search-events", lambda: sdk.exhibitors.search_events(cat.company)
    )
    assert [e.eventId for e in events.items] == [cat.event]
    assert sdk.credits.balance().totalBalance == 10_000 - 100


def test_personnel_by_name_and_linkedin_activity(funded: Account, live_server: LiveServer) -> None:
    cat = live_server.catalog
    sdk = Client(funded.key, live_server.base_url)
    person = sdk.personnel.profile(cat.deliverable[0])
    assert person.fullName
    try:
        events = or_skip_missing(
            "GET /external/personnel/events/by-name",
            lambda: sdk.personnel.events_by_name(person.fullName or "", date_start_from="2020-01-01"),
        )
        assert [e.eventId for e in events.items] == [cat.event]
    except BadRequest as exc:
        # An account without a paid plan gets the HTTP-200 business error, which must raise.
        assert exc.error_key == "USER_HAS_NO_FEATURE"
        assert sdk.credits.balance().totalBalance == 10_000
    result = or_skip_missing(
        "POST /external/personnel/unlock-linkedin-activity",
        lambda: sdk.personnel.unlock_linkedin_activity([cat.deliverable[0]]),
    )
    assert result.items[0].personnel_id == cat.deliverable[0]


def test_phone_unlock_task(live_server: LiveServer) -> None:
    cat = live_server.catalog
    account = live_server.new_account(credits=1_000)
    with Client(account.key, live_server.base_url) as client:
        report = client.contacts.unlock_phone(
            [cat.deliverable[2]], cat.event, poll_intervals=(0.2,), timeout=30
        )
        assert report.task_id is not None
        task = client.contacts.phone_task(report.task_id)
    assert task.finished and report.credits_expected == 150 == report.balance_moved
