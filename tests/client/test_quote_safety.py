"""Issue 18, items 16 and 18: ``quote()`` raises typed errors for an unknown action or wrong parameters,
``semantics`` is a typed model, and a ``confirm`` callback never sees a quote that cannot proceed."""

from __future__ import annotations

import pytest

from showfloor.client import (
    Client,
    InsufficientCredits,
    InvalidParameters,
    NotFound,
    Quote,
    UnknownAction,
)
from showfloor.client.models import Semantics
from tests.client.live import LiveServer


def test_quote_unknown_action_raises_a_typed_error(sdk: Client) -> None:
    with pytest.raises(UnknownAction) as caught:
        sdk.quote("unlock_the_moon", event_id="E1")
    assert caught.value.error_key == "UNSUPPORTED_ACTION" and caught.value.status == 400


def test_quote_wrong_parameters_raise_a_typed_error(sdk: Client, live_server: LiveServer) -> None:
    with pytest.raises(InvalidParameters, match="evnt_id"):
        sdk.quote("unlock_event_contacts", evnt_id=live_server.catalog.event)
    with pytest.raises(InvalidParameters, match="event_id is required"):
        sdk.quote("unlock_event_contacts")
    with pytest.raises(InvalidParameters, match="personnel_ids"):
        sdk.quote("unlock_contact_emails", personnel_ids=[])
    with pytest.raises(InvalidParameters, match="company_name"):
        sdk.quote("search_exhibitors_by_company_name", company_name="  ")


def test_quote_that_cannot_pay_is_still_a_quote(live_server: LiveServer) -> None:
    poor = live_server.new_account(20)
    with Client(poor.key, live_server.base_url) as client:
        quote = client.quote("unlock_event_contacts", event_id=live_server.catalog.event)
    assert (quote.allowed, quote.reason, quote.cost, quote.balance) == (
        False,
        "insufficient_balance",
        2000,
        20,
    )


def test_semantics_is_a_typed_model(sdk: Client, live_server: LiveServer) -> None:
    page = sdk.exhibitors.list(live_server.catalog.event)
    assert isinstance(page.semantics, Semantics)
    assert page.semantics.accessMode in ("preview", "full")
    assert page.semantics.counts.actualTotal == 3 and isinstance(page.semantics.truncated, bool)


def test_confirm_is_not_called_when_the_quote_cannot_proceed(live_server: LiveServer) -> None:
    poor = live_server.new_account(20)
    seen: list[Quote] = []

    def confirm(q: Quote) -> bool:
        seen.append(q)
        return True

    with Client(poor.key, live_server.base_url) as client:
        with pytest.raises(InsufficientCredits) as broke:
            client.events.unlock(live_server.catalog.event, confirm=confirm)
        assert (broke.value.required, broke.value.available) == (2000, 20)
        with pytest.raises(NotFound):
            client.events.unlock("E-no-such-event", confirm=confirm)
        cat = live_server.catalog
        with pytest.raises(InsufficientCredits):
            client.contacts.unlock(cat.deliverable, cat.event, confirm=confirm, poll_intervals=(0.1,))
        assert client.credits.balance().totalBalance == 20
    assert seen == []
