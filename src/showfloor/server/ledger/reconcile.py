"""Invariant 2 of LEDGER.md, checked from the tables: every credit explained by the entries.

Per grant: ``remaining`` equals the sum of its grant, debit, capture, expire, void and refund entries
(so ``amount − remaining`` = debits + captures + expiries + voids − refunds); the outstanding held
credits recorded by entries (hold, capture, release) equal its allocations', and never exceed
``remaining``. Per hold: captured + released ≤ amount, matching its allocations. Per account: the
balance computed from entries equals what ``get_balance`` (the endpoint) reports; every spend cap counter
of its keys equals what the ledger says the key spent in that period (``spend_caps.counter_problems``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.errors import NotFound
from showfloor.server.ledger import spend_caps
from showfloor.server.ledger.balance import BUCKETS, get_balance
from showfloor.server.ledger.operations import REMAINING_TYPES, is_active, utcnow
from showfloor.server.models import Account, CreditGrant, CreditHold, HoldAllocation, LedgerEntry


async def reconcile(
    session: AsyncSession, account_id: int | None = None, now: datetime | None = None
) -> list[str]:
    """Every mismatch found, each naming its account; an empty list means the ledger reconciles."""
    now = now or utcnow()
    if account_id is not None:
        if await session.get(Account, account_id) is None:
            raise NotFound(f"Account {account_id} not found")
        account_ids = [account_id]
    else:
        account_ids = list((await session.scalars(select(Account.id).order_by(Account.id))).all())
    problems: list[str] = []
    for one in account_ids:
        problems.extend(await _reconcile_account(session, one, now))
        problems.extend(f"account {one}: {p}" for p in await spend_caps.counter_problems(session, one))
    return problems


async def _reconcile_account(session: AsyncSession, account_id: int, now: datetime) -> list[str]:
    problems: list[str] = []
    say = problems.append
    grants = (await session.scalars(select(CreditGrant).where(CreditGrant.account_id == account_id))).all()
    sums: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for grant_id, entry_type, total in (
        await session.execute(
            select(LedgerEntry.grant_id, LedgerEntry.type, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.account_id == account_id)
            .group_by(LedgerEntry.grant_id, LedgerEntry.type)
        )
    ).all():
        sums[grant_id][entry_type] = int(total)
    allocated = dict(
        (
            await session.execute(
                select(
                    HoldAllocation.grant_id,
                    func.sum(HoldAllocation.amount - HoldAllocation.captured - HoldAllocation.released),
                )
                .join(CreditGrant, CreditGrant.id == HoldAllocation.grant_id)
                .where(CreditGrant.account_id == account_id)
                .group_by(HoldAllocation.grant_id)
            )
        ).all()
    )
    expected_balances = dict.fromkeys(BUCKETS, 0)
    for grant in grants:
        name = f"account {account_id}: grant {grant.id}"
        by_type = sums[grant.id]
        from_entries = sum(by_type[t] for t in REMAINING_TYPES)
        held_by_entries = _outstanding(by_type)
        held = int(allocated.get(grant.id, 0))
        if by_type["grant"] != grant.amount:
            say(f"{name}: granted {grant.amount} but its grant entries say {by_type['grant']}")
        if from_entries != grant.remaining:
            say(
                f"{name}: amount − remaining = {grant.amount - grant.remaining}, "
                f"entries explain {grant.amount - from_entries}"
            )
        if grant.remaining < 0:
            say(f"{name}: remaining is negative ({grant.remaining})")
        if held_by_entries != held:
            say(f"{name}: allocations hold {held}, hold/capture/release entries say {held_by_entries}")
        if held > grant.remaining:
            say(f"{name}: {held} held but only {grant.remaining} remaining")
        if is_active(grant, now):
            expected_balances[grant.bucket] += from_entries - held_by_entries
    problems.extend(await _check_holds(session, account_id, _outstanding(sums[None])))
    reported = await get_balance(session, account_id, now)
    for bucket in BUCKETS:
        if reported.balances[bucket] != expected_balances[bucket]:
            say(
                f"account {account_id}: {bucket} balance reported {reported.balances[bucket]}, "
                f"entries give {expected_balances[bucket]}"
            )
    return problems


def _outstanding(by_type: dict[str, int]) -> int:
    """Held and not yet settled, from entries: holds (negative) minus captures and releases."""
    return -by_type["hold"] + by_type["capture"] - by_type["release"]


async def _check_holds(session: AsyncSession, account_id: int, unbacked_by_entries: int) -> list[str]:
    problems: list[str] = []
    rows = (
        await session.execute(
            select(
                CreditHold,
                func.coalesce(func.sum(HoldAllocation.amount), 0),
                func.coalesce(func.sum(HoldAllocation.captured), 0),
                func.coalesce(func.sum(HoldAllocation.released), 0),
            )
            .outerjoin(HoldAllocation, HoldAllocation.hold_id == CreditHold.id)
            .where(CreditHold.account_id == account_id)
            .group_by(CreditHold.id)
        )
    ).all()
    unbacked_outstanding = 0
    for row, a_amount, a_captured, a_released in rows:
        name = f"account {account_id}: hold {row.id}"
        outstanding = row.amount - row.captured - row.released
        if row.captured < 0 or row.released < 0 or outstanding < 0:
            problems.append(f"{name}: captured {row.captured} + released {row.released} exceed {row.amount}")
        extra = (int(a_amount), int(a_captured), int(a_released))
        unbacked = row.amount - extra[0]
        unbacked_settled = (row.captured - extra[1]) + (row.released - extra[2])
        if unbacked < 0 or row.captured < extra[1] or row.released < extra[2] or unbacked_settled > unbacked:
            problems.append(
                f"{name}: amount/captured/released {row.amount}/{row.captured}/{row.released} "
                f"do not match its allocations {extra[0]}/{extra[1]}/{extra[2]}"
            )
        unbacked_outstanding += unbacked - unbacked_settled
        if (row.state == "closed") != (outstanding == 0):
            problems.append(f"{name}: state {row.state} with {outstanding} outstanding")
    over = (
        await session.execute(
            select(HoldAllocation.id)
            .join(CreditHold, CreditHold.id == HoldAllocation.hold_id)
            .where(
                CreditHold.account_id == account_id,
                HoldAllocation.captured + HoldAllocation.released > HoldAllocation.amount,
            )
        )
    ).all()
    for (allocation_id,) in over:
        problems.append(f"account {account_id}: hold allocation {allocation_id} settles more than it holds")
    if unbacked_outstanding != unbacked_by_entries:
        problems.append(
            f"account {account_id}: unbacked held credits {unbacked_outstanding}, entries say {unbacked_by_entries}"
        )
    return problems
