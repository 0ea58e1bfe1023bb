"""What an account can pay with, and what it is entitled to, at one moment: the ``Wallet`` every paid
action decides on (precheck without a lock, execution with the account row locked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import NotFound
from showfloor.server.ledger.balance import Balance, account_balance, can_pay
from showfloor.server.ledger.pricing import Action, plan_prices


@dataclass(frozen=True)
class Wallet:
    account_id: int
    unlimited: bool
    balance: Balance
    prices: dict[Action, int]
    # True when read under the account row lock of the current transaction: the ledger then takes no
    # second lock when this wallet is passed to ``debit`` or ``hold``.
    locked: bool

    @property
    def available(self) -> int:
        return self.balance.total_balance

    @property
    def subscribed(self) -> bool:
        """An active, unexpired subscription grant (or an unlimited account). Every grant is of a positive
        amount, so the granted amount of the active subscription grants shows it."""
        return self.unlimited or self.balance.amounts["subscription"] > 0

    def can_pay(self, amount: int) -> bool:
        return can_pay(self.unlimited, self.available, amount)


async def open_wallet(session: AsyncSession, account_id: int, now: datetime, *, lock: bool) -> Wallet:
    """The account's wallet; ``lock=True`` (execution) takes the account row lock first."""
    found = await account_balance(session, account_id, now, lock=lock)
    if found is None:
        raise NotFound(f"Account {account_id} not found")
    prices = await plan_prices(session, found.plan_id)
    return Wallet(account_id, found.unlimited, found.balance, prices, locked=lock)
