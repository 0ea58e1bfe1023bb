"""The expiry sweep. Expiry is exact at read time anyway; the sweep writes the ``expire`` entries so
the history explains where the credits went. Credits still held on an expired grant stay capturable;
if they are released later, the release writes them off (see ``holds``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.config import Settings
from showfloor.server.db.locking import for_update
from showfloor.server.db.uow import Database
from showfloor.server.ledger import alerts
from showfloor.server.ledger.balance import held_per_grant
from showfloor.server.ledger.operations import add_entry, lock_account_row, new_operation
from showfloor.server.models import CreditGrant
from showfloor.server.notify import hooks as notify_hooks


async def expire_due(session: AsyncSession, now: datetime, *, limit: int | None = None) -> int:
    """Expire the unheld remainder of every grant past ``expires_at``; returns how many grants were swept."""
    conditions = (
        CreditGrant.expires_at.is_not(None),
        CreditGrant.expires_at <= now,
        CreditGrant.voided_at.is_(None),
        CreditGrant.expired_swept_at.is_(None),
    )
    stmt = (
        select(CreditGrant.account_id, CreditGrant.id)
        .where(*conditions)
        .order_by(CreditGrant.account_id, CreditGrant.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    due = (await session.execute(stmt)).all()
    swept = 0
    for account_id, rows in groupby(due, key=lambda r: int(r[0])):
        grant_ids = [int(r[1]) for r in rows]
        await lock_account_row(session, account_id)
        grants = (
            await session.scalars(
                for_update(
                    session,
                    select(CreditGrant)
                    .where(CreditGrant.id.in_(grant_ids), *conditions)
                    .order_by(CreditGrant.id),
                ).execution_options(populate_existing=True)
            )
        ).all()
        held = held_per_grant(account_id)
        holding = dict((await session.execute(select(held.c.grant_id, held.c.held))).all())
        for grant in grants:
            gone = max(grant.remaining - int(holding.get(grant.id, 0)), 0)
            if gone:
                op = await new_operation(session, account_id, "expire", gone, f"expire:grant:{grant.id}", now)
                add_entry(session, op, grant, "expire", -gone, now)
                grant.remaining -= gone
                await notify_hooks.credits_expired(session, grant, gone, now)
            grant.expired_swept_at = now
            swept += 1
        await alerts.evaluate(session, account_id, now)
    await session.flush()
    return swept


SWEEP_BATCH = 200  # grants per transaction, so one sweep never holds many account locks for long


async def sweep_expired(db: Database, settings: Settings) -> None:
    """The periodic expiry sweep: every due grant, ``SWEEP_BATCH`` per transaction."""
    now = datetime.now(UTC)
    while True:
        async with db.write() as session:
            swept = await expire_due(session, now, limit=SWEEP_BATCH)
        if swept < SWEEP_BATCH:
            return
