"""Credits: balance, the ledger history (``GET /external/credits/transactions``) and the activity
grouped per operation (``GET /external/credits/activity``)."""

from __future__ import annotations

from datetime import datetime

from showfloor.client._methods import (
    AsyncResource,
    SyncResource,
    async_method,
    async_pager,
    sync_method,
    sync_pager,
)
from showfloor.client._transport import Context, Op, call
from showfloor.client.models import CreditActivity, CreditBalance, CreditTransaction, Page
from showfloor.client.resources._base import get, parser


def balance(ctx: Context) -> Op[CreditBalance]:
    """The account balance, per bucket (subscription, add-on, gift) and in total."""
    return (yield from call(ctx, get("/external/credits/balance", parser(CreditBalance))))


def list_transactions(
    ctx: Context, *, page: int = 1, page_size: int = 20, type: str | None = None
) -> Op[Page[CreditTransaction]]:
    """One page of the ledger history: every grant, charge, hold and release, newest first."""
    params = {"page": page, "pageSize": page_size, "type": type}
    spec = get("/external/credits/transactions", parser(Page[CreditTransaction]), params)
    return (yield from call(ctx, spec))


def _instant(value: datetime | str | None) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def list_activity(
    ctx: Context,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    action: str | None = None,
    source: str | None = None,
    key_prefix: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Op[Page[CreditActivity]]:
    """One page of credit activity, newest first: one row per operation (a contact unlock task with its
    hold, captures and releases is one row). ``since`` (inclusive) and ``until`` (exclusive) take a
    datetime or an ISO 8601 string (UTC without an offset); ``action`` a code such as
    ``contact_email_unlock``, ``event_unlock``, ``grant`` or ``expire``; ``source`` ``api`` or ``agent``."""
    params = {
        "since": _instant(since),
        "until": _instant(until),
        "action": action,
        "source": source,
        "keyPrefix": key_prefix,
        "page": page,
        "pageSize": page_size,
    }
    spec = get("/external/credits/activity", parser(Page[CreditActivity]), params)
    return (yield from call(ctx, spec))


class Credits(SyncResource):
    balance = sync_method(balance)
    transactions = sync_method(list_transactions)
    iter_transactions = sync_pager(list_transactions)
    activity = sync_method(list_activity)
    iter_activity = sync_pager(list_activity)


class AsyncCredits(AsyncResource):
    balance = async_method(balance)
    transactions = async_method(list_transactions)
    iter_transactions = async_pager(list_transactions)
    activity = async_method(list_activity)
    iter_activity = async_pager(list_activity)
