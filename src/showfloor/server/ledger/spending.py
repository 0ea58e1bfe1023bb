"""Debits and holds in Python: the SQLite twin of ``sql/ledger_spend.sql``, step for step.

Replay by operation key; read the active grants with their outstanding holds; refuse what the account
cannot pay (``balance.can_pay``; never an unlimited account), then what the API key's spend caps refuse
(``spend_caps.take``, counting the spend); spend in spending order. A debit lowers each
grant's ``remaining``; a hold reserves through one allocation per grant and changes no ``remaining``. An
unlimited account's shortfall is recorded against no grant, so every charge is still written down.
``tests/integration/test_backend_diff.py`` drives both twins side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import InsufficientCredits
from showfloor.server.ledger import spend_caps
from showfloor.server.ledger.balance import active_grant, can_pay, held_per_grant
from showfloor.server.ledger.operations import (
    add_entry,
    check_replay,
    find_operation,
    lock_account_row,
    new_operation,
)
from showfloor.server.ledger.types import ChargeContext, OperationResult
from showfloor.server.models import CreditGrant, CreditHold, HoldAllocation

BUCKET_RANK = {"subscription": 0, "addon": 1, "gift": 2}


def spending_key(grant: CreditGrant) -> tuple[int, int, datetime, datetime, int]:
    """Subscription, addon, gift; earliest expiry first (never-expiring last); then creation, then id."""
    never = datetime.max.replace(tzinfo=UTC)
    expires = grant.expires_at or never
    return (
        BUCKET_RANK[grant.bucket],
        1 if grant.expires_at is None else 0,
        expires,
        grant.created_at,
        grant.id,
    )


@dataclass
class Spendable:
    grant: CreditGrant
    held: int

    @property
    def free(self) -> int:
        return max(self.grant.remaining - self.held, 0)


async def spendable_grants(session: AsyncSession, account_id: int, now: datetime) -> list[Spendable]:
    """Active grants with their outstanding holds, in spending order."""
    held = held_per_grant(account_id)
    stmt = (
        select(CreditGrant, func.coalesce(held.c.held, 0))
        .outerjoin(held, held.c.grant_id == CreditGrant.id)
        .where(CreditGrant.account_id == account_id, active_grant(now))
        .execution_options(populate_existing=True)
    )
    spendable = [Spendable(grant, int(h)) for grant, h in (await session.execute(stmt)).all()]
    spendable.sort(key=lambda s: spending_key(s.grant))
    return spendable


def split_in_spending_order(grants: list[Spendable], amount: int) -> tuple[list[tuple[Spendable, int]], int]:
    """How much of ``amount`` each grant gives, in spending order, and the shortfall no grant covers
    (only an unlimited account may have one: it is recorded against no grant)."""
    parts: list[tuple[Spendable, int]] = []
    left = amount
    for spendable in grants:
        if left == 0:
            break
        take = min(left, spendable.free)
        if take > 0:
            parts.append((spendable, take))
            left -= take
    return parts, left


async def spend(
    session: AsyncSession, kind: str, ctx: ChargeContext, amount: int, op_key: str, now: datetime
) -> tuple[OperationResult, int | None, list[str]]:
    """A debit (``kind="debit"``) or a hold; returns the operation, the hold id (None for a debit) and
    the periods whose spend cap of the key it reached exactly."""
    account = await lock_account_row(session, ctx.account_id)
    earlier = await find_operation(session, ctx.account_id, op_key)
    if earlier is not None:
        check_replay(earlier, kind, amount)
        return OperationResult(earlier.id, earlier.amount, replayed=True), earlier.hold_id, []
    grants = await spendable_grants(session, ctx.account_id, now)
    free = sum(g.free for g in grants)
    if not can_pay(account.unlimited, free, amount):
        raise InsufficientCredits(amount, free)
    reached = await spend_caps.take(session, ctx.api_key_id, amount, now)  # after the funds, as in SQL
    hold_id: int | None = None
    if kind == "hold":
        row = CreditHold(
            account_id=ctx.account_id, amount=amount, captured=0, released=0, state="open", created_at=now
        )
        session.add(row)
        await session.flush()
        hold_id = row.id
    op = await new_operation(session, ctx.account_id, kind, amount, op_key, now, ctx, hold_id=hold_id)
    parts, shortfall = split_in_spending_order(grants, amount)
    for spendable, take in parts:
        add_entry(session, op, spendable.grant, kind, -take, now)
        if kind == "debit":
            spendable.grant.remaining -= take
        else:
            session.add(
                HoldAllocation(
                    hold_id=hold_id, grant_id=spendable.grant.id, amount=take, captured=0, released=0
                )
            )
    if shortfall > 0:  # an unlimited account: the shortfall is recorded against no grant
        add_entry(session, op, None, kind, -shortfall, now)
    await session.flush()
    return OperationResult(op.id, amount, replayed=False), hold_id, [use.period for use in reached]
