"""Credits: balance and the ledger history (``GET /external/credits/transactions``)."""

from __future__ import annotations

from showfloor.client._methods import (
    AsyncResource,
    SyncResource,
    async_method,
    async_pager,
    sync_method,
    sync_pager,
)
from showfloor.client._transport import Context, Op, call
from showfloor.client.models import CreditBalance, CreditTransaction, Page
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


class Credits(SyncResource):
    balance = sync_method(balance)
    transactions = sync_method(list_transactions)
    iter_transactions = sync_pager(list_transactions)


class AsyncCredits(AsyncResource):
    balance = async_method(balance)
    transactions = async_method(list_transactions)
    iter_transactions = async_pager(list_transactions)
