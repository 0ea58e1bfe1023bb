"""Balance alerts (docs/spend-controls.md): per account, thresholds in absolute credits; an alert fires
once when the available balance crosses below a threshold (``dropped``), once when it reaches zero
(``depleted``), and once when it rises back (``recovered``).

Each threshold has a state row (``balance_alerts.low``; threshold 0 is the "depleted" alert, present
whenever the account has alerts). ``evaluate`` runs in the transaction of every change of the available
balance (spend, release, grant, refund, void, expiry sweep, unlock settlement), after the change: it locks
the account's state rows, reads the balance, and flips (and reports) only the states that differ. The
rows stay locked until commit, so evaluations of one account run one after the other, each seeing every
change committed before it: a crossing is reported exactly once, whoever observes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.db.locking import for_update
from showfloor.server.errors import InvalidRequest
from showfloor.server.ledger.balance import available
from showfloor.server.ledger.operations import lock_account_row
from showfloor.server.models import BalanceAlert
from showfloor.server.notify import hooks as notify_hooks

DEPLETED = 0  # the threshold of the "depleted" alert
MAX_THRESHOLDS = 20
MAX_THRESHOLD = 10**12


def is_low(threshold: int, balance: int) -> bool:
    """Below a threshold; the depleted alert: nothing left."""
    return balance <= 0 if threshold == DEPLETED else balance < threshold


@dataclass(frozen=True)
class Crossing:
    """One alert transition: ``dropped`` / ``depleted`` (now low) or ``recovered``."""

    kind: str
    threshold: int
    balance: int


def crossings(states: dict[int, bool], balance: int) -> list[Crossing]:
    """The transitions from ``states`` (threshold -> low) at ``balance``: drops from the highest
    threshold down, recoveries from the lowest up (the order the balance passes them)."""
    out: list[Crossing] = []
    for threshold in sorted(states, reverse=True):
        low = is_low(threshold, balance)
        if low != states[threshold]:
            kind = ("depleted" if threshold == DEPLETED else "dropped") if low else "recovered"
            out.append(Crossing(kind, threshold, balance))
    if out and out[0].kind == "recovered":
        out.reverse()
    return out


async def _rows(session: AsyncSession, account_id: int) -> list[BalanceAlert]:
    stmt = for_update(
        session,
        select(BalanceAlert).where(BalanceAlert.account_id == account_id).order_by(BalanceAlert.threshold),
    ).execution_options(populate_existing=True)
    return list((await session.scalars(stmt)).all())


async def evaluate(session: AsyncSession, account_id: int, now: datetime) -> list[Crossing]:
    """After a change of the account's available balance, in its transaction: flip and report (one
    ``credits.balance_alert`` each) the alerts it crossed. Nothing when the account has no alerts."""
    rows = await _rows(session, account_id)
    if not rows:
        return []
    await session.flush()  # the change itself, before the balance is read
    balance = await available(session, account_id, now)
    by_threshold = {row.threshold: row for row in rows}
    found = crossings({row.threshold: row.low for row in rows}, balance)
    for crossing in found:
        row = by_threshold[crossing.threshold]
        row.low, row.updated_at = crossing.kind != "recovered", now
        await notify_hooks.balance_alert(session, account_id, crossing.kind, crossing.threshold, balance, now)
    await session.flush()
    return found


def check_thresholds(thresholds: list[int]) -> list[int]:
    """Positive whole credits, at most ``MAX_THRESHOLDS``; duplicates collapse; highest first."""
    if len(set(thresholds)) > MAX_THRESHOLDS:
        raise InvalidRequest(f"At most {MAX_THRESHOLDS} alert thresholds")
    for value in thresholds:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_THRESHOLD:
            raise InvalidRequest(
                f"An alert threshold must be a whole number of credits from 1 to {MAX_THRESHOLD}"
            )
    return sorted(set(thresholds), reverse=True)


async def set_thresholds(
    session: AsyncSession, account_id: int, thresholds: list[int], now: datetime
) -> list[BalanceAlert]:
    """Replace the account's thresholds (an empty list removes every alert, the depleted one too). Each
    starts in the state the balance is in now, without an event: only later crossings are reported. A
    threshold kept from before keeps its state."""
    wanted = check_thresholds(thresholds)
    await lock_account_row(session, account_id)
    current = {row.threshold: row for row in await _rows(session, account_id)}
    keep = set(wanted) | {DEPLETED} if wanted else set()
    gone = [t for t in current if t not in keep]
    if gone:
        await session.execute(
            delete(BalanceAlert).where(
                BalanceAlert.account_id == account_id, BalanceAlert.threshold.in_(gone)
            )
        )
    new = [t for t in keep if t not in current]
    if new:
        balance = await available(session, account_id, now)
        for threshold in new:
            session.add(
                BalanceAlert(
                    account_id=account_id, threshold=threshold, low=is_low(threshold, balance), updated_at=now
                )
            )
    await session.flush()
    return await list_alerts(session, account_id)


async def list_alerts(session: AsyncSession, account_id: int) -> list[BalanceAlert]:
    """The account's alerts, highest threshold first (the depleted alert, 0, last)."""
    stmt = (
        select(BalanceAlert)
        .where(BalanceAlert.account_id == account_id)
        .order_by(BalanceAlert.threshold.desc())
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())


def alerts_body(rows: list[BalanceAlert]) -> dict[str, object]:
    """The alerts as the API and the CLI show them."""
    return {
        "thresholds": [row.threshold for row in rows if row.threshold != DEPLETED],
        "alerts": [
            {
                "threshold": row.threshold,
                "kind": "depleted" if row.threshold == DEPLETED else "threshold",
                "state": "low" if row.low else "ok",
            }
            for row in rows
        ],
    }
