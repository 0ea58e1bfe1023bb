"""``credits.expiring``: a notice N days (``SHOWFLOOR_CREDITS_EXPIRING_NOTICE_DAYS``, default 7) before a
subscription or add-on grant that still has credits expires, once per grant.

A periodic job. "Once" is the outbox's: the notice carries the key ``credits.expiring:grant:<id>``, unique
per account, so however many processes run the job, and however often, one notice is written per grant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from showfloor.server.config import Settings
from showfloor.server.db.uow import Database
from showfloor.server.models import CreditGrant, OutboxEvent
from showfloor.server.notify.events import CREDITS_EXPIRING, emit
from showfloor.server.notify.hooks import epoch_ms

BATCH = 200
NOTICE_KEY = f"{CREDITS_EXPIRING}:grant:"


async def notify_expiring(session: AsyncSession, now: datetime, days: int, limit: int = BATCH) -> int:
    """Write the notices due at ``now`` (up to ``limit``); returns how many were written."""
    noticed = exists().where(
        OutboxEvent.account_id == CreditGrant.account_id,
        OutboxEvent.dedup_key == literal(NOTICE_KEY) + cast(CreditGrant.id, String),
    )
    due = (
        await session.execute(
            select(CreditGrant)
            .where(
                CreditGrant.bucket.in_(("subscription", "addon")),
                CreditGrant.voided_at.is_(None),
                CreditGrant.expires_at > now,
                CreditGrant.expires_at <= now + timedelta(days=days),
                CreditGrant.remaining > 0,
                ~noticed,
            )
            .order_by(CreditGrant.id)
            .limit(limit)
        )
    ).scalars()
    written = 0
    for grant in due.all():
        data = {
            "grantId": str(grant.id),
            "bucket": grant.bucket,
            "amount": grant.remaining,
            "expiresAt": epoch_ms(grant.expires_at),
            "daysBefore": days,
        }
        if await emit(
            session, grant.account_id, CREDITS_EXPIRING, data, dedup_key=f"{NOTICE_KEY}{grant.id}", now=now
        ):
            written += 1
    return written


async def send_expiring_notices(db: Database, settings: Settings) -> None:
    """The periodic job: every notice due now, a batch per short transaction."""
    now = datetime.now(UTC)
    while True:
        async with db.write() as session:
            written = await notify_expiring(session, now, settings.credits_expiring_notice_days)
        if written < BATCH:
            return
